// The joint-inference scenario on the embedded system (what `npm start` runs):
//   1. brings `sedna up` up under --data-dir (default .sedna) unless it is already running;
//   2. writes the Dataset's index of the 10,000 Fashion-MNIST test images;
//   3. applies resources.yaml (Dataset, the two Models, the JointInferenceService) through the API;
//   4. waits for the edge worker to stream the test set (edge only, cloud only, joint) and write
//      DATA_DIR/results/joint-inference.json;
//   5. prints the table and whether the target holds (joint accuracy recovers ≥ 70% of the
//      edge→cloud gap while offloading ≤ 30% of the images).
// The system stays up afterwards for kubectl; `npx sedna down` stops it.
//
//   node --import tsx examples/joint-inference/run.ts [--data-dir .sedna] [--keep-streaming]
import { Progress } from '../../src/lib/progress.ts';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { readIdx } from '../../src/lib/datasources/idx.ts';
import { applyObjects, deleteAndWait, ensureSystemUp, kubeConfigFor, renderResources, runIfMain, stillUpMessage } from '../shared/system.ts';
import { fashionMnistDir } from './fashion-mnist.ts';
import { formatResults, meetsTarget, type ScenarioResults } from './results.ts';

const EXAMPLE_DIR = import.meta.dirname;
const SERVICE = 'fashion-mnist-ji';

export interface ScenarioOptions {
  dataDir: string;
  /** After the measured run the edge worker keeps streaming (the failure tests use it). */
  keepStreaming?: boolean;
  timeoutMs?: number;
  log?: (line: string) => void;
  /**
   * The system is already running, started otherwise than by `sedna up` (the container proof
   * test: GM and cloud LC in containers); DATA_DIR/kubeconfig must reach its API server.
   */
  externalSystem?: boolean;
}

/** The Dataset's txt index: one line per test image, `<idx file>#<record> <label>` (lib.md §4). */
export async function writeTestIndex(file: string, datasetDir: string): Promise<number> {
  const labels = await readIdx(join(datasetDir, 't10k-labels-idx1-ubyte.gz'));
  const images = join(datasetDir, 't10k-images-idx3-ubyte.gz');
  const lines = Array.from(labels.data, (label, i) => `${images}#${i} ${label}`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, lines.join('\n') + '\n');
  return lines.length;
}

function recommendedThreshold(): string {
  const manifest = JSON.parse(readFileSync(join(EXAMPLE_DIR, 'models/manifest.json'), 'utf8')) as { hardExampleMining?: { recommendedThreshold?: number | null } };
  const threshold = manifest.hardExampleMining?.recommendedThreshold;
  if (typeof threshold !== 'number') throw new Error('models/manifest.json has no hardExampleMining.recommendedThreshold; rerun train-models.ts');
  return String(threshold);
}

/** The edge worker's inference count as the service's status.metrics carry it (0 before a report). */
async function reportedInferences(kc: k8s.KubeConfig): Promise<number> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const ji = (await custom.getNamespacedCustomObject({ group: 'sedna.io', version: 'v1alpha1', namespace: 'default', plural: 'jointinferenceservices', name: SERVICE })) as { status?: { metrics?: { key: string; value: string }[] } };
  return Number(ji.status?.metrics?.find((m) => m.key === 'inferenceNumber')?.value ?? 0);
}

async function waitForResults(file: string, timeoutMs: number, log: (line: string) => void, progress?: { bar: Progress; kc: k8s.KubeConfig; samples: number }): Promise<ScenarioResults> {
  const deadline = Date.now() + timeoutMs;
  let lastNote = 0;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`no results at ${file} after ${timeoutMs} ms; see the edge worker with: kubectl logs deployment/${SERVICE}-deployment-edge`);
    if (progress) {
      // Reported every LC_PERIOD: the count moves in steps; a failed read just skips a beat.
      const done = await reportedInferences(progress.kc).catch(() => undefined);
      if (done !== undefined) progress.bar.update('edge worker: inferences reported', Math.min(done, progress.samples), progress.samples);
    } else if (Date.now() - lastNote > 10_000) {
      lastNote = Date.now();
      log('  waiting for the edge worker to stream the test set…');
    }
    await sleep(progress ? 1000 : 250);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as ScenarioResults;
}

export async function runJointInferenceScenario(options: ScenarioOptions): Promise<ScenarioResults> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const dataDir = resolve(options.dataDir);
  const timeoutMs = options.timeoutMs ?? 170_000;
  if (!options.externalSystem) await ensureSystemUp(dataDir, ['cloud', 'edge-1'], log);
  const kc = kubeConfigFor(dataDir);
  const exampleData = join(dataDir, 'examples/joint-inference');
  const resultsDir = join(dataDir, 'results');
  const resultsFile = join(resultsDir, 'joint-inference.json');
  const datasetDir = await fashionMnistDir();
  const samples = await writeTestIndex(join(exampleData, 't10k-index.txt'), datasetDir);
  log(`Dataset index: ${samples} Fashion-MNIST test images`);
  await deleteAndWait(kc, { plural: 'jointinferenceservices', name: SERVICE });
  rmSync(resultsFile, { force: true });
  mkdirSync(resultsDir, { recursive: true });
  const yamlText = renderResources(readFileSync(join(EXAMPLE_DIR, 'resources.yaml'), 'utf8'), {
    EXAMPLE_DIR,
    DATA_DIR: exampleData,
    RESULTS_DIR: resultsDir,
    FASHION_MNIST_DIR: datasetDir,
    HEM_THRESHOLD: recommendedThreshold(),
    KEEP_STREAMING: String(options.keepStreaming ?? false),
  });
  await applyObjects(kc, k8s.loadAllYaml(yamlText) as k8s.KubernetesObject[]);
  log(`applied Dataset fashion-mnist-test, Models fashion-mnist-edge-mlp and fashion-mnist-cloud-cnn, JointInferenceService ${SERVICE}`);
  const bar = new Progress(process.stdout);
  const results = await waitForResults(resultsFile, timeoutMs, log, options.log ? undefined : { bar, kc, samples }).finally(() => bar.finish());
  log('');
  log(formatResults(results));
  log(`(also in ${resultsFile})`);
  return results;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'data-dir': { type: 'string', default: '.sedna' }, 'keep-streaming': { type: 'boolean', default: false } } });
  const results = await runJointInferenceScenario({ dataDir: values['data-dir'], keepStreaming: values['keep-streaming'] });
  process.stdout.write(stillUpMessage(values['data-dir'], 'ji,deploy,pods'));
  process.exitCode = meetsTarget(results).met ? 0 : 1;
}

runIfMain(import.meta.filename, 'joint-inference scenario', main);
