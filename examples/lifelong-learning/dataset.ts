// The scenario's dataset: Fashion-MNIST seen through the cameras (cameras.ts), written as CSV files
// whose rows carry the task attribute `camera` (the shape of Sedna's ATCII sample: one row per
// sample, an attribute column, a label column). Every camera gets its own disjoint images, split
// into train (from the shared 50,000-image train cut), validation (from the shared 10,000-image
// validation cut) and test (from the 10,000 test images), plus a stream the edge meets later.
import { join } from 'node:path';
import { seededRandom, shuffledIndices } from '../../src/lib/random.ts';
import { writeSamplesCsv, type Samples } from 'sedna/worker';
import { loadFashionMnist, PIXELS, type FashionMnist } from '../joint-inference/fashion-mnist.ts';
import { holdOutValidation } from '../shared/validation-split.ts';
import { cameras, KNOWN_CAMERAS, NEW_CAMERA } from './cameras.ts';

export interface DatasetScale {
  /** Per known camera. */
  train: number;
  /** Per camera (the new camera's too: the operator's labelled validation rows for it). */
  validation: number;
  test: number;
  /** Per known camera, in the stream. */
  streamKnown: number;
  /** The new camera's images in the stream (they become its training data once labelled). */
  streamNew: number;
}

export const FULL_SCALE: DatasetScale = { train: 2000, validation: 500, test: 1000, streamKnown: 300, streamNew: 1200 };
export const SMALL_SCALE: DatasetScale = { train: 250, validation: 100, test: 150, streamKnown: 50, streamNew: 150 };

export interface DatasetFiles {
  /** Known cameras' training rows. */
  train: string;
  /** Known cameras' validation rows. */
  validation: string;
  /** The new camera's validation rows (labelled by the operator with the update). */
  newValidation: string;
  /** Every camera's test rows. */
  test: string;
  /** The stream the edge meets: no labels. */
  stream: string;
  /** The stream's true labels and cameras, by sample_id (what the labeller knows). */
  streamTruth: string;
}

const SPLIT_SEED = 14;
const STREAM_SEED = 15;

/** The record pools of one scenario seed: seed 1 is the split the first runs used. */
export interface ScenarioPools {
  train: FashionMnist;
  test: FashionMnist;
  trainPool: RecordPool;
  validationPool: RecordPool;
  testPool: RecordPool;
  streamSeed: number;
}

/** Every seed draws other images for each split (the validation cut itself is the shared one). */
export async function scenarioPools(seed = 1): Promise<ScenarioPools> {
  const [train, test] = await Promise.all([loadFashionMnist('train'), loadFashionMnist('test')]);
  const { train: trainRecords, validation: validationRecords } = holdOutValidation(train.count);
  const base = SPLIT_SEED + 100 * (seed - 1);
  return {
    train,
    test,
    trainPool: pool(trainRecords, base),
    validationPool: pool(validationRecords, base + 1),
    testPool: pool(Int32Array.from({ length: test.count }, (_, i) => i), base + 2),
    streamSeed: STREAM_SEED + 100 * (seed - 1),
  };
}

export async function writeDataset(dir: string, scale: DatasetScale, seed = 1, newCamera = NEW_CAMERA): Promise<DatasetFiles> {
  const { train: trainIdx, test: testIdx, trainPool, validationPool, testPool, streamSeed } = await scenarioPools(seed);
  const all = [...KNOWN_CAMERAS, newCamera];
  const files: DatasetFiles = {
    train: join(dir, 'train.csv'),
    validation: join(dir, 'validation.csv'),
    newValidation: join(dir, 'new-camera-validation.csv'),
    test: join(dir, 'test.csv'),
    stream: join(dir, 'stream.csv'),
    streamTruth: join(dir, 'stream-truth.csv'),
  };
  const train = KNOWN_CAMERAS.map((camera) => rows(trainIdx, trainPool.take(scale.train), camera, 'train'));
  const stream = [...KNOWN_CAMERAS.map((camera) => rows(trainIdx, trainPool.take(scale.streamKnown), camera, 'train')), rows(trainIdx, trainPool.take(scale.streamNew), newCamera, 'train')];
  const validation = all.map((camera) => rows(trainIdx, validationPool.take(scale.validation), camera, 'validation'));
  const test = all.map((camera) => rows(testIdx, testPool.take(scale.test), camera, 'test'));
  const streamAll = shuffle(join2(stream), streamSeed);
  await Promise.all([
    writeSamplesCsv(files.train, join2(train)),
    writeSamplesCsv(files.validation, join2(validation.slice(0, KNOWN_CAMERAS.length))),
    writeSamplesCsv(files.newValidation, validation[KNOWN_CAMERAS.length]!),
    writeSamplesCsv(files.test, join2(test)),
    writeSamplesCsv(files.stream, withoutLabels(streamAll)),
    writeSamplesCsv(files.streamTruth, { columns: [], x: streamAll.x.map(() => new Float32Array(0)), y: streamAll.y!, meta: streamAll.meta, dataType: 'train' }),
  ]);
  return files;
}

export interface RecordPool {
  take(n: number): Int32Array;
}

/** A shuffled list of records handed out in disjoint blocks. */
function pool(records: Int32Array, seed: number): RecordPool {
  const order = shuffledIndices(records.length, seededRandom(seed));
  let next = 0;
  return {
    take(n) {
      if (next + n > records.length) throw new RangeError(`the dataset has ${records.length} records; the scale asks for more`);
      const block = Int32Array.from(order.subarray(next, next + n), (i) => records[i]!);
      next += n;
      return block;
    },
  };
}

const PIXEL_COLUMNS = Array.from({ length: PIXELS }, (_, i) => `pixel${i}`);

/** The records through `camera`, as 0..255 pixel rows with sample_id and camera. */
export function rows(data: FashionMnist, records: Int32Array, camera: string, split: string): Samples {
  const through = cameras[camera]!;
  const x = Array.from(records, (record) => {
    const image = through.apply(data.images.subarray(record * PIXELS, (record + 1) * PIXELS), record);
    return Float32Array.from(image, (v) => Math.round(v * 255));
  });
  return { columns: PIXEL_COLUMNS, x, y: Array.from(records, (r) => data.labels[r]!), meta: Array.from(records, (r) => ({ sample_id: `${split}-${camera}-${r}`, camera })), dataType: 'train' };
}

export function join2(parts: readonly Samples[]): Samples {
  return { columns: parts[0]!.columns, x: parts.flatMap((p) => p.x), y: parts.flatMap((p) => p.y!), meta: parts.flatMap((p) => p.meta), dataType: 'train' };
}

export function shuffle(samples: Samples, seed: number): Samples {
  const order = Array.from(shuffledIndices(samples.x.length, seededRandom(seed)));
  return { ...samples, x: order.map((i) => samples.x[i]!), y: order.map((i) => samples.y![i]!), meta: order.map((i) => samples.meta[i]!) };
}

function withoutLabels(samples: Samples): Samples {
  return { columns: samples.columns, x: samples.x, meta: samples.meta, dataType: samples.dataType };
}
