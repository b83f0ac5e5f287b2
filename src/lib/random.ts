// Seeded randomness for everything that must repeat run after run (training shuffles, data
// splits, benchmark data): mulberry32, a small 32-bit generator, and a Fisher–Yates shuffle on it.

export type Random = () => number;

/** mulberry32: uniform in [0, 1), fully determined by the seed. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 0 … count−1 in an order fixed by `random` (Fisher–Yates). */
export function shuffledIndices(count: number, random: Random): Int32Array {
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = order[i]!;
    order[i] = order[j]!;
    order[j] = tmp;
  }
  return order;
}
