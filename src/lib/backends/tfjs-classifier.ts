// A TensorFlow.js classifier behind the TrainableEstimator contract (federated learning's local
// model). Training is a custom loop (tf.variableGrads + optimizer.applyGradients) instead of
// model.fit, because FedProx adds μ/2·‖w − w_global‖² to the loss, which fit cannot express; the
// loop also shuffles from a seed, so a run repeats exactly. Loss: sparse categorical cross-entropy
// on the model's output (probabilities when the last layer is a softmax, else logits).
import type * as tfCore from '@tensorflow/tfjs-core';
import type * as tfLayers from '@tensorflow/tfjs-layers';
import type { LocalTrainOptions, TrainableEstimator } from '../estimator.ts';
import { sameShapes, type ModelWeights } from '../weights.ts';
import { initTensorflow, type Tf, type TfBackendName } from './tfjs.ts';
import { seededRandom, shuffledIndices } from '../random.ts';

/** `count` samples: features row-major in `x`, one class index per sample in `y`. */
export interface ClassifierData {
  x: Float32Array;
  y: Uint8Array | Int32Array;
  count: number;
}

export type OptimizerName = 'adam' | 'sgd';

export interface ClassifierTrainOptions extends LocalTrainOptions {
  batchSize?: number;
  learningRate?: number;
  /** Shuffling seed; the same seed and data give the same batches. Without it, every call shuffles afresh (seeded by the classifier's seed and the epochs trained so far). */
  seed?: number;
  optimizer?: OptimizerName;
}

export interface TfjsClassifierOptions {
  /** Defaults for train(). */
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  optimizer?: OptimizerName;
  seed?: number;
  /** Default: probabilities when the last layer's activation is softmax, else logits. */
  output?: 'probabilities' | 'logits';
  backend?: TfBackendName;
}

const PROBABILITY_FLOOR = 1e-7;
const EVAL_BATCH = 1024;

export class TfjsClassifier implements TrainableEstimator<ClassifierData> {
  private readonly featureSize: number;
  private readonly output: 'probabilities' | 'logits';
  /** Epochs trained so far: the next implicit shuffle seed's offset. */
  private epochsTrained = 0;

  private constructor(
    private readonly tf: Tf,
    readonly model: tfLayers.LayersModel,
    private readonly options: TfjsClassifierOptions,
  ) {
    const inputShape = model.inputs[0]!.shape.slice(1);
    if (inputShape.some((dim) => dim === null)) throw new Error(`TfjsClassifier: the model's input shape [${inputShape.join(', ')}] must be fixed apart from the batch axis`);
    this.featureSize = (inputShape as number[]).reduce((a, b) => a * b, 1);
    this.output = options.output ?? (lastActivation(model) === 'softmax' ? 'probabilities' : 'logits');
  }

  /**
   * Wraps a model (compiled or not). Pass a builder to create the model after the backend is
   * chosen: variables made on one backend are not moved when another becomes active.
   */
  static async create(model: tfLayers.LayersModel | ((tf: Tf) => tfLayers.LayersModel), options: TfjsClassifierOptions = {}): Promise<TfjsClassifier> {
    const tf = await initTensorflow(options.backend);
    return new TfjsClassifier(tf, typeof model === 'function' ? model(tf) : model, options);
  }

  /** A model saved with save() (or by tfjs-node). */
  static async load(path: string, options: TfjsClassifierOptions = {}): Promise<TfjsClassifier> {
    const tf = await initTensorflow(options.backend);
    const { loadLayersModel } = await import('./tfjs-file-io.ts');
    return new TfjsClassifier(tf, await loadLayersModel(path), options);
  }

  get inputShape(): number[] {
    return this.model.inputs[0]!.shape.slice(1) as number[];
  }

