// The informer's indexed cache and its event fan-out, with no I/O: the list/watch loop feeds it,
// listers read it, and unit tests drive it directly as a fake informer.
import type { KubeObject, LabelSelector } from '../api/meta.ts';
import { labelSelectorFromObject, parseLabelSelector } from '../api/selectors/labels.ts';
import { type Logger, silentLogger } from '../lib/logger.ts';

/** Reads only the cache. Objects are shared and frozen: copy before changing one. */
export interface Lister<T extends KubeObject> {
  get(namespace: string | undefined, name: string): T | undefined;
  /** `selector` is the `labelSelector=` query syntax or a metav1.LabelSelector. */
  list(namespace?: string, selector?: string | LabelSelector): T[];
}

export type AddHandler<T> = (obj: T) => void;
export type UpdateHandler<T> = (oldObj: T, newObj: T) => void;
export type DeleteHandler<T> = (lastKnown: T) => void;

/** What controllers need from an informer; SharedInformer and ObjectStore both provide it. */
export interface Informer<T extends KubeObject> {
  readonly lister: Lister<T>;
  /** Existing objects are replayed to a new add handler. Returns a function removing the handler. */
  onAdd(handler: AddHandler<T>): () => void;
  onUpdate(handler: UpdateHandler<T>): () => void;
  onDelete(handler: DeleteHandler<T>): () => void;
  hasSynced(): boolean;
  /** Resolves true once the first list is in the cache, false if `signal` aborts first. */
  waitForSync(signal?: AbortSignal): Promise<boolean>;
}

export class ObjectStore<T extends KubeObject> implements Informer<T>, Lister<T> {
  private readonly byNamespace = new Map<string, Map<string, T>>();
  private readonly addHandlers = new Set<AddHandler<T>>();
  private readonly updateHandlers = new Set<UpdateHandler<T>>();
  private readonly deleteHandlers = new Set<DeleteHandler<T>>();
  private readonly syncWaiters = new Set<() => void>();
  private synced = false;

  constructor(private readonly logger: Logger = silentLogger()) {}

  get lister(): Lister<T> {
    return this;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.byNamespace.get(namespace ?? '')?.get(name);
  }

  list(namespace?: string, selector?: string | LabelSelector): T[] {
    const scopes = namespace === undefined ? [...this.byNamespace.values()] : [this.byNamespace.get(namespace) ?? new Map<string, T>()];
    const objects = scopes.flatMap((scope) => [...scope.values()]);
    if (selector === undefined) return objects;
    const matcher = typeof selector === 'string' ? parseLabelSelector(selector) : labelSelectorFromObject(selector);
    return objects.filter((obj) => matcher.matches(obj.metadata.labels));
  }

  get size(): number {
    let n = 0;
    for (const scope of this.byNamespace.values()) n += scope.size;
    return n;
  }

  onAdd(handler: AddHandler<T>): () => void {
    this.addHandlers.add(handler);
    for (const obj of this.list()) this.call(() => handler(obj));
    return () => this.addHandlers.delete(handler);
  }

  onUpdate(handler: UpdateHandler<T>): () => void {
    this.updateHandlers.add(handler);
    return () => this.updateHandlers.delete(handler);
  }

  onDelete(handler: DeleteHandler<T>): () => void {
    this.deleteHandlers.add(handler);
    return () => this.deleteHandlers.delete(handler);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.syncWaiters.delete(done);
        resolve(false);
      };
      const done = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
      };
      this.syncWaiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    for (const done of [...this.syncWaiters]) done();
    this.syncWaiters.clear();
  }

  /** An added or modified object; an update whose resourceVersion did not change is not an update. */
  upsert(obj: T): void {
    const { namespace, name } = identity(obj);
    let scope = this.byNamespace.get(namespace);
    if (!scope) this.byNamespace.set(namespace, (scope = new Map<string, T>()));
    const old = scope.get(name);
    if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    const stored = deepFreeze(obj);
    scope.set(name, stored);
    if (old) this.emitUpdate(old, stored);
    else this.emitAdd(stored);
  }

  /** Deletes by identity; handlers get the last object the cache held, not the tombstone. */
  remove(obj: T): void {
    const { namespace, name } = identity(obj);
    const scope = this.byNamespace.get(namespace);
    const last = scope?.get(name);
    if (!scope || !last) return;
    scope.delete(name);
    if (scope.size === 0) this.byNamespace.delete(namespace);
    this.emitDelete(last);
  }

  /** A fresh list: upserts every item, deletes what the list no longer holds. */
  replace(items: T[]): void {
    const keep = new Set(items.map((obj) => keyOf(obj)));
    for (const old of this.list()) {
      if (!keep.has(keyOf(old))) this.remove(old);
    }
    for (const obj of items) this.upsert(obj);
  }

  private emitAdd(obj: T): void {
    for (const handler of [...this.addHandlers]) this.call(() => handler(obj));
  }

  private emitUpdate(old: T, obj: T): void {
    for (const handler of [...this.updateHandlers]) this.call(() => handler(old, obj));
  }

  private emitDelete(obj: T): void {
    for (const handler of [...this.deleteHandlers]) this.call(() => handler(obj));
  }

  /** A throwing handler must not stop the others or corrupt the cache. */
  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.error({ err }, 'informer event handler threw');
    }
  }
}

/** The queue key of an object: `namespace/name`, or `name` when cluster-scoped. */
export function keyOf(obj: KubeObject): string {
  const { namespace, name } = identity(obj);
  return namespace ? `${namespace}/${name}` : name;
}

function identity(obj: KubeObject): { namespace: string; name: string } {
  return { namespace: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '' };
}

/** Cached objects are shared by every reader; freezing turns an accidental write into an error. */
function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}
