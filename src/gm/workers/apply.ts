// Create-or-update of the objects the GM owns, idempotent so a level-triggered reconcile can call
// it every time: create when absent, update only when the desired object differs from the live
// one, and write nothing otherwise. "Differs" is judged two ways: the desired fields must all be
// present in the live object with the same values (that catches someone editing the object, and
// ignores fields the API server defaults), and the hash of the desired object, recorded in an
// annotation at each write, must match (that catches a field the CR no longer sets).
import { createHash } from 'node:crypto';
import type { KubeObject } from '../../api/meta.ts';
import { isApiError, type KubeClient, type ObjectRef } from '../../controller/index.ts';

export { objectPath, type ObjectRef } from '../../controller/index.ts';

export const APPLIED_HASH_ANNOTATION = 'sedna.io/applied-hash';

export interface ApplyOptions<T extends KubeObject> {
  ref: ObjectRef;
  /** The desired object, given the live one (undefined when absent), e.g. to keep a generated name. */
  desired(live: T | undefined): T;
  /** The live object as an informer sees it; omitted: read from the server. */
  cached?: () => T | undefined;
  /** The object to PUT, from the desired and the live one (default: desired, keeping live metadata). */
  merge?(desired: T, live: T): T;
  /** Never update an existing object (a generated Secret whose value must be kept). */
  createOnly?: boolean;
  timeoutMs?: number;
}

export type ApplyOutcome = 'created' | 'updated' | 'unchanged';

export interface ApplyResult<T> {
  outcome: ApplyOutcome;
  object: T;
}

const MAX_ATTEMPTS = 3;

/** True when every field `desired` sets is in `live` with the same value (arrays: same length). */
export function isSubset(desired: unknown, live: unknown): boolean {
  if (desired === undefined) return true;
  if (desired === null || typeof desired !== 'object') return desired === live || (desired === null && live === undefined);
  if (Array.isArray(desired)) return Array.isArray(live) && live.length === desired.length && desired.every((d, i) => isSubset(d, live[i]));
  if (typeof live !== 'object' || live === null || Array.isArray(live)) return false;
  return Object.entries(desired).every(([key, value]) => isSubset(value, (live as Record<string, unknown>)[key]));
}

/** sha256 (16 hex) of what the GM decides about an object: labels, annotations, owners and the rest but status. */
export function desiredHash(obj: KubeObject): string {
  const { metadata, status: _status, ...rest } = obj;
  const annotations = { ...metadata.annotations };
  delete annotations[APPLIED_HASH_ANNOTATION];
  const identity = [metadata.labels ?? {}, annotations, metadata.ownerReferences ?? [], rest];
  return createHash('sha256').update(stableJson(identity)).digest('hex').slice(0, 16);
}

function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
}

function withHash<T extends KubeObject>(obj: T): T {
  return { ...obj, metadata: { ...obj.metadata, annotations: { ...obj.metadata.annotations, [APPLIED_HASH_ANNOTATION]: desiredHash(obj) } } };
}

/** True when `live` needs a write to become `desired`. */
export function needsUpdate(desired: KubeObject, live: KubeObject): boolean {
  if (live.metadata.annotations?.[APPLIED_HASH_ANNOTATION] !== desiredHash(desired)) return true;
  const { metadata, status: _status, ...rest } = desired;
  return !isSubset(rest, live) || !isSubset(metadata.labels ?? {}, live.metadata.labels ?? {}) || !isSubset(metadata.ownerReferences ?? [], live.metadata.ownerReferences ?? []);
}

/** Desired fields over the live object's; metadata keeps the server's fields and other writers' labels and annotations. */
export function defaultMerge<T extends KubeObject>(desired: T, live: T): T {
  return {
    ...desired,
    metadata: {
      ...live.metadata,
      labels: { ...live.metadata.labels, ...desired.metadata.labels },
      annotations: { ...live.metadata.annotations, ...desired.metadata.annotations },
      ownerReferences: desired.metadata.ownerReferences ?? live.metadata.ownerReferences,
    },
  };
}

/**
 * defaultMerge, with the live spec's top-level fields the desired one leaves unset kept: the
 * replicas an HPA scaled a Deployment to, a Service's allocated clusterIP, server defaults.
 */
export function mergeSpecOverLive<T extends KubeObject>(desired: T, live: T): T {
  const merged = defaultMerge(desired, live);
  const liveSpec = (live.spec ?? {}) as Record<string, unknown>;
  const desiredSpec = (desired.spec ?? {}) as Record<string, unknown>;
  return { ...merged, spec: { ...liveSpec, ...desiredSpec } };
}

export async function applyObject<T extends KubeObject>(client: KubeClient, options: ApplyOptions<T>): Promise<ApplyResult<T>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const read = async (): Promise<T | undefined> => {
    try {
      return await client.get<T>(options.ref, { timeoutMs });
    } catch (err) {
      if (isApiError(err, 404)) return undefined;
      throw err;
    }
  };
  let live = options.cached ? options.cached() : await read();
  for (let attempt = 1; ; attempt++) {
    if (live === undefined) {
      const created = await create(client, options, timeoutMs);
      if (created) return { outcome: 'created', object: created };
      live = await read(); // it appeared meanwhile (a stale cache): compare with it
      if (live === undefined) {
        if (attempt >= MAX_ATTEMPTS) throw new Error(`${options.ref.plural} ${options.ref.namespace}/${options.ref.name}: create conflicts, yet it cannot be read`);
        continue;
      }
    }
    const desired = withHash(options.desired(live));
    if (options.createOnly || !needsUpdate(desired, live)) return { outcome: 'unchanged', object: live };
    const merged = (options.merge ?? defaultMerge)(desired, live);
    const body = withHash({ ...merged, metadata: { ...merged.metadata, resourceVersion: live.metadata.resourceVersion } });
    try {
      const updated = await client.update<T>(options.ref, body, { timeoutMs });
      return { outcome: 'updated', object: updated };
    } catch (err) {
      // Changed or deleted since read: read again and decide again.
      if (!(isApiError(err, 409) || isApiError(err, 404)) || attempt >= MAX_ATTEMPTS) throw err;
      live = await read();
    }
  }
}

/** The created object, or undefined when one of that name already exists. */
async function create<T extends KubeObject>(client: KubeClient, options: ApplyOptions<T>, timeoutMs: number): Promise<T | undefined> {
  try {
    return await client.create<T>(options.ref, withHash(options.desired(undefined)), { timeoutMs });
  } catch (err) {
    if (isApiError(err, 409)) return undefined;
    throw err;
  }
}

/** Deletes the object; true if it was there. Background propagation: its own children go with it. */
export async function deleteIfExists(client: KubeClient, ref: ObjectRef, timeoutMs = 10_000): Promise<boolean> {
  try {
    await client.delete(ref, { propagationPolicy: 'Background', timeoutMs });
    return true;
  } catch (err) {
    if (isApiError(err, 404)) return false;
    throw err;
  }
}
