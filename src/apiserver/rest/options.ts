// Query parameters and DeleteOptions bodies, checked and turned into the store's options.
import type { IncomingMessage } from 'node:http';
import { badRequest } from '../errors.ts';
import type { DeleteOptions, FieldValidation, ListOptions, PropagationPolicy, WriteOptions } from '../registry/generic-store.ts';
import { parseBody, readBody } from './body.ts';

export function parseNonNegativeInt(value: string, field: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw badRequest(`${field} must be a non-negative integer (got ${JSON.stringify(value)})`);
  return n;
}

export function selectorOptions(q: URLSearchParams): Pick<ListOptions, 'labelSelector' | 'fieldSelector'> {
  return {
    ...(q.get('labelSelector') ? { labelSelector: q.get('labelSelector')! } : {}),
    ...(q.get('fieldSelector') ? { fieldSelector: q.get('fieldSelector')! } : {}),
  };
}

export function listOptions(q: URLSearchParams): ListOptions {
  const limit = q.get('limit');
  return {
    ...selectorOptions(q),
    ...(limit ? { limit: parseNonNegativeInt(limit, 'limit') } : {}),
    ...(q.get('continue') ? { continue: q.get('continue')! } : {}),
  };
}

export function includeObjectOption(q: URLSearchParams): 'None' | 'Metadata' | 'Object' {
  const value = q.get('includeObject');
  if (value === 'None' || value === 'Object' || value === 'Metadata') return value;
  if (value) throw badRequest(`includeObject must be one of None, Metadata, Object (got ${JSON.stringify(value)})`);
  return 'Metadata';
}

export function writeOptions(q: URLSearchParams): WriteOptions {
  const dryRun = q.getAll('dryRun');
  for (const value of dryRun) if (value !== 'All') throw badRequest(`dryRun: Unsupported value: ${JSON.stringify(value)}: supported values: "All"`);
  return { dryRun: dryRun.length > 0, fieldValidation: fieldValidation(q.get('fieldValidation')), warnings: [] };
}

function fieldValidation(value: string | null): FieldValidation {
  if (value === null || value === '') return 'Warn';
  if (value === 'Strict' || value === 'Warn' || value === 'Ignore') return value;
  throw badRequest(`fieldValidation: Unsupported value: ${JSON.stringify(value)}: supported values: "Ignore", "Strict", "Warn"`);
}

const POLICIES: PropagationPolicy[] = ['Orphan', 'Background', 'Foreground'];

/** DeleteOptions from the body (what kubectl sends) or the query (what curl users send). */
export async function deleteOptions(req: IncomingMessage, q: URLSearchParams): Promise<DeleteOptions> {
  const body = parseBody(await readBody(req), 'application/json') as Record<string, unknown> | undefined;
  const policy = (body?.propagationPolicy ?? q.get('propagationPolicy') ?? undefined) as string | undefined;
  const orphan = body?.orphanDependents ?? (q.has('orphanDependents') ? q.get('orphanDependents') === 'true' : undefined);
  const grace = body?.gracePeriodSeconds ?? q.get('gracePeriodSeconds') ?? undefined;
  const options: DeleteOptions = { ...writeOptions(q) };
  if (Array.isArray(body?.dryRun) && body.dryRun.includes('All')) options.dryRun = true;
  if (policy !== undefined) {
    if (!POLICIES.includes(policy as PropagationPolicy)) {
      throw badRequest(`propagationPolicy: Unsupported value: ${JSON.stringify(policy)}: supported values: "Orphan", "Background", "Foreground"`);
    }
    options.propagationPolicy = policy as PropagationPolicy;
  } else if (orphan !== undefined) {
    options.propagationPolicy = orphan ? 'Orphan' : 'Background';
  }
  if (grace !== undefined && grace !== null) {
    options.gracePeriodSeconds = parseNonNegativeInt(typeof grace === 'number' ? String(grace) : (grace as string), 'gracePeriodSeconds');
  }
  const pre = body?.preconditions as DeleteOptions['preconditions'] | undefined;
  if (pre) options.preconditions = pre;
  return options;
}
