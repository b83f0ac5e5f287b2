// Unseen-sample recognition (lib.md §10.6 step 3): which samples belong to no task the knowledge
// base knows. Sedna's defaults are placeholders (a coin flip, or "the second half is unseen");
// these decide from the sample:
// - by attribute: the row's task key is not one the knowledge base has a task for;
// - by the model's data: the sample is farther from every known task's training data than the
//   known tasks' own validation samples are, at a quantile chosen beforehand. The distance is the
//   mean distance to the k nearest reference samples of a task, in that task's standardised
//   feature space and in units of the task's typical (median validation) distance, so a task
//   with few samples is not judged by a dense task's yardstick (Sun et al. 2022 use k-NN
//   distance for out-of-distribution detection); the
//   threshold is calibrated on the known tasks' validation data only, so setting it needs no
//   unseen data. A `features` map (e.g. image statistics) may stand in for the raw features.
// A combined recogniser uses the attribute where a row has one and the distance otherwise.
import { ConfigError } from '../../lib/context.ts';
import { attributeValues, hasAttributes, taskKey, type Samples } from './samples.ts';
import type { TaskExtractor } from './tasks.ts';

/** true = unseen, one per sample. */
export type UnseenSampleRecognition = (samples: Samples) => boolean[];

/** A row whose key has no task is unseen; a row without the attributes is a MissingAttributeError. */
export function sampleRecognitionByTaskAttr(extractor: TaskExtractor): UnseenSampleRecognition {
  if (extractor.kind !== 'attribute') throw new ConfigError(`SampleRecognitionByTaskAttr needs an attribute extractor; the knowledge base has a ${extractor.kind} one`);
  return (samples) => samples.x.map((_, row) => !(taskKey(attributeValues(samples, row, extractor.attribute)) in extractor.tasks));
}

/** One known task as the detector keeps it: standardisation and reference rows (standardised). */
export interface DetectorTask {
  entry: string;
  mean: number[];
  scale: number[];
  references: number[][];
  /** The median k-NN distance of the task's own validation samples: scores are in these units, so tasks with sparse or dense data compare fairly. */
  typical: number;
}

/** What the distance detector keeps in the knowledge base index. */
export interface DistanceDetectorState {
  kind: 'knn-distance';
  k: number;
  tasks: DetectorTask[];
  /** Scores above it are unseen. */
  threshold: number;
  /** The share of the known tasks' validation samples scored at or below the threshold. */
  quantile: number;
  calibrationSamples: number;
}

export interface DistanceDetectorOptions {
  /** Neighbours averaged (default 5). */
  k?: number;
  /** Reference rows kept per task (default 1000, taken evenly through the training rows). */
  referencesPerTask?: number;
  /** Validation quantile the threshold sits at (default 0.95: about 5% of seen samples flagged). */
  quantile?: number;
}

/** Added to each feature's standard deviation, so a constant feature does not divide by 0. */
const SCALE_FLOOR = 0.01;

export interface DetectorTaskData {
  entry: string;
  /** Training features (after any `features` map). */
  train: readonly ArrayLike<number>[];
  validation: readonly ArrayLike<number>[];
}

/** Fits the detector on the known tasks and sets the threshold at `quantile` of their validation scores. */
export function fitDistanceDetector(tasks: readonly DetectorTaskData[], { k = 5, referencesPerTask = 1000, quantile = 0.95 }: DistanceDetectorOptions = {}): DistanceDetectorState {
  if (tasks.length === 0) throw new ConfigError('the distance detector needs at least one known task');
  if (!(quantile > 0 && quantile < 1)) throw new ConfigError(`quantile must be in (0, 1), got ${quantile}`);
  const fitted = tasks.map((task) => detectorTask(task, referencesPerTask, k));
  const state: DistanceDetectorState = { kind: 'knn-distance', k, tasks: fitted, threshold: Infinity, quantile, calibrationSamples: 0 };
  const scores = tasks.flatMap(({ validation }) => validation.map((row) => distanceScore(state, row)));
  return { ...state, threshold: quantileOf(scores, quantile), calibrationSamples: scores.length };
}

/** A new task joins a fitted detector (after an update); the threshold stays, in the same units. */
export function addDetectorTask(state: DistanceDetectorState, task: DetectorTaskData, referencesPerTask = 1000): DistanceDetectorState {
  return { ...state, tasks: [...state.tasks.filter((t) => t.entry !== task.entry), detectorTask(task, referencesPerTask, state.k)] };
}

