// `sedna dashboard`: serves the pages, a bounded snapshot of the cluster, live updates as
// server-sent events, streamed pod logs and /metrics. Everything comes from the Kubernetes API
// (informers through @kubernetes/client-node), so it works against the embedded API server and a
// real cluster alike. Listens on loopback by default; every route needs a session (from the token
// link) except /metrics, which needs the same token as a bearer token.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as k8s from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { closeHttpServer, listen } from '../lib/net/listen.ts';
import { bearerToken } from '../lib/token-match.ts';
import { type Asset, INDEX_HTML, loadAssets, REFUSED_HTML } from './assets.ts';
import { sameOriginWithCsrf, type Session, Sessions } from './auth.ts';
import { Collector, watchedResources } from './collector.ts';
import { parseLogRequest, sse, streamLog } from './logs.ts';
import { dashboardRegistry } from './metrics.ts';
import { DashboardState, DEFAULT_LIMITS, type StateLimits } from './state.ts';
import { answerHealth } from '../lib/net/health.ts';

export interface DashboardOptions {
  kubeConfig: k8s.KubeConfig;
  /** The login token (the link's ?token=) and /metrics bearer token. */
  token: string;
  port: number;
  address: string;
  limits?: StateLimits;
  /** Least time between two pushed snapshots (default 250 ms). */
  pushIntervalMs?: number;
  /** Open event streams at most (default 32). */
  maxStreams?: number;
  assetsDir?: string;
  /** More Host header values to accept (a name the dashboard is reached by, host:port). */
  hostNames?: string[];
  onWatchError?: (kind: string, err: unknown) => void;
}

