// The lifelong-learning scenario as a LifelongLearningJob on the embedded system
// (`npm run example:lifelong-learning`):
//   1. brings `sedna up` up under --data-dir (default .sedna) unless it runs already; `sedna up`
//      runs the knowledge base (`sedna kb`) the GM hands the workers (KB_SERVER, KB_TOKEN);
//   2. writes the camera dataset (dataset.ts): the Dataset's CSV starts with the known cameras'
//      training rows; their validation rows go to data/validation for the train worker;
//   3. applies resources.yaml (Dataset, LifelongLearningJob, annotated for hot update): the LC's
//      trigger fires on the known rows, the GM starts the train pod (LifelongLearning.train builds
//      the knowledge base), the eval pod, and after the deploy the inference worker;
//   4. drops the stream into the worker's inbox: known cameras mixed with the new camera, without
//      the camera column (the model path); the worker saves what it finds unseen;
//   5. plays the operator: labels the saved unseen samples (true label and camera), appends them to
//      the Dataset, and adds the new camera's labelled validation rows; the trigger fires again:
//      update (the new camera becomes a task), evaluation, deploy, which the running inference
//      worker takes in place (hot update);
//   6. drops the test images (no camera column) into the inbox: what the edge serves after the
//      update; then scores the round-1 and the final deployed knowledge bases on test (once) per
//      camera, writes DATA_DIR/results/lifelong-learning.json and prints the table.
// The system stays up afterwards for kubectl; `npx sedna down` stops it.
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { KbClient, LifelongLearning, readSamplesCsv, samplesToCsv, type Samples } from 'sedna/worker';
import type { StageCondition } from '../../src/api/sedna/incremental-learning-job.ts';
import type { LifelongLearningJob } from '../../src/api/sedna/lifelong-learning-job.ts';
import { readUpState } from '../../src/up/state.ts';
import { applyObjects, deleteAndWait, ensureSystemUp, kubeConfigFor, renderResources } from '../shared/system.ts';
import { KNOWN_CAMERAS, NEW_CAMERA } from './cameras.ts';
import { shuffle, writeDataset, type DatasetScale } from './dataset.ts';
import type { EdgeAnswer, EdgeStatus } from './inference-worker.ts';
import { accuracies, labelUnseen, randomInitAccuracies, scoredFigures, splitByCamera, SPLITS, type LifelongResults } from './scenario.ts';
import type { TaskModelSettings } from './task-model.ts';
import { pipelineOptions, TASK_ATTRIBUTE } from './worker-setup.ts';

const EXAMPLE_DIR = import.meta.dirname;
export const JOB = 'fashion-mnist-cameras-ll';
const TRAIN_PROB = 0.9;
const DATASET_ORDER_SEED = 140;

export interface SystemScenarioOptions {
  dataDir: string;
  scale: DatasetScale;
  model: TaskModelSettings;
  seed?: number;
  timeoutMs?: number;
  log: (line: string) => void;
}

/** What only the system run has: the job's stages, the edge's swap, where each figure comes from. */
export interface SystemFigures {
  job: string;
  conditions: string[];
  /** Train/Ready of each round to the edge serving that round's knowledge base (s). */
  triggerToServingSeconds: number[];
  edge: { versions: EdgeStatus['versions']; answered: number; failed: number };
  /** The inference worker's own answers on the test images after the hot update (unseen counts as wrong). */
  servedAccuracyAfter: Record<string, number>;
  kbTasksBeforeRun: number;
  figureSources: Record<string, string>;
}

export type SystemResults = LifelongResults & { system: SystemFigures };

interface Paths {
  data: string;
  files: string;
  dataset: string;
  validation: string;
  inbox: string;
  answers: string;
  unseen: string;
  output: string;
}

function pathsUnder(dataDir: string): Paths {
  const data = join(dataDir, 'examples', 'lifelong-learning');
  return {
    data,
    files: join(data, 'files'),
    dataset: join(data, 'dataset.csv'),
    validation: join(data, 'validation'),
    inbox: join(data, 'inbox'),
    answers: join(data, 'answers'),
    unseen: join(data, 'unseen'),
    output: join(data, 'output'),
  };
}

async function readJob(kc: k8s.KubeConfig): Promise<LifelongLearningJob | undefined> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  try {
    return (await custom.getNamespacedCustomObject({ group: 'sedna.io', version: 'v1alpha1', namespace: 'default', plural: 'lifelonglearningjobs', name: JOB })) as LifelongLearningJob;
  } catch {
    return undefined;
  }
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

