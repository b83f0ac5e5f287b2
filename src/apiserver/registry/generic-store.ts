// Every REST verb, implemented once for every kind (after Kubernetes' generic registry Store).
// Per-kind behaviour comes from the ResourceDef's strategy; storage is the SQLite log. The HTTP
// layer and the in-process controllers both go through this class, so they see the same rules.
import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject, ObjectMeta } from '../../api/meta.ts';
import {
  alreadyExists,
  badRequest,
  conflict,
  forbidden,
  gone,
  invalid,
  notFound,
  STALE_OBJECT_MESSAGE,
  StatusError,
  FieldErrors,
  type FieldError,
} from '../errors.ts';
import { parseFieldSelector } from '../../api/selectors/fields.ts';
import { parseLabelSelector } from '../../api/selectors/labels.ts';
import type { SqliteStore } from '../storage/sqlite-store.ts';
import { CompactedError, ConflictError, KeyExistsError, NotFoundError, type StoredEvent } from '../storage/types.ts';
import type { ResourceRegistry } from './registry.ts';
import { apiVersionOf, groupResource, type ResourceDef, type Strategy } from './types.ts';
import { checkListSelectors, objectMatcher, rawLabelPrefilter, type ObjectMatcher } from './matching.ts';
import { decodeContinue, encodeContinue } from './continue-token.ts';
import { parseResourceVersion } from '../query.ts';
import type { UserInfo } from '../authn/user.ts';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** Subresources with their own update strategy. */
export type Subresource = 'status' | 'finalize';

