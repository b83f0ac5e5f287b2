// Writing responses. Objects come out of storage as JSON text, so lists are assembled from the
// stored strings instead of being parsed and re-encoded.
import type { ServerResponse } from 'node:http';
import type { ListMeta } from '../../api/meta.ts';
import type { StatusError } from '../errors.ts';

export interface SendOptions {
  /** `body` is already JSON text. */
  raw?: boolean;
  /** Sent as `Warning: 299 - "..."` headers, which kubectl prints. */
  warnings?: string[] | undefined;
  contentType?: string;
}

export function sendJson(res: ServerResponse, code: number, body: unknown, options: SendOptions = {}): void {
  const text = options.raw ? (body as string) : JSON.stringify(body);
  const headers: Record<string, string | string[]> = {
    'Content-Type': options.contentType ?? 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
  };
  if (options.warnings?.length) headers.Warning = options.warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(text);
}

/** Lists go out in pieces of about this many characters. */
const LIST_CHUNK_CHARS = 64 * 1024;

/**
 * A list assembled from the stored JSON text of its items, written in pieces of ~64 KiB as the
 * client takes them. Joining the whole body into one string first cost about twice the CPU for
 * large lists (an 8 MB join, its flattening and its UTF-8 copy are three more passes over fresh
 * memory) and held the event loop for the whole list.
 */
export async function sendRawList(res: ServerResponse, apiVersion: string, kind: string, metadata: ListMeta, items: string[]): Promise<void> {
  const head = `{"apiVersion":${JSON.stringify(apiVersion)},"kind":${JSON.stringify(kind)},"metadata":${JSON.stringify(metadata)},"items":[`;
  const tail = ']}';
  let length = Buffer.byteLength(head) + tail.length + Math.max(0, items.length - 1);
  for (const item of items) length += Buffer.byteLength(item);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(length) });
  let chunk = head;
  for (let i = 0; i < items.length; i++) {
    chunk = i === 0 ? chunk + items[i] : chunk + ',' + items[i];
    if (chunk.length < LIST_CHUNK_CHARS) continue;
    const more = res.write(chunk);
    chunk = '';
    if (!more && !(await drained(res))) return;
  }
  res.end(chunk + tail);
}

/** Resolves true once `res` can take more, false if the connection went away first. */
function drained(res: ServerResponse): Promise<boolean> {
  if (res.destroyed || !res.socket || res.socket.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const finish = (more: boolean): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(more);
    };
    const onDrain = (): void => finish(true);
    const onClose = (): void => finish(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

export function sendStatusError(res: ServerResponse, err: StatusError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, err.code, err.toStatus());
}
