// The GM's /metrics endpoint (Prometheus text format) on its own listener, loopback by default.
// Every request must carry `Authorization: Bearer <token>`: the metrics name nodes and resources,
// which is not for anyone who can reach the port. The token is the one given to the GM
// (--metrics-token-file or SEDNA_GM_METRICS_TOKEN), else the bearer token of its kubeconfig user,
// so whoever may use the API server may also scrape the GM.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { tokenMatches } from '../token-match.ts';
import { answerHealth, type ReadinessCheck } from './health.ts';
import { closeHttpServer, listen } from './listen.ts';

export class MetricsServer {
  private server: Server | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly token: string,
    /** /readyz answers from it; /healthz and /readyz need no token (kubelet probes send none). */
    private readonly readiness?: ReadinessCheck,
  ) {
    if (token === '') throw new Error('the metrics endpoint needs a bearer token');
  }

  async start(port: number, address: string): Promise<number> {
    const server = createServer((req, res) => void this.handle(req, res));
    await listen(server, port, address);
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  /** Lets the process exit while serving (a worker whose work is done should not wait for scrapes). */
  unref(): void {
    this.server?.unref();
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await closeHttpServer(server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (answerHealth(req, res, this.readiness)) return;
    const presented = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (presented === undefined || !tokenMatches(presented, this.token)) {
      res.writeHead(401, { 'WWW-Authenticate': 'Bearer realm="sedna-gm-metrics"', 'Content-Type': 'text/plain' }).end('Unauthorized\n');
      return;
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found\n');
      return;
    }
    try {
      const body = await this.registry.metrics();
      res.writeHead(200, { 'Content-Type': this.registry.contentType }).end(body);
    } catch (err) {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${(err as Error).message}\n`);
    }
  }
}
