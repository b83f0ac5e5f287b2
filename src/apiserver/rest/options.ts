// Query parameters and DeleteOptions bodies, checked and turned into the store's options. Every
// option is decoded and validated here, before a handler changes anything or starts a stream.
import type { IncomingMessage } from 'node:http';
import { badRequest, FieldErrors, invalid, type FieldError } from '../errors.ts';
import type { DeleteOptions, FieldValidation, ListOptions, PropagationPolicy, WatchOptions, WriteOptions } from '../registry/generic-store.ts';
import { parseFieldSelector } from '../../api/selectors/fields.ts';
import { parseLabelSelector } from '../../api/selectors/labels.ts';
import { parseBody, readBody } from './body.ts';
import { checkResourceVersionMatch, parseGoBool, parseInt64, queryBool, queryNonNegativeInt, queryResourceVersion } from '../query.ts';

export { parseNonNegativeInt } from '../query.ts';

/** Selectors are parsed here so a bad one is a 400 before any list or watch begins. */
export function selectorOptions(q: URLSearchParams): Pick<ListOptions, 'labelSelector' | 'fieldSelector'> {
  const labelSelector = q.get('labelSelector');
  const fieldSelector = q.get('fieldSelector');
  if (labelSelector) parseLabelSelector(labelSelector);
  if (fieldSelector) parseFieldSelector(fieldSelector);
  return {
    ...(labelSelector ? { labelSelector } : {}),
    ...(fieldSelector ? { fieldSelector } : {}),
  };
}

export function listOptions(q: URLSearchParams): ListOptions {
  const limit = queryNonNegativeInt(q, 'limit');
  queryResourceVersion(q);
  checkResourceVersionMatch(q);
  queryBool(q, 'allowWatchBookmarks');
  return {
    ...selectorOptions(q),
    ...(limit !== undefined ? { limit } : {}),
    ...(q.get('continue') ? { continue: q.get('continue')! } : {}),
  };
}

/** A watch's parameters, all checked before the response's 200 is written. */
export interface WatchParameters extends WatchOptions {
  timeoutSeconds: number | undefined;
  allowWatchBookmarks: boolean;
}

