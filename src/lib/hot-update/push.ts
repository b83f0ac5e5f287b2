// The push half of a hot update: the node's LocalController tells the local worker the moment a
// new model (or knowledge base) is deployed, instead of the worker finding out at its next poll.
// The worker listens on loopback only, with a random token, and announces itself by an endpoint
// file (mode 0600) in the hot-update folder the LC writes the model into; so only a process that
// may read that folder (the LC) can push. The LC's POST carries Sedna's config JSON and is answered
// once the worker serves the new model (200) or could not load it (422, the old model serving).
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { listen, closeHttpServer } from '../net/listen.ts';
import { bearerToken, tokenMatches } from '../token-match.ts';
import { encodeHotUpdateConfig, type HotUpdateConfig, HotUpdateConfigError, parseHotUpdateConfig } from './config-file.ts';

/** The worker's announcement, beside the config file. */
export const PUSH_ENDPOINT_FILE = '.hot-update-endpoint.json';
export const PUSH_ROUTE = '/hot-update';
const MAX_BODY_BYTES = 64 * 1024;

export interface PushEndpoint {
  url: string;
  token: string;
  pid: number;
}

/** What the worker answers a push with. */
export interface PushOutcome {
  version: string;
  /** Milliseconds from the push's arrival to the new model serving. */
  swapMs?: number;
}

export type PushHandler = (config: HotUpdateConfig) => Promise<PushOutcome>;

/** A push the worker refused or could not apply; `status` is the HTTP status it answers. */
export class PushRejected extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new PushRejected(413, `the body exceeds ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The worker side: a loopback endpoint that applies pushed configs with `handler`. */
export class PushReceiver {
  private server: Server | undefined;
  private readonly token = randomBytes(32).toString('hex');
  private endpointFile: string | undefined;

  constructor(private readonly handler: PushHandler) {}

  /** Listens on 127.0.0.1 (port 0) and writes the endpoint file into `dir`; answers the URL. */
  async start(dir: string): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('clientError', (_err, socket) => socket.destroy());
    await listen(server, 0, '127.0.0.1');
    this.server = server;
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${PUSH_ROUTE}`;
    const endpoint: PushEndpoint = { url, token: this.token, pid: process.pid };
    await mkdir(dir, { recursive: true });
    const file = join(dir, PUSH_ENDPOINT_FILE);
    const partial = join(dir, `.${basename(file)}.${randomBytes(6).toString('hex')}.part`);
    await writeFile(partial, JSON.stringify(endpoint), { mode: 0o600 });
    await chmod(partial, 0o600);
    await rename(partial, file);
    this.endpointFile = file;
    return url;
  }

  /** Stops listening and removes the endpoint file if it is still this receiver's. */
  async stop(): Promise<void> {
    const file = this.endpointFile;
    this.endpointFile = undefined;
    if (file) {
      const current = await readEndpoint(dirname(file)).catch(() => undefined);
      if (current?.token === this.token) await rm(file, { force: true });
    }
    const server = this.server;
    this.server = undefined;
    if (server) await closeHttpServer(server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (!tokenMatches(bearerToken(req.headers.authorization) ?? '', this.token)) throw new PushRejected(401, 'a push needs the token of the endpoint file (Authorization: Bearer <token>)');
      if ((req.url ?? '').split('?')[0] !== PUSH_ROUTE) throw new PushRejected(404, `no route for ${req.url ?? ''}; push to ${PUSH_ROUTE}`);
      if (req.method !== 'POST') throw new PushRejected(405, `method ${req.method ?? ''} not allowed; use POST`);
      let config: HotUpdateConfig;
      try {
        config = parseHotUpdateConfig(await readBody(req));
      } catch (err) {
        if (err instanceof HotUpdateConfigError) throw new PushRejected(400, err.message);
        throw err;
      }
      reply(res, 200, await this.handler(config));
    } catch (err) {
      const status = err instanceof PushRejected ? err.status : 422;
      if (!res.headersSent) reply(res, status, { error: (err as Error).message });
    }
  }
}

export async function readEndpoint(dir: string): Promise<PushEndpoint | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, PUSH_ENDPOINT_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = JSON.parse(text) as Partial<PushEndpoint>;
  if (typeof parsed.url !== 'string' || typeof parsed.token !== 'string') throw new Error(`${join(dir, PUSH_ENDPOINT_FILE)} has no url or token`);
  const url = new URL(parsed.url);
  // Only loopback: a file naming another host is not followed.
  if (url.hostname !== '127.0.0.1' && url.hostname !== '[::1]' && url.hostname !== 'localhost') throw new Error(`${join(dir, PUSH_ENDPOINT_FILE)} names a non-loopback host ${url.hostname}`);
  return { url: parsed.url, token: parsed.token, pid: Number(parsed.pid ?? 0) };
}

export type PushResult = { pushed: true; outcome: PushOutcome } | { pushed: false; reason: string };

/**
 * The LC side: pushes `config` to the worker announced in `dir`. Never throws: no worker listening,
 * a refused push or a failed load is a reason (the worker still finds the config at its next poll).
 */
export async function pushHotUpdate(dir: string, config: HotUpdateConfig, options: { timeoutMs?: number } = {}): Promise<PushResult> {
  let endpoint: PushEndpoint | undefined;
  try {
    endpoint = await readEndpoint(dir);
  } catch (err) {
    return { pushed: false, reason: (err as Error).message };
  }
  if (!endpoint) return { pushed: false, reason: 'no worker announced a push endpoint' };
  try {
    const response = await fetch(endpoint.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${endpoint.token}`, 'content-type': 'application/json' },
      body: encodeHotUpdateConfig(config),
      signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
    });
    const body = (await response.json().catch(() => ({}))) as PushOutcome & { error?: string };
    if (response.status !== 200) return { pushed: false, reason: `the worker answered ${response.status}: ${body.error ?? ''}` };
    return { pushed: true, outcome: body };
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    return { pushed: false, reason: cause ? `${(err as Error).message}: ${cause}` : (err as Error).message };
  }
}