function detectorTask({ entry, train, validation }: DetectorTaskData, referencesPerTask: number, k: number): DetectorTask {
  if (train.length === 0 || validation.length === 0) throw new ConfigError(`task ${entry}: the distance detector needs training and validation samples`);
  const width = train[0]!.length;
  const mean = new Array<number>(width).fill(0);
  const scale = new Array<number>(width).fill(0);
  for (const row of train) for (let j = 0; j < width; j++) mean[j]! += row[j]! / train.length;
  for (const row of train) for (let j = 0; j < width; j++) scale[j]! += (row[j]! - mean[j]!) ** 2 / train.length;
  for (let j = 0; j < width; j++) scale[j] = Math.sqrt(scale[j]!) + SCALE_FLOOR;
  const step = Math.max(1, train.length / referencesPerTask);
  const references: number[][] = [];
  for (let i = 0; i < train.length && references.length < referencesPerTask; i += step) references.push(standardise(train[Math.floor(i)]!, mean, scale));
  const own = validation.map((row) => knnDistance(standardise(row, mean, scale), references, k));
  return { entry, mean, scale, references, typical: Math.max(quantileOf(own, 0.5), 1e-9) };
}

/** min over known tasks of the k-NN distance to the task's references, in units of the task's typical distance. */
export function distanceScore(state: DistanceDetectorState, row: ArrayLike<number>): number {
  let best = Infinity;
  for (const task of state.tasks) best = Math.min(best, taskScore(task, row, state.k));
  return best;
}

function taskScore(task: DetectorTask, row: ArrayLike<number>, k: number): number {
  return knnDistance(standardise(row, task.mean, task.scale), task.references, k) / task.typical;
}

/** The known task nearest `row` (the one whose score is the minimum). */
export function nearestDetectorTask(state: DistanceDetectorState, row: ArrayLike<number>): string {
  let best = { entry: state.tasks[0]?.entry ?? '', score: Infinity };
  for (const task of state.tasks) {
    const score = taskScore(task, row, state.k);
    if (score < best.score) best = { entry: task.entry, score };
  }
  return best.entry;
}

function standardise(row: ArrayLike<number>, mean: readonly number[], scale: readonly number[]): number[] {
  if (row.length !== mean.length) throw new ConfigError(`a sample has ${row.length} detector features; the knowledge base's detector takes ${mean.length}`);
  return mean.map((m, j) => (row[j]! - m) / scale[j]!);
}

/** Root mean of the k smallest squared distances. */
function knnDistance(query: readonly number[], references: readonly number[][], k: number): number {
  const best: number[] = [];
  for (const reference of references) {
    const bound = best.length < k ? Infinity : best[best.length - 1]!;
    let sum = 0;
    for (let j = 0; j < query.length && sum < bound; j++) sum += (query[j]! - reference[j]!) ** 2;
    if (sum >= bound) continue;
    const at = best.findIndex((b) => b > sum);
    best.splice(at < 0 ? best.length : at, 0, sum);
    if (best.length > k) best.pop();
  }
  return Math.sqrt(best.reduce((a, b) => a + b, 0) / Math.max(1, best.length));
}

/** Features the detector compares, from a sample's features (identity unless the job gives one). */
export type DetectorFeatures = (row: Float32Array) => ArrayLike<number>;

export function sampleRecognitionByDistance(state: DistanceDetectorState, features: DetectorFeatures = (row) => row): UnseenSampleRecognition {
  if (state.kind !== 'knn-distance' || !Number.isFinite(state.threshold) || state.tasks.length === 0) throw new ConfigError('SampleRecognitionByDistance: the knowledge base holds no calibrated distance detector');
  return (samples) => samples.x.map((row) => distanceScore(state, features(row)) > state.threshold);
}

/** The attribute where a row carries it, the distance detector where it does not. */
export function sampleRecognitionByAttrThenDistance(extractor: TaskExtractor, state: DistanceDetectorState | undefined, features?: DetectorFeatures): UnseenSampleRecognition {
  const byAttr = sampleRecognitionByTaskAttr(extractor);
  const byDistance = state ? sampleRecognitionByDistance(state, features) : undefined;
  const attributes = extractor.kind === 'attribute' ? extractor.attribute : [];
  return (samples) => {
    const withAttr = samples.x.map((_, row) => hasAttributes(samples, row, attributes));
    const attrAnswers = byAttr(pick(samples, withAttr, true));
    const rest = pick(samples, withAttr, false);
    if (rest.x.length > 0 && !byDistance) throw new ConfigError(`${rest.x.length} samples carry no task attribute (${attributes.join(', ')}) and the knowledge base has no distance detector to judge them`);
    const distanceAnswers = rest.x.length > 0 ? byDistance!(rest) : [];
    let [a, d] = [0, 0];
    return withAttr.map((has) => (has ? attrAnswers[a++]! : distanceAnswers[d++]!));
  };
}

function pick(samples: Samples, mask: readonly boolean[], want: boolean): Samples {
  const rows = mask.flatMap((m, i) => (m === want ? [i] : []));
  return { ...samples, x: rows.map((i) => samples.x[i]!), meta: rows.map((i) => samples.meta[i]!), ...(samples.y ? { y: rows.map((i) => samples.y![i]!) } : {}) };
}

/** The value at `q` of the sorted values (nearest rank). */
export function quantileOf(values: readonly number[], q: number): number {
  if (values.length === 0) throw new RangeError('no values');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
