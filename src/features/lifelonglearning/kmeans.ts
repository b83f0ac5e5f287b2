// k-means (Lloyd's algorithm with k-means++ seeding) on Float32 rows, seeded so a task definition
// or an unseen-sample detector is the same every run. Used to define tasks without attributes and
// to summarise a task's training data for the distance-based unseen-sample detector.
import { seededRandom, type Random } from '../../lib/random.ts';

export interface KMeansOptions {
  k: number;
  seed?: number;
  maxIterations?: number;
}

export interface KMeansResult {
  centroids: Float32Array[];
  /** The cluster of each row. */
  assignments: Int32Array;
}

export function kMeans(rows: readonly Float32Array[], { k, seed = 1, maxIterations = 50 }: KMeansOptions): KMeansResult {
  if (rows.length === 0) throw new RangeError('k-means needs at least one row');
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  const random = seededRandom(seed);
  const centroids = seedCentroids(rows, Math.min(k, rows.length), random);
  const assignments = new Int32Array(rows.length).fill(-1);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    let changed = 0;
    rows.forEach((row, i) => {
      const nearest = nearestCentroid(centroids, row).index;
      if (nearest !== assignments[i]) changed++;
      assignments[i] = nearest;
    });
    recomputeCentroids(rows, assignments, centroids);
    if (changed === 0) break;
  }
  return { centroids, assignments };
}

/** The index of the centroid nearest `row` and the squared distance to it. */
export function nearestCentroid(centroids: readonly ArrayLike<number>[], row: ArrayLike<number>): { index: number; distance2: number } {
  let index = 0;
  let distance2 = Infinity;
  centroids.forEach((centroid, c) => {
    const d = squaredDistance(centroid, row, distance2);
    if (d < distance2) {
      distance2 = d;
      index = c;
    }
  });
  return { index, distance2 };
}

/** ‖a − b‖², stopping early once it exceeds `bound` (the caller only needs the minimum). */
export function squaredDistance(a: ArrayLike<number>, b: ArrayLike<number>, bound = Infinity): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
    if (sum > bound) return sum;
  }
  return sum;
}

/** k-means++: each next centre drawn with probability proportional to its squared distance. */
function seedCentroids(rows: readonly Float32Array[], k: number, random: Random): Float32Array[] {
  const centroids = [Float32Array.from(rows[Math.floor(random() * rows.length)]!)];
  const distances = rows.map((row) => squaredDistance(row, centroids[0]!));
  while (centroids.length < k) {
    const total = distances.reduce((a, b) => a + b, 0);
    let target = random() * total;
    let chosen = rows.length - 1;
    for (let i = 0; i < rows.length; i++) {
      target -= distances[i]!;
      if (target <= 0) {
        chosen = i;
        break;
      }
    }
    const centre = Float32Array.from(rows[chosen]!);
    centroids.push(centre);
    rows.forEach((row, i) => (distances[i] = Math.min(distances[i]!, squaredDistance(row, centre))));
  }
  return centroids;
}

/** Each centroid becomes the mean of its rows; an empty cluster keeps its centre. */
function recomputeCentroids(rows: readonly Float32Array[], assignments: Int32Array, centroids: Float32Array[]): void {
  const width = rows[0]!.length;
  const sums = centroids.map(() => new Float64Array(width));
  const counts = new Int32Array(centroids.length);
  rows.forEach((row, i) => {
    const c = assignments[i]!;
    counts[c]!++;
    const sum = sums[c]!;
    for (let j = 0; j < width; j++) sum[j]! += row[j]!;
  });
  centroids.forEach((centroid, c) => {
    if (counts[c] === 0) return;
    for (let j = 0; j < width; j++) centroid[j] = sums[c]![j]! / counts[c]!;
  });
}
