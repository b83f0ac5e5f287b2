// The federated-learning scenario on the embedded system (`npm run example:federated-learning`):
//   1. brings `sedna up --nodes cloud,edge-1,edge-2,edge-3` up under --data-dir (default .sedna)
//      unless it is already running;
//   2. splits the 50,000 training images (the 60,000 minus the validation split) non-IID
//      (per-class Dirichlet α=0.5, split seed 1) across 10 clients on the three edge nodes and
//      writes each client's Dataset index (split.ts);
//   3. applies resources.yaml (Model, one Dataset and one training worker per client, the
//      FederatedLearningJob) through the API, and trains the centralized baseline in its own
//      process meanwhile;
//   4. waits for the job to complete; the aggregator wrote each round's test accuracy and bytes;
//   5. prints the rounds and the comparison, writes DATA_DIR/results/federated-learning.json, and
//      exits 1 if federated accuracy is more than 3 points below centralized.
// The system stays up afterwards for kubectl; `npx sedna down` stops it.
//
//   node --import tsx examples/federated-learning/run.ts [--data-dir .sedna] [--train-images 50000]
//     [--timeout-minutes 60] [--round-deadline-seconds 30]
import { Progress } from '../../src/lib/progress.ts';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { fashionMnistDir } from '../joint-inference/fashion-mnist.ts';
import { applyObjects, deleteAndWait, ensureSystemUp, kubeConfigFor, renderResources, runIfMain, stillUpMessage } from '../shared/system.ts';
import type { CentralizedResult } from './centralized.ts';
import { formatResults, meetsTarget, type FederatedResults } from './results.ts';
import { parseRoundsFile, ROUNDS_FILE, type RoundRecord, type RoundsDone } from './rounds.ts';
import { holdOutValidation } from '../shared/validation-split.ts';
import { EDGE_NODES, formatHistogram, indexFileFor, writeSplit } from './split.ts';

const EXAMPLE_DIR = import.meta.dirname;
const PROJECT_ROOT = resolve(EXAMPLE_DIR, '../..');
export const JOB_NAME = 'fashion-mnist-fl';
/** The aggregator runs on `cloud`, one trainer on each edge. */
export const NEEDED_NODES = ['cloud', ...EDGE_NODES];
const NAMESPACE = 'default';
const FL = { group: 'sedna.io', version: 'v1alpha1', namespace: NAMESPACE, plural: 'federatedlearningjobs' };
/** All of the training split (the 60,000 minus the 10,000 validation images). */
export const DEFAULT_TRAIN_IMAGES = 50_000;
export const CLIENTS = 10;
export const SPLIT_ALPHA = 0.5;
/** The first seed, not one picked for its result. */
export const SPLIT_SEED = 1;
const TRAINING_IMAGES_IN_IDX = 60_000;

/** client-1 … client-10, dealt round-robin onto edge-1, edge-2, edge-3. */
export function clientPlacement(clients = CLIENTS): { client: string; node: string }[] {
  return Array.from({ length: clients }, (_, i) => ({ client: `client-${i + 1}`, node: EDGE_NODES[i % EDGE_NODES.length]! }));
}

export interface ScenarioOptions {
  dataDir: string;
  /** Training images shared out across the clients (default all 50,000, or env FL_TRAIN_IMAGES). */
  trainImages?: number;
  timeoutMs?: number;
  /** Overrides the aggregator's round_deadline_seconds (a full-scale run on a busy machine needs longer). */
  roundDeadlineSeconds?: number;
  log?: (line: string) => void;
  /** Rounds the aggregator runs (default: resources.yaml's exit_round); the fault suite runs short jobs. */
  exitRound?: number;
}

export interface JobOverrides {
  jobName?: string;
  exitRound?: number;
  roundDeadlineSeconds?: number;
  /** Overrides the aggregator's min_clients: with every client, no round closes while one is missing. */
  minClients?: number;
}

type Doc = k8s.KubernetesObject & { spec?: Record<string, unknown> };
interface EnvVar {
  name: string;
  value?: string;
}
interface Container {
  env?: EnvVar[];
}
interface TrainingWorker {
  dataset: { name: string };
  template: { spec: { nodeName?: string; containers: Container[] } };
}
interface JobSpec {
  aggregationWorker: { template: { spec: { containers: Container[] } } };
  trainingWorkers: TrainingWorker[];
}

