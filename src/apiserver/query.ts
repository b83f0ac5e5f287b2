// Query-parameter decoding as Kubernetes does it, in one place: booleans as Go's strconv.ParseBool
// reads them, integers within their Go type's range, resource versions as the storage layer
// accepts them. Every reader refuses a bad value with a 400 naming the parameter, so no handler
// starts work (or a stream) on a value it misread.
import { badRequest } from './errors.ts';

/** Go's strconv.ParseBool: exactly these spellings, anything else is an error. */
const TRUE_VALUES = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_VALUES = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

export function parseGoBool(value: string, field: string): boolean {
  if (TRUE_VALUES.has(value)) return true;
  if (FALSE_VALUES.has(value)) return false;
  throw badRequest(`${field}: invalid boolean value ${JSON.stringify(value)}: must be one of 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False`);
}

/** True for ParseBool's true spellings; never throws (for metrics labels, before validation). */
export function isGoTrue(value: string | null): boolean {
  return value !== null && TRUE_VALUES.has(value);
}

/** A boolean query parameter; absent is `fallback`. */
export function queryBool(q: URLSearchParams, field: string, fallback = false): boolean {
  const value = q.get(field);
  return value === null ? fallback : parseGoBool(value, field);
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/**
 * A decimal int64, as Go's strconv.ParseInt(value, 10, 64) reads it. Values beyond JavaScript's
 * safe range are clamped to it: they only ever mean "unbounded" for the parameters that take them.
 */
export function parseInt64(value: string, field: string, min: bigint = INT64_MIN): number {
  if (!/^[+-]?\d+$/.test(value)) throw badRequest(`${field}: invalid integer value ${JSON.stringify(value)}`);
  const n = BigInt(value);
  if (n > INT64_MAX || n < INT64_MIN) throw badRequest(`${field}: value ${value} is out of range for a 64-bit integer`);
  if (n < min) throw badRequest(`${field}: must be greater than or equal to ${min} (got ${value})`);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (n < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
  return Number(n);
}

export function parseNonNegativeInt(value: string, field: string): number {
  return parseInt64(value, field, 0n);
}

/** A non-negative int64 query parameter; absent or empty is undefined. */
export function queryNonNegativeInt(q: URLSearchParams, field: string): number | undefined {
  const value = q.get(field);
  return value === null || value === '' ? undefined : parseNonNegativeInt(value, field);
}

/**
 * Our resource versions are SQLite revisions: decimal, non-negative. kube-apiserver answers a
 * version its storage cannot parse with 400 "invalid resource version".
 */
export function parseResourceVersion(value: string, field = 'resourceVersion'): number {
  if (!/^\d+$/.test(value) || BigInt(value) > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw badRequest(`${field}: invalid resource version: ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/** The resourceVersion parameter, checked; absent or empty is undefined. */
export function queryResourceVersion(q: URLSearchParams): string | undefined {
  const value = q.get('resourceVersion');
  if (value === null || value === '') return undefined;
  parseResourceVersion(value);
  return value;
}

const RESOURCE_VERSION_MATCH = ['NotOlderThan', 'Exact'];

/** resourceVersionMatch needs a resourceVersion to compare against (ValidateListOptions). */
export function checkResourceVersionMatch(q: URLSearchParams): void {
  const match = q.get('resourceVersionMatch');
  if (match === null || match === '') return;
  if (!RESOURCE_VERSION_MATCH.includes(match)) {
    throw badRequest(`resourceVersionMatch: Unsupported value: ${JSON.stringify(match)}: supported values: "NotOlderThan", "Exact"`);
  }
  if (!q.get('resourceVersion')) throw badRequest('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided');
}

/**
 * Node's timers hold at most 2^31-1 ms (about 24.8 days); a longer timeout would fire at once.
 * kube-apiserver takes any int64 here, so a longer request is served as "as long as we can".
 */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

export function timerSeconds(seconds: number): number {
  return Math.min(seconds, MAX_TIMER_SECONDS);
}