  async train(data: ClassifierData, options: ClassifierTrainOptions = {}): Promise<Record<string, number>> {
    this.checkData(data);
    const epochs = options.epochs ?? this.options.epochs ?? 1;
    const batchSize = options.batchSize ?? this.options.batchSize ?? 32;
    // Without an explicit seed, each call continues the classifier's own sequence, so a federated
    // trainer (one call a round) draws a fresh batch order every round instead of replaying one.
    const seed = options.seed ?? (this.options.seed ?? 1) + this.epochsTrained;
    const optimizer = this.makeOptimizer(options.optimizer ?? this.options.optimizer ?? 'adam', options.learningRate ?? this.options.learningRate ?? 0.001);
    const trainable = this.trainableVariables();
    const anchors = this.proximalAnchors(options);
    let loss = NaN;
    try {
      for (let epoch = 0; epoch < epochs; epoch++) {
        const order = shuffledIndices(data.count, seededRandom(seed + epoch));
        loss = await this.trainEpoch(data, order, batchSize, optimizer, trainable, anchors);
        this.epochsTrained++;
      }
    } finally {
      optimizer.dispose();
      anchors?.tensors.forEach((t) => t.dispose());
    }
    return { loss, epochs, samples: data.count };
  }

  /** Accuracy and mean loss over `data`. */
  async evaluate(data: ClassifierData): Promise<Record<string, number>> {
    this.checkData(data);
    let correct = 0;
    let lossSum = 0;
    for (let start = 0; start < data.count; start += EVAL_BATCH) {
      const end = Math.min(data.count, start + EVAL_BATCH);
      const { batchLoss, batchCorrect } = this.tf.tidy(() => {
        const { xs, labels } = this.batch(data, rangeIndices(start, end));
        const out = this.model.apply(xs, { training: false }) as tfCore.Tensor;
        return {
          batchLoss: this.tf.mul(this.loss(out, labels), end - start),
          batchCorrect: this.tf.sum(this.tf.equal(this.tf.argMax(out, -1), labels)),
        };
      });
      lossSum += (await batchLoss.data())[0]!;
      correct += (await batchCorrect.data())[0]!;
      batchLoss.dispose();
      batchCorrect.dispose();
    }
    return { accuracy: correct / data.count, loss: lossSum / data.count };
  }

  /** The model's output per sample (probabilities, or logits for a logits model), in batches. */
  async predictScores(data: Pick<ClassifierData, 'x' | 'count'>): Promise<number[][]> {
    const out: number[][] = [];
    for (let start = 0; start < data.count; start += EVAL_BATCH) {
      const end = Math.min(data.count, start + EVAL_BATCH);
      const scores = this.tf.tidy(() => {
        const xs = this.tf.tensor(data.x.subarray(start * this.featureSize, end * this.featureSize), [end - start, ...this.inputShape], 'float32');
        return this.model.apply(xs, { training: false }) as tfCore.Tensor;
      });
      const values = await scores.data();
      const width = values.length / (end - start);
      scores.dispose();
      for (let i = 0; i < end - start; i++) out.push(Array.from(values.subarray(i * width, (i + 1) * width)));
    }
    return out;
  }

  /** Every weight of the model (trainable or not) in model.weights order, copied. */
  getWeights(): ModelWeights {
    return this.model.getWeights().map((tensor) => ({ shape: [...tensor.shape], data: Float32Array.from(tensor.dataSync()) }));
  }

  setWeights(weights: ModelWeights): void {
    const current = this.model.weights.map((w) => ({ shape: w.shape as number[], data: new Float32Array(0) }));
    if (!sameShapes(current, weights)) throw new RangeError(`setWeights: shapes ${describe(weights)} differ from the model's ${describe(current)}`);
    this.tf.tidy(() => this.model.setWeights(weights.map((layer) => this.tf.tensor(layer.data, layer.shape, 'float32'))));
  }

  async save(path: string): Promise<void> {
    const { saveLayersModel } = await import('./tfjs-file-io.ts');
    await saveLayersModel(this.model, path);
  }

  dispose(): void {
    this.model.dispose();
  }

  // ---- training ---------------------------------------------------------------------------------

  private async trainEpoch(
    data: ClassifierData,
    order: Int32Array,
    batchSize: number,
    optimizer: tfCore.Optimizer,
    trainable: tfCore.Variable[],
    anchors: ProximalAnchors | undefined,
  ): Promise<number> {
    const tf = this.tf;
    let lossSum = 0;
    for (let start = 0; start < order.length; start += batchSize) {
      const indices = order.subarray(start, Math.min(order.length, start + batchSize));
      const lossValue = tf.tidy(() => {
        const { xs, labels } = this.batch(data, indices);
        const { value, grads } = tf.variableGrads(() => {
          const dataLoss = this.loss(this.model.apply(xs, { training: true }) as tfCore.Tensor, labels);
          return anchors ? tf.add(dataLoss, this.proximalTerm(trainable, anchors)) : dataLoss;
        }, trainable);
        optimizer.applyGradients(grads);
        return tf.mul(value, indices.length);
      });
      lossSum += (await lossValue.data())[0]!;
      lossValue.dispose();
    }
    return lossSum / order.length;
  }

