// The worker HTTP API (spec §4.2): `POST /sedna/workers/{worker-name}/info` with Sedna's JSON body
// and its `{"Status","Message"}` answers. Differences from Sedna: it listens on 127.0.0.1 by default
// and serves only loopback callers or callers presenting the node's worker token (Sedna had no
// authentication, §6); bodies are limited (413); a body that is not JSON says why (400); and 200
// means the report is committed to the durable outbox (Sedna queued it in memory).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../lib/logger.ts';
import { tokenMatches } from '../lib/token-match.ts';
import { parseWorkerMessage, StaleOwnerError, WorkerMessageError, type WorkerMessage } from './workers.ts';
import { answerHealth } from '../lib/net/health.ts';
import { listen } from '../lib/net/listen.ts';
import { isLoopback } from '../lib/net/loopback.ts';

export const DEFAULT_WORKER_PORT = 9100;
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Beyond this a too-large body is no longer drained to answer 413 politely: the socket is dropped. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;
const ROUTE = /^\/sedna\/workers\/([^/]+)\/info$/;

export interface WorkerServerOptions {
  /** Default 127.0.0.1. */
  address?: string;
  /** Default 9100; 0 picks a free port. */
  port?: number;
  /** The node's worker token: callers that are not on loopback must present it. */
  workerToken?: string;
  /** Require the token from loopback callers too. */
  requireToken?: boolean;
  maxBodyBytes?: number;
  /** Takes an accepted report; throwing answers 503 (e.g. the database cannot be written), or 409 for a StaleOwnerError. */
  accept: (message: WorkerMessage) => void;
  logger: Logger;
}

export interface LcReply {
  Status: number;
  Message: string;
}

export class WorkerServer {
  private server: Server | undefined;

  constructor(private readonly options: WorkerServerOptions) {}

  async start(): Promise<number> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on('clientError', (_err, socket) => socket.destroy());
    await listen(server, this.options.port ?? DEFAULT_WORKER_PORT, this.options.address ?? '127.0.0.1');
    this.server = server;
    return this.port;
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 1_000).unref();
    await closed;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    // Probes first: the kubelet presents no worker token.
    if (answerHealth(req, res)) return;
    if (!this.authorised(req)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return this.finish(req, res, 401, 'a worker token is required (Authorization: Bearer <token>) for callers outside this node');
    }
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const match = ROUTE.exec(path);
    if (!match) return this.finish(req, res, 404, `no route for ${path}; workers post to /sedna/workers/{worker-name}/info`);
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return this.finish(req, res, 405, `method ${req.method ?? ''} not allowed; use POST`);
    }
    let workerName: string;
    try {
      workerName = decodeURIComponent(match[1] ?? '');
    } catch {
      return this.finish(req, res, 400, 'the worker name in the path is not valid percent-encoding');
    }
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (contentType !== 'application/json') return this.finish(req, res, 415, `Content-Type must be application/json, not ${JSON.stringify(req.headers['content-type'] ?? '')}`);
    if (!acceptsJson(req.headers.accept)) return this.finish(req, res, 406, 'the answer is application/json, which the Accept header does not allow');
    const limit = this.options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return this.finish(req, res, 413, `the body (${declared} bytes) exceeds the limit of ${limit} bytes`);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > MAX_DRAIN_BYTES) req.destroy();
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      if (size > limit) return this.reply(res, 413, `the body exceeds the limit of ${limit} bytes`);
      this.process(res, workerName, Buffer.concat(chunks));
    });
  }

  private process(res: ServerResponse, workerName: string, body: Buffer): void {
    let message: WorkerMessage;
    try {
      message = parseWorkerMessage(JSON.parse(body.toString('utf8')) as unknown);
    } catch (err) {
      const reason = err instanceof SyntaxError || err instanceof WorkerMessageError ? err.message : String(err);
      return this.reply(res, 400, `read worker(name=${workerName}) message body failed, error: ${reason}`);
    }
    if (message.name !== workerName) {
      return this.reply(res, 400, `worker name(name=${workerName}) in the api is different from that(name=${message.name}) in the message body`);
    }
    try {
      this.options.accept(message);
    } catch (err) {
      if (err instanceof StaleOwnerError) return this.reply(res, 409, err.message);
      this.options.logger.error({ err, worker: workerName }, 'cannot store the worker message');
      return this.reply(res, 503, `cannot store the message: ${(err as Error).message}`);
    }
    this.reply(res, 200, 'OK');
  }

  private authorised(req: IncomingMessage): boolean {
    const { workerToken, requireToken } = this.options;
    if (!requireToken && isLoopback(req.socket.remoteAddress)) return true;
    const header = req.headers.authorization ?? '';
    const presented = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
    if (presented === undefined || workerToken === undefined) return false;
    return tokenMatches(presented, workerToken);
  }

  /** Answers without reading the body: drains it (so the client reads the answer), then replies. */
  private finish(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
    let drained = 0;
    req.on('data', (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > MAX_DRAIN_BYTES) req.destroy();
    });
    req.on('error', () => undefined);
    req.on('end', () => this.reply(res, status, message));
  }

  private reply(res: ServerResponse, status: number, message: string): void {
    if (res.headersSent) return;
    const body = JSON.stringify({ Status: status, Message: message } satisfies LcReply);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }
}


function acceptsJson(accept: string | undefined): boolean {
  if (!accept) return true;
  return accept.split(',').some((part) => {
    const type = part.split(';')[0]?.trim().toLowerCase() ?? '';
    return type === '*/*' || type === 'application/*' || type === 'application/json';
  });
}