const trace = (conditions: readonly StageCondition[]): string[] => conditions.map((c) => `${c.stage}/${c.type}${c.reason ? ` (${c.reason})` : ''}`);

/**
 * Polls until `check` answers; logs each new stage of the job meanwhile. A failed stage or the
 * deadline is an error that shows the job's conditions.
 */
async function waitFor<T>(kc: k8s.KubeConfig, what: string, deadline: number, log: (line: string) => void, check: (job: LifelongLearningJob | undefined) => T | undefined): Promise<T> {
  let last = '';
  for (;;) {
    const job = await readJob(kc);
    const conditions = job?.status?.conditions ?? [];
    const now = trace(conditions).at(-1) ?? 'starting';
    if (now !== last) log(`  round ${job?.status?.round ?? 1}: ${now}`);
    last = now;
    const failed = conditions.at(-1)?.type === 'Failed' ? conditions.at(-1) : undefined;
    if (failed) throw new Error(`${JOB}: ${failed.stage} failed: ${failed.message ?? failed.reason}; see kubectl get ll ${JOB} -o yaml and the pod logs`);
    const value = check(job);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; conditions: ${trace(conditions).join(' → ')}`);
    await sleep(500);
  }
}

const completedDeploys = (job: LifelongLearningJob | undefined): StageCondition[] => (job?.status?.conditions ?? []).filter((c) => c.stage === 'Deploy' && c.type === 'Completed');

/** The samples without their camera column (what the edge sees on the model path) and without labels. */
function asCameraFile(samples: Samples): string {
  return samplesToCsv({ columns: samples.columns, x: samples.x, meta: samples.meta.map(({ sample_id }) => ({ sample_id: sample_id! })), dataType: 'test' });
}

/** Puts a camera file in the worker's inbox whole (written aside, then renamed: the worker never reads half of it). */
function dropInInbox(inbox: string, name: string, samples: Samples): void {
  const aside = join(inbox, `.${name}.part`);
  writeFileSync(aside, asCameraFile(samples));
  renameSync(aside, join(inbox, name));
}

/** Appends labelled samples to the Dataset's CSV, in its header's column order (the LC counts the new lines). */
function appendToDataset(dataset: string, samples: Samples): void {
  const [header, ...lines] = samplesToCsv(samples).trimEnd().split('\n');
  const datasetHeader = readFileSync(dataset, 'utf8').slice(0, 200_000).split('\n', 1)[0];
  if (header !== datasetHeader) throw new Error('the labelled samples\' columns differ from the Dataset\'s header');
  // Written aside and renamed, so the LC never counts half a line.
  const aside = `${dataset}.part`;
  copyFileSync(dataset, aside);
  appendFileSync(aside, `${lines.join('\n')}\n`);
  renameSync(aside, dataset);
}

async function waitForAnswers(file: string, deadline: number): Promise<EdgeAnswer[]> {
  for (;;) {
    const answers = readJson<EdgeAnswer[]>(file);
    if (answers) return answers;
    if (Date.now() > deadline) throw new Error(`the inference worker did not answer into ${file}; see kubectl logs deployment/${JOB}-deployment-inference`);
    await sleep(500);
  }
}

function kbAccess(dataDir: string): { server: string; token: string } {
  const kb = readUpState(dataDir)?.others?.find((c) => c.name === 'kb');
  if (!kb?.url) throw new Error(`the system under ${dataDir} runs no knowledge base (up.json has no kb)`);
  return { server: kb.url, token: readFileSync(join(dataDir, 'kb-token'), 'utf8').trim() };
}

/** Test accuracy per camera of a deployed knowledge base (every sample allocated by its camera; an unknown camera to group 0). */
async function scoreIndex(indexFile: string, kb: KbClient, model: TaskModelSettings, byCamera: Map<string, Samples>, workDir: string): Promise<Record<string, number>> {
  const ll = new LifelongLearning({ ...pipelineOptions(model), kb, lc: null, env: { MODEL_URLS: indexFile, edge_output_url: workDir, MODEL_POLL_PERIOD_SECONDS: '3600' } });
  try {
    return await accuracies(ll, byCamera);
  } finally {
    ll.dispose();
  }
}

/** Per camera, the share of its test images the worker answered right (an unseen answer is wrong). */
function servedAccuracy(answers: readonly EdgeAnswer[], test: Samples): Record<string, number> {
  const truth = new Map(test.meta.map((m, i) => [m.sample_id!, { camera: m[TASK_ATTRIBUTE]!, label: test.y![i]! }]));
  const out: Record<string, number> = {};
  for (const camera of [...KNOWN_CAMERAS, NEW_CAMERA]) {
    const mine = answers.filter((a) => truth.get(a.sample_id)?.camera === camera);
    out[camera] = mine.filter((a) => a.prediction === truth.get(a.sample_id)!.label).length / mine.length;
  }
  return out;
}

export async function runSystemScenario(options: SystemScenarioOptions): Promise<SystemResults> {
  const { log, scale, model } = options;
  const seed = options.seed ?? 1;
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  const dataDir = resolve(options.dataDir);
  await ensureSystemUp(dataDir, ['edge-1'], log);
  const kc = kubeConfigFor(dataDir);
  await deleteAndWait(kc, { plural: 'lifelonglearningjobs', name: JOB });
  const p = pathsUnder(dataDir);
  rmSync(p.data, { recursive: true, force: true });
  for (const dir of [p.files, p.validation, p.inbox, p.answers, p.unseen, p.output]) mkdirSync(dir, { recursive: true });
  log('writing the camera dataset (CSV with a camera column)…');
  const files = await writeDataset(p.files, scale, seed);
  // Interleaved, as a camera network records them: the LC splits a Dataset in file order (the
  // first trainProb of the rows train, the rest evaluate), so camera blocks would leave the last
  // camera's rows alone in the eval split.
  writeFileSync(p.dataset, samplesToCsv(shuffle(readSamplesCsv(files.train, { dataType: 'train' }), DATASET_ORDER_SEED + seed)));
  copyFileSync(files.validation, join(p.validation, 'known-cameras.csv'));
  const access = kbAccess(dataDir);
  const kb = new KbClient(access);
  const kbTasksBeforeRun = (await kb.query()).tasks.length;
  if (kbTasksBeforeRun > 0) log(`note: the system's knowledge base already holds ${kbTasksBeforeRun} tasks from earlier runs; this run's tasks are recorded beside them`);

  const yamlText = renderResources(readFileSync(join(EXAMPLE_DIR, 'resources.yaml'), 'utf8'), {
    EXAMPLE_DIR,
    DATA_DIR: p.data,
    TRAIN_PROB: String(TRAIN_PROB),
    TRIGGER_SAMPLES: String(Math.floor(scale.streamNew / 2) - 1),
    MAX_EPOCHS: String(model.maxEpochs),
    SEED: String(model.seed + 1000 * (seed - 1)),
  });
  await applyObjects(kc, k8s.loadAllYaml(yamlText) as k8s.KubernetesObject[]);
  log(`applied Dataset fashion-mnist-cameras (${KNOWN_CAMERAS.length * scale.train} rows of cameras ${KNOWN_CAMERAS.join(', ')}) and LifelongLearningJob ${JOB}`);

  const edgeStatusFile = join(p.answers, 'lifelong-learning-edge.json');
  const edgeServes = (versions: number): EdgeStatus | undefined => {
    const status = readJson<EdgeStatus>(edgeStatusFile);
    return status && status.versions.length >= versions ? status : undefined;
  };
  await waitFor(kc, 'the first deploy and the inference worker serving it', deadline, log, (job) => (completedDeploys(job).length >= 1 ? edgeServes(1) : undefined));

  const read = (path: string, dataType: 'train' | 'test' = 'train'): Samples => readSamplesCsv(path, { dataType });
  const [stream, truth, test] = [read(files.stream, 'test'), read(files.streamTruth), read(files.test)];
  log(`the stream: ${stream.x.length} images without a camera column, ${truth.meta.filter((m) => m.camera === NEW_CAMERA).length} from camera ${NEW_CAMERA}, never seen…`);
  dropInInbox(p.inbox, '1-stream.csv', stream);
  const streamAnswers = await waitForAnswers(join(p.answers, '1-stream.json'), deadline);

  const labelled = labelUnseen(p.unseen, truth);
  log(`the operator labels the ${labelled.x.length} unseen samples into the Dataset, and the new camera's ${scale.validation} validation rows`);
  copyFileSync(files.newValidation, join(p.validation, 'new-camera.csv'));
  appendToDataset(p.dataset, labelled);
  await waitFor(kc, 'the update deployed and served by hot update', deadline, log, (job) => (completedDeploys(job).length >= 2 ? edgeServes(2) : undefined));

  log('the edge answers the test images (no camera column)…');
  dropInInbox(p.inbox, '2-test.csv', test);
  const testAnswers = await waitForAnswers(join(p.answers, '2-test.json'), deadline);
  const job = (await readJob(kc))!;
  const edge = readJson<EdgeStatus>(edgeStatusFile)!;

  log('scoring the round-1 and the final deployed knowledge bases on test…');
  const byCamera = splitByCamera(test);
  const firstDeployed = join(p.output, 'eval', '1', 'index.json');
  const finalDeployed = join(p.output, 'deploy', 'index.json');
  const before = await scoreIndex(firstDeployed, kb, model, byCamera, join(p.data, 'score', 'before'));
  const after = await scoreIndex(finalDeployed, kb, model, byCamera, join(p.data, 'score', 'after'));
  const byAttribute = new LifelongLearning({ ...pipelineOptions(model), kb, lc: null, unseenSampleRecognition: { method: 'SampleRecognitionByTaskAttr' }, env: { MODEL_URLS: firstDeployed, edge_output_url: join(p.data, 'score', 'attribute'), UT_SAVED_URL: join(p.data, 'score', 'attribute-unseen'), MODEL_POLL_PERIOD_SECONDS: '3600' } });
  const withCamera: Samples = { ...stream, meta: truth.meta };
  const attrFlags = (await byAttribute.inference(withCamera)).isUnseen;
  const detector = byAttribute.deployedIndex!.unseen_detector!;
  byAttribute.dispose();
  const randomInit = await randomInitAccuracies(pipelineOptions(model).estimator, byCamera);

  const isNew = truth.meta.map((m) => m.camera === NEW_CAMERA);
  const flaggedById = new Map(streamAnswers.map((a) => [a.sample_id, a.unseen]));
  const modelFlags = truth.meta.map((m) => flaggedById.get(m.sample_id!) ?? false);
  const newIds = new Set(byCamera.get(NEW_CAMERA)!.meta.map((m) => m.sample_id!));
  const newAnswers = testAnswers.filter((a) => newIds.has(a.sample_id));
  const finalIndex = readJson<{ seen_task: { task_groups: { entry: string; deploy?: boolean; samples: { sample_num: number }; model: { scores?: Record<string, number> } }[] } }>(finalDeployed)!;
  const query = await kb.query();
  const conditions = job.status?.conditions ?? [];
  const trainReady = conditions.filter((c) => c.stage === 'Train' && c.type === 'Ready' && c.reason !== 'Retry').map((c) => Date.parse(c.lastTransitionTime ?? ''));
  return {
    scale,
    ...scoredFigures({ byCamera, before, after, randomInit, attrFlags, modelFlags, isNew, detector }),
    newCamera: {
      camera: NEW_CAMERA,
      labelledSamples: labelled.x.length,
      servedByOwnTaskAfterUpdate: newAnswers.filter((a) => a.task === NEW_CAMERA).length / newAnswers.length,
      flaggedUnseenAfterUpdate: newAnswers.filter((a) => a.unseen).length / newAnswers.length,
    },
    evaluation: {
      overall: {},
      tasks: finalIndex.seen_task.task_groups.map((g) => ({ entry: g.entry, scores: g.model.scores ?? {} })),
      dropped: finalIndex.seen_task.task_groups.filter((g) => g.deploy === false).map((g) => g.entry),
    },
    knowledgeBase: {
      versions: edge.versions.map((v) => v.version),
      tasks: query.tasks.map((t) => ({ name: t.name, attributes: t.attributes, sampleNum: t.sampleNum })),
      models: query.groups.map((g) => ({ group: g.name, deploy: g.deploy, models: g.models.length, current: g.models.find((m) => m.isCurrent)?.modelUrl ?? null })),
    },
    thresholdSelectedOn: 'validation',
    seed,
    splits: `${SPLITS}; the Dataset's rows split by the LC (trainProb ${TRAIN_PROB}) into train and the eval worker's held-out rows`,
    system: {
      job: JOB,
      conditions: trace(conditions),
      triggerToServingSeconds: edge.versions.map((v, i) => Math.round((Date.parse(v.at) - (trainReady[i] ?? Number.NaN)) / 100) / 10),
      edge: { versions: edge.versions, answered: edge.answered, failed: edge.failed },
      servedAccuracyAfter: servedAccuracy(testAnswers, test),
      kbTasksBeforeRun,
      figureSources: {
        'unseenDetection.model': 'the inference worker (a pod) on the stream, model path (no camera column)',
        'unseenDetection.attribute': 'the round-1 deployed knowledge base in this process, on the same stream with its camera column',
        'tasks.accuracyBefore/After': 'the round-1 (output/eval/1/index.json) and the final (output/deploy/index.json) deployed knowledge bases, their task models from the KB, scored in this process on test, every sample allocated by camera',
        newCamera: 'the inference worker\'s answers on the test images after the hot update',
        knowledgeBase: 'the knowledge base server (POST /knowledgebase/query) and the edge\'s versions',
      },
    },
  };
}
