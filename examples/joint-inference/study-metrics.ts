// The joint-inference study's measures on one seed's predictions: curves of accuracy against share
// offloaded for each HEM filter (the SDK's own, src/lib/hem), the Random and oracle baselines at a
// given share, per-class figures and bootstrap 95% intervals over the test images.
import { createHardExampleMining } from '../../src/lib/hem/index.ts';
import { seededRandom, type Random } from '../../src/lib/random.ts';
export { meanSd } from '../shared/stats.ts';
import { correctness, gapRecovered, hardFlags, jointCorrectness, mean, type Predictions } from './operating-points.ts';

export interface CurvePoint {
  parameter: number;
  offloaded: number;
  accuracy: number;
}

/** The HEM filters the study sweeps, with the parameter it moves. */
export const SWEEPS: Record<string, { key: string; values: number[] }> = {
  CrossEntropy: { key: 'threshold_cross_entropy', values: Array.from({ length: 71 }, (_, i) => Math.round(i * 1.4) / 100) },
  Threshold: { key: 'threshold', values: Array.from({ length: 91 }, (_, i) => Math.round((0.1 + i * 0.01) * 100) / 100) },
  IBT: { key: 'threshold_box', values: Array.from({ length: 91 }, (_, i) => Math.round((0.1 + i * 0.01) * 100) / 100) },
};

export interface Scored {
  edgeRight: Uint8Array;
  cloudRight: Uint8Array;
  labels: Uint8Array;
}

export function score(p: Predictions): Scored {
  return { edgeRight: correctness(p.edge, p.labels), cloudRight: correctness(p.cloud, p.labels), labels: p.labels };
}

/** Which images a filter with `value` for its swept parameter offloads. */
export function filterHard(method: string, value: number, p: Predictions): Uint8Array {
  const hem = createHardExampleMining({ method, param: { [SWEEPS[method]!.key]: String(value) } });
  return hardFlags(hem, method, p.edge, p.labels.length);
}

export function curve(method: string, p: Predictions, s: Scored): CurvePoint[] {
  return SWEEPS[method]!.values.map((value) => {
    const hard = filterHard(method, value, p);
    return { parameter: value, offloaded: mean(hard), accuracy: mean(jointCorrectness(s.edgeRight, s.cloudRight, hard)) };
  });
}

/** Random offloading at `share`, with the SDK's Random filter drawing from a seeded generator. */
export function randomHard(share: number, count: number, random: Random): Uint8Array {
  const hem = createHardExampleMining({ method: 'Random', param: { random_ratio: String(Math.min(1, Math.max(0, share))) } }, { random });
  return Uint8Array.from({ length: count }, () => (hem.isHard(undefined) ? 1 : 0));
}

/**
 * The oracle at `share`: it offloads the edge's mistakes the cloud gets right first, then the other
 * edge mistakes, then (only if the share is larger than the edge's error) correct answers.
 */
export function oracleHard(share: number, s: Scored): Uint8Array {
  const count = s.labels.length;
  const budget = Math.round(share * count);
  const rank = (i: number) => (s.edgeRight[i] ? (s.cloudRight[i] ? 2 : 3) : s.cloudRight[i] ? 0 : 1);
  const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => rank(a) - rank(b) || a - b);
  const hard = new Uint8Array(count);
  for (const i of order.slice(0, budget)) hard[i] = 1;
  return hard;
}

export interface ClassRow {
  class: number;
  edge: number;
  cloud: number;
  joint: number;
  offloaded: number;
}

export function perClass(s: Scored, hard: Uint8Array, classes = 10): ClassRow[] {
  return Array.from({ length: classes }, (_, c) => {
    const members = [...s.labels.keys()].filter((i) => s.labels[i] === c);
    const pick = (values: Uint8Array) => mean(members.map((i) => values[i]!));
    return { class: c, edge: pick(s.edgeRight), cloud: pick(s.cloudRight), joint: pick(jointCorrectness(s.edgeRight, s.cloudRight, hard)), offloaded: pick(hard) };
  });
}

export interface Interval {
  low: number;
  high: number;
}

/** Percentile bootstrap 95% intervals of joint accuracy and gap recovered, resampling images. */
export function bootstrap(s: Scored, hard: Uint8Array, resamples: number, seed: number): { jointAccuracy: Interval; gapRecovered: Interval } {
  const random = seededRandom(seed);
  const joint = jointCorrectness(s.edgeRight, s.cloudRight, hard);
  const n = s.labels.length;
  const accuracies: number[] = [];
  const gaps: number[] = [];
  for (let r = 0; r < resamples; r++) {
    let edge = 0;
    let cloud = 0;
    let both = 0;
    for (let k = 0; k < n; k++) {
      const i = Math.floor(random() * n);
      edge += s.edgeRight[i]!;
      cloud += s.cloudRight[i]!;
      both += joint[i]!;
    }
    accuracies.push(both / n);
    gaps.push(gapRecovered(edge / n, cloud / n, both / n));
  }
  return { jointAccuracy: percentileInterval(accuracies), gapRecovered: percentileInterval(gaps) };
}

function percentileInterval(values: number[]): Interval {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * sorted.length)))]!;
  return { low: at(0.025), high: at(0.975) };
}
