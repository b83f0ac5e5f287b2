// The worker's client of the knowledge-base server (Sedna's `KBClient`, lib.md §11): the index to
// /knowledgebase/update, deploy flags to update/status, files to file/upload, and downloads from
// file/download, with the bearer token (`KB_TOKEN`) the GM hands lifelong-learning workers. A
// relative answer ("/file/download?files=…") is joined to `${KB_SERVER}/knowledgebase` as Sedna
// does. Unlike Sedna's helper, a refusal (4xx) is an error naming the route and the server's
// reason at once, and only an unreachable server or a 5xx is retried.
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KbIndex, KbQueryResult } from '../../api/kb-index.ts';

export class KbError extends Error {
  override readonly name = 'KbError';
  constructor(
    message: string,
    /** The HTTP status, or undefined when the server could not be reached. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface KbClientOptions {
  /** `KB_SERVER`, e.g. http://127.0.0.1:9020 */
  server: string;
  /** `KB_TOKEN` */
  token?: string;
  /** Attempts for an unreachable server or a 5xx (default 3). */
  attempts?: number;
  retryDelayMs?: number;
}

export class KbClient {
  readonly base: string;
  private readonly attempts: number;
  private readonly retryDelayMs: number;

  constructor(private readonly options: KbClientOptions) {
    if (!/^https?:\/\//.test(options.server)) throw new KbError(`KB_SERVER must be an http(s) URL, got ${JSON.stringify(options.server)}`);
    this.base = `${options.server.replace(/\/+$/, '')}/knowledgebase`;
    this.attempts = Math.max(1, options.attempts ?? 3);
    this.retryDelayMs = options.retryDelayMs ?? 1000;
  }

  /** POST /update: records the index; answers the URL the index is downloaded from. */
  async updateIndex(index: KbIndex): Promise<string> {
    const answer = await this.request('update', () => {
      const form = new FormData();
      form.append('task', new Blob([JSON.stringify(index)], { type: 'application/json' }), 'index.json');
      return { method: 'POST', body: form };
    });
    return this.absolute(answer);
  }

  /** POST /update/status: sets the deploy flag of the named task groups. */
  async updateStatus(tasks: readonly string[], status: number): Promise<string> {
    const answer = await this.request('update/status', () => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status, tasks: tasks.length > 0 ? tasks.join(',') : null }) }));
    return this.absolute(answer);
  }

  async query(offset = 0, limit = 1000): Promise<KbQueryResult> {
    return (await this.request('query', () => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ offset, limit }) }))) as KbQueryResult;
  }

  /** POST /file/upload of a local file (stored under its base name); answers its download URL. */
  async uploadFile(path: string, name = basename(path)): Promise<string> {
    const bytes = await readFile(path);
    const answer = await this.request('file/upload', () => {
      const form = new FormData();
      form.append('file', new Blob([bytes]), name);
      return { method: 'POST', body: form };
    });
    return this.absolute(answer);
  }

  /** True when `url` is one of this KB's download URLs (they need the token). */
  serves(url: string): boolean {
    return url.startsWith(`${this.base}/`);
  }

  /** Downloads a KB URL to `dst` (atomically enough for the caller: the folder is created). */
  async download(url: string, dst: string): Promise<string> {
    if (!this.serves(url)) throw new KbError(`${url} is not a URL of the knowledge base at ${this.base}`);
    const response = await this.fetchWithRetry(url, () => ({ method: 'GET' }), 'file/download');
    await mkdir(dirname(dst), { recursive: true });
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), createWriteStream(dst));
    return dst;
  }

  /** The index at a KB URL, parsed. */
  async fetchIndex(url: string): Promise<KbIndex> {
    const response = await this.fetchWithRetry(url, () => ({ method: 'GET' }), 'file/download');
    return (await response.json()) as KbIndex;
  }

  private async request(route: string, init: () => RequestInit): Promise<unknown> {
    const response = await this.fetchWithRetry(`${this.base}/${route}`, init, route);
    return response.json();
  }

  private async fetchWithRetry(url: string, init: () => RequestInit, route: string): Promise<Response> {
    let failure = '';
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      let response: Response;
      try {
        const request = init();
        response = await fetch(url, { ...request, headers: { ...(request.headers as Record<string, string> | undefined), ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}) } });
      } catch (error) {
        failure = `the knowledge base at ${this.base} is unreachable (${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message})`;
        if (attempt < this.attempts) await sleep(this.retryDelayMs);
        continue;
      }
      if (response.ok) return response;
      const reason = await response.text().catch(() => '');
      failure = `knowledge base ${route}: ${response.status} ${reasonOf(reason)}`;
      if (response.status < 500) throw new KbError(failure, response.status);
      if (attempt < this.attempts) await sleep(this.retryDelayMs);
    }
    throw new KbError(failure);
  }

  private absolute(answer: unknown): string {
    if (typeof answer !== 'string') throw new KbError(`the knowledge base answered ${JSON.stringify(answer)}, not a download path`);
    return /^https?:\/\//.test(answer) ? answer : `${this.base}${answer.startsWith('/') ? '' : '/'}${answer}`;
  }
}

/** The server's JSON error message when it sent one, else the text. */
function reasonOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown; detail?: unknown };
    const reason = parsed.error ?? parsed.message ?? parsed.detail;
    return typeof reason === 'string' ? reason : body;
  } catch {
    return body;
  }
}
