// The incremental-learning scenario on the embedded system (`npm run example:incremental-learning`):
//   1. brings `sedna up` up under --data-dir (default .sedna) unless it is already running;
//   2. writes the files the job's YAML names: the night camera's recording (IDX), the indexes of the
//      original images replayed against forgetting and of the original validation images, an empty
//      Dataset index, and the deploy Model (a copy of the base model);
//   3. applies resources.yaml (Dataset, Models, IncrementalLearningJob) through the API;
//   4. plays the person who labels: each sitting labels LABELLING_BATCH hard examples the inference
//      worker mined with the model deployed then (true labels) and appends them to the Dataset,
//      then waits until the LC's trigger, training, evaluation and deploy decision have run and the
//      inference worker serves whatever was deployed; CYCLES times;
//   5. stops the stream, scores the base model and the finally deployed one on the test sets (once),
//      writes DATA_DIR/results/incremental-learning.json and prints the table.
// The system stays up afterwards for kubectl; `npx sedna down` stops it.
//
//   node --import tsx examples/incremental-learning/run.ts [--data-dir .sedna] [--cycles N]
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, normalize, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import type { IncrementalLearningJob, StageCondition } from '../../src/api/sedna/incremental-learning-job.ts';
import { TfjsClassifier } from '../../src/lib/backends/tfjs-classifier.ts';
import { encodeIdx } from '../../src/lib/datasources/idx.ts';
import { fashionMnistDir, IMAGE_SIZE } from '../joint-inference/fashion-mnist.ts';
import { summarize } from '../joint-inference/results.ts';
import { applyObjects, deleteAndWait, ensureSystemUp, kubeConfigFor, renderResources, runIfMain, stillUpMessage } from '../shared/system.ts';
import { asClassifierData, type Images, loadScenarioData, type ScenarioData } from './data.ts';
import { Labeller } from './labeller.ts';
import { type CycleFigures, formatResults, type IncrementalResults, meetsTargets } from './results.ts';
import { CYCLES, FORGETTING_ALLOWED, LABELLING_BATCH, TRAIN_PROB } from './scenario-settings.ts';
import type { StreamStats } from './stream-stats.ts';

const EXAMPLE_DIR = import.meta.dirname;
const JOB = 'fashion-mnist-night-il';

/** What run.ts needs from models/manifest.json (train-base-model.ts). */
interface Manifest {
  drift: { name: string };
  validation: { original: number };
  hardExampleMining: { threshold: number };
  fineTuning: { chosen: { replayShare: number; epochs: number; learningRate: number; batchSize: number } };
}

export interface ScenarioOptions {
  dataDir: string;
  cycles?: number;
  /** The camera's frame rate (the stream's pace). */
  framesPerSecond?: number;
  timeoutMs?: number;
  log?: (line: string) => void;
}

function readManifest(): Manifest {
  const file = join(EXAMPLE_DIR, 'models/manifest.json');
  if (!existsSync(file)) throw new Error(`${file} is missing: run 'nice -n 19 node --import tsx examples/incremental-learning/train-base-model.ts'`);
  return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
}

/** `<train IDX file>#<record> <label>` for each image (Sedna's txt index, as the workers read it). */
function indexOf(set: Images, imagesFile: string): string {
  return Array.from(set.ids, (record, i) => `${imagesFile}#${record} ${set.labels[i]}`).join('\n') + '\n';
}

/** The files resources.yaml names, fresh for this run. */
function writeInputs(dir: string, data: ScenarioData, datasetDir: string): void {
  for (const sub of ['hard-examples', 'output', 'camera', 'deployed']) rmSync(join(dir, sub), { recursive: true, force: true });
  for (const sub of ['hard-examples', 'output', 'camera', 'deployed']) mkdirSync(join(dir, sub), { recursive: true });
  const frames = Uint8Array.from(data.camera.images, (v) => Math.round(v * 255));
  writeFileSync(join(dir, 'camera', 'night-frames-idx3-ubyte'), encodeIdx({ dims: [data.camera.count, IMAGE_SIZE, IMAGE_SIZE], data: frames }));
  const trainImages = join(datasetDir, 'train-images-idx3-ubyte.gz');
  writeFileSync(join(dir, 'original-train-index.txt'), indexOf(data.original, trainImages));
  writeFileSync(join(dir, 'original-validation-index.txt'), indexOf(data.validation.original, trainImages));
  writeFileSync(join(dir, 'labelled-index.txt'), '');
  cpSync(join(EXAMPLE_DIR, 'models', 'base'), join(dir, 'deployed', 'model'), { recursive: true });
}

async function readJob(kc: k8s.KubeConfig): Promise<IncrementalLearningJob> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  return (await custom.getNamespacedCustomObject({ group: 'sedna.io', version: 'v1alpha1', namespace: 'default', plural: 'incrementallearningjobs', name: JOB })) as IncrementalLearningJob;
}

