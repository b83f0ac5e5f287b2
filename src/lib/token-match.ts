// Constant-time bearer-token checks, shared by every endpoint that authenticates callers (the API
// server, the GM's edge hub and metrics, the LocalController's worker API).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// Compared as SHA-256 digests: equal lengths for timingSafeEqual, so neither the token's length
// nor the position of the first wrong byte shows in the time taken.
function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

const NO_TOKEN_DIGEST = digest(randomBytes(32).toString('hex'));

/** Constant-time check; a caller with no expected token costs the same as a wrong token. */
export function tokenMatches(presented: string, expected: string | undefined): boolean {
  const same = timingSafeEqual(digest(presented), expected === undefined ? NO_TOKEN_DIGEST : digest(expected));
  return same && expected !== undefined;
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header || !/^bearer /i.test(header)) return undefined;
  return header.slice(7).trim();
}
