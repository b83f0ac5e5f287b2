// A model that can be replaced while it serves. The new model is loaded beside the old one; the
// swap is one assignment (no request sees a half-swapped state), requests that started on the old
// model finish on it, and the old model is disposed only once the last of them is done. A load that
// fails leaves the old model serving. Used by the incremental-learning inference worker for a newly
// deployed model and reusable for any served artefact (a lifelong-learning knowledge base).

/** What a slot holds: anything, optionally with resources to release. */
export interface Swappable {
  dispose?(): void | Promise<void>;
}

interface Entry<M> {
  model: M;
  version: string;
  /** Requests running on this entry. */
  inFlight: number;
  retired: boolean;
  disposed: boolean;
}

export interface SwapResult {
  version: string;
  previous: string | undefined;
  /** Time spent loading the new model (requests kept running on the old one meanwhile). */
  loadMs: number;
}

export class ModelSlotEmptyError extends Error {
  override readonly name = 'ModelSlotEmptyError';
}

export class HotSwapSlot<M extends Swappable> {
  private entry: Entry<M> | undefined;
  /** Swaps run one after another, in the order asked. */
  private swapping: Promise<unknown> = Promise.resolve();
  private readonly onDisposeError: (err: unknown) => void;

  constructor(options: { onDisposeError?: (err: unknown) => void } = {}) {
    this.onDisposeError = options.onDisposeError ?? (() => undefined);
  }

  /** The version serving now, or undefined before the first load. */
  get version(): string | undefined {
    return this.entry?.version;
  }

  get loaded(): boolean {
    return this.entry !== undefined;
  }

  /** Runs `fn` on the model serving now; a swap during `fn` does not dispose that model under it. */
  async use<R>(fn: (model: M) => R | Promise<R>): Promise<R> {
    const entry = this.entry;
    if (!entry) throw new ModelSlotEmptyError('no model is loaded yet');
    entry.inFlight++;
    try {
      return await fn(entry.model);
    } finally {
      entry.inFlight--;
      if (entry.retired && entry.inFlight === 0) this.dispose(entry);
    }
  }

  /**
   * Loads a model with `load` while the current one keeps serving, then makes it current. Rejects
   * (the current model staying) when the load fails; a version already serving is not loaded again.
   */
  swap(version: string, load: () => Promise<M>): Promise<SwapResult> {
    const run = this.swapping.then(() => this.loadAndSwap(version, load));
    this.swapping = run.catch(() => undefined);
    return run;
  }

  /** Disposes the current model (after its requests finish); the slot is empty afterwards. */
  async close(): Promise<void> {
    await this.swapping;
    const entry = this.entry;
    this.entry = undefined;
    if (entry) this.retire(entry);
  }

  private async loadAndSwap(version: string, load: () => Promise<M>): Promise<SwapResult> {
    const previous = this.entry;
    if (previous?.version === version) return { version, previous: version, loadMs: 0 };
    const started = performance.now();
    const model = await load();
    const loadMs = performance.now() - started;
    this.entry = { model, version, inFlight: 0, retired: false, disposed: false };
    if (previous) this.retire(previous);
    return { version, previous: previous?.version, loadMs };
  }

  private retire(entry: Entry<M>): void {
    entry.retired = true;
    if (entry.inFlight === 0) this.dispose(entry);
  }

  private dispose(entry: Entry<M>): void {
    if (entry.disposed) return;
    entry.disposed = true;
    try {
      const done = entry.model.dispose?.();
      if (done instanceof Promise) done.catch(this.onDisposeError);
    } catch (err) {
      this.onDisposeError(err);
    }
  }
}
