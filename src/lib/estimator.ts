// What user code supplies to a feature class (spec lib.md §5.2), in TypeScript terms. Sedna's
// Python wrappers filtered keyword arguments by signature; here the contract is a typed interface,
// and `ModelEstimator` adapts a model file (TensorFlow.js or ONNX) to it for the common case of
// one numeric vector in, one vector of scores out.
import { loadInferenceModel, type InferenceModel } from './backends/index.ts';
import type { ModelWeights } from './weights.ts';

export type Vector = number[] | Float32Array;

export interface Estimator<I = unknown, O = unknown> {
  predict(data: I): O | Promise<O>;
  /** Many inputs at once; the cloud service batches concurrent requests through it when present. */
  predictBatch?(data: I[]): O[] | Promise<O[]>;
}

/** What a federated-learning round hands the local training (spec lib.md §8). */
export interface LocalTrainOptions {
  /** The global model this round started from; with proximalMu > 0, FedProx's anchor. */
  globalWeights?: ModelWeights;
  /** FedProx's μ: adds μ/2·‖w − w_global‖² to the loss. 0 or absent: plain local training. */
  proximalMu?: number;
  epochs?: number;
}

/** A model that trains locally and exchanges its weights (what `FederatedLearning` wraps). */
export interface TrainableEstimator<D> {
  /** Trains on `data`; answers metrics (e.g. loss, accuracy) for the report. */
  train(data: D, options: LocalTrainOptions): Promise<Record<string, number>>;
  evaluate?(data: D): Promise<Record<string, number>>;
  getWeights(): ModelWeights;
  setWeights(weights: ModelWeights): void;
  save?(path: string): Promise<void>;
}

/** A model file behind the Estimator contract: a flat input vector of `inputShape`, scores out. */
export class ModelEstimator implements Estimator<Vector, number[]> {
  private readonly inputSize: number;

  constructor(
    readonly model: InferenceModel,
    /** The shape of one input without the batch axis, e.g. [28, 28, 1]. */
    readonly inputShape: number[],
  ) {
    this.inputSize = inputShape.reduce((a, b) => a * b, 1);
  }

  static async load(path: string, inputShape: number[]): Promise<ModelEstimator> {
    return new ModelEstimator(await loadInferenceModel(path), inputShape);
  }

  async predict(data: Vector): Promise<number[]> {
    const [scores] = await this.predictBatch([data]);
    return scores!;
  }

  async predictBatch(data: Vector[]): Promise<number[][]> {
    const input = new Float32Array(data.length * this.inputSize);
    data.forEach((row, i) => {
      if (row.length !== this.inputSize) throw new RangeError(`input ${i} has ${row.length} values; the model takes ${this.inputSize} (shape [${this.inputShape.join(', ')}])`);
      input.set(row, i * this.inputSize);
    });
    const output = await this.model.predict({ data: input, shape: [data.length, ...this.inputShape] });
    const width = output.data.length / data.length;
    return data.map((_, i) => Array.from(output.data.subarray(i * width, (i + 1) * width)));
  }

  dispose(): void {
    this.model.dispose();
  }
}
