// The knowledge-base server (`sedna kb`, spec lib.md §11): Sedna's routes, its six tables on
// SQLite, the index as JSON.
//
// Routes (all under /knowledgebase; answers are JSON, as Sedna's FastAPI server gave them):
//   POST /knowledgebase/update         multipart field `task` (or a JSON body): the index JSON
//                                      (src/api/kb-index.ts). Records every seen and unseen task
//                                      group, task, sample set (with its URL) and model, and makes
//                                      it the current index, in one transaction. Answers the
//                                      download path "/file/download?files=index.json&name=index.json".
//   POST /knowledgebase/update/status  JSON {"status": int, "tasks": "a,b" | null}: deploy flags
//                                      set on those groups, the index rewritten (Sedna's rule, see
//                                      db.ts), committed. Same answer as /update.
//   POST /knowledgebase/query          optional JSON {"offset", "limit" ≤ 1000}: {"tasks": [...],
//                                      "groups": [...]} — tasks with attributes, groups, sample sets
//                                      and counts; groups with deploy flag, counts and models.
//   POST /knowledgebase/file/upload    multipart field `file` (its filename: one plain file name):
//                                      stored in the KB folder; answers "/file/download?files=F&name=F".
//   GET  /knowledgebase/file/download?files=F&name=N   the file (the index for F=index.json).
// A relative answer is joined to KB_SERVER as Sedna's KBClient does:
// `${KB_SERVER}/knowledgebase/file/download?files=…`.
//
// Authentication (Sedna had none): every route needs `Authorization: Bearer <token>`. The token is
// the KB's (--token-file, else $SEDNA_KB_TOKEN). `sedna up` makes one, hands it to the GM
// (--kb-token-file), and the GM puts it in the env of every lifelong-learning worker it creates:
//   KB_SERVER = the KB's base URL (e.g. http://127.0.0.1:9020)
//   KB_TOKEN  = the bearer token
// so a worker calls `fetch(`${KB_SERVER}/knowledgebase/query`, {method: 'POST', headers:
// {authorization: `Bearer ${KB_TOKEN}`}})`. Downloads need the header too.
//
// Limits: an index body ≤ maxIndexBytes (16 MiB), an upload ≤ maxUploadBytes (256 MiB), JSON
// bodies ≤ 64 KiB: beyond, 413 and nothing stored. Bad input: 400 naming the field. Listens on
// 127.0.0.1 unless told otherwise.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { KbStatusUpdate } from '../api/kb-index.ts';
import type { Logger } from '../lib/logger.ts';
import { closeHttpServer, listen } from '../lib/net/listen.ts';
import { requireCjs } from '../lib/require-cjs.ts';
import { bearerToken, tokenMatches } from '../lib/token-match.ts';
import { KbDatabase } from './db.ts';
import { INDEX_FILE_NAME, KbFiles, KbTooLargeError, checkFileName } from './files.ts';
import { KbInputError, parseKbIndex } from './index-file.ts';
import type { KbMetrics } from './metrics.ts';

const busboy = requireCjs('busboy') as typeof import('busboy');

export const DEFAULT_KB_PORT = 9020;
export const DEFAULT_MAX_INDEX_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_UPLOAD_BYTES = 256 * 1024 * 1024;
const MAX_JSON_BYTES = 64 * 1024;
const MAX_QUERY_LIMIT = 1000;

export interface KbServerOptions {
  db: KbDatabase;
  files: KbFiles;
  token: string;
  logger: Logger;
  metrics?: KbMetrics;
  address?: string;
  port?: number;
  maxIndexBytes?: number;
  maxUploadBytes?: number;
}

class HttpError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

const downloadPath = (name: string): string => `/file/download?files=${encodeURIComponent(name)}&name=${encodeURIComponent(name)}`;

export class KbServer {
  private server: Server | undefined;

  constructor(private readonly options: KbServerOptions) {
    if (options.token === '') throw new Error('the knowledge base needs a bearer token');
  }

