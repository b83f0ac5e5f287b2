// The lifelong-learning scenario, end to end through the SDK and a real knowledge-base server
// (`sedna kb` on 127.0.0.1 with its SQLite file and token):
//  1. the cloud trains a knowledge base on the known cameras (one task and model per camera, the
//     unseen-sample detector calibrated on their validation rows);
//  2. the edge deploys it from the KB and meets a stream that brings a camera never seen; it
//     detects those samples as unseen, by attribute (a camera the KB has no task for) and by the
//     model path (no attribute: the k-NN distance), and saves them to UT_SAVED_URL;
//  3. the scenario labels the saved samples (true labels), the trigger fires, the cloud updates
//     the KB, evaluates it on test and the filter keeps the good tasks;
//  4. the edge takes the new KB by hot update and serves the new camera with its own task.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { argMax, KbClient, LifelongLearning, readSamplesCsv, type Samples, type TaskEstimatorFactory } from 'sedna/worker';
import { KbDatabase } from '../../src/kb/db.ts';
import { KbFiles } from '../../src/kb/files.ts';
import { KbServer } from '../../src/kb/server.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { cameras, KNOWN_CAMERAS, NEW_CAMERA } from './cameras.ts';
import { writeDataset, type DatasetScale } from './dataset.ts';
import type { TaskModelSettings } from './task-model.ts';
import { pipelineOptions, readCsvFolder } from './worker-setup.ts';
import { backwardTransfer, forwardTransfer, type CameraStep } from './transfer.ts';

export interface ScenarioOptions {
  dir: string;
  scale: DatasetScale;
  model: TaskModelSettings;
  /** The split and model seed (1: the first runs' split). */
  seed?: number;
  /** Labelled unseen samples that start an update (the trigger). */
  triggerSamples: number;
  log: (line: string) => void;
}

export interface DetectionFigures {
  precision: number;
  recall: number;
  flagged: number;
  unseenInStream: number;
  streamSamples: number;
}

export interface LifelongResults {
  scale: DatasetScale;
  cameras: Record<string, { condition: string; known: 'initially' | 'from the stream' }>;
  unseenDetection: { attribute: DetectionFigures; model: DetectionFigures & { method: string; thresholdQuantile: number; calibratedOn: string } };
  tasks: Record<string, { accuracyBefore: number; accuracyAfter: number; testSamples: number }>;
  bwt: number;
  fwt: number;
  transferFormula: { bwt: string; fwt: string; source: string };
  randomInitAccuracy: Record<string, number>;
  newCamera: { camera: string; labelledSamples: number; servedByOwnTaskAfterUpdate: number; flaggedUnseenAfterUpdate: number };
  evaluation: { overall: Record<string, number>; tasks: { entry: string; scores: Record<string, number> }[]; dropped: string[] };
  knowledgeBase: { versions: string[]; tasks: { name: string; attributes: unknown; sampleNum: number }[]; models: { group: string; deploy: boolean; models: number; current: string | null }[] };
  thresholdSelectedOn: 'validation';
  splits: string;
  seed: number;
}

export const DETECTOR_METHOD = 'k-NN distance (k = 5) to each known camera’s training images in image-statistics space, threshold at the 0.95 quantile of the known cameras’ validation scores';
export const TRANSFER_FORMULA = {
  bwt: 'BWT = 1/(T−1) Σ_{i<T} (R[T][i] − R[i][i]) over the cameras learned before the last step',
  fwt: 'FWT = 1/(T−1) Σ_{i>1} (R[i−1][i] − b_i) over the cameras learned after the first step; b_i = accuracy at random initialisation',
  source: 'Lopez-Paz & Ranzato, Gradient Episodic Memory for Continual Learning, NeurIPS 2017, §4',
};
export const SPLITS = 'per camera: train (known cameras) from the shared 50,000-image train cut, validation from the shared 10,000-image validation cut, test from the 10,000 test images, stream from the train cut; all disjoint';

