// Trains the joint-inference example's two Fashion-MNIST models and writes them to --out:
//   edge/model.json + weights.bin  a deliberately weak MLP (tfjs), answering most requests
//   cloud/model.onnx               a small CNN exported to ONNX, answering the hard ones
//   manifest.json                  splits, epochs and threshold chosen on validation, test figures
// The 60,000 training images are cut into 50,000 to train on and 10,000 for validation
// (examples/shared/validation-split.ts); the epochs of both models and the CrossEntropy threshold
// are chosen on validation; the 10,000 test images are scored once, at the end.
// Run: node --import tsx examples/joint-inference/train-models.ts [--out DIR] [--data DIR] [--seed N]
//      [--edge-max-epochs N] [--cloud-max-epochs N] [--cloud-time-budget SECONDS] [--evaluate-only]
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { exportToOnnx } from '../../src/lib/backends/onnx-export.ts';
import { initTensorflow, type Tf } from '../../src/lib/backends/tfjs.ts';
import { saveLayersModel } from '../../src/lib/backends/tfjs-file-io.ts';
import { holdOutValidation, VALIDATION_SEED } from '../shared/validation-split.ts';
import { fashionMnistDir, loadFashionMnist, selectRecords, type FashionMnist } from './fashion-mnist.ts';
import { chooseThreshold, correctness, crossEntropyTable, mean, TARGET, type OperatingPoint } from './operating-points.ts';
import { CLASSES, PLANS, predictSaved, trainOnValidation, type TrainedModel } from './training.ts';

export const DEFAULT_SEED = 20251;

function printTable(rows: OperatingPoint[]): void {
  console.log('threshold  offloaded  joint acc  recovered gap   (validation)');
  for (const row of rows.filter((_, i) => i % 5 === 0)) {
    console.log(`${row.threshold.toFixed(2).padStart(9)}  ${(row.offloaded * 100).toFixed(1).padStart(8)}%  ${(row.jointAccuracy * 100).toFixed(2).padStart(8)}%  ${(row.recoveredGap * 100).toFixed(1).padStart(12)}%`);
  }
}

async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}

interface Options {
  out: string;
  data: string;
  seed: number;
  /** Caps on the epochs tried (the best validation epoch within them is kept). */
  maxEpochs: { edge: number; cloud: number };
  /** Seconds after which the cloud CNN starts no new epoch (unlimited when absent). */
  cloudTimeBudget?: number;
  /** Skip training: evaluate the models already in --out with their training.json. */
  evaluateOnly: boolean;
}

async function parseOptions(): Promise<Options> {
  const here = dirname(fileURLToPath(import.meta.url));
  const { values } = parseArgs({
    options: { out: { type: 'string' }, data: { type: 'string' }, seed: { type: 'string' }, 'edge-max-epochs': { type: 'string' }, 'cloud-max-epochs': { type: 'string' }, 'cloud-time-budget': { type: 'string' }, 'evaluate-only': { type: 'boolean', default: false } },
  });
  return {
    out: values.out ?? join(here, 'models'),
    data: await fashionMnistDir(values.data),
    seed: Number(values.seed ?? DEFAULT_SEED),
    maxEpochs: { edge: Number(values['edge-max-epochs'] ?? PLANS.edge.maxEpochs), cloud: Number(values['cloud-max-epochs'] ?? PLANS.cloud.maxEpochs) },
    cloudTimeBudget: values['cloud-time-budget'] === undefined ? undefined : Number(values['cloud-time-budget']),
    evaluateOnly: values['evaluate-only'] ?? false,
  };
}

function round(value: number): number {
  return Math.round(value * 10000) / 10000;
}

