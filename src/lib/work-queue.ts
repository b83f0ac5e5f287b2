// A rate-limited work queue with client-go's workqueue semantics: a key waits in the queue at most
// once; a key being processed is never handed to a second worker, and if it is added meanwhile
// it is processed again afterwards; failures back off exponentially per key. Delays run on the
// injected clock, so tests step through retries and requeues with FakeClock.advance().
// It lives in src/lib because the API server's built-in controllers, the controller runtime and the
// kubelet all use it, and the API server may not import the client runtime (nor it the server).
import { type CancelTimer, type Clock, realClock } from './clock.ts';

export interface WorkQueueOptions {
  /** First retry delay after a failure. */
  baseDelayMs?: number;
  /** Longest retry delay. */
  maxDelayMs?: number;
  /** Workers processing keys at once (each key still only one at a time). */
  concurrency?: number;
  /** Called when a handler fails; the key is retried with backoff. */
  onError?: (key: string, err: unknown) => void;
  clock?: Clock;
}

export type Handler = (key: string) => Promise<void> | void;

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Set<CancelTimer>();
  private readonly clock: Clock;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly concurrency: number;
  private handler: Handler | undefined;
  private active = 0;
  private stopped = false;

  constructor(private readonly options: WorkQueueOptions = {}) {
    this.baseDelayMs = options.baseDelayMs ?? 5;
    this.maxDelayMs = options.maxDelayMs ?? 60_000;
    this.concurrency = options.concurrency ?? 1;
    this.clock = options.clock ?? realClock;
  }

  /** Starts handing keys to `handler`. */
  run(handler: Handler): void {
    this.handler = handler;
    this.pump();
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    if (delayMs <= 0) return this.add(key);
    const cancel = this.clock.setTimeout(() => {
      this.timers.delete(cancel);
      this.add(key);
    }, delayMs);
    this.timers.add(cancel);
  }

  /** Re-adds a failed key after its next backoff delay. */
  addRateLimited(key: string): void {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    this.addAfter(key, this.backoff(failures));
  }

  /** Clears a key's failure count (after it succeeded). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  get length(): number {
    return this.queue.length;
  }

  /** Resolves when nothing is queued or being processed (timers for later retries may remain). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  shutdown(): void {
    this.stopped = true;
    for (const cancel of this.timers) cancel();
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
    this.notifyIdle();
  }

  private backoff(failures: number): number {
    return Math.min(this.baseDelayMs * 2 ** failures, this.maxDelayMs);
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.active === 0;
  }

  private pump(): void {
    while (this.handler && !this.stopped && this.active < this.concurrency && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.processing.add(key);
      this.active++;
      void this.process(key, this.handler);
    }
  }

  private async process(key: string, handler: Handler): Promise<void> {
    try {
      await handler(key);
      this.forget(key);
    } catch (err) {
      this.options.onError?.(key, err);
      if (!this.stopped) this.addRateLimited(key);
    } finally {
      this.processing.delete(key);
      this.active--;
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
      if (this.isIdle()) this.notifyIdle();
    }
  }

  private notifyIdle(): void {
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