const TOKEN_BYTES = 24;
const STREAM_BATCH = 100;

export async function runScenario(options: ScenarioOptions): Promise<LifelongResults> {
  const { dir, log } = options;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  log('writing the camera dataset (CSV with a camera column)…');
  const seed = options.seed ?? 1;
  const files = await writeDataset(join(dir, 'data'), options.scale, seed);
  const read = (path: string, dataType: 'train' | 'test' = 'train'): Samples => readSamplesCsv(path, { dataType });
  const [train, validation, newValidation, test, stream, truth] = [read(files.train), read(files.validation), read(files.newValidation), read(files.test), read(files.stream, 'test'), read(files.streamTruth)];

  const kb = await startKb(join(dir, 'kb'));
  try {
    const client = new KbClient({ server: kb.url, token: kb.token });
    const pipeline = pipelineOptions({ ...options.model, seed: options.model.seed + 1000 * (seed - 1) });
    const models = pipeline.estimator;
    const common = { ...pipeline, kb: client, lc: null };
    const cloudEnv = { OUTPUT_URL: join(dir, 'cloud') };
    const indexUrl = `${client.base}/file/download?files=index.json&name=index.json`;
    const edgeEnv = (unseen: string) => ({ MODEL_URLS: indexUrl, edge_output_url: join(dir, 'edge'), UT_SAVED_URL: unseen, MODEL_POLL_PERIOD_SECONDS: '1' });
    const versions: string[] = [];

    log(`initial training: cameras ${KNOWN_CAMERAS.join(', ')} (${train.x.length} rows, ${validation.x.length} validation rows)…`);
    const cloud = new LifelongLearning({ ...common, env: cloudEnv });
    versions.push((await cloud.train(train, validation)).create_time);

    const unseenByModel = join(dir, 'unseen', 'by-model');
    const edge = new LifelongLearning({ ...common, env: edgeEnv(unseenByModel), unseenSampleRecognition: { method: 'SampleRecognitionByDistance' } });
    const edgeByAttr = new LifelongLearning({ ...common, env: edgeEnv(join(dir, 'unseen', 'by-attribute')), unseenSampleRecognition: { method: 'SampleRecognitionByTaskAttr' } });
    await edge.deployKnowledgeBase();
    await edgeByAttr.deployKnowledgeBase();
    const byCamera = splitByCamera(test);
    const before = await accuracies(edge, byCamera);

    log(`the stream: ${stream.x.length} samples, ${countCamera(truth, NEW_CAMERA)} from camera ${NEW_CAMERA}, never seen…`);
    const isNew = truth.meta.map((m) => m.camera === NEW_CAMERA);
    const attrFlags = await inferInBatches(edgeByAttr, stream);
    const withoutAttr = { ...stream, meta: stream.meta.map(({ sample_id }) => ({ sample_id: sample_id! })) };
    const modelFlags = await inferInBatches(edge, withoutAttr);
    const detector = edge.deployedIndex!.unseen_detector!;

    const labelled = labelUnseen(unseenByModel, truth);
    log(`labelled ${labelled.x.length} unseen samples; trigger at ${options.triggerSamples}`);
    if (labelled.x.length < options.triggerSamples) throw new Error(`only ${labelled.x.length} unseen samples were saved; the trigger needs ${options.triggerSamples}`);
    const update = new LifelongLearning({ ...common, env: { ...cloudEnv, HAS_COMPLETED_INITIAL_TRAINING: 'true' } });
    log('update: the cloud trains on the labelled samples…');
    versions.push((await update.train(labelled, joinSamples(validation, newValidation))).create_time);
    // The eval stage scores on held-out labelled rows (validation), as the LC's eval split does on
    // the system: the task filter is a choice, so it never sees test.
    log('evaluation on validation, task filter…');
    const evaluation = await update.evaluate(joinSamples(validation, newValidation));

    log('hot update: the edge takes the new knowledge base…');
    await edge.deployKnowledgeBase();
    const after = await accuracies(edge, byCamera);
    const newTest = byCamera.get(NEW_CAMERA)!;
    const served = await edge.inference({ ...newTest, meta: newTest.meta.map(({ sample_id }) => ({ sample_id: sample_id! })) });
    const randomInit = await randomInitAccuracies(models, byCamera);
    const query = await client.query();
    edge.dispose();
    edgeByAttr.dispose();
    return {
      scale: options.scale,
      ...scoredFigures({ byCamera, before, after, randomInit, attrFlags, modelFlags, isNew, detector }),
      newCamera: {
        camera: NEW_CAMERA,
        labelledSamples: labelled.x.length,
        servedByOwnTaskAfterUpdate: served.tasks.filter((t) => t === NEW_CAMERA).length / served.tasks.length,
        flaggedUnseenAfterUpdate: served.isUnseen.filter(Boolean).length / served.isUnseen.length,
      },
      evaluation: { overall: evaluation.overall, tasks: evaluation.tasks, dropped: evaluation.dropped },
      knowledgeBase: {
        versions,
        tasks: query.tasks.map((t) => ({ name: t.name, attributes: t.attributes, sampleNum: t.sampleNum })),
        models: query.groups.map((g) => ({ group: g.name, deploy: g.deploy, models: g.models.length, current: g.models.find((m) => m.isCurrent)?.modelUrl ?? null })),
      },
      thresholdSelectedOn: 'validation',
      seed,
      splits: SPLITS,
    };
  } finally {
    await kb.stop();
  }
}

