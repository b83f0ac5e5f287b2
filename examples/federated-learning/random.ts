// Seeded randomness for the non-IID split, so every run (and the test) sees the same partition:
// a 32-bit PRNG (mulberry32, from src/lib/random.ts), standard normals (Box–Muller), Gamma by Marsaglia–Tsang and a
// Dirichlet as normalised Gammas.

import { seededRandom, type Random } from '../../src/lib/random.ts';

export { seededRandom, type Random };

/** A standard normal sample (Box–Muller; 1 − u keeps the log away from 0). */
export function normal(random: Random): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * Gamma(shape, 1) by Marsaglia & Tsang (2000). For shape < 1 it samples Gamma(shape + 1) and
 * scales by U^(1/shape), the boost the paper gives, since the squeeze needs shape ≥ 1.
 */
export function gamma(shape: number, random: Random): number {
  if (!(shape > 0)) throw new RangeError(`gamma shape must be > 0, got ${shape}`);
  if (shape < 1) return gamma(shape + 1, random) * Math.pow(1 - random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (u < 1 - 0.0331 * x ** 4) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** A sample of the symmetric Dirichlet(alpha, …, alpha) over `size` parts. */
export function dirichlet(alpha: number, size: number, random: Random): number[] {
  const draws = Array.from({ length: size }, () => gamma(alpha, random));
  const total = draws.reduce((a, b) => a + b, 0);
  // Tiny alphas can underflow every draw to 0: fall back to one part taking everything.
  if (total === 0) return draws.map((_, i) => (i === Math.floor(random() * size) ? 1 : 0));
  return draws.map((g) => g / total);
}

/** Fisher–Yates shuffle in place. */
export function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