export interface WriteOptions {
  dryRun?: boolean;
  /** Who asks; admission checks (NodeRestriction) look at it. Controllers inside the server leave it out. */
  user?: UserInfo;
  /**
   * Records the write in metadata.managedFields (the REST layer passes its field manager's
   * tracker); called with the stored object (undefined on create) and the one about to be stored.
   */
  track?: (old: KubeObject | undefined, obj: KubeObject) => void;
  fieldValidation?: FieldValidation;
  /** Warnings for the client (unknown fields under Warn), returned as Warning headers. */
  warnings?: string[];
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface ListResult {
  /** JSON text of each object, already in the requested version. */
  items: string[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export type PropagationPolicy = 'Orphan' | 'Background' | 'Foreground';

export interface DeleteOptions extends WriteOptions {
  propagationPolicy?: PropagationPolicy;
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface DeleteResult {
  object: KubeObject;
  /** False when the object stays, marked for deletion (finalizers or a grace period). */
  deleted: boolean;
}

export interface WatchOptions {
  resourceVersion?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Send synthetic ADDED events for what exists now (watch without a resourceVersion, or "0"). */
  initialEvents?: boolean;
}

export interface WatchSink {
  /** A change the watcher matches. `raw` is the object's JSON text in the requested version. */
  event(type: 'ADDED' | 'MODIFIED' | 'DELETED', raw: string, rev: number): void;
  /** The watch cannot continue (e.g. 410 Gone); the sink should end the stream. */
  error(err: StatusError): void;
}

export type UpdateFn = (current: KubeObject) => KubeObject;

/** One write as admission sees it, after defaulting and before validation and storage. */
export interface AdmissionAttributes {
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  def: ResourceDef;
  /** The object as it will be stored (for DELETE, the stored object). */
  obj: KubeObject;
  old?: KubeObject;
  subresource?: Subresource;
  user: UserInfo;
}

/** Throws a StatusError (403) to refuse a write. */
export type AdmissionCheck = (attributes: AdmissionAttributes) => void;

const ORPHAN_FINALIZER = 'orphan';
const FOREGROUND_FINALIZER = 'foregroundDeletion';
const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

export function nowTimestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function randomSuffix(length = 5): string {
  let out = '';
  for (let i = 0; i < length; i++) out += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
  return out;
}

export class GenericStore {
  /** Admission plugins run on every write that carries a user (requests, not in-server controllers). */
  readonly admission: AdmissionCheck[] = [];

  constructor(
    readonly storage: SqliteStore,
    readonly registry: ResourceRegistry,
  ) {}

  // ---- keys ----------------------------------------------------------------------------

  /** Storage key: one per group and resource, shared by every version of a CRD. */
  key(def: ResourceDef, namespace: string | undefined, name: string): string {
    return `${this.prefix(def, def.namespaced ? namespace : undefined)}${name}`;
  }

  prefix(def: ResourceDef, namespace?: string): string {
    const base = `${def.group || 'core'}/${def.plural}/`;
    if (!def.namespaced) return `${base}/`;
    return namespace ? `${base}${namespace}/` : base;
  }

  // ---- reads ---------------------------------------------------------------------------

  get(def: ResourceDef, namespace: string | undefined, name: string): KubeObject {
    return JSON.parse(this.getRaw(def, namespace, name)) as KubeObject;
  }

  getRaw(def: ResourceDef, namespace: string | undefined, name: string): string {
    const stored = this.storage.get(this.key(def, namespace, name));
    if (!stored) throw notFound(groupResource(def), name);
    return this.toVersion(def, stored.value);
  }

  tryGet(def: ResourceDef, namespace: string | undefined, name: string): KubeObject | undefined {
    const stored = this.storage.get(this.key(def, namespace, name));
    return stored ? (JSON.parse(this.toVersion(def, stored.value)) as KubeObject) : undefined;
  }

  list(def: ResourceDef, namespace: string | undefined, options: ListOptions = {}): ListResult {
    const labels = options.labelSelector ? parseLabelSelector(options.labelSelector) : undefined;
    const fields = options.fieldSelector ? parseFieldSelector(options.fieldSelector) : undefined;
    checkListSelectors(def, fields);
    const matcher = objectMatcher(def, labels, fields);
    const prefilter = rawLabelPrefilter(labels);
    const prefix = this.prefix(def, namespace);
    const token = options.continue ? decodeContinue(options.continue) : undefined;
    if (token && token.rv < this.storage.compactRevision()) {
      throw gone('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
    }
    const limit = options.limit && options.limit > 0 ? options.limit : undefined;
    const revision = token?.rv ?? this.storage.currentRevision();
    // Later pages read the state as of the first page's revision, as kube-apiserver's do.
    const readPage = (startAfter: string | undefined, want: number | undefined) => {
      const page = { ...(startAfter !== undefined ? { startAfter } : {}), ...(want ? { limit: want } : {}) };
      return revision < this.storage.currentRevision() ? this.storage.listAt(prefix, revision, page) : this.storage.list(prefix, page);
    };
    const items: string[] = [];
    let startAfter = token?.key;
    let lastKey: string | undefined;
    let exhausted = false;
    while (!exhausted && (limit === undefined || items.length < limit)) {
      const want = limit === undefined ? undefined : Math.max(limit - items.length, matcher ? 256 : 0);
      const page = readPage(startAfter, want);
      if (want === undefined || page.rows.length < want) exhausted = true;
      for (const row of page.rows) {
        lastKey = row.key;
        if (prefilter && !prefilter(row.value)) continue;
        const value = this.toVersion(def, row.value);
        if (matcher && !matcher(JSON.parse(value) as KubeObject)) continue;
        items.push(value);
        if (limit !== undefined && items.length >= limit) break;
      }
      startAfter = lastKey;
      if (page.rows.length === 0) exhausted = true;
    }
    const result: ListResult = { items, resourceVersion: String(revision) };
    if (limit !== undefined && items.length >= limit && lastKey !== undefined) {
      // Counted, not read: on the current revision an index range count; a page of an older
      // revision reads what it must to see the objects as they were.
      const remaining = revision < this.storage.currentRevision() ? readPage(lastKey, undefined).rows.length : this.storage.countAfter(prefix, lastKey);
      if (remaining > 0) {
        result.continue = encodeContinue({ key: lastKey, rv: revision });
        if (!matcher) result.remainingItemCount = remaining;
      }
    }
    return result;
  }

  /**
   * Every object of a kind as it is now, a page at a time, yielding to the event loop between
   * pages: controllers read large collections this way without holding the server.
   */
  async *pages(def: ResourceDef, namespace?: string, pageSize = 500): AsyncGenerator<KubeObject[]> {
    const prefix = this.prefix(def, namespace);
    let startAfter: string | undefined;
    for (;;) {
      const { rows } = this.storage.list(prefix, { ...(startAfter !== undefined ? { startAfter } : {}), limit: pageSize });
      if (rows.length > 0) yield rows.map((row) => JSON.parse(this.toVersion(def, row.value)) as KubeObject);
      if (rows.length < pageSize) return;
      startAfter = rows[rows.length - 1]!.key;
      await yieldToEventLoop();
    }
  }

  /** Parsed objects, for controllers. */
  listObjects(def: ResourceDef, namespace?: string, options: ListOptions = {}): KubeObject[] {
    return this.list(def, namespace, options).items.map((raw) => JSON.parse(raw) as KubeObject);
  }

  // ---- create ----------------------------------------------------------------------------

  create(def: ResourceDef, namespace: string | undefined, body: KubeObject, options: WriteOptions = {}): KubeObject {
    const obj = this.checkBody(def, namespace, body);
    this.decode(def, obj, options);
    this.checkNamespaceAccepts(def, obj.metadata.namespace, obj.metadata.name ?? obj.metadata.generateName ?? '');
    const meta = obj.metadata;
    const generated = !meta.name && !!meta.generateName;
    for (let attempt = 0; ; attempt++) {
      if (generated) meta.name = `${meta.generateName}${randomSuffix()}`;
      try {
        return this.createOnce(def, obj, options);
      } catch (err) {
        if (generated && attempt < 8 && err instanceof StatusError && err.reason === 'AlreadyExists') continue;
        throw err;
      }
    }
  }

  private createOnce(def: ResourceDef, input: KubeObject, options: WriteOptions): KubeObject {
    const obj = structuredClone(input);
    const meta = obj.metadata;
    meta.uid = randomUUID();
    meta.creationTimestamp = nowTimestamp();
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.resourceVersion;
    delete meta.generation;
    def.strategy.prepareForCreate(obj);
    options.track?.(undefined, obj);
    this.admit({ operation: 'CREATE', def, obj }, options);
    this.validateOrThrow(def, obj, def.strategy.validate(obj));
    const key = this.key(def, meta.namespace, meta.name!);
    if (options.dryRun) {
      if (this.storage.get(key)) throw alreadyExists(groupResource(def), meta.name!);
      return obj;
    }
    try {
      const stored = this.storage.create(key, (rev) => this.encode(def, obj, rev));
      return JSON.parse(this.toVersion(def, stored.value)) as KubeObject;
    } catch (err) {
      if (err instanceof KeyExistsError) {
        const existing = this.tryGet(def, meta.namespace, meta.name!);
        if (existing?.metadata.deletionTimestamp) {
          throw new StatusError(409, 'AlreadyExists', `object is being deleted: ${alreadyExists(groupResource(def), meta.name!).message}`, {
            name: meta.name!,
            group: def.group,
            kind: def.plural,
          });
        }
        throw alreadyExists(groupResource(def), meta.name!);
      }
      throw err;
    }
  }

  // ---- update / patch -------------------------------------------------------------------

  /** PUT: replaces the object (or its status), guarded by the body's resourceVersion. */
  update(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    body: KubeObject,
    options: WriteOptions & { subresource?: Subresource } = {},
  ): { object: KubeObject; created: boolean } {
    const obj = this.checkBody(def, namespace, body, name);
    this.decode(def, obj, options);
    const key = this.key(def, namespace, name);
    const stored = this.storage.get(key);
    const strategy = this.strategyFor(def, options.subresource);
    if (!stored) {
      if (!strategy.allowCreateOnUpdate || options.subresource) throw notFound(groupResource(def), name);
      return { object: this.create(def, namespace, obj, options), created: true };
    }
    const wanted = obj.metadata.resourceVersion;
    if (!wanted && !strategy.allowUnconditionalUpdate) {
      throw invalid(def.kind, def.group, name, [FieldErrors.invalid('metadata.resourceVersion', '', 'must be specified for an update')]);
    }
    if (wanted && wanted !== String(stored.rev)) throw conflict(groupResource(def), name, STALE_OBJECT_MESSAGE);
    const old = JSON.parse(this.toVersion(def, stored.value)) as KubeObject;
    return { object: this.commitUpdate(def, old, stored.rev, obj, strategy, options), created: false };
  }

  /**
   * Read-modify-write with retries (GuaranteedUpdate): `mutate` builds the new object from the
   * current one. PATCH and the controllers use it. A resourceVersion the mutation puts in the
   * result acts as a precondition, so it is never retried past.
   */
  guaranteedUpdate(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    mutate: UpdateFn,
    options: WriteOptions & { subresource?: Subresource } = {},
  ): KubeObject {
    const key = this.key(def, namespace, name);
    const strategy = this.strategyFor(def, options.subresource);
    for (let attempt = 0; ; attempt++) {
      const stored = this.storage.get(key);
      if (!stored) throw notFound(groupResource(def), name);
      const old = JSON.parse(this.toVersion(def, stored.value)) as KubeObject;
      const next = mutate(structuredClone(old));
      const obj = this.checkBody(def, namespace, next, name);
      this.decode(def, obj, options);
      const wanted = obj.metadata.resourceVersion;
      if (wanted && wanted !== String(stored.rev)) throw conflict(groupResource(def), name, STALE_OBJECT_MESSAGE);
      try {
        return this.commitUpdate(def, old, stored.rev, obj, strategy, options);
      } catch (err) {
        if (err instanceof StatusError && err.reason === 'Conflict' && !wanted && attempt < 5) continue;
        throw err;
      }
    }
  }

  private commitUpdate(
    def: ResourceDef,
    old: KubeObject,
    rev: number,
    input: KubeObject,
    strategy: Strategy,
    options: WriteOptions & { subresource?: Subresource },
  ): KubeObject {
    const obj = structuredClone(input);
    carryServerMetadata(obj.metadata, old.metadata, def);
    strategy.prepareForUpdate(obj, old);
    options.track?.(old, obj);
    this.admit({ operation: 'UPDATE', def, obj, old, ...(options.subresource ? { subresource: options.subresource } : {}) }, options);
    this.validateOrThrow(def, obj, strategy.validateUpdate(obj, old));
    const meta = obj.metadata;
    if (meta.deletionTimestamp && (meta.finalizers ?? []).length === 0 && this.pendingFinalizers(def, obj).length === 0 && !meta.deletionGracePeriodSeconds) {
      // The last finalizer is gone from an object marked for deletion: it goes now.
      if (options.dryRun) return obj;
      return this.removeFromStorage(def, obj, rev);
    }
    obj.metadata.resourceVersion = String(rev);
    if (sameContent(obj, old)) return old; // a no-op write neither bumps resourceVersion nor wakes watchers
    if (options.dryRun) return obj;
    const key = this.key(def, meta.namespace, meta.name!);
    try {
      const stored = this.storage.update(key, rev, (next) => this.encode(def, obj, next));
      return JSON.parse(this.toVersion(def, stored.value)) as KubeObject;
    } catch (err) {
      if (err instanceof ConflictError) throw conflict(groupResource(def), meta.name!, STALE_OBJECT_MESSAGE);
      if (err instanceof NotFoundError) throw notFound(groupResource(def), meta.name!);
      throw err;
    }
  }

  // ---- delete ----------------------------------------------------------------------------

  delete(def: ResourceDef, namespace: string | undefined, name: string, options: DeleteOptions = {}): DeleteResult {
    for (let attempt = 0; ; attempt++) {
      try {
        return this.deleteOnce(def, namespace, name, options);
      } catch (err) {
        if (err instanceof StatusError && err.reason === 'Conflict' && !options.preconditions?.resourceVersion && attempt < 5) continue;
        throw err;
      }
    }
  }

  private deleteOnce(def: ResourceDef, namespace: string | undefined, name: string, options: DeleteOptions): DeleteResult {
    const key = this.key(def, namespace, name);
    const stored = this.storage.get(key);
    if (!stored) throw notFound(groupResource(def), name);
    const obj = JSON.parse(this.toVersion(def, stored.value)) as KubeObject;
    checkPreconditions(def, obj, options.preconditions);
    this.admit({ operation: 'DELETE', def, obj }, options);
    const meta = obj.metadata;
    const finalizers = withPropagationFinalizer(meta.finalizers ?? [], options.propagationPolicy);
    const grace = this.gracePeriod(def, obj, options.gracePeriodSeconds);
    const pending = [...finalizers, ...this.pendingFinalizers(def, obj)];
    if (pending.length === 0 && grace === 0) {
      if (options.dryRun) return { object: obj, deleted: true };
      return { object: this.removeFromStorage(def, obj, stored.rev), deleted: true };
    }
    // Mark for deletion and keep the object: finalizers or a grace period must run first.
    const next = structuredClone(obj);
    const alreadyMarked = !!next.metadata.deletionTimestamp;
    next.metadata.finalizers = finalizers.length ? finalizers : undefined;
    if (!next.metadata.finalizers) delete next.metadata.finalizers;
    if (!alreadyMarked) {
      const at = new Date(Date.now() + grace * 1000);
      next.metadata.deletionTimestamp = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
      next.metadata.deletionGracePeriodSeconds = grace;
      if (next.metadata.generation !== undefined) next.metadata.generation += 1;
      def.strategy.prepareForDelete?.(next);
    } else if (grace < (next.metadata.deletionGracePeriodSeconds ?? 0)) {
      // A shorter grace period (e.g. the kubelet's final delete with 0) takes effect.
      next.metadata.deletionGracePeriodSeconds = grace;
      if (grace === 0 && pending.length === 0) {
        if (options.dryRun) return { object: obj, deleted: true };
        return { object: this.removeFromStorage(def, obj, stored.rev), deleted: true };
      }
    }
    next.metadata.resourceVersion = String(stored.rev);
    if (options.dryRun || sameContent(next, obj)) return { object: next, deleted: false };
    try {
      const updated = this.storage.update(key, stored.rev, (rev) => this.encode(def, next, rev));
      return { object: JSON.parse(this.toVersion(def, updated.value)) as KubeObject, deleted: false };
    } catch (err) {
      if (err instanceof ConflictError) throw conflict(groupResource(def), name, STALE_OBJECT_MESSAGE);
      throw err;
    }
  }

  deleteCollection(def: ResourceDef, namespace: string | undefined, listOptions: ListOptions, options: DeleteOptions = {}): KubeObject[] {
    const deleted: KubeObject[] = [];
    for (const obj of this.listObjects(def, namespace, { ...listOptions, limit: undefined, continue: undefined })) {
      try {
        deleted.push(this.delete(def, obj.metadata.namespace, obj.metadata.name!, options).object);
      } catch (err) {
        if (!(err instanceof StatusError && err.code === 404)) throw err;
      }
    }
    return deleted;
  }

  private removeFromStorage(def: ResourceDef, obj: KubeObject, rev: number): KubeObject {
    const key = this.key(def, obj.metadata.namespace, obj.metadata.name!);
    try {
      const final = this.storage.delete(key, rev, (next) => this.encode(def, obj, next));
      return JSON.parse(this.toVersion(def, final.value)) as KubeObject;
    } catch (err) {
      if (err instanceof ConflictError) throw conflict(groupResource(def), obj.metadata.name!, STALE_OBJECT_MESSAGE);
      if (err instanceof NotFoundError) throw notFound(groupResource(def), obj.metadata.name!);
      throw err;
    }
  }

  private gracePeriod(def: ResourceDef, obj: KubeObject, requested: number | undefined): number {
    return def.strategy.gracePeriod?.(obj, requested) ?? 0;
  }

  private pendingFinalizers(def: ResourceDef, obj: KubeObject): string[] {
    return def.strategy.pendingFinalizers?.(obj) ?? [];
  }

  // ---- watch -----------------------------------------------------------------------------

  /**
   * Streams changes to `sink`. Replay and subscription happen in one synchronous step, so no
   * event falls between them and none is delivered twice. Returns the function that stops it.
   */
  watch(def: ResourceDef, namespace: string | undefined, options: WatchOptions, sink: WatchSink): () => void {
    const labels = options.labelSelector ? parseLabelSelector(options.labelSelector) : undefined;
    const fields = options.fieldSelector ? parseFieldSelector(options.fieldSelector) : undefined;
    checkListSelectors(def, fields);
    const matcher = objectMatcher(def, labels, fields);
    const prefix = this.prefix(def, namespace);
    const rv = options.resourceVersion;
    let from: number;
    if (rv === undefined || rv === '' || rv === '0' || options.initialEvents) {
      const listed = this.list(def, namespace, {
        ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
        ...(options.fieldSelector ? { fieldSelector: options.fieldSelector } : {}),
      });
      from = Number(listed.resourceVersion);
      for (const raw of listed.items) sink.event('ADDED', raw, from);
    } else {
      from = parseResourceVersion(rv);
      let backlog: StoredEvent[];
      try {
        backlog = this.storage.eventsAfter(from);
      } catch (err) {
        if (err instanceof CompactedError) {
          sink.error(gone(`too old resource version: ${from} (${err.compacted})`));
          return () => {};
        }
        throw err;
      }
      for (const event of backlog) this.deliver(def, prefix, matcher, event, sink);
    }
    return this.storage.subscribe((event) => this.deliver(def, prefix, matcher, event, sink));
  }

  private deliver(def: ResourceDef, prefix: string, matcher: ObjectMatcher | undefined, event: StoredEvent, sink: WatchSink): void {
    if (!event.key.startsWith(prefix)) return;
    const value = this.toVersion(def, event.value);
    if (!matcher) {
      sink.event(event.type, value, event.rev);
      return;
    }
    const now = matcher(JSON.parse(value) as KubeObject);
    const before = event.prev !== undefined && event.type !== 'ADDED' && matcher(JSON.parse(event.prev) as KubeObject);
    if (event.type === 'DELETED') {
      if (now || before) sink.event('DELETED', value, event.rev);
    } else if (now && before) sink.event('MODIFIED', value, event.rev);
    else if (now) sink.event('ADDED', value, event.rev);
    else if (before) sink.event('DELETED', value, event.rev);
  }

  // ---- helpers ---------------------------------------------------------------------------

  private strategyFor(def: ResourceDef, subresource: Subresource | undefined): Strategy {
    if (subresource === undefined) return def.strategy;
    const strategy = subresource === 'status' ? def.statusStrategy : def.finalizeStrategy;
    if (!strategy) throw notFound(groupResource(def), subresource);
    return strategy;
  }

  /** Checks what the body claims to be against where it was sent, and copies it. */
  private checkBody(def: ResourceDef, namespace: string | undefined, body: unknown, urlName?: string): KubeObject {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw badRequest(`the body of the request must be a JSON object describing a ${def.kind}`);
    }
    const obj = structuredClone(body) as KubeObject;
    const expected = apiVersionOf(def);
    if (obj.apiVersion !== undefined && obj.apiVersion !== expected) {
      throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${expected})`);
    }
    if (obj.kind !== undefined && obj.kind !== def.kind) {
      throw badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${def.kind})`);
    }
    obj.apiVersion = expected;
    obj.kind = def.kind;
    if (typeof obj.metadata !== 'object' || obj.metadata === null || Array.isArray(obj.metadata)) obj.metadata = {};
    const meta = obj.metadata;
    if (urlName !== undefined) {
      if (meta.name && meta.name !== urlName) throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${urlName})`);
      meta.name = urlName;
    }
    if (def.namespaced) {
      if (meta.namespace && namespace && meta.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace ?? meta.namespace;
    } else {
      delete meta.namespace;
    }
    return obj;
  }

  /** Pruning and defaulting (CRDs); unknown fields are refused, warned about or dropped. */
  private decode(def: ResourceDef, obj: KubeObject, options: WriteOptions): void {
    const pruned = def.normalize?.(obj) ?? [];
    if (pruned.length === 0) return;
    const mode = options.fieldValidation ?? 'Warn';
    if (mode === 'Strict') {
      const unknown = pruned.map((p) => `unknown field "${p}"`).join(', ');
      throw badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: strict decoding error: ${unknown}`);
    }
    if (mode === 'Warn') for (const path of pruned) options.warnings?.push(`unknown field "${path}"`);
  }

