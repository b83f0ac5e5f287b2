// The incremental-learning scenario's figures: what run.ts writes to
// DATA_DIR/results/incremental-learning.json, the table it prints, and the targets:
//   finalAccuracy − baseAccuracy ≥ 0.10        (night test set, deployed model before/after)
//   originalAccuracyAfter ≥ originalAccuracyBefore − 0.02   (no forgetting beyond 2 points)
//   failedInferences = 0, swapMs.p99 ≤ 100.
import type { LatencySummary } from '../joint-inference/results.ts';

export interface CycleFigures {
  round: number;
  /** Train worker's samples: the round's labelled hard examples plus the replayed originals. */
  trainSamples: number;
  deployed: boolean;
  /** Seconds from the train trigger firing (Train/Ready) to the deploy (the new model serving) or the no-deploy decision. */
  triggerToDeploySeconds: number;
  /** The eval worker's metrics: [trained, deployed] guarded accuracy on the eval samples. */
  evalAccuracy: { trained: number; deployed: number };
}

export interface IncrementalResults {
  /** Deployed model on the night test set, before the first and after the last cycle. */
  baseAccuracy: number;
  finalAccuracy: number;
  /** Deployed model on the original test set, before and after. */
  originalAccuracyBefore: number;
  originalAccuracyAfter: number;
  /** Completed train → eval → deploy cycles. */
  cycles: number;
  deployedCycles: number;
  inferenceRequests: number;
  failedInferences: number;
  hardExamples: number;
  labelled: number;
  /** From the LC's push reaching the inference worker to the new model answering. */
  swapMs: LatencySummary;
  swaps: number;
  triggerToDeploySeconds: number[];
  cycleFigures: CycleFigures[];
  splits: { original: number; camera: number; validation: { original: number; night: number }; test: { original: number; night: number } };
  drift: string;
  replayShare: number;
  hemThreshold: number;
  /** Where every choice was made (the test sets are scored once, here). */
  choicesMadeOn: 'validation';
  finishedAt: string;
}

export const TARGET_GAIN = 0.1;
export const TARGET_MAX_FORGETTING = 0.02;
export const TARGET_SWAP_P99_MS = 100;

export interface TargetCheck {
  name: string;
  met: boolean;
  measured: string;
}

export function checkTargets(r: IncrementalResults): TargetCheck[] {
  const points = (x: number): string => `${(x * 100).toFixed(2)} points`;
  return [
    { name: `finalAccuracy − baseAccuracy ≥ ${TARGET_GAIN}`, met: r.finalAccuracy - r.baseAccuracy >= TARGET_GAIN, measured: points(r.finalAccuracy - r.baseAccuracy) },
    { name: `originalAccuracyAfter ≥ originalAccuracyBefore − ${TARGET_MAX_FORGETTING}`, met: r.originalAccuracyAfter >= r.originalAccuracyBefore - TARGET_MAX_FORGETTING, measured: points(r.originalAccuracyAfter - r.originalAccuracyBefore) },
    { name: 'failedInferences = 0', met: r.failedInferences === 0, measured: String(r.failedInferences) },
    { name: `swap p99 ≤ ${TARGET_SWAP_P99_MS} ms`, met: r.swapMs.p99 <= TARGET_SWAP_P99_MS, measured: `${r.swapMs.p99.toFixed(2)} ms` },
    { name: 'cycles ≥ 2', met: r.cycles >= 2, measured: String(r.cycles) },
  ];
}

export function meetsTargets(r: IncrementalResults): boolean {
  return checkTargets(r).every((t) => t.met);
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const lines = rows.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return lines;
}

export function formatResults(r: IncrementalResults): string {
  const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
  const accuracy = table([
    ['deployed model', 'night test', 'original test'],
    ['before (base)', pct(r.baseAccuracy), pct(r.originalAccuracyBefore)],
    [`after ${r.cycles} cycle(s)`, pct(r.finalAccuracy), pct(r.originalAccuracyAfter)],
  ]);
  const cycles = table([
    ['round', 'train samples', 'eval: trained', 'eval: deployed', 'deployed', 'trigger→deploy'],
    ...r.cycleFigures.map((c) => [String(c.round), String(c.trainSamples), pct(c.evalAccuracy.trained), pct(c.evalAccuracy.deployed), c.deployed ? 'yes' : 'no', `${c.triggerToDeploySeconds.toFixed(1)} s`]),
  ]);
  const stream = table([
    ['stream', 'value'],
    ['inference requests', String(r.inferenceRequests)],
    ['failed inferences', String(r.failedInferences)],
    ['hard examples mined', String(r.hardExamples)],
    ['labelled and added to the Dataset', String(r.labelled)],
    ['hot swaps', String(r.swaps)],
    ['swap p50 / p99', `${r.swapMs.p50.toFixed(2)} / ${r.swapMs.p99.toFixed(2)} ms`],
  ]);
  const targets = checkTargets(r).map((t) => `  ${t.met ? 'met   ' : 'MISSED'}  ${t.name}: ${t.measured}`);
  return [
    ...accuracy,
    '',
    ...cycles,
    '',
    ...stream,
    '',
    `Fashion-MNIST: ${r.splits.original} original training images (base model, replay pool), ${r.splits.camera} night-camera frames streamed, ` +
      `validation ${r.splits.validation.original} original + ${r.splits.validation.night} night (every choice), test ${r.splits.test.original} original + ${r.splits.test.night} night (scored once, here).`,
    `Drift: ${r.drift}. Replay share ${r.replayShare}, CrossEntropy threshold ${r.hemThreshold} (chosen on ${r.choicesMadeOn}).`,
    'Targets:',
    ...targets,
  ].join('\n');
}
