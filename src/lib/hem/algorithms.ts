// Sedna's built-in filters (lib.md §6, `hard_example_mining.py`) with the exact formulas and defaults.
import { boxScores, probabilities } from './inputs.ts';
import type { HardExampleMining } from './types.ts';

/** Hard when the mean box score is below `threshold` (default 0.5). */
export class Threshold implements HardExampleMining {
  readonly name = 'Threshold';
  constructor(readonly threshold = 0.5) {}

  isHard(result: unknown): boolean {
    const scores = boxScores(result);
    if (!scores) return false;
    const mean = scores.reduce((sum, s) => sum + s, 0) / scores.length;
    return mean < this.threshold;
  }
}

/** `1 + Σ pᵢ·ln pᵢ / ln n`: 1 for a certain answer, 0 for a uniform one. 0·ln 0 counts as 0; for
 * n = 1 (where Sedna divides by zero) the answer is certain, so the value is 1 and it is never hard. */
export function crossEntropyConfidence(p: readonly number[]): number {
  if (p.length <= 1) return 1;
  const logSum = p.reduce((sum, x) => (x === 0 ? sum : sum + x * Math.log(x)), 0);
  return 1 + logSum / Math.log(p.length);
}

/** Hard when the cross-entropy confidence is below `threshold_cross_entropy` (default 0.5). */
export class CrossEntropy implements HardExampleMining {
  readonly name = 'CrossEntropy';
  constructor(readonly threshold = 0.5) {}

  isHard(result: unknown): boolean {
    const p = probabilities(result);
    if (!p || p.length === 1) return false;
    return crossEntropyConfidence(p) < this.threshold;
  }
}

/** Image-box thresholds: hard when the share of boxes scoring ≤ `threshold_box` is ≥ 1 − `threshold_img`. */
export class IBT implements HardExampleMining {
  readonly name = 'IBT';
  constructor(
    readonly thresholdImg = 0.5,
    readonly thresholdBox = 0.5,
  ) {}

  isHard(result: unknown): boolean {
    const scores = boxScores(result);
    if (!scores || scores.some((s) => s < 0 || s > 1)) return false;
    const low = scores.filter((s) => s <= this.thresholdBox).length;
    return low / scores.length >= 1 - this.thresholdImg;
  }
}

/** Hard with probability `random_ratio` (default 0.3), whatever the input. */
export class Random implements HardExampleMining {
  readonly name = 'Random';
  constructor(
    readonly ratio = 0.3,
    private readonly random: () => number = Math.random,
  ) {}

  isHard(_result?: unknown): boolean {
    return this.random() < this.ratio;
  }
}

/** Never hard: everything stays on the edge. */
export class EdgeOnly implements HardExampleMining {
  readonly name = 'EdgeOnly';
  isHard(_result?: unknown): boolean {
    return false;
  }
}

/** Always hard: everything goes to the cloud. */
export class CloudOnly implements HardExampleMining {
  readonly name = 'CloudOnly';
  isHard(_result?: unknown): boolean {
    return true;
  }
}