async function startKb(dir: string): Promise<{ url: string; token: string; stop(): Promise<void> }> {
  const { randomBytes } = await import('node:crypto');
  const token = randomBytes(TOKEN_BYTES).toString('hex');
  await mkdir(dir, { recursive: true });
  const db = new KbDatabase(join(dir, 'kb.sqlite3'));
  const server = new KbServer({ db, files: new KbFiles(join(dir, 'files')), token, logger: silentLogger(), port: 0 });
  const port = await server.start();
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    async stop() {
      await server.stop();
      db.close();
    },
  };
}

export function splitByCamera(samples: Samples): Map<string, Samples> {
  const out = new Map<string, Samples>();
  for (const camera of [...KNOWN_CAMERAS, NEW_CAMERA]) {
    const rows = samples.meta.flatMap((m, i) => (m.camera === camera ? [i] : []));
    out.set(camera, { ...samples, x: rows.map((i) => samples.x[i]!), y: rows.map((i) => samples.y![i]!), meta: rows.map((i) => samples.meta[i]!) });
  }
  return out;
}

export async function accuracies(edge: LifelongLearning, byCamera: Map<string, Samples>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [camera, rows] of byCamera) out[camera] = accuracy((await edge.predict(rows)).predictions, rows.y!);
  return out;
}

async function inferInBatches(edge: LifelongLearning, stream: Samples): Promise<boolean[]> {
  const flags: boolean[] = [];
  for (let start = 0; start < stream.x.length; start += STREAM_BATCH) {
    const rows = Array.from({ length: Math.min(STREAM_BATCH, stream.x.length - start) }, (_, i) => start + i);
    const batch = { ...stream, x: rows.map((i) => stream.x[i]!), meta: rows.map((i) => stream.meta[i]!) };
    flags.push(...(await edge.inference(batch)).isUnseen);
  }
  return flags;
}

/** The labeller: every saved unseen sample gets its true label and camera (by sample_id). */
export function labelUnseen(folder: string, truth: Samples): Samples {
  const byId = new Map(truth.meta.map((m, i) => [m.sample_id!, { label: truth.y![i]!, camera: m.camera! }]));
  const saved = readCsvFolder(folder, 'train') ?? { columns: [], x: [], meta: [], dataType: 'train' };
  const meta = saved.meta.map((m) => ({ sample_id: m.sample_id!, camera: byId.get(m.sample_id!)!.camera }));
  return { columns: saved.columns, x: saved.x, y: meta.map((m) => byId.get(m.sample_id)!.label), meta, dataType: 'train' };
}