  private admit(attributes: Omit<AdmissionAttributes, 'user'>, options: WriteOptions): void {
    if (!options.user) return;
    for (const check of this.admission) check({ ...attributes, user: options.user });
  }

  private validateOrThrow(def: ResourceDef, obj: KubeObject, errors: FieldError[]): void {
    if (errors.length > 0) throw invalid(def.kind, def.group, obj.metadata.name ?? '', errors);
  }

  private checkNamespaceAccepts(def: ResourceDef, namespace: string | undefined, name: string): void {
    if (!def.namespaced || !namespace) return;
    const nsDef = this.registry.lookup('', 'v1', 'namespaces')!;
    const ns = this.storage.get(this.key(nsDef, undefined, namespace));
    if (!ns) throw notFound({ group: '', resource: 'namespaces' }, namespace);
    const parsed = JSON.parse(ns.value) as KubeObject;
    if (parsed.metadata.deletionTimestamp) {
      throw forbidden(groupResource(def), name, `unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  /** JSON text stamped with its revision, in the storage version. */
  private encode(def: ResourceDef, obj: KubeObject, rev: number): string {
    obj.metadata.resourceVersion = String(rev);
    if (def.version !== def.storageVersion) obj.apiVersion = `${def.group}/${def.storageVersion}`;
    const text = JSON.stringify(obj);
    if (def.version !== def.storageVersion) obj.apiVersion = apiVersionOf(def);
    return text;
  }

  /** Stored JSON as the requested version sees it (CRD versions differ only in apiVersion). */
  private toVersion(def: ResourceDef, value: string): string {
    if (def.version === def.storageVersion) return value;
    const obj = JSON.parse(value) as KubeObject;
    obj.apiVersion = apiVersionOf(def);
    return JSON.stringify(obj);
  }
}

/** Fields only the server sets are copied from the stored object (BeforeUpdate). */
function carryServerMetadata(meta: ObjectMeta, old: ObjectMeta, def: ResourceDef): void {
  if (meta.uid && meta.uid !== old.uid) {
    throw conflict(groupResource(def), old.name!, `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${old.uid}`);
  }
  meta.uid = old.uid!;
  meta.creationTimestamp = old.creationTimestamp!;
  if (old.generation !== undefined) meta.generation = old.generation;
  else delete meta.generation;
  if (old.deletionTimestamp) {
    meta.deletionTimestamp = old.deletionTimestamp;
    if (old.deletionGracePeriodSeconds !== undefined) meta.deletionGracePeriodSeconds = old.deletionGracePeriodSeconds;
  } else {
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
  }
  if (meta.managedFields === undefined && old.managedFields !== undefined) meta.managedFields = old.managedFields;
  if (meta.generateName === undefined && old.generateName !== undefined) meta.generateName = old.generateName;
}

/** Equal as JSON (key order and undefined members do not count): such a write is a no-op. */
function sameContent(a: KubeObject, b: KubeObject): boolean {
  return JSON.stringify(a) === JSON.stringify(b) || isDeepStrictEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
}

function checkPreconditions(def: ResourceDef, obj: KubeObject, pre: DeleteOptions['preconditions']): void {
  if (!pre) return;
  const name = obj.metadata.name!;
  if (pre.uid && pre.uid !== obj.metadata.uid) {
    throw conflict(groupResource(def), name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`);
  }
  if (pre.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion) {
    throw conflict(
      groupResource(def),
      name,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`,
    );
  }
}

/** The deletion's propagation policy becomes a finalizer the garbage collector acts on. */
function withPropagationFinalizer(finalizers: string[], policy: PropagationPolicy | undefined): string[] {
  const rest = finalizers.filter((f) => f !== ORPHAN_FINALIZER && f !== FOREGROUND_FINALIZER);
  if (policy === 'Orphan') return [...rest, ORPHAN_FINALIZER];
  if (policy === 'Foreground') return [...rest, FOREGROUND_FINALIZER];
  if (policy === 'Background') return rest;
  return finalizers;
}

export { ORPHAN_FINALIZER, FOREGROUND_FINALIZER };
