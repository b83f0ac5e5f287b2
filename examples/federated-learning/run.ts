// The federated-learning scenario on the embedded system (`npm run example:federated-learning`):
//   1. brings `sedna up --nodes cloud,edge-1,edge-2,edge-3` up under --data-dir (default .sedna)
//      unless it is already running;
//   2. splits a subset of the Fashion-MNIST training images non-IID (Dirichlet α=0.5) across the
//      three edge nodes and writes each node's Dataset index (split.ts);
//   3. applies resources.yaml (Model, three Datasets, the FederatedLearningJob) through the API,
//      and trains the centralized baseline in its own process meanwhile;
//   4. waits for the job to complete; the aggregator wrote each round's test accuracy and bytes;
//   5. prints the rounds and the comparison, writes DATA_DIR/results/federated-learning.json, and
//      exits 1 if federated accuracy is more than 3 points below centralized.
// The system stays up afterwards for kubectl; `npx sedna down` stops it.
//
//   node --import tsx examples/federated-learning/run.ts [--data-dir .sedna] [--train-images 12000]
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
import { EDGE_NODES, formatHistogram, indexFileFor, writeSplit } from './split.ts';

const EXAMPLE_DIR = import.meta.dirname;
const PROJECT_ROOT = resolve(EXAMPLE_DIR, '../..');
export const JOB_NAME = 'fashion-mnist-fl';
/** The aggregator runs on `cloud`, one trainer on each edge. */
export const NEEDED_NODES = ['cloud', ...EDGE_NODES];
const NAMESPACE = 'default';
const FL = { group: 'sedna.io', version: 'v1alpha1', namespace: NAMESPACE, plural: 'federatedlearningjobs' };
export const DEFAULT_TRAIN_IMAGES = 12_000;
const SPLIT_SEED = 6;

export interface ScenarioOptions {
  dataDir: string;
  /** Training images shared out across the edges (default 12,000 or env FL_TRAIN_IMAGES). */
  trainImages?: number;
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface JobOverrides {
  jobName?: string;
  exitRound?: number;
}

type Doc = k8s.KubernetesObject & { spec?: Record<string, unknown> };
interface EnvVar {
  name: string;
  value?: string;
}
interface Container {
  env?: EnvVar[];
}
interface JobSpec {
  aggregationWorker: { template: { spec: { containers: Container[] } } };
  trainingWorkers: { template: { spec: { containers: Container[] } } }[];
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
  if (overrides.exitRound !== undefined) setEnv((job.spec as unknown as JobSpec).aggregationWorker.template.spec.containers[0]!, 'exit_round', String(overrides.exitRound));
  return docs.map((d) => ({ ...d, metadata: { namespace: NAMESPACE, ...d.metadata } }));
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
  log(`applied Model fashion-mnist-fl-mlp, Datasets fashion-mnist-edge-{1,2,3}, FederatedLearningJob ${overrides.jobName ?? JOB_NAME}`);
  return docs;
}

export async function jobPhase(kc: k8s.KubeConfig, name: string): Promise<string | undefined> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const job = (await custom.getNamespacedCustomObject({ ...FL, name })) as { status?: { phase?: string } };
  return job.status?.phase;
}

/** Waits for the job's phase to be Succeeded (throws on Failed or at the deadline). */
export async function waitForJob(kc: k8s.KubeConfig, name: string, timeoutMs: number, log: (line: string) => void = () => {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastNote = Date.now();
  for (;;) {
    const phase = await jobPhase(kc, name);
    if (phase === 'Succeeded') return;
    if (phase === 'Failed') throw new Error(`FederatedLearningJob ${name} failed; see kubectl describe fl ${name} and the pods' logs`);
    if (Date.now() > deadline) throw new Error(`FederatedLearningJob ${name} not complete after ${timeoutMs} ms (phase ${phase ?? 'none'})`);
    if (Date.now() - lastNote > 15_000) {
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
  const shards = await writeSplit(exampleDataDir(dataDir), await fashionMnistDir(), { nodes: EDGE_NODES, alpha: 0.5, total: trainImages, seed: SPLIT_SEED });
  log(`Dirichlet(0.5) split of ${trainImages} Fashion-MNIST training images (images per class and node):`);
  log(formatHistogram(shards));
  const resultsDir = resultsDirOf(dataDir);
  const roundsFile = join(resultsDir, ROUNDS_FILE);
  const resultsFile = join(resultsDir, 'federated-learning.json');
  mkdirSync(resultsDir, { recursive: true });
  await deleteJob(kc, JOB_NAME);
  rmSync(roundsFile, { force: true });
  rmSync(resultsFile, { force: true });
  const docs = await startFederatedJob(dataDir, {}, log);
  const spec = jobSpec(docs);
  const exitRound = Number(envValue(spec.aggregationWorker.template.spec.containers[0], 'exit_round') ?? 3);
  const trainerEnv = spec.trainingWorkers[0]!.template.spec.containers[0]!.env ?? [];
  const localEpochs = Number(envValue({ env: trainerEnv }, 'epochs') ?? 1);
  const baseline = runCentralized(EDGE_NODES.map((node) => indexFileFor(exampleDataDir(dataDir), node)), exitRound * localEpochs, trainerEnv);
  baseline.catch(() => undefined);
  log(`centralized baseline: ${exitRound * localEpochs} epochs on the union, in its own process`);
  await waitForJob(kc, JOB_NAME, timeoutMs, log);
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
    testImages: 10_000,
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
  const { values } = parseArgs({ options: { 'data-dir': { type: 'string', default: '.sedna' }, 'train-images': { type: 'string' } } });
  const trainImages = values['train-images'] === undefined ? undefined : Number(values['train-images']);
  const results = await runFederatedLearningScenario({ dataDir: values['data-dir'], trainImages });
  process.stdout.write(stillUpMessage(values['data-dir'], 'fl,pods'));
  process.exitCode = meetsTarget(results).met ? 0 : 1;
}

runIfMain(import.meta.filename, 'federated-learning scenario', main);