async function main(): Promise<void> {
  const options = await parseOptions();
  const tf = await initTensorflow('wasm');
  const [all, testSet] = await Promise.all([loadFashionMnist('train', options.data), loadFashionMnist('test', options.data)]);
  const records = holdOutValidation(all.count);
  const trainSet = selectRecords(all, records.train);
  const validationSet = selectRecords(all, records.validation);
  console.log(`Fashion-MNIST from ${options.data}: ${trainSet.count} train / ${validationSet.count} validation / ${testSet.count} test images`);

  const edgeDir = join(options.out, 'edge');
  const cloudPath = join(options.out, 'cloud', 'model.onnx');
  const record = options.evaluateOnly ? await readTrainingRecord(options.out) : await trainBoth(tf, options, trainSet, validationSet, edgeDir, cloudPath);

  // Every choice on validation, through the saved files as the workers load them.
  const validation = { edge: await predictSaved(edgeDir, validationSet, PLANS.edge.inputShape), cloud: await predictSaved(cloudPath, validationSet, PLANS.cloud.inputShape), labels: validationSet.labels };
  const validationTable = crossEntropyTable(validation);
  printTable(validationTable);
  const chosen = chooseThreshold(validationTable);
  console.log(`threshold_cross_entropy chosen on validation: ${chosen.threshold} (validation: ${(chosen.offloaded * 100).toFixed(1)}% offloaded, ${(chosen.recoveredGap * 100).toFixed(1)}% of the gap)`);

  // The test set, scored once at the chosen threshold.
  const test = { edge: await predictSaved(edgeDir, testSet, PLANS.edge.inputShape), cloud: await predictSaved(cloudPath, testSet, PLANS.cloud.inputShape), labels: testSet.labels };
  const [onTest] = crossEntropyTable(test, [chosen.threshold]);
  const testAccuracy = { edge: mean(correctness(test.edge, test.labels)), cloud: mean(correctness(test.cloud, test.labels)) };
  console.log(`test: edge ${(testAccuracy.edge * 100).toFixed(2)}%, cloud ${(testAccuracy.cloud * 100).toFixed(2)}%, joint ${(onTest!.jointAccuracy * 100).toFixed(2)}% offloading ${(onTest!.offloaded * 100).toFixed(1)}%, ${(onTest!.recoveredGap * 100).toFixed(1)}% of the gap`);

  const edgeBytes = (await fileSize(join(edgeDir, 'model.json'))) + (await fileSize(join(edgeDir, 'weights.bin')));
  const manifest = {
    dataset: {
      name: 'Fashion-MNIST',
      source: 'IDX gz files (FASHION_MNIST_DIR, Debian dataset-fashion-mnist, or the download cache)',
      trainImages: trainSet.count,
      validationImages: validationSet.count,
      validationSeed: VALIDATION_SEED,
      testImages: testSet.count,
      input: 'float32 [N,784] or [N,28,28,1], pixels / 255',
    },
    // A time budget depends on the machine; the epochs it allowed, as a cap, reproduce the run.
    command: `node --import tsx examples/joint-inference/train-models.ts --out ${relative(process.cwd(), options.out) || '.'} --seed ${options.seed} --edge-max-epochs ${options.maxEpochs.edge} --cloud-max-epochs ${record.cloud.stoppedBy === 'timeBudget' ? record.cloud.history.length : options.maxEpochs.cloud}`,
    tfjsBackend: tf.getBackend(),
    seed: options.seed,
    classes: CLASSES,
    edge: { path: 'edge/model.json', format: 'tfjs', architecture: PLANS.edge.architecture, inputShape: [null, ...PLANS.edge.inputShape], epochsChosenOnValidation: record.edge.epochs, stoppedBy: record.edge.stoppedBy, validationHistory: record.edge.history.map(round), parameters: record.edge.parameters, bytes: edgeBytes, validationAccuracy: round(record.edge.validationAccuracy), testAccuracy: round(testAccuracy.edge) },
    cloud: { path: 'cloud/model.onnx', format: 'onnx', architecture: PLANS.cloud.architecture, inputShape: [null, ...PLANS.cloud.inputShape], epochsChosenOnValidation: record.cloud.epochs, stoppedBy: record.cloud.stoppedBy, validationHistory: record.cloud.history.map(round), parameters: record.cloud.parameters, bytes: await fileSize(cloudPath), validationAccuracy: round(record.cloud.validationAccuracy), testAccuracy: round(testAccuracy.cloud) },
    hardExampleMining: {
      name: 'CrossEntropy',
      rule: 'hard (sent to the cloud) when 1 + Σ p ln p / ln n < threshold_cross_entropy',
      target: TARGET,
      thresholdSelectedOn: 'validation',
      validationTable: validationTable.map((r) => ({ threshold: r.threshold, offloaded: round(r.offloaded), jointAccuracy: round(r.jointAccuracy), recoveredGap: round(r.recoveredGap) })),
      recommendedThreshold: chosen.threshold,
      test: { offloaded: round(onTest!.offloaded), jointAccuracy: round(onTest!.jointAccuracy), recoveredGap: round(onTest!.recoveredGap) },
    },
  };
  await mkdir(options.out, { recursive: true });
  await writeFile(join(options.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`wrote ${options.out}/{edge/model.json,edge/weights.bin,cloud/model.onnx,manifest.json}`);
}

interface ModelRecord {
  epochs: number;
  validationAccuracy: number;
  history: number[];
  stoppedBy: TrainedModel['stoppedBy'];
  parameters: number;
}

type TrainingRecord = Record<'edge' | 'cloud', ModelRecord>;
const TRAINING_RECORD = 'training.json';

/** Trains and saves both models; their training record is written first, so evaluation can be rerun. */
async function trainBoth(tf: Tf, options: Options, trainSet: FashionMnist, validationSet: FashionMnist, edgeDir: string, cloudPath: string): Promise<TrainingRecord> {
  const edge = await trainOnValidation(tf, { ...PLANS.edge, maxEpochs: options.maxEpochs.edge }, trainSet, validationSet, options.seed, console.log);
  await saveLayersModel(edge.model, edgeDir);
  const cloud = await trainOnValidation(tf, { ...PLANS.cloud, maxEpochs: options.maxEpochs.cloud, timeBudgetSeconds: options.cloudTimeBudget }, trainSet, validationSet, options.seed, console.log);
  await exportToOnnx(cloud.model, cloudPath);
  const record = (m: TrainedModel): ModelRecord => ({ epochs: m.epochs, validationAccuracy: m.validationAccuracy, history: m.history, stoppedBy: m.stoppedBy, parameters: m.model.countParams() });
  const result = { edge: record(edge), cloud: record(cloud) };
  await writeFile(join(options.out, TRAINING_RECORD), `${JSON.stringify(result, null, 2)}\n`);
  edge.model.dispose();
  cloud.model.dispose();
  return result;
}

async function readTrainingRecord(out: string): Promise<TrainingRecord> {
  return JSON.parse(await readFile(join(out, TRAINING_RECORD), 'utf8')) as TrainingRecord;
}

await main();
