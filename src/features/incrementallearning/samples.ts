// Sedna's IL data loop (spec §4.6 handleData), on sample indexes into the Dataset instead of copies
// of the samples, so the state fits in a database row: the samples that arrived since the last
// split, [splitUpTo, current), go first floor(trainProb · new) to the train set and the rest into a
// new eval version; the last EVAL_VERSIONS versions are kept. Difference from Sedna: the eval set
// is the union of the kept versions, not every version appended again on each loop (which
// duplicated samples until the next evaluation).

/** Sedna's eval sample-version capacity. */
export const EVAL_VERSIONS = 5;

/** Half-open ranges of sample indexes, [start, end). */
export type Range = [number, number];

export interface SampleState {
  /** Samples up to this index have been split. */
  splitUpTo: number;
  /** Train samples not yet used by a training round. */
  train: Range[];
  /** Eval versions, oldest first. */
  evalVersions: Range[];
}

export function emptySamples(): SampleState {
  return { splitUpTo: 0, train: [], evalVersions: [] };
}

export function countOf(ranges: readonly Range[]): number {
  return ranges.reduce((sum, [start, end]) => sum + (end - start), 0);
}

/** The state after `current` samples are known; a shrunk dataset (rewritten file) starts over. */
export function split(state: SampleState, current: number, trainProb: number): SampleState {
  if (current < state.splitUpTo) return { ...emptySamples(), ...split(emptySamples(), current, trainProb) };
  const fresh = current - state.splitUpTo;
  if (fresh <= 0) return state;
  const prob = Math.min(1, Math.max(0, Number.isFinite(trainProb) ? trainProb : 0));
  const trainCount = Math.floor(prob * fresh);
  const trainEnd = state.splitUpTo + trainCount;
  const train: Range[] = trainCount > 0 ? [...state.train, [state.splitUpTo, trainEnd]] : state.train;
  const evalVersions: Range[] = trainEnd < current ? [...state.evalVersions, [trainEnd, current]] : state.evalVersions;
  return { splitUpTo: current, train, evalVersions };
}

/** After an evaluation: the oldest version goes when there are more than EVAL_VERSIONS. */
export function trimEvalVersions(state: SampleState): SampleState {
  return { ...state, evalVersions: state.evalVersions.slice(-EVAL_VERSIONS) };
}

/** The samples the ranges select, in order. */
export function select(samples: readonly string[], ranges: readonly Range[]): string[] {
  return ranges.flatMap(([start, end]) => samples.slice(start, end));
}
