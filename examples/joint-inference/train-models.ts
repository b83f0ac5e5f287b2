// Trains the joint-inference example's two Fashion-MNIST models and writes them to --out:
//   edge/model.json + weights.bin  a deliberately weak MLP (tfjs), answering most requests
//   cloud/model.onnx               a small CNN exported to ONNX, answering the hard ones
//   manifest.json                  accuracies, sizes, the CrossEntropy HEM table, the command
// Run: node --import tsx examples/joint-inference/train-models.ts [--out DIR] [--data DIR]
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadInferenceModel, type InferenceModel } from '../../src/lib/backends/index.ts';
import { exportToOnnx } from '../../src/lib/backends/onnx-export.ts';
import { initTensorflow, type Tf } from '../../src/lib/backends/tfjs.ts';
import { saveLayersModel } from '../../src/lib/backends/tfjs-file-io.ts';
import { fashionMnistDir, loadFashionMnist, PIXELS, type FashionMnist } from './fashion-mnist.ts';
import { seededRandom, shuffledIndices } from '../../src/lib/random.ts';

type Sequential = ReturnType<Tf['sequential']>;
const CLASSES = 10;
const SEED = 20251;
const THRESHOLDS = Array.from({ length: 13 }, (_, i) => Math.round((0.3 + 0.05 * i) * 100) / 100);
const TARGET = { minRecoveredGap: 0.7, maxOffloaded: 0.3 };

interface TrainPlan {
  name: 'edge' | 'cloud';
  build: (tf: Tf) => Sequential;
  inputShape: number[];
  epochs: number;
  batchSize: number;
  learningRate: number;
}

const EDGE_HIDDEN_UNITS = 8;

/** 784 → 8 relu → 10: small enough to leave a clear accuracy gap to the cloud CNN. */
function buildEdgeModel(tf: Tf): Sequential {
  return tf.sequential({
    name: 'fashion_mnist_edge_mlp',
    layers: [
      tf.layers.dense({ inputShape: [PIXELS], units: EDGE_HIDDEN_UNITS, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: SEED + 1 }) }),
      tf.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: SEED + 2 }) }),
    ],
  });
}

/** conv16 3×3 → pool → conv32 3×3 → pool → dense 64 → 10, all exportable to ONNX. */
function buildCloudModel(tf: Tf): Sequential {
  const init = (offset: number) => tf.initializers.heNormal({ seed: SEED + offset });
  return tf.sequential({
    name: 'fashion_mnist_cloud_cnn',
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(11) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'valid', activation: 'relu', kernelInitializer: init(12) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 64, activation: 'relu', kernelInitializer: init(13) }),
      tf.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: SEED + 14 }) }),
    ],
  });
}

const plans: Record<'edge' | 'cloud', TrainPlan> = {
  edge: { name: 'edge', build: buildEdgeModel, inputShape: [PIXELS], epochs: 5, batchSize: 128, learningRate: 0.002 },
  cloud: { name: 'cloud', build: buildCloudModel, inputShape: [28, 28, 1], epochs: 3, batchSize: 64, learningRate: 0.001 },
};


function gather(data: FashionMnist, order: Int32Array): { images: Float32Array; labels: Int32Array } {
  const images = new Float32Array(order.length * PIXELS);
  const labels = new Int32Array(order.length);
  order.forEach((source, target) => {
    images.set(data.images.subarray(source * PIXELS, (source + 1) * PIXELS), target * PIXELS);
    labels[target] = data.labels[source] ?? 0;
  });
  return { images, labels };
}

