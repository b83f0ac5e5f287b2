// The skeleton every in-process controller shares: it follows the storage log, turns the events it
// cares about into keys, and syncs one key at a time through a WorkQueue (which retries failures
// with backoff). Subclasses say which keys exist at start, which keys an event wakes, and what a
// sync does; the subscription, the queue, the sync counter and idle() live here.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { KubeObject } from '../../api/meta.ts';
import { WorkQueue } from '../../lib/work-queue.ts';
import type { Logger } from '../../lib/logger.ts';
import { StatusError } from '../errors.ts';
import type { GenericStore } from '../registry/generic-store.ts';
import type { StoredEvent } from '../storage/types.ts';

export abstract class StoreController {
  protected readonly queue: WorkQueue;
  /** Keys woken by storage events and not yet handed to the queue. */
  private readonly pending = new Set<string>();
  private unsubscribe: (() => void) | undefined;
  private syncs = 0;
  /** Settles once the initial keys are queued and syncing has begun. */
  private started: Promise<void> = Promise.resolve();
  protected stopped = false;

  /**
   * @param keyName names a key in the log line of a failed sync (`{ replicaset: key }`).
   * @param failureMessage that line's message; `<keyName> sync failed` unless given.
   */
  protected constructor(
    protected readonly store: GenericStore,
    protected readonly log: Logger,
    keyName: string,
    failureMessage = `${keyName} sync failed`,
  ) {
    this.queue = new WorkQueue({ onError: (key, err) => log.warn({ [keyName]: key, err: String(err) }, failureMessage) });
  }

  /**
   * Subscribes, queues the keys that exist already, and starts syncing. With a key list this is one
   * synchronous step; with pages of keys (a large store) the pages are read between other work,
   * events arriving meanwhile are queued too, and syncing begins once every page is read.
   */
  start(): void {
    this.unsubscribe = this.store.storage.subscribe((event) => this.observe(event));
    const initial = this.initialKeys();
    if (Array.isArray(initial)) {
      for (const key of initial) this.queue.add(key);
      this.runQueue();
    } else {
      this.started = this.queueThenRun(initial);
    }
  }

  private async queueThenRun(pages: AsyncIterable<string[]>): Promise<void> {
    for await (const keys of pages) {
      if (this.stopped) return;
      for (const key of keys) this.queue.add(key);
    }
    this.runQueue();
  }

  /**
   * Each sync starts in its own turn of the event loop: a queue of thousands of keys (the GC after
   * a 20,000-pod ReplicaSet goes) never runs as one chain of microtasks that starves requests.
   */
  private runQueue(): void {
    this.queue.run(async (key) => {
      await yieldToEventLoop();
      if (this.stopped) return;
      this.syncs++;
      await this.sync(key);
    });
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    this.queue.shutdown();
  }

  /** Resolves once nothing is queued or syncing (delayed re-checks are not waited for). */
  async idle(): Promise<void> {
    await this.started;
    this.flush();
    return this.queue.idle();
  }

  /** Syncs run so far; lets a caller tell whether work happened while it waited. */
  syncCount(): number {
    return this.syncs;
  }

  /** Notes the keys a committed change concerns (via enqueue). Runs inside the store's delivery: it must not throw. */
  protected abstract observe(event: StoredEvent): void;

  /** The keys to sync at start, read from the store: a list, or pages read a slice at a time. */
  protected abstract initialKeys(): string[] | AsyncIterable<string[]>;

  /** Brings one key's objects to their wanted state; a throw retries the key with backoff. */
  protected abstract sync(key: string): void | Promise<void>;

  /**
   * Wakes a key once the writing call stack is done: the write that caused the event returns
   * before any controller reacts to it, and a burst of events (a sync creating many pods) wakes
   * each key once.
   */
  protected enqueue(key: string): void {
    if (this.pending.size === 0) queueMicrotask(() => this.flush());
    this.pending.add(key);
  }

  private flush(): void {
    const keys = [...this.pending];
    this.pending.clear();
    for (const key of keys) this.queue.add(key);
  }
}

/** The object before a modification (undefined for additions and deletions). */
export function previousObject(event: StoredEvent): KubeObject | undefined {
  return event.type === 'MODIFIED' && event.prev !== undefined ? (JSON.parse(event.prev) as KubeObject) : undefined;
}

/** The queue key of a namespaced object: `namespace/name`. */
export function objectKey(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

export function splitKey(key: string): [string, string] {
  const at = key.indexOf('/');
  return [key.slice(0, at), key.slice(at + 1)];
}

/** The object vanished between the read and the write: there is nothing left to do. */
export function ignoreNotFound(write: () => unknown): void {
  try {
    write();
  } catch (err) {
    if (!(err instanceof StatusError && err.code === 404)) throw err;
  }
}

/** The create was refused because its namespace is being deleted: there is nothing to retry. */
export function isNamespaceTerminating(err: unknown): boolean {
  return err instanceof StatusError && err.code === 403 && /being terminated/.test(err.message);
}
