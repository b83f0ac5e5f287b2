// A reconcile loop in controller-runtime's style. Informer events only enqueue `namespace/name`
// keys; the reconciler is handed a key, re-reads the cache and converges — level-based, so a
// replayed or coalesced key is harmless and a deletion is noticed by the object being gone.
import { randomUUID } from 'node:crypto';
import type { KubeObject } from '../api/meta.ts';
import { type Logger, silentLogger } from '../lib/logger.ts';
import { type Clock, realClock } from '../lib/clock.ts';
import { getControllerOf, groupOf } from './owner.ts';
import { type Informer, keyOf } from './store.ts';
import { WorkQueue } from '../lib/work-queue.ts';

export interface ObjectKey {
  /** '' for cluster-scoped objects. */
  namespace: string;
  name: string;
}

export interface Result {
  /** Reconcile this key again after this many milliseconds (polling). */
  requeueAfter?: number;
}

export type Reconciler = (key: ObjectKey) => Promise<Result | void>;

/** An error retrying cannot fix (say, an invalid spec): logged and counted, never retried. */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

export type ReconcileOutcome = 'success' | 'requeue' | 'error' | 'terminal';

/** Optional observation hooks; see prometheusControllerMetrics() for a prom-client binding. */
export interface ControllerMetrics {
  reconciled?(controller: string, outcome: ReconcileOutcome, seconds: number): void;
  /** Called once at start with a way to read the queue depth on demand. */
  queueDepth?(controller: string, depth: () => number): void;
}

export interface ControllerOptions {
  /** Unique per process; labels logs and metrics. */
  name: string;
  reconcile: Reconciler;
  /** Keys reconciled at once; one key is never reconciled twice at once (default 1). */
  maxConcurrentReconciles?: number;
  /** start() fails if the watched caches have not synced by then (default 2 min). */
  cacheSyncTimeoutMs?: number;
  /** Per-key retry backoff after errors (defaults 5 ms → 1000 s, as controller-runtime). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  logger?: Logger;
  metrics?: ControllerMetrics;
  /** Times requeues, retries, the cache-sync timeout and reconcile durations (default: real time). */
  clock?: Clock;
}

export type KeyMapper<T> = (obj: T) => ObjectKey[];

export class Controller {
  readonly name: string;
  private readonly queue: WorkQueue;
  private readonly logger: Logger;
  private readonly sources: Informer<KubeObject>[] = [];
  private readonly unsubscribers: (() => void)[] = [];
  private readonly stopping = new AbortController();
  private state: 'new' | 'running' | 'stopped' = 'new';
  private readonly clock: Clock;

  constructor(private readonly options: ControllerOptions) {
    this.name = options.name;
    this.clock = options.clock ?? realClock;
    this.logger = (options.logger ?? silentLogger()).child({ controller: options.name });
    this.queue = new WorkQueue({
      concurrency: options.maxConcurrentReconciles ?? 1,
      baseDelayMs: options.baseDelayMs ?? 5,
      maxDelayMs: options.maxDelayMs ?? 1_000_000,
      clock: this.clock,
      onError: (key, err) => this.logger.error({ key, err }, 'reconcile failed; retrying with backoff'),
    });
  }

  /** The primary resource: a change enqueues the object's own key. */
  watchFor<T extends KubeObject>(informer: Informer<T>): this {
    return this.watches(informer, (obj) => [objectKey(obj)]);
  }

  /**
   * Owned children: a change (deletion included) enqueues the child's controlling owner, if that
   * owner is of `ownerKind` (and of `ownerGroup`, when given).
   */
  watchOwned<T extends KubeObject>(informer: Informer<T>, ownerKind: string, ownerGroup?: string): this {
    return this.watches(informer, (obj) => {
      const ref = getControllerOf(obj);
      if (!ref || ref.kind !== ownerKind) return [];
      if (ownerGroup !== undefined && groupOf(ref.apiVersion) !== ownerGroup) return [];
      return [{ namespace: obj.metadata.namespace ?? '', name: ref.name }];
    });
  }

  /** Any source: `map` turns a changed object into the keys to reconcile. */
  watches<T extends KubeObject>(informer: Informer<T>, map: KeyMapper<T>): this {
    if (this.state !== 'new') throw new Error(`controller ${this.name}: add watches before start()`);
    this.sources.push(informer);
    const enqueueFor = (obj: T): void => {
      for (const key of map(obj)) this.enqueue(key);
    };
    this.unsubscribers.push(
      informer.onAdd(enqueueFor),
      // Both sides: an update that moves a child to another owner concerns the old owner too.
      informer.onUpdate((oldObj, newObj) => {
        enqueueFor(oldObj);
        enqueueFor(newObj);
      }),
      informer.onDelete(enqueueFor),
    );
    return this;
  }

  enqueue(key: ObjectKey | string): void {
    this.queue.add(typeof key === 'string' ? key : formatKey(key));
  }

  /** Waits for every watched cache to sync, then starts the workers. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.state !== 'new') throw new Error(`controller ${this.name} was already started`);
    this.state = 'running';
    // Not AbortSignal.timeout(): its timer is unref'd and would let the process exit mid-wait.
    const timeout = new AbortController();
    const cancelTimer = this.clock.setTimeout(() => timeout.abort(), this.options.cacheSyncTimeoutMs ?? 120_000);
    const waitSignal = AbortSignal.any([timeout.signal, this.stopping.signal, ...(signal ? [signal] : [])]);
    const synced = await Promise.all(this.sources.map((source) => source.waitForSync(waitSignal))).finally(cancelTimer);
    if (this.state !== 'running') return; // stop() was called meanwhile
    if (!synced.every(Boolean)) {
      await this.stop();
      throw new Error(`controller ${this.name}: caches did not sync ${timeout.signal.aborted ? 'in time' : 'before start was aborted'}`);
    }
    this.options.metrics?.queueDepth?.(this.name, () => this.queue.length);
    this.queue.run((key) => this.reconcileKey(key));
    this.logger.info({ workers: this.options.maxConcurrentReconciles ?? 1 }, 'caches synced; workers started');
  }

  /** Stops taking keys and waits for reconciles in flight. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.stopping.abort();
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    this.queue.shutdown();
    await this.queue.idle();
  }

  /** Resolves when no key is queued or being reconciled (delayed requeues may be pending). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Throws only for errors to retry: the work queue then re-adds the key with backoff. */
  private async reconcileKey(key: string): Promise<void> {
    const started = this.clock.now();
    let outcome: ReconcileOutcome = 'error';
    try {
      outcome = await this.reconcileOnce(key);
    } finally {
      this.options.metrics?.reconciled?.(this.name, outcome, (this.clock.now() - started) / 1000);
    }
  }

  private async reconcileOnce(key: string): Promise<ReconcileOutcome> {
    const logger = this.logger.child({ key, reconcileID: randomUUID() });
    try {
      // Calling inside try also catches a reconciler that throws before returning its promise.
      const result = await this.options.reconcile(parseKey(key));
      if (result?.requeueAfter !== undefined && result.requeueAfter > 0) {
        this.queue.addAfter(key, result.requeueAfter);
        return 'requeue';
      }
      return 'success';
    } catch (err) {
      if (!(err instanceof TerminalError)) throw err;
      logger.error({ err }, 'reconcile failed terminally; not retrying');
      return 'terminal';
    }
  }
}

export function formatKey(key: ObjectKey): string {
  return key.namespace ? `${key.namespace}/${key.name}` : key.name;
}

export function parseKey(key: string): ObjectKey {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export function objectKey(obj: KubeObject): ObjectKey {
  return parseKey(keyOf(obj));
}