/** Unsent bytes a stream may hold before its reader counts as stuck. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

export class DashboardServer {
  readonly state: DashboardState;
  readonly registry: Registry;
  private readonly sessions: Sessions;
  private readonly collector: Collector;
  private readonly assets: Map<string, Asset>;
  /** Open snapshot streams (GET /api/stream). */
  private readonly streams = new Set<ServerResponse>();
  /** Open log streams (GET /api/logs). */
  private readonly logStreams = new Set<ServerResponse>();
  private server: Server | undefined;
  private origins: string[] = [];
  private hosts: string[] = [];
  private pushTimer: NodeJS.Timeout | undefined;
  private lastPush = 0;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly options: DashboardOptions) {
    this.sessions = new Sessions(options.token);
    this.assets = loadAssets(options.assetsDir);
    this.state = new DashboardState(watchedResources(options.kubeConfig).map((w) => w.kind), options.limits ?? DEFAULT_LIMITS);
    this.registry = dashboardRegistry(this.state);
    this.collector = new Collector(options.kubeConfig, this.state, { onChange: () => this.schedulePush(), onError: options.onWatchError });
  }

  /** Listens, then starts the watches; resolves with the URL (without the token). */
  async start(): Promise<string> {
    const server = createServer((req, res) => this.handle(req, res));
    server.headersTimeout = 10_000;
    server.requestTimeout = 0; // event streams stay open
    await listen(server, this.options.port, this.options.address);
    this.server = server;
    const { port } = server.address() as AddressInfo;
    const host = this.options.address.includes(':') ? `[${this.options.address}]` : this.options.address;
    // Requests must name this server: a page on another site that re-points its own name at
    // 127.0.0.1 (DNS rebinding) sends its own Host and is refused.
    this.hosts = [`${host}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, ...(this.options.hostNames ?? [])];
    this.origins = this.hosts.map((h) => `http://${h}`);
    this.heartbeat = setInterval(() => {
      for (const s of [...this.streams, ...this.logStreams]) s.write(': keep-alive\n\n');
    }, 15_000);
    this.heartbeat.unref();
    void this.collector.start();
    return `http://${host}:${port}/`;
  }

  async stop(): Promise<void> {
    if (this.pushTimer) clearTimeout(this.pushTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.collector.stop();
    for (const s of [...this.streams, ...this.logStreams]) s.end();
    this.streams.clear();
    this.logStreams.clear();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await closeHttpServer(server);
  }

  private schedulePush(): void {
    if (this.pushTimer || this.streams.size === 0) return;
    const interval = this.options.pushIntervalMs ?? 250;
    const wait = Math.max(0, this.lastPush + interval - Date.now());
    this.pushTimer = setTimeout(() => {
      this.pushTimer = undefined;
      this.lastPush = Date.now();
      const body = `event: state\ndata: ${JSON.stringify(this.state.snapshot())}\n\n`;
      for (const s of this.streams) {
        // A reader that cannot keep up is dropped (its EventSource reconnects and starts afresh)
        // rather than buffered without bound.
        if (s.writableLength > MAX_BUFFERED_BYTES) s.destroy();
        else s.write(body);
      }
    }, wait);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    // /metrics carries its own credential (a bearer token, which no other site can make a browser
    // send), so Prometheus may name the pod's address; the pages need a Host of ours.
    if (url.pathname === '/metrics') return void this.metrics(req, res);
    if (answerHealth(req, res)) return;
    if (!this.hosts.includes(req.headers.host ?? '')) return this.fail(res, 421, `Host ${JSON.stringify(req.headers.host ?? '')} is not this dashboard; use ${this.origins[0]}/`);
    const token = url.searchParams.get('token');
    if (req.method === 'GET' && url.pathname === '/' && token !== null) return this.login(token, res);
    const session = this.sessions.of(req);
    if (!session) {
      res.writeHead(401, { 'Content-Type': 'text/html; charset=utf-8' }).end(REFUSED_HTML);
      return;
    }
    if (req.method === 'POST') return this.post(url, req, res, session);
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.fail(res, 405, `${req.method} is not allowed`, { Allow: 'GET, HEAD, POST' });
    if (url.pathname === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(INDEX_HTML);
      return;
    }
    const asset = url.pathname.startsWith('/assets/') ? this.assets.get(url.pathname.slice('/assets/'.length)) : undefined;
    if (asset) {
      res.writeHead(200, { 'Content-Type': asset.type }).end(asset.body);
      return;
    }
    if (url.pathname === '/api/state') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ csrf: session.csrf, snapshot: this.state.snapshot() }));
      return;
    }
    if (url.pathname === '/api/stream') return this.stream(req, res);
    if (url.pathname === '/api/logs') return this.logs(url, req, res);
    this.fail(res, 404, `${url.pathname} not found`);
  }

  private login(token: string, res: ServerResponse): void {
    const session = this.sessions.login(token);
    if (!session) {
      res.writeHead(401, { 'Content-Type': 'text/html; charset=utf-8' }).end(REFUSED_HTML);
      return;
    }
    // The redirect drops the token from the address bar (and so from the history).
    res.writeHead(303, { 'Set-Cookie': this.sessions.cookieHeader(session), Location: '/' }).end();
  }

  private post(url: URL, req: IncomingMessage, res: ServerResponse, session: Session): void {
    req.resume();
    const refused = sameOriginWithCsrf(req, session, this.origins);
    if (refused) return this.fail(res, 403, refused);
    if (url.pathname === '/api/logout') {
      this.sessions.logout(session);
      res.writeHead(204, { 'Set-Cookie': this.sessions.cookieHeader(undefined) }).end();
      return;
    }
    this.fail(res, 404, `POST ${url.pathname} not found`);
  }

  private stream(req: IncomingMessage, res: ServerResponse): void {
    if (this.streams.size >= (this.options.maxStreams ?? 32)) return this.fail(res, 503, 'too many open dashboard streams', { 'Retry-After': '5' });
    res.writeHead(200, { 'Content-Type': 'text/event-stream', Connection: 'keep-alive' });
    sse(res, 'state', this.state.snapshot());
    this.streams.add(res);
    req.on('close', () => this.streams.delete(res));
  }

  private logs(url: URL, req: IncomingMessage, res: ServerResponse): void {
    const request = parseLogRequest(url.searchParams);
    if (typeof request === 'string') return this.fail(res, 400, request);
    if (this.logStreams.size >= (this.options.maxStreams ?? 32)) return this.fail(res, 503, 'too many open log streams', { 'Retry-After': '5' });
    res.writeHead(200, { 'Content-Type': 'text/event-stream', Connection: 'keep-alive' });
    this.logStreams.add(res);
    req.on('close', () => this.logStreams.delete(res));
    void streamLog(this.options.kubeConfig, request, req, res);
  }

  private async metrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const presented = bearerToken(req.headers.authorization);
    if (presented === undefined || !this.sessions.tokenMatches(presented)) {
      res.writeHead(401, { 'WWW-Authenticate': 'Bearer realm="sedna-dashboard-metrics"', 'Content-Type': 'text/plain' }).end('Unauthorized\n');
      return;
    }
    if (req.method !== 'GET') return this.fail(res, 405, 'only GET /metrics', { Allow: 'GET' });
    res.writeHead(200, { 'Content-Type': this.registry.contentType }).end(await this.registry.metrics());
  }

  private fail(res: ServerResponse, code: number, message: string, headers: Record<string, string> = {}): void {
    res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', ...headers }).end(`${message}\n`);
  }
}
