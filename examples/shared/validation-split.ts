// The one train/validation cut of the 60,000 Fashion-MNIST training images that every example and
// study uses (examples/README.md: every choice is made on validation, the 10,000 test images are
// scored once). Seeded, so a model, a threshold or a federated split is always chosen on the same
// held-out images and never sees them in training.
import { seededRandom, shuffledIndices } from '../../src/lib/random.ts';

export const VALIDATION_IMAGES = 10_000;
export const VALIDATION_SEED = 15;

export interface TrainValidationRecords {
  /** Record numbers (in the training IDX files) to train on, ascending. */
  train: Int32Array;
  /** Record numbers held out for every choice, ascending. */
  validation: Int32Array;
}

/** Holds `validationCount` of `count` records out, at random but fixed by `seed`. */
export function holdOutValidation(count: number, validationCount = VALIDATION_IMAGES, seed = VALIDATION_SEED): TrainValidationRecords {
  if (!Number.isInteger(validationCount) || validationCount <= 0 || validationCount >= count) {
    throw new RangeError(`validation images must be an integer in 1..${count - 1}, got ${validationCount}`);
  }
  const order = shuffledIndices(count, seededRandom(seed));
  const validation = order.slice(0, validationCount).sort();
  const train = order.slice(validationCount).sort();
  return { train, validation };
}
