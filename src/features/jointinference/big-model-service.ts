// The cloud worker's class (spec lib.md §7, `BigModelService`): the big model behind Sedna's HTTP
// routes, `GET /{job}` → `{"infos": [{path, name}]}` and `POST /{job}/predict` with
// `{"data": ..., "callback": null | name}` → `{"result": ...}`.
//
// Beyond Sedna: concurrent requests are batched through the estimator's predictBatch (see
// src/lib/batcher.ts); callers must present the service's token (BIG_MODEL_TOKEN, which the GM
// puts in a Secret) or, when no token is configured, be on loopback; body limits and keep-alive
// are enforced, not only declared; a malformed request gets 400 with the reason.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Batcher } from '../../lib/batcher.ts';
import { workerContext, type WorkerContext } from '../../lib/context.ts';
import type { Estimator } from '../../lib/estimator.ts';
import { listenAddress } from '../../lib/net/bind.ts';
import { bearerToken, tokenMatches } from '../../lib/token-match.ts';
import { listen } from '../../lib/net/listen.ts';
import { isLoopback } from '../../lib/net/loopback.ts';

export interface BigModelServiceOptions<I, O> {
  estimator: Estimator<I, O>;
  context?: WorkerContext;
  /** Named post-processing callbacks a request may ask for (Sedna's CALLBACK registry). */
  callbacks?: Record<string, (result: O) => unknown>;
  /** Default BIG_MODEL_TOKEN; undefined serves loopback callers only. */
  token?: string;
  /** Default BIG_MODEL_BIND_IP, else 127.0.0.1. */
  host?: string;
  /** Default the kubelet's port for BIG_MODEL_BIND_PORT (5000). 0 picks a free one. */
  port?: number;
  maxBatch?: number;
  maxBodyBytes?: number;
}

const MAX_BODY_BYTES = 100 * 1024 * 1024;
const KEEP_ALIVE_MS = 300_000;

class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class BigModelService<I, O> {
  private server: Server | undefined;
  private readonly route: string;
  private readonly batcher: Batcher<I, O>;
  private readonly token: string | undefined;
  private readonly maxBodyBytes: number;
  private readonly ctx: WorkerContext;

  constructor(private readonly options: BigModelServiceOptions<I, O>) {
    this.ctx = options.context ?? workerContext();
    this.route = `/${this.ctx.jobName}`;
    this.token = options.token ?? (process.env.BIG_MODEL_TOKEN || undefined);
    this.maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
    const { estimator } = options;
    this.batcher = new Batcher<I, O>({
      maxBatch: options.maxBatch ?? 64,
      run: estimator.predictBatch
        ? async (inputs) => estimator.predictBatch!(inputs)
        : async (inputs) => Promise.all(inputs.map((input) => estimator.predict(input))),
    });
  }

  /** Sizes of the batches the model ran, for metrics and tests. */
  get batchSizes(): readonly number[] {
    return this.batcher.batchSizes;
  }

  async start(): Promise<number> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = KEEP_ALIVE_MS;
    server.headersTimeout = KEEP_ALIVE_MS + 1000;
    server.on('clientError', (_err, socket) => socket.destroy());
    const host = this.options.host ?? this.ctx.bigModelBindIp ?? '127.0.0.1';
    const port = this.options.port ?? listenAddress(this.ctx.bigModelBindPort);
    await listen(server, port, host);
    this.server = server;
    return this.port;
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      this.authenticate(req);
      const path = (req.url ?? '/').split('?')[0]!;
      if (req.method === 'GET' && path === this.route) {
        return send(res, 200, { infos: [{ path: this.route, name: 'routes' }, { path: `${this.route}/predict`, name: 'predict' }] });
      }
      if (path !== `${this.route}/predict`) throw new RequestError(404, `no route ${path}; the routes are ${this.route} and ${this.route}/predict`);
      if (req.method !== 'POST') throw new RequestError(405, `${path} takes POST`);
      const { data, callback } = parseRequest(await readBody(req, this.maxBodyBytes));
      const result = await this.batcher.submit(data as I);
      send(res, 200, { result: this.applyCallback(result, callback) });
    } catch (error) {
      const status = error instanceof RequestError ? error.status : 500;
      send(res, status, { error: (error as Error).message });
    }
  }

  private authenticate(req: IncomingMessage): void {
    if (this.token === undefined) {
      if (!isLoopback(req.socket.remoteAddress)) throw new RequestError(401, 'this service takes loopback callers only (no BIG_MODEL_TOKEN is set)');
      return;
    }
    if (!tokenMatches(bearerToken(req.headers.authorization) ?? '', this.token)) throw new RequestError(401, 'missing or wrong bearer token');
  }

  private applyCallback(result: O, callback: string | null): unknown {
    if (callback === null) return result;
    const fn = this.options.callbacks?.[callback];
    if (!fn) throw new RequestError(400, `callback ${JSON.stringify(callback)} is not registered`);
    return fn(result);
  }
}

function parseRequest(body: Buffer): { data: unknown; callback: string | null } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new RequestError(400, `the body is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || !('data' in parsed)) throw new RequestError(400, 'the body must be a JSON object with a "data" field');
  const { data, callback = null } = parsed as { data: unknown; callback?: unknown };
  if (callback !== null && typeof callback !== 'string') throw new RequestError(400, 'field "callback" must be null or a registered callback name');
  return { data, callback };
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return reject(new RequestError(413, `the body of ${declared} bytes exceeds ${limit}`));
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      // Stop collecting but keep reading, so the caller gets the 413 instead of a reset socket.
      req.off('data', onData);
      req.resume();
      reject(new RequestError(413, `the body exceeds ${limit} bytes`));
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  // After a refused body the rest of it may still be arriving: close rather than reuse the connection.
  if (status === 413) res.shouldKeepAlive = false;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