export function watchParameters(q: URLSearchParams, name: string | undefined): WatchParameters {
  const selectors = selectorOptions(q);
  const fieldSelector = [selectors.fieldSelector, name ? `metadata.name=${name}` : ''].filter(Boolean).join(',');
  const resourceVersion = queryResourceVersion(q);
  const sendInitialEvents = queryBool(q, 'sendInitialEvents');
  // A watch-list (sendInitialEvents) may name resourceVersionMatch without a resourceVersion.
  if (!q.has('sendInitialEvents')) checkResourceVersionMatch(q);
  const allowWatchBookmarks = queryBool(q, 'allowWatchBookmarks');
  return {
    ...(resourceVersion !== undefined ? { resourceVersion } : q.get('resourceVersion') === '' ? { resourceVersion: '' } : {}),
    ...(selectors.labelSelector ? { labelSelector: selectors.labelSelector } : {}),
    ...(fieldSelector ? { fieldSelector } : {}),
    initialEvents: sendInitialEvents,
    timeoutSeconds: queryNonNegativeInt(q, 'timeoutSeconds'),
    allowWatchBookmarks,
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
  queryBool(q, 'pretty');
  return { dryRun: dryRun.length > 0, fieldValidation: fieldValidation(q.get('fieldValidation')), warnings: [] };
}

function fieldValidation(value: string | null): FieldValidation {
  if (value === null || value === '') return 'Warn';
  if (value === 'Strict' || value === 'Warn' || value === 'Ignore') return value;
  throw badRequest(`fieldValidation: Unsupported value: ${JSON.stringify(value)}: supported values: "Ignore", "Strict", "Warn"`);
}

const POLICIES: PropagationPolicy[] = ['Orphan', 'Background', 'Foreground'];
const DELETE_OPTIONS_API_VERSIONS = ['v1', 'meta.k8s.io/v1', 'meta.k8s.io/v1beta1'];

/** The body of a DELETE, typed field by field as Go's json.Unmarshal into metav1.DeleteOptions. */
interface DeleteOptionsBody {
  dryRun?: string[];
  gracePeriodSeconds?: number | null;
  preconditions?: { uid?: string; resourceVersion?: string } | null;
  orphanDependents?: boolean | null;
  propagationPolicy?: string | null;
}

function cannotUnmarshal(field: string, got: unknown, want: string): Error {
  const type = got === null ? 'null' : Array.isArray(got) ? 'array' : typeof got;
  return badRequest(`error decoding DeleteOptions: json: cannot unmarshal ${type} into Go struct field DeleteOptions.${field} of type ${want}`);
}

function decodeDeleteOptionsBody(body: unknown): DeleteOptionsBody {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw cannotUnmarshal('', body, 'v1.DeleteOptions');
  const b = body as Record<string, unknown>;
  if (b.kind !== undefined && b.kind !== 'DeleteOptions') throw badRequest(`the body of a delete must be DeleteOptions (got kind ${JSON.stringify(b.kind)})`);
  if (b.apiVersion !== undefined && !DELETE_OPTIONS_API_VERSIONS.includes(b.apiVersion as string)) {
    throw badRequest(`DeleteOptions: unsupported apiVersion ${JSON.stringify(b.apiVersion)}`);
  }
  const out: DeleteOptionsBody = {};
  if (b.dryRun !== undefined && b.dryRun !== null) {
    if (!Array.isArray(b.dryRun) || !b.dryRun.every((v) => typeof v === 'string')) throw cannotUnmarshal('dryRun', b.dryRun, '[]string');
    out.dryRun = b.dryRun;
  }
  if (b.gracePeriodSeconds !== undefined && b.gracePeriodSeconds !== null) {
    if (typeof b.gracePeriodSeconds !== 'number' || !Number.isSafeInteger(b.gracePeriodSeconds)) {
      throw cannotUnmarshal('gracePeriodSeconds', b.gracePeriodSeconds, 'int64');
    }
    out.gracePeriodSeconds = b.gracePeriodSeconds;
  }
  if (b.preconditions !== undefined && b.preconditions !== null) {
    const pre = b.preconditions;
    if (typeof pre !== 'object' || Array.isArray(pre)) throw cannotUnmarshal('preconditions', pre, 'v1.Preconditions');
    const { uid, resourceVersion } = pre as Record<string, unknown>;
    if (uid !== undefined && uid !== null && typeof uid !== 'string') throw cannotUnmarshal('preconditions.uid', uid, 'types.UID');
    if (resourceVersion !== undefined && resourceVersion !== null && typeof resourceVersion !== 'string') {
      throw cannotUnmarshal('preconditions.resourceVersion', resourceVersion, 'string');
    }
    out.preconditions = { ...(uid ? { uid: uid } : {}), ...(resourceVersion ? { resourceVersion: resourceVersion } : {}) };
  }
  if (b.orphanDependents !== undefined && b.orphanDependents !== null) {
    if (typeof b.orphanDependents !== 'boolean') throw cannotUnmarshal('orphanDependents', b.orphanDependents, 'bool');
    out.orphanDependents = b.orphanDependents;
  }
  if (b.propagationPolicy !== undefined && b.propagationPolicy !== null) {
    if (typeof b.propagationPolicy !== 'string') throw cannotUnmarshal('propagationPolicy', b.propagationPolicy, 'v1.DeletionPropagation');
    out.propagationPolicy = b.propagationPolicy;
  }
  return out;
}

/** The query's DeleteOptions, for clients (curl, some SDKs) that send them as parameters. */
function deleteOptionsFromQuery(q: URLSearchParams): DeleteOptionsBody {
  const out: DeleteOptionsBody = {};
  if (q.has('dryRun')) out.dryRun = q.getAll('dryRun');
  const grace = q.get('gracePeriodSeconds');
  if (grace) out.gracePeriodSeconds = parseInt64(grace, 'gracePeriodSeconds');
  if (q.has('orphanDependents')) out.orphanDependents = parseGoBool(q.get('orphanDependents')!, 'orphanDependents');
  if (q.get('propagationPolicy')) out.propagationPolicy = q.get('propagationPolicy')!;
  return out;
}

/** ValidateDeleteOptions: the value checks kube-apiserver makes once the body decoded. */
function validateDeleteOptions(o: DeleteOptionsBody): FieldError[] {
  const errors: FieldError[] = [];
  if (o.orphanDependents !== undefined && o.propagationPolicy !== undefined) {
    errors.push(FieldErrors.invalid('propagationPolicy', o.propagationPolicy, 'orphanDependents and deletionPropagation cannot be both set'));
  }
  if (o.propagationPolicy !== undefined && !POLICIES.includes(o.propagationPolicy as PropagationPolicy)) {
    errors.push(FieldErrors.notSupported('propagationPolicy', o.propagationPolicy, POLICIES));
  }
  for (const value of o.dryRun ?? []) if (value !== 'All') errors.push(FieldErrors.notSupported('dryRun', value, ['All']));
  if (o.gracePeriodSeconds !== undefined && o.gracePeriodSeconds !== null && o.gracePeriodSeconds < 0) {
    errors.push(FieldErrors.invalid('gracePeriodSeconds', o.gracePeriodSeconds, 'must be greater than or equal to 0'));
  }
  return errors;
}

/**
 * DeleteOptions from the body (what kubectl sends) merged over the query (what curl users send),
 * fully decoded and validated before the caller deletes anything.
 */
export async function deleteOptions(req: IncomingMessage, q: URLSearchParams): Promise<DeleteOptions> {
  const fromBody = decodeDeleteOptionsBody(parseBody(await readBody(req), 'application/json'));
  const merged: DeleteOptionsBody = { ...deleteOptionsFromQuery(q), ...fromBody };
  const errors = validateDeleteOptions(merged);
  if (errors.length > 0) throw invalid('DeleteOptions', 'meta.k8s.io', '', errors);
  const options: DeleteOptions = { ...writeOptions(new URLSearchParams(q.has('fieldValidation') ? { fieldValidation: q.get('fieldValidation')! } : {})) };
  options.dryRun = (merged.dryRun ?? []).length > 0;
  if (merged.propagationPolicy !== undefined && merged.propagationPolicy !== null) {
    options.propagationPolicy = merged.propagationPolicy as PropagationPolicy;
  } else if (merged.orphanDependents !== undefined && merged.orphanDependents !== null) {
    options.propagationPolicy = merged.orphanDependents ? 'Orphan' : 'Background';
  }
  if (merged.gracePeriodSeconds !== undefined && merged.gracePeriodSeconds !== null) options.gracePeriodSeconds = merged.gracePeriodSeconds;
  if (merged.preconditions) options.preconditions = merged.preconditions;
  return options;
}