function readStats(file: string): StreamStats | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StreamStats;
  } catch {
    return undefined;
  }
}

function outputMetrics(condition: StageCondition | undefined): Record<string, number[]>[] {
  if (!condition?.data) return [];
  const data = JSON.parse(condition.data) as { output?: { models?: { metrics?: Record<string, number[]> }[] } };
  return (data.output?.models ?? []).map((m) => m.metrics ?? {});
}

/** Per cycle, from the job's conditions (Train/Ready starts one) and the worker's swap times. */
export function cycleFigures(conditions: readonly StageCondition[], swaps: StreamStats['swaps'], cycles: number): CycleFigures[] {
  const figures: CycleFigures[] = [];
  const starts = conditions.flatMap((c, i) => (c.stage === 'Train' && c.type === 'Ready' && c.reason !== 'Retry' ? [i] : []));
  let deployedSoFar = 0;
  for (const [n, start] of starts.slice(0, cycles).entries()) {
    const rest = conditions.slice(start, starts[n + 1] ?? conditions.length);
    const trained = outputMetrics(rest.findLast((c) => c.stage === 'Train' && c.type === 'Completed'))[0] ?? {};
    const evaluated = outputMetrics(rest.findLast((c) => c.stage === 'Eval' && c.type === 'Completed'));
    const deployDone = rest.find((c) => c.stage === 'Deploy' && c.type === 'Completed');
    if (!deployDone) break;
    const deployed = rest.some((c) => c.stage === 'Deploy' && c.type === 'Ready');
    const swap = deployed ? swaps[deployedSoFar++] : undefined;
    const end = swap ? Date.parse(swap.at) : Date.parse(deployDone.lastTransitionTime ?? '');
    figures.push({
      round: n + 1,
      trainSamples: (trained['samples']?.[0] ?? 0) + (trained['replayed']?.[0] ?? 0),
      deployed,
      triggerToDeploySeconds: Math.round((end - Date.parse(conditions[start]!.lastTransitionTime ?? '')) / 100) / 10,
      evalAccuracy: { trained: evaluated[0]?.['guarded_accuracy']?.[0] ?? Number.NaN, deployed: evaluated[1]?.['guarded_accuracy']?.[0] ?? Number.NaN },
    });
  }
  return figures;
}

async function accuracy(modelDir: string, set: Images): Promise<number> {
  const classifier = await TfjsClassifier.load(modelDir);
  try {
    return (await classifier.evaluate(asClassifierData(set)))['accuracy']!;
  } finally {
    classifier.dispose();
  }
}

interface Progress {
  job: IncrementalLearningJob;
  stats: StreamStats | undefined;
}

/** Plays the labeller until `cycles` cycles completed and the last deploy serves; returns the final view. */
async function labelUntilDone(kc: k8s.KubeConfig, labeller: Labeller, statsFile: string, cycles: number, deadline: number, log: (line: string) => void): Promise<Progress> {
  let waitingForRound = 0;
  let lastState = '';
  for (;;) {
    if (Date.now() > deadline) throw new Error(`the scenario did not complete ${cycles} cycles in time; see kubectl get il ${JOB} -o yaml`);
    const job = await readJob(kc).catch(() => undefined);
    const stats = readStats(statsFile);
    if (job) {
      const round = job.status?.round ?? 1;
      const completed = round - 1;
      const deploys = (job.status?.conditions ?? []).filter((c) => c.stage === 'Deploy' && c.type === 'Ready').length;
      // The next sitting labels what the now-serving model finds hard, as the simulation did.
      const serving = (stats?.swaps.length ?? 0) >= deploys;
      const latest = job.status?.conditions?.at(-1);
      // One line per stage change or swap, with the stream's counters at that moment.
      const state = `round ${round}: ${latest ? `${latest.stage}/${latest.type}` : 'starting'}, ${stats?.swaps.length ?? 0} swap(s)`;
      if (state !== lastState) log(`  ${state}; ${stats?.inferenceRequests ?? 0} frames answered, ${stats?.hardExamples ?? 0} hard, ${labeller.labelled} labelled`);
      lastState = state;
      if (completed >= cycles && serving) return { job, stats };
      if (waitingForRound > 0 && completed >= waitingForRound && serving) waitingForRound = 0;
      if (waitingForRound === 0 && completed < cycles && stats && (await labeller.sitting(stats, LABELLING_BATCH)) > 0) {
        waitingForRound = round;
        log(`  labelled ${LABELLING_BATCH} hard examples of model ${stats.modelVersion} into the Dataset (sitting ${round})`);
      }
    }
    await sleep(1000);
  }
}

