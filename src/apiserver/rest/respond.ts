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

export function sendRawList(res: ServerResponse, apiVersion: string, kind: string, metadata: ListMeta, items: string[]): void {
  const head = `{"apiVersion":${JSON.stringify(apiVersion)},"kind":${JSON.stringify(kind)},"metadata":${JSON.stringify(metadata)},"items":[`;
  const text = head + items.join(',') + ']}';
  sendJson(res, 200, text, { raw: true });
}

export function sendStatusError(res: ServerResponse, err: StatusError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, err.code, err.toStatus());
}