export function exampleDataDir(dataDir: string): string {
  return join(resolve(dataDir), 'examples/federated-learning');
}

function resultsDirOf(dataDir: string): string {
  return join(resolve(dataDir), 'results');
}

function envValue(container: Container | undefined, name: string): string | undefined {
  return container?.env?.find((e) => e.name === name)?.value;
}

function setEnv(container: Container, name: string, value: string): void {
  const env = (container.env ?? []).filter((e) => e.name !== name);
  container.env = [...env, { name, value }];
}

/** resources.yaml with its placeholders filled and the overrides applied, as API objects. */
export function exampleObjects(dataDir: string, datasetDir: string, overrides: JobOverrides = {}): Doc[] {
  const text = renderResources(readFileSync(join(EXAMPLE_DIR, 'resources.yaml'), 'utf8'), {
    EXAMPLE_DIR,
    DATA_DIR: exampleDataDir(dataDir),
    RESULTS_DIR: resultsDirOf(dataDir),
    FASHION_MNIST_DIR: datasetDir,
  });
  // A JSON round trip undoes the YAML anchors' shared objects, so an override touches one place.
  const docs = JSON.parse(JSON.stringify(k8s.loadAllYaml(text))) as Doc[];
  const job = docs.find((d) => d.kind === 'FederatedLearningJob')!;
  if (overrides.jobName) job.metadata = { ...job.metadata, name: overrides.jobName };
  const expanded = expandClients(docs, job.spec as unknown as JobSpec);
  const aggregator = (job.spec as unknown as JobSpec).aggregationWorker.template.spec.containers[0]!;
  if (overrides.exitRound !== undefined) setEnv(aggregator, 'exit_round', String(overrides.exitRound));
  if (overrides.roundDeadlineSeconds !== undefined) setEnv(aggregator, 'round_deadline_seconds', String(overrides.roundDeadlineSeconds));
  if (overrides.minClients !== undefined) setEnv(aggregator, 'min_clients', String(overrides.minClients));
  return expanded.map((d) => ({ ...d, metadata: { namespace: NAMESPACE, ...d.metadata } }));
}

/** The one Dataset and trainingWorkers entry of resources.yaml, repeated for every client. */
function expandClients(docs: Doc[], spec: JobSpec): Doc[] {
  const datasetTemplate = docs.find((d) => d.kind === 'Dataset')!;
  const workerTemplate = spec.trainingWorkers[0]!;
  const placement = clientPlacement();
  const datasets = placement.map(({ client, node }) => {
    const dataset = JSON.parse(JSON.stringify(datasetTemplate)) as Doc;
    dataset.metadata = { ...dataset.metadata, name: `fashion-mnist-${client}` };
    dataset.spec = { ...dataset.spec, url: String(dataset.spec!['url']).replace(/client-1-train-index\.txt$/, `${client}-train-index.txt`), nodeName: node };
    return dataset;
  });
  spec.trainingWorkers = placement.map(({ client, node }) => {
    const worker = JSON.parse(JSON.stringify(workerTemplate)) as TrainingWorker;
    worker.dataset = { name: `fashion-mnist-${client}` };
    worker.template.spec.nodeName = node;
    return worker;
  });
  return [...docs.filter((d) => d.kind !== 'Dataset'), ...datasets];
}

function jobSpec(docs: Doc[]): JobSpec {
  return docs.find((d) => d.kind === 'FederatedLearningJob')!.spec as unknown as JobSpec;
}

/** Deletes a job (if it exists) and waits until it is gone, pods included (Foreground). */
export function deleteJob(kc: k8s.KubeConfig, name: string, timeoutMs = 60_000): Promise<void> {
  return deleteAndWait(kc, { plural: FL.plural, name }, timeoutMs);
}

