// Joint accuracy and share offloaded of an edge/cloud pair for a hard-example filter, computed from
// both models' class probabilities with the SDK's own filters (src/lib/hem), and the rule that
// picks the CrossEntropy threshold on the validation split.
import { createHardExampleMining, type HardExampleMining } from '../../src/lib/hem/index.ts';
import { CLASSES } from './training.ts';

export const TARGET = { minRecoveredGap: 0.7, maxOffloaded: 0.3 };
/** CrossEntropy thresholds tried on validation: 0.30, 0.31, …, 0.95. */
export const THRESHOLDS = Array.from({ length: 66 }, (_, i) => Math.round((0.3 + 0.01 * i) * 100) / 100);

export interface Predictions {
  /** count × CLASSES probabilities, row-major. */
  edge: Float32Array;
  cloud: Float32Array;
  labels: Uint8Array;
}

export interface OperatingPoint {
  threshold: number;
  offloaded: number;
  jointAccuracy: number;
  recoveredGap: number;
}

export function row(probabilities: Float32Array, index: number): number[] {
  return Array.from(probabilities.subarray(index * CLASSES, (index + 1) * CLASSES));
}

export function argmax(probabilities: Float32Array, index: number): number {
  let best = 0;
  for (let c = 1; c < CLASSES; c++) if (probabilities[index * CLASSES + c]! > probabilities[index * CLASSES + best]!) best = c;
  return best;
}

/** 1 where the model's top class is the label. */
export function correctness(probabilities: Float32Array, labels: Uint8Array): Uint8Array {
  return Uint8Array.from(labels, (label, i) => (argmax(probabilities, i) === label ? 1 : 0));
}

export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return values.length === 0 ? Number.NaN : sum / values.length;
}

/**
 * What a filter sees for one image. CrossEntropy reads the class probabilities; Threshold and IBT
 * read detection boxes, so a classifier's answer is given to them as one box whose score is its
 * top-1 probability (Threshold then is the classic least-confidence rule).
 */
export function filterInput(method: string, probabilities: Float32Array, index: number): unknown {
  if (method === 'Threshold' || method === 'IBT') return [[0, 0, 1, 1, probabilities[index * CLASSES + argmax(probabilities, index)]!, argmax(probabilities, index)]];
  return row(probabilities, index);
}

/** 1 for every image the filter sends to the cloud. */
export function hardFlags(hem: HardExampleMining, method: string, edge: Float32Array, count: number): Uint8Array {
  return Uint8Array.from({ length: count }, (_, i) => (hem.isHard(filterInput(method, edge, i)) ? 1 : 0));
}

export function gapRecovered(edgeAccuracy: number, cloudAccuracy: number, jointAccuracy: number): number {
  const gap = cloudAccuracy - edgeAccuracy;
  return gap > 0 ? (jointAccuracy - edgeAccuracy) / gap : Number.NaN;
}

/** Per image, 1 where the joint answer (cloud's when hard, else edge's) is right. */
export function jointCorrectness(edgeRight: Uint8Array, cloudRight: Uint8Array, hard: Uint8Array): Uint8Array {
  return Uint8Array.from(hard, (h, i) => (h ? cloudRight[i]! : edgeRight[i]!));
}

/** Joint accuracy and share offloaded for each CrossEntropy threshold, with the SDK's filter. */
export function crossEntropyTable(p: Predictions, thresholds: readonly number[] = THRESHOLDS): OperatingPoint[] {
  const edgeRight = correctness(p.edge, p.labels);
  const cloudRight = correctness(p.cloud, p.labels);
  const edgeAccuracy = mean(edgeRight);
  const cloudAccuracy = mean(cloudRight);
  return thresholds.map((threshold) => {
    const hem = createHardExampleMining({ method: 'CrossEntropy', param: { threshold_cross_entropy: String(threshold) } });
    const hard = hardFlags(hem, 'CrossEntropy', p.edge, p.labels.length);
    const jointAccuracy = mean(jointCorrectness(edgeRight, cloudRight, hard));
    return { threshold, offloaded: mean(hard), jointAccuracy, recoveredGap: gapRecovered(edgeAccuracy, cloudAccuracy, jointAccuracy) };
  });
}

/**
 * The validation rule: the threshold that meets the target with the widest margin on both limits;
 * when none meets it, the one recovering most of the gap within the offload limit.
 */
export function chooseThreshold(validation: readonly OperatingPoint[]): OperatingPoint {
  const margin = (r: OperatingPoint) => Math.min(r.recoveredGap - TARGET.minRecoveredGap, TARGET.maxOffloaded - r.offloaded);
  const byMargin = [...validation].sort((a, b) => margin(b) - margin(a));
  if (margin(byMargin[0]!) >= 0) return byMargin[0]!;
  const within = validation.filter((r) => r.offloaded <= TARGET.maxOffloaded).sort((a, b) => b.recoveredGap - a.recoveredGap);
  return within[0] ?? byMargin[0]!;
}