export async function runIncrementalLearningScenario(options: ScenarioOptions): Promise<IncrementalResults> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const cycles = options.cycles ?? CYCLES;
  const deadline = Date.now() + (options.timeoutMs ?? 15 * 60_000);
  const manifest = readManifest();
  const dataDir = resolve(options.dataDir);
  await ensureSystemUp(dataDir, ['edge-1'], log);
  const kc = kubeConfigFor(dataDir);
  const exampleData = join(dataDir, 'examples/incremental-learning');
  const resultsDir = join(dataDir, 'results');
  const statsFile = join(resultsDir, 'incremental-learning-stream.json');
  const resultsFile = join(resultsDir, 'incremental-learning.json');
  await deleteAndWait(kc, { plural: 'incrementallearningjobs', name: JOB });
  const datasetDir = await fashionMnistDir();
  const data = await loadScenarioData(datasetDir);
  writeInputs(exampleData, data, datasetDir);
  for (const file of [statsFile, resultsFile]) rmSync(file, { force: true });
  mkdirSync(resultsDir, { recursive: true });
  log(`camera recording: ${data.camera.count} night frames; replay pool ${data.original.count} original images; Dataset index empty`);

  const { chosen } = manifest.fineTuning;
  const yamlText = renderResources(readFileSync(join(EXAMPLE_DIR, 'resources.yaml'), 'utf8'), {
    EXAMPLE_DIR,
    DATA_DIR: exampleData,
    RESULTS_DIR: resultsDir,
    FASHION_MNIST_DIR: datasetDir,
    TRAIN_PROB: String(TRAIN_PROB),
    TRIGGER_SAMPLES: String(Math.floor(LABELLING_BATCH * TRAIN_PROB) - 1),
    REPLAY_SHARE: String(chosen.replayShare),
    EPOCHS: String(chosen.epochs),
    LEARNING_RATE: String(chosen.learningRate),
    BATCH_SIZE: String(chosen.batchSize),
    BASE_ORIGINAL_ACCURACY: String(manifest.validation.original),
    FORGETTING_ALLOWED: String(FORGETTING_ALLOWED),
    HEM_THRESHOLD: String(manifest.hardExampleMining.threshold),
    FRAMES_PER_SECOND: String(options.framesPerSecond ?? 200),
  });
  await applyObjects(kc, k8s.loadAllYaml(yamlText) as k8s.KubernetesObject[]);
  log(`applied Dataset, Models and IncrementalLearningJob ${JOB}; labelling ${LABELLING_BATCH} hard examples a sitting, ${cycles} cycles`);

  const labeller = new Labeller(join(exampleData, 'hard-examples'), join(exampleData, 'labelled-index.txt'), data.camera.labels);
  const { job } = await labelUntilDone(kc, labeller, statsFile, cycles, deadline, log);
  writeFileSync(join(exampleData, 'camera', 'stop'), '');
  await sleep(1500);
  const stats = readStats(statsFile);
  if (!stats) throw new Error(`${statsFile}: the inference worker wrote no counters; see kubectl logs deployment/${JOB}-deployment-inference`);

  // The test sets, scored once: the base model and the model serving at the end.
  const baseDir = join(EXAMPLE_DIR, 'models', 'base');
  const finalDir = job.status?.deployedModel ? normalize(job.status.deployedModel) : baseDir;
  const figures = cycleFigures(job.status?.conditions ?? [], stats.swaps, cycles);
  const results: IncrementalResults = {
    baseAccuracy: await accuracy(baseDir, data.test.drifted),
    finalAccuracy: await accuracy(finalDir, data.test.drifted),
    originalAccuracyBefore: await accuracy(baseDir, data.test.original),
    originalAccuracyAfter: await accuracy(finalDir, data.test.original),
    cycles: figures.length,
    deployedCycles: figures.filter((c) => c.deployed).length,
    inferenceRequests: stats.inferenceRequests,
    failedInferences: stats.failedInferences,
    hardExamples: stats.hardExamples,
    labelled: labeller.labelled,
    swapMs: summarize(stats.swaps.map((s) => s.swapMs)),
    swaps: stats.swaps.length,
    triggerToDeploySeconds: figures.map((c) => c.triggerToDeploySeconds),
    cycleFigures: figures,
    splits: {
      original: data.original.count,
      camera: data.camera.count,
      validation: { original: data.validation.original.count, night: data.validation.drifted.count },
      test: { original: data.test.original.count, night: data.test.drifted.count },
    },
    drift: manifest.drift.name,
    replayShare: chosen.replayShare,
    hemThreshold: manifest.hardExampleMining.threshold,
    choicesMadeOn: 'validation',
    finishedAt: new Date().toISOString(),
  };
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  log('');
  log(formatResults(results));
  log(`(also in ${resultsFile})`);
  return results;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'data-dir': { type: 'string', default: '.sedna' }, cycles: { type: 'string' } } });
  const results = await runIncrementalLearningScenario({ dataDir: values['data-dir'], ...(values.cycles ? { cycles: Number(values.cycles) } : {}) });
  process.stdout.write(stillUpMessage(values['data-dir'], 'il,deploy,pods'));
  process.exitCode = meetsTargets(results) ? 0 : 1;
}

runIfMain(import.meta.filename, 'incremental-learning scenario', main);
