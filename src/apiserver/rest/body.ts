// Reading request bodies: bounded in size, parsed as JSON (or YAML where the media type says so),
// with errors that say what was wrong.
import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { badRequest, tooLarge } from '../errors.ts';

/** Kubernetes refuses request bodies over 3 MiB (etcd's object limit sets the same bound). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(`the request body is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
}

/** Parses a body as JSON, or as YAML for the YAML media types. Empty bodies are undefined. */
export function parseBody(raw: Buffer, type: string): unknown {
  const text = raw.toString('utf8');
  if (text.trim() === '') return undefined;
  if (type.endsWith('yaml')) {
    try {
      return parseYaml(text) as unknown;
    } catch (err) {
      throw badRequest(`error decoding YAML: ${(err as Error).message}`);
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badRequest(`error decoding request body as JSON: ${(err as Error).message}`);
  }
}