  /** Sparse categorical cross-entropy, mean over the batch (a scalar). */
  private loss(output: tfCore.Tensor, labels: tfCore.Tensor): tfCore.Scalar {
    const tf = this.tf;
    const oneHot = tf.oneHot(labels, output.shape[output.shape.length - 1]!);
    if (this.output === 'logits') return tf.losses.softmaxCrossEntropy<tfCore.Tensor, tfCore.Scalar>(oneHot, output);
    const logProbs = tf.log(tf.clipByValue(output, PROBABILITY_FLOOR, 1));
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, logProbs), -1)));
  }

  /** μ/2·Σ‖w − w_global‖² over the trainable weights. */
  private proximalTerm(trainable: tfCore.Variable[], anchors: ProximalAnchors): tfCore.Scalar {
    const tf = this.tf;
    const squares = trainable.map((variable, i) => tf.sum(tf.square(tf.sub(variable, anchors.tensors[i]!))));
    return tf.mul(tf.addN(squares), anchors.mu / 2);
  }

  private proximalAnchors(options: LocalTrainOptions): ProximalAnchors | undefined {
    const mu = options.proximalMu ?? 0;
    if (!(mu > 0) || !options.globalWeights) return undefined;
    const global = options.globalWeights;
    const all = this.model.weights;
    if (global.length !== all.length) throw new RangeError(`train: globalWeights has ${global.length} layers, the model ${all.length}`);
    // Global weights are in model.weights order; the anchors follow the trainable ones.
    const tensors = all.flatMap((w, i) => (w.trainable ? [this.tf.tensor(global[i]!.data, global[i]!.shape, 'float32')] : []));
    return { mu, tensors };
  }

  private trainableVariables(): tfCore.Variable[] {
    return this.model.weights.filter((w) => w.trainable).map((w) => w.read() as tfCore.Variable);
  }

  private makeOptimizer(name: OptimizerName, learningRate: number): tfCore.Optimizer {
    if (name === 'sgd') return this.tf.train.sgd(learningRate);
    if (name === 'adam') return this.tf.train.adam(learningRate);
    throw new Error(`TfjsClassifier: unknown optimizer ${JSON.stringify(name)} (adam or sgd)`);
  }

  private batch(data: ClassifierData, indices: ArrayLike<number>): { xs: tfCore.Tensor; labels: tfCore.Tensor } {
    const size = this.featureSize;
    const x = new Float32Array(indices.length * size);
    const y = new Int32Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      const row = indices[i]!;
      x.set(data.x.subarray(row * size, (row + 1) * size), i * size);
      y[i] = data.y[row]!;
    }
    return { xs: this.tf.tensor(x, [indices.length, ...this.inputShape], 'float32'), labels: this.tf.tensor1d(y, 'int32') };
  }

  private checkData(data: ClassifierData): void {
    if (!Number.isInteger(data.count) || data.count <= 0) throw new RangeError(`data.count must be a positive integer, got ${data.count}`);
    if (data.x.length !== data.count * this.featureSize) throw new RangeError(`data.x has ${data.x.length} values; ${data.count} samples of ${this.featureSize} features need ${data.count * this.featureSize}`);
    if (data.y.length !== data.count) throw new RangeError(`data.y has ${data.y.length} labels for ${data.count} samples`);
  }
}

interface ProximalAnchors {
  mu: number;
  /** One per trainable variable, in order. */
  tensors: tfCore.Tensor[];
}

function lastActivation(model: tfLayers.LayersModel): string | undefined {
  const last = model.layers[model.layers.length - 1];
  const activation = (last?.getConfig() as { activation?: unknown } | undefined)?.activation;
  return typeof activation === 'string' ? activation : undefined;
}

function rangeIndices(start: number, end: number): Int32Array {
  const indices = new Int32Array(end - start);
  for (let i = 0; i < indices.length; i++) indices[i] = start + i;
  return indices;
}

function describe(weights: ModelWeights): string {
  return `[${weights.map((w) => `[${w.shape.join(',')}]`).join(', ')}]`;
}