  async start(): Promise<number> {
    await this.options.files.removeLeftovers();
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('clientError', (_err, socket) => socket.destroy());
    await listen(server, this.options.port ?? DEFAULT_KB_PORT, this.options.address ?? '127.0.0.1');
    this.server = server;
    return this.port;
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await closeHttpServer(server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://kb');
    let route = 'unknown';
    let code = 200;
    try {
      const presented = bearerToken(req.headers.authorization);
      if (presented === undefined || !tokenMatches(presented, this.options.token)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="sedna-kb"');
        throw new HttpError(401, 'a knowledge-base token is required: Authorization: Bearer $KB_TOKEN');
      }
      route = url.pathname.replace(/^\/knowledgebase/, '') || '/';
      const handler = this.route(req.method ?? 'GET', route);
      if (!handler) {
        route = 'unknown';
        throw new HttpError(404, `no route ${req.method ?? ''} ${url.pathname}; the knowledge base serves POST /knowledgebase/{update,update/status,query,file/upload} and GET /knowledgebase/file/download`);
      }
      await handler(req, res, url);
    } catch (err) {
      code = err instanceof HttpError ? err.code : err instanceof KbInputError ? 400 : err instanceof KbTooLargeError ? 413 : 500;
      if (code === 500) this.options.logger.error({ err, path: url.pathname }, 'knowledge-base request failed');
      this.json(req, res, code, { detail: (err as Error).message });
    } finally {
      this.options.metrics?.request(route, res.statusCode || code, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  private route(method: string, path: string): ((req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>) | undefined {
    const routes: Record<string, (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>> = {
      'POST /update': (req, res) => this.update(req, res),
      'POST /update/status': (req, res) => this.updateStatus(req, res),
      'POST /query': (req, res) => this.query(req, res),
      'POST /file/upload': (req, res) => this.upload(req, res),
      'GET /file/download': (req, res, url) => this.download(req, res, url),
    };
    return routes[`${method} ${path}`];
  }

  private async update(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const limit = this.options.maxIndexBytes ?? DEFAULT_MAX_INDEX_BYTES;
    const body = isMultipart(req) ? await this.multipartField(req, 'task', limit) : await readBody(req, limit, 'index');
    const index = parseKbIndex(body.toString('utf8'));
    this.options.db.recordIndex(index);
    this.options.logger.info({ groups: index.seen_task.task_groups.length + index.unseen_task.task_groups.length }, 'knowledge base updated');
    this.json(req, res, 200, downloadPath(INDEX_FILE_NAME));
  }

  private async updateStatus(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = parseJson(await readBody(req, MAX_JSON_BYTES, 'body'), 'update/status') as Partial<KbStatusUpdate> | null;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new KbInputError('update/status: body must be {"status": int, "tasks": "a,b"}');
    if (typeof body.status !== 'number' || !Number.isInteger(body.status)) throw new KbInputError('status: must be an integer (0: not deployed, else deployed)');
    if (body.tasks !== undefined && body.tasks !== null && typeof body.tasks !== 'string') throw new KbInputError('tasks: must be a comma-separated string of task-group names or null');
    const names = body.tasks ? body.tasks.split(',').filter((n) => n !== '') : [];
    this.options.db.setDeploy(body.status !== 0, names);
    this.json(req, res, 200, downloadPath(INDEX_FILE_NAME));
  }

  private async query(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req, MAX_JSON_BYTES, 'body');
    const body = raw.length === 0 ? {} : (parseJson(raw, 'query') as Record<string, unknown> | null);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new KbInputError('query: body must be empty or {"offset": int, "limit": int}');
    const offset = body.offset ?? 0;
    const limit = body.limit ?? MAX_QUERY_LIMIT;
    if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) throw new KbInputError('offset: must be a non-negative integer');
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_QUERY_LIMIT) throw new KbInputError(`limit: must be an integer from 1 to ${MAX_QUERY_LIMIT}`);
    this.json(req, res, 200, this.options.db.query(offset, limit));
  }

  private async upload(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isMultipart(req)) throw new KbInputError('file/upload: the body must be multipart/form-data with a field "file"');
    const limit = this.options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit + 64 * 1024) throw new HttpError(413, `file: the upload (${declared} bytes) exceeds the limit of ${limit} bytes; nothing was stored`);
    const stored = await this.withPart(req, 'file', limit, async (file, filename, truncated) => {
      const name = checkFileName(filename, 'file');
      if (name === INDEX_FILE_NAME) throw new KbInputError(`file: "${INDEX_FILE_NAME}" is the knowledge base's index; POST it to /knowledgebase/update`);
      const bytes = await this.options.files.save(name, file, limit, truncated);
      this.options.metrics?.uploaded(bytes);
      return name;
    });
    this.json(req, res, 200, downloadPath(stored));
  }

  private async download(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const name = checkFileName(url.searchParams.get('files') ?? '', 'files');
    const as = url.searchParams.get('name') || name;
    const disposition = `attachment; filename*=UTF-8''${encodeURIComponent(as)}`;
    if (name === INDEX_FILE_NAME) {
      const index = this.options.db.currentIndex();
      if (!index) throw new HttpError(404, 'files: the knowledge base holds no index yet');
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Disposition': disposition }).end(JSON.stringify(index));
      return;
    }
    const path = this.options.files.pathOf(name, 'files');
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) throw new HttpError(404, `files: no file "${name}" in the knowledge base`);
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': info.size, 'Content-Disposition': disposition });
    await new Promise<void>((resolve, reject) => {
      const stream = createReadStream(path);
      stream.on('error', reject);
      res.on('close', () => {
        stream.destroy();
        resolve();
      });
      stream.pipe(res);
    });
  }

