// The incremental-learning example's data, cut once and the same in every run (examples/README.md):
//   Fashion-MNIST train file (60,000) → 50,000 train + 10,000 validation (examples/shared/validation-split.ts)
//     train 50,000      → 40,000 `original`: the base model's training set, and the replay pool
//                          10,000 `camera`: the scenes the night camera films (drifted); the stream
//                          the inference worker serves, whose hard examples people label
//     validation 10,000 → 5,000 original + 5,000 other images through the night camera: every
//                          choice (epochs, learning rate, replay share, HEM threshold, deploying)
//   Fashion-MNIST test file (10,000) → 5,000 original + 5,000 other images through the night
//                          camera, scored once, at the end (baseAccuracy, finalAccuracy, …).
// Validation and test are each cut in two disjoint halves, so no image is seen in both lightings.
import { seededRandom, shuffledIndices } from '../../src/lib/random.ts';
import { loadFashionMnist, PIXELS, selectRecords, type FashionMnist } from '../joint-inference/fashion-mnist.ts';
import { holdOutValidation } from '../shared/validation-split.ts';
import { nightShots, type LowLightCamera, NIGHT_CAMERA } from './drift.ts';

export const CAMERA_IMAGES = 10_000;
/** Seeds the cuts below (the train/validation cut has its own, shared seed). */
export const SPLIT_SEED = 1313;
/** Image ids for the drift's noise: training-file records keep their number, test-file ones are offset. */
export const TEST_ID_OFFSET = 60_000;

/** Images with the ids that fixed their drift noise (−1: not drifted). */
export interface Images extends FashionMnist {
  ids: Int32Array;
}

export interface ScenarioData {
  /** Original images the base model trains on, and that training replays. */
  original: Images;
  /** What the night camera films: drifted, in stream order. */
  camera: Images;
  validation: { original: Images; drifted: Images };
  test: { original: Images; drifted: Images };
}

/** Splits `records` into two disjoint sorted halves, fixed by `seed`. */
function halves(records: Int32Array, seed: number): [Int32Array, Int32Array] {
  const order = shuffledIndices(records.length, seededRandom(seed));
  const half = Math.floor(records.length / 2);
  const pick = (from: number, to: number): Int32Array => Int32Array.from(order.subarray(from, to), (i) => records[i]!).sort();
  return [pick(0, half), pick(half, records.length)];
}

function images(data: FashionMnist, records: Int32Array, idOffset: number, camera?: LowLightCamera): Images {
  const selected = selectRecords(data, records);
  const ids = Int32Array.from(records, (r) => r + idOffset);
  if (!camera) return { ...selected, ids };
  return { ...selected, images: nightShots(selected.images, ids, PIXELS, camera), ids };
}

/** Cuts the records of the Fashion-MNIST files into the scenario's sets (pure, for tests). */
export function cutRecords(trainCount: number, testCount: number, cameraImages = CAMERA_IMAGES): { original: Int32Array; camera: Int32Array; validation: [Int32Array, Int32Array]; test: [Int32Array, Int32Array] } {
  const { train, validation } = holdOutValidation(trainCount);
  const order = shuffledIndices(train.length, seededRandom(SPLIT_SEED));
  const camera = Int32Array.from(order.subarray(0, cameraImages), (i) => train[i]!);
  const original = Int32Array.from(order.subarray(cameraImages), (i) => train[i]!).sort();
  const testRecords = Int32Array.from({ length: testCount }, (_, i) => i);
  return { original, camera, validation: halves(validation, SPLIT_SEED + 1), test: halves(testRecords, SPLIT_SEED + 2) };
}

/** Every set of the scenario, the drifted ones through `camera` (the night camera by default). */
export async function loadScenarioData(dir?: string, camera: LowLightCamera = NIGHT_CAMERA): Promise<ScenarioData> {
  const [train, test] = await Promise.all([loadFashionMnist('train', dir), loadFashionMnist('test', dir)]);
  const cut = cutRecords(train.count, test.count);
  return {
    original: images(train, cut.original, 0),
    camera: images(train, cut.camera, 0, camera),
    validation: { original: images(train, cut.validation[0], 0), drifted: images(train, cut.validation[1], 0, camera) },
    test: { original: images(test, cut.test[0], TEST_ID_OFFSET), drifted: images(test, cut.test[1], TEST_ID_OFFSET, camera) },
  };
}

/** The classifier's view of a set (TfjsClassifier's ClassifierData). */
export function asClassifierData(set: FashionMnist): { x: Float32Array; y: Uint8Array; count: number } {
  return { x: set.images, y: set.labels, count: set.count };
}
