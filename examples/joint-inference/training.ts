// How the joint-inference example's two models are trained, shared by train-models.ts (the
// committed models) and study.ts (several seeds): the architectures, training on the training
// split with the epoch count chosen on the validation split (the weights of the best validation
// epoch are kept; training stops after `patience` epochs without improvement), and class
// probabilities of a saved model as the workers load it.
import { loadInferenceModel } from '../../src/lib/backends/index.ts';
import type { Tf } from '../../src/lib/backends/tfjs.ts';
import { seededRandom, shuffledIndices } from '../../src/lib/random.ts';
import { PIXELS, selectRecords, type FashionMnist } from './fashion-mnist.ts';

export type Sequential = ReturnType<Tf['sequential']>;
export const CLASSES = 10;
export const EDGE_HIDDEN_UNITS = 8;

export interface TrainPlan {
  name: 'edge' | 'cloud';
  architecture: string;
  build: (tf: Tf, seed: number) => Sequential;
  inputShape: number[];
  maxEpochs: number;
  /** Epochs without a better validation accuracy before training stops. */
  patience: number;
  batchSize: number;
  learningRate: number;
  /** Start no epoch that would end after this many seconds (a shared machine's budget); unlimited when absent. */
  timeBudgetSeconds?: number;
}

/** 784 → 8 relu → 10: small enough to leave a clear accuracy gap to the cloud CNN. */
function buildEdgeModel(tf: Tf, seed: number): Sequential {
  return tf.sequential({
    name: 'fashion_mnist_edge_mlp',
    layers: [
      tf.layers.dense({ inputShape: [PIXELS], units: EDGE_HIDDEN_UNITS, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: seed + 1 }) }),
      tf.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) }),
    ],
  });
}

/** conv16 3×3 → pool → conv32 3×3 → pool → dropout → dense 64 → 10, all exportable to ONNX. */
function buildCloudModel(tf: Tf, seed: number): Sequential {
  const init = (offset: number) => tf.initializers.heNormal({ seed: seed + offset });
  return tf.sequential({
    name: 'fashion_mnist_cloud_cnn',
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(11) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'valid', activation: 'relu', kernelInitializer: init(12) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      // Dropout lets the CNN train longer before it overfits; it is the identity at inference.
      tf.layers.dropout({ rate: 0.3, seed: seed + 15 }),
      tf.layers.dense({ units: 64, activation: 'relu', kernelInitializer: init(13) }),
      tf.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 14 }) }),
    ],
  });
}

export const PLANS: Record<'edge' | 'cloud', TrainPlan> = {
  edge: { name: 'edge', architecture: `dense ${EDGE_HIDDEN_UNITS} relu → dense 10 softmax`, build: buildEdgeModel, inputShape: [PIXELS], maxEpochs: 15, patience: 3, batchSize: 128, learningRate: 0.002 },
  cloud: {
    name: 'cloud',
    architecture: 'conv16 3x3 same relu → maxpool 2 → conv32 3x3 valid relu → maxpool 2 → dropout 0.3 → dense 64 relu → dense 10 softmax',
    build: buildCloudModel,
    inputShape: [28, 28, 1],
    maxEpochs: 12,
    patience: 2,
    batchSize: 64,
    learningRate: 0.001,
  },
};

export interface TrainedModel {
  model: Sequential;
  /** The epoch whose weights were kept (best validation accuracy). */
  epochs: number;
  validationAccuracy: number;
  /** Validation accuracy after every epoch trained. */
  history: number[];
  /** Why training stopped: no better validation epoch in `patience`, the epoch cap, or the time budget. */
  stoppedBy: 'patience' | 'maxEpochs' | 'timeBudget';
}

async function validationAccuracy(tf: Tf, model: Sequential, validation: FashionMnist, inputShape: number[]): Promise<number> {
  const x = tf.tensor(validation.images, [validation.count, ...inputShape]);
  const predicted = tf.tidy(() => tf.argMax(model.predict(x, { batchSize: 1000 }) as ReturnType<Tf['tensor']>, 1));
  const labels = await predicted.data();
  tf.dispose([x, predicted]);
  let correct = 0;
  for (let i = 0; i < validation.count; i++) if (labels[i] === validation.labels[i]) correct++;
  return correct / validation.count;
}

