// A KubeClient that keeps objects in memory and records every call, in the manner of client-go's
// fake clientset: unit tests seed it, run a reconcile, and assert on the actions. It does what a
// test needs from the API server and no more: uid, resourceVersion, generation (bumped when
// anything but metadata and status changes), generateName, optimistic concurrency (409), 404s,
// label-selected lists, merge patches and the status subresource. There is no garbage collector
// and no admission or validation.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { KubeList, KubeObject } from '../api/meta.ts';
import type { CallOptions, DeleteOptions, KubeClient, ListOptions, ObjectRef, PatchType, ResourceRef } from './client.ts';
import { type Clock, realClock } from '../lib/clock.ts';
import { rfc3339 } from '../api/conditions.ts';
import { ApiError } from './rest.ts';
import { ObjectStore } from './store.ts';

export type Verb = 'get' | 'list' | 'create' | 'update' | 'updateStatus' | 'patch' | 'delete';

export interface Action {
  verb: Verb;
  apiVersion: string;
  plural: string;
  namespace: string;
  /** Absent for list, and for a create by generateName before the name is known. */
  name?: string;
  /** The body sent (create, update, updateStatus, patch). */
  object?: unknown;
}

const WRITES: ReadonlySet<Verb> = new Set(['create', 'update', 'updateStatus', 'patch', 'delete']);

export class FakeKubeClient implements KubeClient {
  readonly actions: Action[] = [];
  private readonly collections = new Map<string, ObjectStore<KubeObject>>();
  private readonly failures: { verb: Verb; plural: string; error: Error }[] = [];
  private resourceVersion = 0;
  private nameSeq = 0;

  constructor(private readonly clock: Clock = realClock) {}

  /** Stores objects as they are (a test's starting state); not recorded as actions. */
  seed(ref: ResourceRef, ...objects: KubeObject[]): void {
    for (const obj of objects) {
      const seeded = structuredClone(obj);
      seeded.metadata = { uid: randomUUID(), creationTimestamp: rfc3339(new Date(this.clock.now())), ...seeded.metadata };
      this.store(ref).upsert(this.stamp(seeded, obj.metadata.generation ?? 1));
    }
  }

  /** The next `verb` on `plural` fails with `error` (once per call). */
  failNext(verb: Verb, plural: string, error: Error): void {
    this.failures.push({ verb, plural, error });
  }

  /** Calls that changed something, in order. */
  writes(): Action[] {
    return this.actions.filter((a) => WRITES.has(a.verb));
  }

  clearActions(): void {
    this.actions.length = 0;
  }

  /** Every stored object of a collection (all namespaces when `ref.namespace` is absent). */
  objects<T extends KubeObject>(ref: ResourceRef): T[] {
    return this.store(ref)
      .list(ref.namespace || undefined)
      .map((obj) => structuredClone(obj) as T);
  }

  get<T extends KubeObject>(ref: ObjectRef, _options?: CallOptions): Promise<T> {
    return attempt(() => {
      this.record({ verb: 'get', ...ref });
      return structuredClone(this.existing(ref, 'get')) as T;
    });
  }

  list<T extends KubeObject>(ref: ResourceRef, options: ListOptions = {}): Promise<KubeList<T>> {
    return attempt(() => {
      this.record({ verb: 'list', apiVersion: ref.apiVersion, plural: ref.plural, namespace: ref.namespace ?? '' });
      this.maybeFail('list', ref.plural);
      const items = this.store(ref).list(ref.namespace || undefined, options.labelSelector);
      return { apiVersion: ref.apiVersion, kind: 'List', metadata: { resourceVersion: String(this.resourceVersion) }, items: items.map((obj) => structuredClone(obj) as T) };
    });
  }

  create<T extends KubeObject>(ref: ResourceRef, obj: T, _options?: CallOptions): Promise<T> {
    return attempt(() => {
      const namespace = obj.metadata.namespace ?? ref.namespace ?? '';
      this.record({ verb: 'create', apiVersion: ref.apiVersion, plural: ref.plural, namespace, ...(obj.metadata.name ? { name: obj.metadata.name } : {}), object: obj });
      this.maybeFail('create', ref.plural);
      const created = structuredClone(obj) as KubeObject;
      created.metadata = { ...created.metadata, namespace: namespace || undefined };
      if (!created.metadata.name && created.metadata.generateName) created.metadata.name = `${created.metadata.generateName}${(++this.nameSeq).toString(36).padStart(5, '0')}`;
      if (!created.metadata.name) throw apiError(422, 'Invalid', 'metadata.name: Required value', 'POST', ref);
      const store = this.store({ ...ref, namespace });
      if (store.get(namespace, created.metadata.name)) throw apiError(409, 'AlreadyExists', `${ref.plural} "${created.metadata.name}" already exists`, 'POST', ref);
      created.metadata.uid = randomUUID();
      created.metadata.creationTimestamp = rfc3339(new Date(this.clock.now()));
      store.upsert(this.stamp(created, 1));
      return structuredClone(created) as T;
    });
  }

