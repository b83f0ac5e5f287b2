// Dynamic batching of concurrent requests, as model servers do it: a request that arrives while the
// model is idle runs at once, alone (no added latency at low load); requests that arrive while a
// batch is running wait and go together in the next batch, up to `maxBatch`. Under load the batch
// size grows by itself to what the model can take, which is where batching pays (one matrix
// multiply for N inputs instead of N).

export interface BatcherOptions<I, O> {
  /** Runs one batch; must return exactly one output per input, in order. */
  run(inputs: I[]): Promise<O[]>;
  /** Largest batch; default 64. */
  maxBatch?: number;
}

interface Pending<I, O> {
  input: I;
  resolve(output: O): void;
  reject(error: unknown): void;
}

export class Batcher<I, O> {
  private readonly queue: Pending<I, O>[] = [];
  private running = false;
  private readonly maxBatch: number;
  /** Sizes of the batches run so far, for metrics and tests. */
  readonly batchSizes: number[] = [];

  constructor(private readonly options: BatcherOptions<I, O>) {
    this.maxBatch = options.maxBatch ?? 64;
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${this.maxBatch}`);
  }

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        await this.runBatch(batch);
      }
    } finally {
      this.running = false;
    }
  }

  private async runBatch(batch: Pending<I, O>[]): Promise<void> {
    this.batchSizes.push(batch.length);
    try {
      const outputs = await this.options.run(batch.map((p) => p.input));
      if (outputs.length !== batch.length) throw new Error(`batch of ${batch.length} inputs returned ${outputs.length} outputs`);
      batch.forEach((p, i) => p.resolve(outputs[i]!));
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }
}