export function joinSamples(a: Samples, b: Samples): Samples {
  return { columns: a.columns, x: [...a.x, ...b.x], y: [...a.y!, ...b.y!], meta: [...a.meta, ...b.meta], dataType: a.dataType };
}

export function detection(flags: readonly boolean[], truth: readonly boolean[]): DetectionFigures {
  const tp = flags.filter((f, i) => f && truth[i]).length;
  const flagged = flags.filter(Boolean).length;
  const positives = truth.filter(Boolean).length;
  return { precision: flagged === 0 ? 0 : tp / flagged, recall: positives === 0 ? 0 : tp / positives, flagged, unseenInStream: positives, streamSamples: flags.length };
}

function countCamera(samples: Samples, camera: string): number {
  return samples.meta.filter((m) => m.camera === camera).length;
}

export function accuracy(predictions: readonly number[], labels: readonly number[]): number {
  return predictions.reduce((n, p, i) => n + (p === labels[i] ? 1 : 0), 0) / labels.length;
}


/** Each camera's test accuracy with a task model at random initialisation (b_i of the transfer formulas). */
export async function randomInitAccuracies(models: TaskEstimatorFactory, byCamera: Map<string, Samples>): Promise<Record<string, number>> {
  const random = await models.create();
  try {
    return Object.fromEntries(await Promise.all([...byCamera].map(async ([camera, rows]) => [camera, accuracy((await random.predict(rows)).map((scores) => argMax(scores)), rows.y!)] as const)));
  } finally {
    random.dispose?.();
  }
}

/** R[1] (before the update) and R[2] (after) per camera: the new camera is learned at step 2. */
export function cameraSteps(before: Record<string, number>, after: Record<string, number>, randomInit: Record<string, number>): CameraStep[] {
  return Object.keys(before).map((camera) => ({ camera, learnedAt: camera === NEW_CAMERA ? 2 : 1, accuracy: [before[camera]!, after[camera]!], random: randomInit[camera]! }));
}

/** What both runs measure, scored alike: per-camera accuracies, detection on both paths, transfer. */
export interface ScoredRun {
  byCamera: Map<string, Samples>;
  before: Record<string, number>;
  after: Record<string, number>;
  randomInit: Record<string, number>;
  attrFlags: readonly boolean[];
  modelFlags: readonly boolean[];
  isNew: readonly boolean[];
  detector: { quantile: number; calibrationSamples: number };
}

export function scoredFigures(run: ScoredRun): Pick<LifelongResults, 'cameras' | 'unseenDetection' | 'tasks' | 'bwt' | 'fwt' | 'transferFormula' | 'randomInitAccuracy'> {
  const { byCamera, before, after, randomInit, detector } = run;
  const steps = cameraSteps(before, after, randomInit);
  return {
    cameras: Object.fromEntries([...KNOWN_CAMERAS, NEW_CAMERA].map((c) => [c, { condition: cameras[c]!.condition, known: c === NEW_CAMERA ? 'from the stream' : 'initially' }])),
    unseenDetection: {
      attribute: detection(run.attrFlags, run.isNew),
      model: { ...detection(run.modelFlags, run.isNew), method: DETECTOR_METHOD, thresholdQuantile: detector.quantile, calibratedOn: `validation (${detector.calibrationSamples} samples of the known cameras)` },
    },
    tasks: Object.fromEntries([...byCamera].map(([camera, rows]) => [camera, { accuracyBefore: before[camera]!, accuracyAfter: after[camera]!, testSamples: rows.x.length }])),
    bwt: backwardTransfer(steps),
    fwt: forwardTransfer(steps),
    transferFormula: TRANSFER_FORMULA,
    randomInitAccuracy: randomInit,
  };
}
