// How a round of incremental learning avoids forgetting: the newly labelled (night-camera) samples
// are mixed with a fresh random draw of original images, `replayShare` of the mix, before the
// model is fine-tuned on them (experience replay, as in Rolnick et al., "Experience Replay for
// Continual Learning", NeurIPS 2019). Without it a few epochs on night images pull the weights
// towards the new lighting and the daytime accuracy falls; with it every batch also asks for the
// old answers. Shared by the train worker and by choose-settings.ts, which picks the share,
// epochs and learning rate on validation.
import { seededRandom, shuffledIndices } from '../../src/lib/random.ts';
import type { ClassifierData } from '../../src/lib/backends/tfjs-classifier.ts';

export interface FineTuneSettings {
  /** Share of original images in a round's training mix, in [0, 1). */
  replayShare: number;
  epochs: number;
  learningRate: number;
  batchSize: number;
}

/** How many original images go with `fresh` new ones so they make `share` of the mix. */
export function replayCount(fresh: number, share: number, available: number): number {
  if (!(share >= 0 && share < 1)) throw new RangeError(`replayShare must be in [0, 1), got ${share}`);
  return Math.min(available, Math.round((fresh * share) / (1 - share)));
}

/** The new samples followed by a seeded draw (without repeats) from the replay pool. */
export function withReplay(fresh: ClassifierData, pool: ClassifierData, share: number, seed: number): ClassifierData {
  const count = replayCount(fresh.count, share, pool.count);
  const size = fresh.x.length / fresh.count;
  const x = new Float32Array((fresh.count + count) * size);
  const y = new Uint8Array(fresh.count + count);
  x.set(fresh.x);
  y.set(fresh.y);
  const drawn = shuffledIndices(pool.count, seededRandom(seed)).subarray(0, count);
  drawn.forEach((record, i) => {
    x.set(pool.x.subarray(record * size, (record + 1) * size), (fresh.count + i) * size);
    y[fresh.count + i] = pool.y[record]!;
  });
  return { x, y, count: fresh.count + count };
}