  update<T extends KubeObject>(ref: ObjectRef, obj: T, _options?: CallOptions): Promise<T> {
    return attempt(() => {
      this.record({ verb: 'update', ...ref, object: obj });
      const current = this.current(ref, 'update', obj);
      const { status: _ignored, ...rest } = structuredClone(obj) as KubeObject;
      const next: KubeObject = { ...rest, ...(current.status !== undefined ? { status: structuredClone(current.status) } : {}) };
      next.metadata = { ...next.metadata, uid: current.metadata.uid, creationTimestamp: current.metadata.creationTimestamp };
      return this.save(ref, current, next) as T;
    });
  }

  updateStatus<T extends KubeObject>(ref: ObjectRef, obj: T, _options?: CallOptions): Promise<T> {
    return attempt(() => {
      this.record({ verb: 'updateStatus', ...ref, object: obj });
      const current = this.current(ref, 'updateStatus', obj);
      const next = { ...structuredClone(current), status: structuredClone(obj.status) } as KubeObject;
      return this.save(ref, current, next) as T;
    });
  }

  patch<T extends KubeObject>(ref: ObjectRef, patch: unknown, type: PatchType, _options?: CallOptions): Promise<T> {
    return attempt(() => {
      this.record({ verb: 'patch', ...ref, object: patch });
      if (type === 'json') throw apiError(415, 'UnsupportedMediaType', 'the fake client applies merge patches only', 'PATCH', ref);
      const current = this.current(ref, 'patch', undefined);
      return this.save(ref, current, mergePatch(structuredClone(current), patch) as KubeObject) as T;
    });
  }

  delete(ref: ObjectRef, _options?: DeleteOptions): Promise<void> {
    return attempt(() => {
      this.record({ verb: 'delete', ...ref });
      const current = this.existing(ref, 'delete');
      this.store(ref).remove(current);
    });
  }

  private current(ref: ObjectRef, verb: Verb, body: KubeObject | undefined): KubeObject {
    const current = this.existing(ref, verb);
    const wanted = body?.metadata.resourceVersion;
    if (wanted && wanted !== current.metadata.resourceVersion) {
      throw apiError(409, 'Conflict', `Operation cannot be fulfilled on ${ref.plural} "${ref.name}": the object has been modified`, 'PUT', ref);
    }
    return current;
  }

  private existing(ref: ObjectRef, verb: Verb): KubeObject {
    this.maybeFail(verb, ref.plural);
    const obj = this.store(ref).get(ref.namespace, ref.name);
    if (!obj) throw apiError(404, 'NotFound', `${ref.plural} "${ref.name}" not found`, verb.toUpperCase(), ref);
    return obj;
  }

  private save(ref: ObjectRef, current: KubeObject, next: KubeObject): KubeObject {
    const changedSpec = !isDeepStrictEqual(withoutMetaAndStatus(current), withoutMetaAndStatus(next));
    const generation = (current.metadata.generation ?? 1) + (changedSpec ? 1 : 0);
    next.metadata = { ...next.metadata, name: ref.name, namespace: ref.namespace || undefined };
    this.store(ref).upsert(this.stamp(next, generation));
    return structuredClone(next);
  }

  private stamp(obj: KubeObject, generation: number): KubeObject {
    obj.metadata = { ...obj.metadata, resourceVersion: String(++this.resourceVersion), generation };
    return obj;
  }

  private store(ref: ResourceRef): ObjectStore<KubeObject> {
    const key = `${ref.apiVersion}|${ref.plural}`;
    let store = this.collections.get(key);
    if (!store) this.collections.set(key, (store = new ObjectStore<KubeObject>()));
    return store;
  }

  private record(action: Action): void {
    const { namespace, ...rest } = action;
    this.actions.push({ ...rest, namespace: namespace ?? '' });
  }

  private maybeFail(verb: Verb, plural: string): void {
    const index = this.failures.findIndex((f) => f.verb === verb && f.plural === plural);
    if (index >= 0) throw this.failures.splice(index, 1)[0]!.error;
  }
}

/** Runs `fn` as an API call would: its throw becomes the promise's rejection. */
function attempt<R>(fn: () => R): Promise<R> {
  return new Promise((resolve) => resolve(fn()));
}

function withoutMetaAndStatus(obj: KubeObject): unknown {
  const { metadata: _m, status: _s, ...rest } = obj;
  return rest;
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function apiError(code: number, reason: string, message: string, method: string, ref: ResourceRef): ApiError {
  return new ApiError(code, { apiVersion: 'v1', kind: 'Status', status: 'Failure', reason, message, code, metadata: {} }, method, ref.plural);
}