/** Writes the split (if not there yet for these settings) and applies the example's objects. */
export async function startFederatedJob(dataDir: string, overrides: JobOverrides = {}, log: (line: string) => void = () => {}): Promise<Doc[]> {
  const kc = kubeConfigFor(dataDir);
  const docs = exampleObjects(dataDir, await fashionMnistDir(), overrides);
  await deleteJob(kc, overrides.jobName ?? JOB_NAME);
  mkdirSync(join(exampleDataDir(dataDir), 'model'), { recursive: true });
  await applyObjects(kc, docs);
  log(`applied Model fashion-mnist-fl-mlp, Datasets fashion-mnist-client-{1..${CLIENTS}} on ${EDGE_NODES.join(', ')}, FederatedLearningJob ${overrides.jobName ?? JOB_NAME}`);
  return docs;
}

export async function jobPhase(kc: k8s.KubeConfig, name: string): Promise<string | undefined> {
  return (await jobStatus(kc, name)).phase;
}

async function jobStatus(kc: k8s.KubeConfig, name: string): Promise<{ phase?: string; round?: number }> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const job = (await custom.getNamespacedCustomObject({ ...FL, name })) as { status?: { phase?: string; round?: number } };
  return job.status ?? {};
}

/**
 * Waits for the job's phase to be Succeeded (throws on Failed or at the deadline). With
 * `progress`, shows the round the job is in against the rounds it will run (a live line on a terminal).
 */
export async function waitForJob(kc: k8s.KubeConfig, name: string, timeoutMs: number, log: (line: string) => void = () => {}, progress?: { bar: Progress; rounds: number }): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastNote = Date.now();
  for (;;) {
    // An API server that restarts (or is briefly unreachable) is waited out, not a failure.
    const { phase, round } = await jobStatus(kc, name).catch((err: unknown) => {
      if (Date.now() > deadline) throw err;
      const unknown: { phase?: string; round?: number } = {};
      return unknown;
    });
    if (phase === 'Succeeded') return;
    if (phase === 'Failed') throw new Error(`FederatedLearningJob ${name} failed; see kubectl describe fl ${name} and the pods' logs`);
    if (Date.now() > deadline) throw new Error(`FederatedLearningJob ${name} not complete after ${timeoutMs} ms (phase ${phase ?? 'none'})`);
    if (progress) {
      progress.bar.update(`job ${name}: ${phase ?? 'pending'}, round`, round ?? 0, progress.rounds);
    } else if (Date.now() - lastNote > 15_000) {
      lastNote = Date.now();
      log(`  job ${name}: ${phase ?? 'pending'}…`);
    }
    await sleep(500);
  }
}

function readRounds(file: string): { rounds: RoundRecord[]; done: RoundsDone | undefined } {
  return existsSync(file) ? parseRoundsFile(readFileSync(file, 'utf8')) : { rounds: [], done: undefined };
}

/** Trains the baseline in a child process with the trainers' settings; resolves with its result. */
function runCentralized(indexFiles: string[], epochs: number, trainerEnv: EnvVar[]): Promise<CentralizedResult> {
  const env = { ...process.env, ...Object.fromEntries(trainerEnv.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!])) };
  const child = spawn(process.execPath, ['--import', 'tsx', join(EXAMPLE_DIR, 'centralized.ts'), '--epochs', String(epochs), ...indexFiles], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolveRun, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`centralized baseline exited ${code}:\n${stderr}`));
      resolveRun(JSON.parse(stdout.trim().split('\n').at(-1)!) as CentralizedResult);
    });
  });
}

function writeResults(file: string, results: FederatedResults): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(results, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}