async function train(tf: Tf, plan: TrainPlan, data: FashionMnist): Promise<Sequential> {
  const model = plan.build(tf);
  model.compile({ optimizer: tf.train.adam(plan.learningRate), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const random = seededRandom(SEED);
  for (let epoch = 1; epoch <= plan.epochs; epoch++) {
    const started = Date.now();
    const batch = gather(data, shuffledIndices(data.count, random));
    const x = tf.tensor(batch.images, [data.count, ...plan.inputShape]);
    const y = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), CLASSES);
    const history = await model.fit(x, y, { epochs: 1, batchSize: plan.batchSize, shuffle: false, verbose: 0 });
    tf.dispose([x, y]);
    const loss = Number(history.history['loss']?.[0]);
    const accuracy = Number(history.history['acc']?.[0] ?? history.history['accuracy']?.[0]);
    console.log(`${plan.name} epoch ${epoch}/${plan.epochs}: loss ${loss.toFixed(4)} train acc ${accuracy.toFixed(4)} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  return model;
}

/** Class probabilities for every test image, through the saved model files (as workers load them). */
async function predictAll(model: InferenceModel, data: FashionMnist, inputShape: number[]): Promise<Float32Array> {
  const probabilities = new Float32Array(data.count * CLASSES);
  const chunk = 1000;
  for (let start = 0; start < data.count; start += chunk) {
    const size = Math.min(chunk, data.count - start);
    const input = { data: data.images.slice(start * PIXELS, (start + size) * PIXELS), shape: [size, ...inputShape] };
    const output = await model.predict(input);
    probabilities.set(output.data, start * CLASSES);
  }
  return probabilities;
}

function argmax(probabilities: Float32Array, index: number): number {
  let best = 0;
  for (let c = 1; c < CLASSES; c++) {
    if ((probabilities[index * CLASSES + c] ?? 0) > (probabilities[index * CLASSES + best] ?? 0)) best = c;
  }
  return best;
}

/** Sedna's CrossEntropy HEM score: 1 + Σ p ln p / ln n (1 = certain, 0 = uniform). */
function crossEntropyScore(probabilities: Float32Array, index: number): number {
  let sum = 0;
  for (let c = 0; c < CLASSES; c++) {
    const p = probabilities[index * CLASSES + c] ?? 0;
    if (p > 0) sum += p * Math.log(p);
  }
  return 1 + sum / Math.log(CLASSES);
}

interface HemRow {
  threshold: number;
  offloaded: number;
  jointAccuracy: number;
  recoveredGap: number;
}

function hemTable(edge: Float32Array, cloud: Float32Array, labels: Uint8Array, accuracies: { edge: number; cloud: number }): HemRow[] {
  const gap = accuracies.cloud - accuracies.edge;
  return THRESHOLDS.map((threshold) => {
    let offloaded = 0;
    let correct = 0;
    for (let i = 0; i < labels.length; i++) {
      const hard = crossEntropyScore(edge, i) < threshold;
      if (hard) offloaded++;
      if (argmax(hard ? cloud : edge, i) === labels[i]) correct++;
    }
    const jointAccuracy = correct / labels.length;
    return { threshold, offloaded: offloaded / labels.length, jointAccuracy, recoveredGap: gap > 0 ? (jointAccuracy - accuracies.edge) / gap : 0 };
  });
}

/** The threshold that meets the target with the widest margin on both limits. */
function recommendThreshold(rows: HemRow[]): HemRow | undefined {
  const margin = (row: HemRow) => Math.min(row.recoveredGap - TARGET.minRecoveredGap, TARGET.maxOffloaded - row.offloaded);
  const passing = rows.filter((row) => margin(row) >= 0);
  return passing.sort((a, b) => margin(b) - margin(a))[0];
}

function accuracyOf(probabilities: Float32Array, labels: Uint8Array): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (argmax(probabilities, i) === labels[i]) correct++;
  return correct / labels.length;
}

function printTable(rows: HemRow[]): void {
  console.log('threshold  offloaded  joint acc  recovered gap');
  for (const row of rows) {
    console.log(`${row.threshold.toFixed(2).padStart(9)}  ${(row.offloaded * 100).toFixed(1).padStart(8)}%  ${(row.jointAccuracy * 100).toFixed(2).padStart(8)}%  ${(row.recoveredGap * 100).toFixed(1).padStart(12)}%`);
  }
}

function parameterCount(model: Sequential): number {
  return model.countParams();
}

async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}

function parseOptions(): { out: string; data: string } {
  const here = dirname(fileURLToPath(import.meta.url));
  const { values } = parseArgs({ options: { out: { type: 'string' }, data: { type: 'string' } } });
  return { out: values.out ?? join(here, 'models'), data: fashionMnistDir(values.data) };
}

async function main(): Promise<void> {
  const options = parseOptions();
  const tf = await initTensorflow('wasm');
  const [trainSet, testSet] = await Promise.all([loadFashionMnist('train', options.data), loadFashionMnist('test', options.data)]);
  console.log(`Fashion-MNIST: ${trainSet.count} train / ${testSet.count} test images from ${options.data}`);

  const edgeModel = await train(tf, plans.edge, trainSet);
  const edgeDir = join(options.out, 'edge');
  await saveLayersModel(edgeModel, edgeDir);
  const cloudModel = await train(tf, plans.cloud, trainSet);
  const cloudPath = join(options.out, 'cloud', 'model.onnx');
  await exportToOnnx(cloudModel, cloudPath);

  const edgeRuntime = await loadInferenceModel(edgeDir);
  const cloudRuntime = await loadInferenceModel(cloudPath);
  const edgeProbabilities = await predictAll(edgeRuntime, testSet, plans.edge.inputShape);
  const cloudProbabilities = await predictAll(cloudRuntime, testSet, plans.cloud.inputShape);
  edgeRuntime.dispose();
  cloudRuntime.dispose();

  const accuracies = { edge: accuracyOf(edgeProbabilities, testSet.labels), cloud: accuracyOf(cloudProbabilities, testSet.labels) };
  console.log(`edge (tfjs MLP) test accuracy:  ${(accuracies.edge * 100).toFixed(2)}%`);
  console.log(`cloud (ONNX CNN) test accuracy: ${(accuracies.cloud * 100).toFixed(2)}%`);
  const rows = hemTable(edgeProbabilities, cloudProbabilities, testSet.labels, accuracies);
  printTable(rows);
  const recommended = recommendThreshold(rows);
  console.log(recommended ? `recommended threshold_cross_entropy: ${recommended.threshold}` : 'no threshold meets the target (≥70% of the gap, ≤30% offloaded)');

  const manifest = {
    dataset: { name: 'Fashion-MNIST', source: 'Debian package dataset-fashion-mnist (IDX gz files)', trainImages: trainSet.count, testImages: testSet.count, input: 'float32 [N,784] or [N,28,28,1], pixels / 255' },
    command: `node --import tsx examples/joint-inference/train-models.ts --out ${relative(process.cwd(), options.out) || '.'}`,
    tfjsBackend: tf.getBackend(),
    seed: SEED,
    classes: CLASSES,
    edge: { path: 'edge/model.json', format: 'tfjs', architecture: `dense ${EDGE_HIDDEN_UNITS} relu → dense 10 softmax`, inputShape: [null, PIXELS], epochs: plans.edge.epochs, parameters: parameterCount(edgeModel), bytes: (await fileSize(join(edgeDir, 'model.json'))) + (await fileSize(join(edgeDir, 'weights.bin'))), testAccuracy: round(accuracies.edge) },
    cloud: { path: 'cloud/model.onnx', format: 'onnx', architecture: 'conv16 3x3 same relu → maxpool 2 → conv32 3x3 valid relu → maxpool 2 → dense 64 relu → dense 10 softmax', inputShape: [null, 28, 28, 1], epochs: plans.cloud.epochs, parameters: parameterCount(cloudModel), bytes: await fileSize(cloudPath), testAccuracy: round(accuracies.cloud) },
    hardExampleMining: {
      name: 'CrossEntropy',
      rule: 'hard (sent to the cloud) when 1 + Σ p ln p / ln n < threshold_cross_entropy',
      target: TARGET,
      table: rows.map((row) => ({ threshold: row.threshold, offloaded: round(row.offloaded), jointAccuracy: round(row.jointAccuracy), recoveredGap: round(row.recoveredGap) })),
      recommendedThreshold: recommended?.threshold ?? null,
    },
  };
  await mkdir(options.out, { recursive: true });
  await writeFile(join(options.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`wrote ${options.out}/{edge/model.json,edge/weights.bin,cloud/model.onnx,manifest.json}`);
  edgeModel.dispose();
  cloudModel.dispose();
}

function round(value: number): number {
  return Math.round(value * 10000) / 10000;
}

await main();
