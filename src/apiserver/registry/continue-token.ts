// The opaque `continue` value of a paged list: where the page ended and at which revision.
import { badRequest } from '../errors.ts';

export interface ContinueToken {
  key: string;
  rv: number;
}

export function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 1, k: token.key, rv: token.rv })).toString('base64url');
}

export function decodeContinue(value: string): ContinueToken {
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as { v?: number; k?: unknown; rv?: unknown };
    if (parsed.v === 1 && typeof parsed.k === 'string' && typeof parsed.rv === 'number') return { key: parsed.k, rv: parsed.rv };
  } catch {
    // fall through to the error below
  }
  throw badRequest(`invalid continue token: ${JSON.stringify(value)}`);
}