/** Trains on `train`, keeping the weights of the epoch with the best validation accuracy. */
export async function trainOnValidation(tf: Tf, plan: TrainPlan, train: FashionMnist, validation: FashionMnist, seed: number, log: (line: string) => void = () => {}): Promise<TrainedModel> {
  const model = plan.build(tf, seed);
  model.compile({ optimizer: tf.train.adam(plan.learningRate), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const random = seededRandom(seed);
  const history: number[] = [];
  let best = { epoch: 0, accuracy: -1, weights: [] as ReturnType<Tf['tensor']>[] };
  const deadline = plan.timeBudgetSeconds === undefined ? Infinity : Date.now() + plan.timeBudgetSeconds * 1000;
  let stoppedBy: TrainedModel['stoppedBy'] = 'maxEpochs';
  let lastEpochMs = 0;
  for (let epoch = 1; epoch <= plan.maxEpochs; epoch++) {
    if (epoch - best.epoch > plan.patience) {
      stoppedBy = 'patience';
      break;
    }
    // An epoch that would end past the budget (judged by the last one's length) is not started.
    if (Date.now() + lastEpochMs > deadline) {
      stoppedBy = 'timeBudget';
      break;
    }
    const started = Date.now();
    const batch = selectRecords(train, shuffledIndices(train.count, random));
    const x = tf.tensor(batch.images, [train.count, ...plan.inputShape]);
    const y = tf.oneHot(tf.tensor1d(Int32Array.from(batch.labels), 'int32'), CLASSES);
    const fit = await model.fit(x, y, { epochs: 1, batchSize: plan.batchSize, shuffle: false, verbose: 0 });
    tf.dispose([x, y]);
    const accuracy = await validationAccuracy(tf, model, validation, plan.inputShape);
    history.push(accuracy);
    if (accuracy > best.accuracy) {
      tf.dispose(best.weights);
      best = { epoch, accuracy, weights: model.getWeights().map((w) => w.clone()) };
    }
    lastEpochMs = Date.now() - started;
    const loss = Number(fit.history['loss']?.[0]);
    log(`${plan.name} seed ${seed} epoch ${epoch}: loss ${loss.toFixed(4)} validation acc ${accuracy.toFixed(4)} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  model.setWeights(best.weights);
  tf.dispose(best.weights);
  return { model, epochs: best.epoch, validationAccuracy: best.accuracy, history, stoppedBy };
}

/** Class probabilities (count × 10) for every image, through a saved model file as the workers load it. */
export async function predictSaved(path: string, data: FashionMnist, inputShape: number[]): Promise<Float32Array> {
  const runtime = await loadInferenceModel(path);
  try {
    const probabilities = new Float32Array(data.count * CLASSES);
    const chunk = 1000;
    for (let start = 0; start < data.count; start += chunk) {
      const size = Math.min(chunk, data.count - start);
      const output = await runtime.predict({ data: data.images.slice(start * PIXELS, (start + size) * PIXELS), shape: [size, ...inputShape] });
      probabilities.set(output.data, start * CLASSES);
    }
    return probabilities;
  } finally {
    runtime.dispose();
  }
}

/** Class probabilities (count × 10) of an in-memory model, in chunks. */
export async function predictInMemory(tf: Tf, model: Sequential, data: FashionMnist, inputShape: number[]): Promise<Float32Array> {
  const probabilities = new Float32Array(data.count * CLASSES);
  const chunk = 1000;
  for (let start = 0; start < data.count; start += chunk) {
    const size = Math.min(chunk, data.count - start);
    const x = tf.tensor(data.images.subarray(start * PIXELS, (start + size) * PIXELS), [size, ...inputShape]);
    const y = model.predict(x) as ReturnType<Tf['tensor']>;
    probabilities.set(await y.data(), start * CLASSES);
    tf.dispose([x, y]);
  }
  return probabilities;
}
