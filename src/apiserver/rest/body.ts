// Reading request bodies: bounded in size, parsed as JSON (or YAML where the media type says so),
// with errors that say what was wrong.
import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { badRequest, tooLarge } from '../errors.ts';

/** Kubernetes refuses request bodies over 3 MiB (etcd's object limit sets the same bound). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/**
 * Deepest nesting a body may have. Go's decoder allows 10,000; ours is lower because the
 * walkers after decoding (pruning, defaulting, merge patches, structuredClone) recurse on the JS
 * stack, which overflows near 3,000 levels. No Kubernetes object comes near 100.
 */
export const MAX_BODY_DEPTH = 1000;

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
    let doc: unknown;
    try {
      doc = parseYaml(text, { maxAliasCount: 100 }) as unknown;
    } catch (err) {
      throw badRequest(`error decoding YAML: ${(err as Error).message}`);
    }
    checkValueDepth(doc);
    return doc;
  }
  checkJsonDepth(text);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badRequest(`error decoding request body as JSON: ${(err as Error).message}`);
  }
}

/** One linear pass over the text (strings skipped) before anything recursive touches it. */
export function checkJsonDepth(text: string, max = MAX_BODY_DEPTH): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) throw badRequest(`error decoding request body as JSON: exceeded max depth of ${max}`);
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}

/** The same bound for a decoded YAML document, checked without recursion. */
function checkValueDepth(value: unknown, max = MAX_BODY_DEPTH): void {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) throw badRequest(`error decoding YAML: exceeded max depth of ${max}`);
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
}