export async function runFederatedLearningScenario(options: ScenarioOptions): Promise<FederatedResults> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const dataDir = resolve(options.dataDir);
  const timeoutMs = options.timeoutMs ?? 240_000;
  await ensureSystemUp(dataDir, NEEDED_NODES, log);
  const kc = kubeConfigFor(dataDir);
  const trainImages = options.trainImages ?? Number(process.env['FL_TRAIN_IMAGES'] ?? DEFAULT_TRAIN_IMAGES);
  const records = holdOutValidation(TRAINING_IMAGES_IN_IDX).train;
  const clients = clientPlacement();
  const shards = await writeSplit(exampleDataDir(dataDir), await fashionMnistDir(), { nodes: clients.map((c) => c.client), alpha: SPLIT_ALPHA, records, total: trainImages, seed: SPLIT_SEED, minPerNode: 10 });
  log(`per-class Dirichlet(${SPLIT_ALPHA}) split (seed ${SPLIT_SEED}) of ${trainImages} Fashion-MNIST training images over ${clients.length} clients (images per class and client; client-i runs on ${clients.map((c) => c.node).join(', ')}):`);
  log(formatHistogram(shards));
  const resultsDir = resultsDirOf(dataDir);
  const roundsFile = join(resultsDir, ROUNDS_FILE);
  const resultsFile = join(resultsDir, 'federated-learning.json');
  mkdirSync(resultsDir, { recursive: true });
  await deleteJob(kc, JOB_NAME);
  rmSync(roundsFile, { force: true });
  rmSync(resultsFile, { force: true });
  const overrides: JobOverrides = {
    ...(options.exitRound !== undefined ? { exitRound: options.exitRound } : {}),
    ...(options.roundDeadlineSeconds !== undefined ? { roundDeadlineSeconds: options.roundDeadlineSeconds } : {}),
  };
  const docs = await startFederatedJob(dataDir, overrides, log);
  const spec = jobSpec(docs);
  const exitRound = Number(envValue(spec.aggregationWorker.template.spec.containers[0], 'exit_round') ?? 3);
  const trainerEnv = spec.trainingWorkers[0]!.template.spec.containers[0]!.env ?? [];
  const localEpochs = Number(envValue({ env: trainerEnv }, 'epochs') ?? 1);
  const baseline = runCentralized(clients.map(({ client }) => indexFileFor(exampleDataDir(dataDir), client)), exitRound * localEpochs, trainerEnv);
  baseline.catch(() => undefined);
  log(`centralized baseline: ${exitRound * localEpochs} epochs on the union, in its own process`);
  // Round progress on the terminal when the runner prints to it (not when a caller collects the lines).
  const bar = new Progress(process.stdout);
  await waitForJob(kc, JOB_NAME, timeoutMs, log, options.log ? undefined : { bar, rounds: exitRound }).finally(() => bar.finish());
  const { rounds, done } = readRounds(roundsFile);
  if (!done || rounds.length === 0) throw new Error(`the job completed but ${roundsFile} has no final record; see kubectl logs of the aggregation pod`);
  const centralized = await baseline;
  const results: FederatedResults = {
    rounds: rounds.map(({ round, accuracy, bytesSent }) => ({ round, accuracy, bytesSent })),
    finalAccuracy: rounds.at(-1)!.accuracy,
    centralizedAccuracy: centralized.accuracy,
    algorithm: done.algorithm,
    clientsPerRound: rounds.map((r) => r.clients.length),
    trainImages: centralized.trainImages,
    validationImages: TRAINING_IMAGES_IN_IDX - records.length,
    testImages: 10_000,
    clients: clients.length,
    clientNodes: Object.fromEntries(clients.map((c) => [c.client, c.node])),
    split: { scheme: 'per-class Dirichlet (Yurochkin et al. 2019; NIID-Bench)', alpha: SPLIT_ALPHA },
    splitSeed: SPLIT_SEED,
    gap: centralized.accuracy - rounds.at(-1)!.accuracy,
    localEpochs,
    federatedSeconds: done.seconds,
    centralizedSeconds: centralized.seconds,
    finishedAt: new Date().toISOString(),
  };
  writeResults(resultsFile, results);
  log('');
  log(formatResults(results));
  log(`(also in ${resultsFile})`);
  return results;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string', default: '.sedna' },
      'train-images': { type: 'string' },
      // All 50,000 images over 20 rounds take minutes, more on a shared machine.
      'timeout-minutes': { type: 'string', default: '60' },
      'round-deadline-seconds': { type: 'string' },
    },
  });
  const positive = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!(value > 0)) throw new Error(`--${name} must be a positive number, got ${JSON.stringify(text)}`);
    return value;
  };
  const results = await runFederatedLearningScenario({
    dataDir: values['data-dir'],
    trainImages: positive('train-images', values['train-images']),
    timeoutMs: positive('timeout-minutes', values['timeout-minutes'])! * 60_000,
    roundDeadlineSeconds: positive('round-deadline-seconds', values['round-deadline-seconds']),
  });
  process.stdout.write(stillUpMessage(values['data-dir'], 'fl,pods'));
  process.exitCode = meetsTarget(results).met ? 0 : 1;
}

runIfMain(import.meta.filename, 'federated-learning scenario', main);
