// A thin HTTPS client for the hot loops of the bench: node:https over a keep-alive Agent with the
// bearer token, so that what is measured is the server rather than a client library's overhead.
import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import * as k8s from '@kubernetes/client-node';
import { now } from './stats.ts';

export interface Endpoint {
  url: URL;
  ca: string;
  token: string;
}

/** Server URL, CA and token from the kubeconfig the server wrote. */
export function endpointFromKubeconfig(path: string): Endpoint {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(path);
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  if (!cluster?.caData || !user?.token) throw new Error(`kubeconfig ${path} has no CA data or no token`);
  return { url: new URL(cluster.server), ca: Buffer.from(cluster.caData, 'base64').toString('utf8'), token: user.token };
}

export interface HttpResponse {
  status: number;
  body: Buffer;
}

export class HttpError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${method} ${path}: HTTP ${status}: ${body.slice(0, 500)}`);
    this.name = 'HttpError';
  }
}

export class HttpsClient {
  readonly agent: Agent;
  private readonly auth: string;

  constructor(
    private readonly endpoint: Endpoint,
    options: { maxSockets?: number; keepAlive?: boolean } = {},
  ) {
    this.agent = new Agent({
      keepAlive: options.keepAlive ?? true,
      maxSockets: options.maxSockets ?? 8,
      ca: endpoint.ca,
    });
    this.auth = `Bearer ${endpoint.token}`;
  }

  request(method: string, path: string, body?: string, contentType = 'application/json'): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { Authorization: this.auth, Accept: 'application/json' };
      if (body !== undefined) {
        headers['Content-Type'] = contentType;
        headers['Content-Length'] = Buffer.byteLength(body);
      }
      const req = httpsRequest(
        { host: this.endpoint.url.hostname, port: this.endpoint.url.port, path, method, headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** A request that must answer 2xx; the body parsed as JSON. */
  async json<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const res = await this.request(method, path, body === undefined ? undefined : JSON.stringify(body), contentType);
    if (res.status < 200 || res.status >= 300) throw new HttpError(method, path, res.status, res.body.toString('utf8'));
    return JSON.parse(res.body.toString('utf8')) as T;
  }

  /**
   * A long-lived streaming GET (a watch). `onData` gets each chunk with the time it arrived.
   * Resolves once the response headers are in, i.e. once the server has registered the watch.
   */
  stream(path: string, onData: (chunk: Buffer, at: number) => void): Promise<{ close(): void; ended: Promise<void> }> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: this.endpoint.url.hostname,
          port: this.endpoint.url.port,
          path,
          method: 'GET',
          headers: { Authorization: this.auth, Accept: 'application/json' },
          agent: this.agent,
        },
        (res: IncomingMessage) => {
          if (res.statusCode !== 200) {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => reject(new HttpError('GET', path, res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
            return;
          }
          const ended = new Promise<void>((done) => {
            res.on('end', done);
            res.on('close', done);
            res.on('error', () => done());
          });
          res.on('data', (chunk: Buffer) => onData(chunk, now()));
          resolve({ close: () => req.destroy(), ended });
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  destroy(): void {
    this.agent.destroy();
  }
}

/**
 * Runs task(0..count-1) with at most `concurrency` in flight (each in-flight slot pulls the next
 * index when its request completes). Returns the elapsed milliseconds.
 */
export async function runConcurrent(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = now();
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return now() - started;
}

/**
 * Like runConcurrent, but keeps starting tasks until at least `minMs` have passed and at least
 * `minCount` were done. Returns how many ran and how long they took.
 */
export async function runFor(
  minMs: number,
  minCount: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<{ count: number; elapsedMs: number }> {
  let next = 0;
  const started = now();
  const worker = async (): Promise<void> => {
    while (next < minCount || now() - started < minMs) {
      const i = next++;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { count: next, elapsedMs: now() - started };
}