  /** The bytes of multipart field `field` (a file part or a plain field), at most `limit`. */
  private async multipartField(req: IncomingMessage, field: string, limit: number): Promise<Buffer> {
    return this.withPart(req, field, limit, async (part, _filename, truncated) => {
      const chunks: Buffer[] = [];
      for await (const chunk of part) chunks.push(chunk as Buffer);
      if (truncated()) throw new KbTooLargeError(`${field}: larger than the limit of ${limit} bytes; nothing was recorded`);
      return Buffer.concat(chunks);
    });
  }

  /** Runs `take` on the one part named `field` of a multipart body; other parts are skipped. */
  private withPart<T>(req: IncomingMessage, field: string, limit: number, take: (part: Readable, filename: string, truncated: () => boolean) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let parser: ReturnType<typeof busboy>;
      try {
        parser = busboy({ headers: req.headers, preservePath: true, limits: { fileSize: limit, fieldSize: limit, files: 2, fields: 10, parts: 12 } });
      } catch (err) {
        reject(new KbInputError(`body: ${(err as Error).message}`));
        return;
      }
      let taken: Promise<T> | undefined;
      parser.on('file', (name, stream, info) => {
        if (name !== field || taken) {
          stream.resume();
          return;
        }
        let cut = false;
        stream.on('limit', () => {
          cut = true;
        });
        taken = take(stream, info.filename ?? '', () => cut);
        taken.catch(() => stream.resume());
      });
      parser.on('field', (name, value, info) => {
        if (name !== field || taken) return;
        taken = take(Readable.from([Buffer.from(value)]), '', () => info.valueTruncated);
      });
      parser.on('error', (err: Error) => reject(new KbInputError(`body: malformed multipart (${err.message})`)));
      parser.on('close', () => {
        if (!taken) reject(new KbInputError(`${field}: the multipart body has no field "${field}"`));
        else taken.then(resolve, reject);
      });
      req.pipe(parser);
    });
  }

  private json(req: IncomingMessage, res: ServerResponse, code: number, body: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
    // A refused body may still be arriving: drop the connection rather than read it all.
    if (code >= 400 && !req.complete) res.on('finish', () => req.socket.destroy());
  }
}

function isMultipart(req: IncomingMessage): boolean {
  return /^multipart\/form-data/i.test(req.headers['content-type'] ?? '');
}

function parseJson(body: Buffer, what: string): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (err) {
    throw new KbInputError(`${what}: the body is not JSON (${(err as Error).message})`);
  }
}

async function readBody(req: IncomingMessage, limit: number, what: string): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new KbTooLargeError(`${what}: ${declared} bytes exceed the limit of ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new KbTooLargeError(`${what}: exceeds the limit of ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
