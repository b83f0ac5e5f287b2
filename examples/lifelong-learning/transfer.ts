// Backward and forward transfer over the task sequence, as defined by Lopez-Paz & Ranzato (GEM,
// NeurIPS 2017): with R[j][i] the test accuracy on task i after learning step j (of T steps) and
// b[i] the accuracy on task i of a model at random initialisation,
//   BWT = 1/(T−1) · Σ_{i=1}^{T−1} (R[T][i] − R[i][i])
//   FWT = 1/(T−1) · Σ_{i=2}^{T}   (R[i−1][i] − b[i])
// Here a step may learn several cameras at once (the initial training learns every known camera),
// so "task i" is a camera and i's step is the step that learned it; the sums run over cameras.

export interface CameraStep {
  camera: string;
  /** The 1-based step that learned the camera. */
  learnedAt: number;
  /** accuracy[j-1] = R[j][camera], after step j. */
  accuracy: number[];
  /** Accuracy at random initialisation. */
  random: number;
}

/** Mean over cameras learned before the last step of R[T][i] − R[step(i)][i]. */
export function backwardTransfer(cameras: readonly CameraStep[]): number {
  const last = Math.max(...cameras.map((c) => c.accuracy.length));
  const earlier = cameras.filter((c) => c.learnedAt < last);
  return mean(earlier.map((c) => c.accuracy[last - 1]! - c.accuracy[c.learnedAt - 1]!));
}

/** Mean over cameras learned after the first step of R[step(i)−1][i] − b[i]. */
export function forwardTransfer(cameras: readonly CameraStep[]): number {
  const later = cameras.filter((c) => c.learnedAt > 1);
  return mean(later.map((c) => c.accuracy[c.learnedAt - 2]! - c.random));
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}
