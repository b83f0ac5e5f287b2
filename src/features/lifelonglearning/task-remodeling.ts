// Task remodeling and inference integration (lib.md §10.8, Sedna's `DefaultTaskRemodeling` and
// `DefaultInferenceIntegrate`): split allocated samples into one batch per group (remembering each
// row's position), and put the groups' predictions back in the original order.
import { subsetSamples, type Samples } from './samples.ts';

export interface RemodeledBatch<M> {
  /** The group index the batch was allocated to. */
  group: number;
  samples: Samples;
  /** The rows' positions in the input (Sedna's `inx`). */
  inx: number[];
  model: M;
}

/**
 * One batch per distinct allocation, in ascending order of the allocation (numpy's `unique`); the
 * model is `models[group]`, falling back to `models[0]` when the group has none, as Sedna does.
 */
export function defaultTaskRemodeling<M>(models: readonly M[]): (samples: Samples, allocations: readonly number[]) => RemodeledBatch<M>[] {
  if (models.length === 0) throw new RangeError('task remodeling needs at least one model');
  return (samples, allocations) => {
    if (allocations.length !== samples.x.length) throw new RangeError(`${allocations.length} allocations for ${samples.x.length} samples`);
    const groups = [...new Set(allocations)].sort((a, b) => a - b);
    return groups.map((group) => {
      const inx = allocations.flatMap((g, i) => (g === group ? [i] : []));
      const batch = subsetSamples(samples, inx);
      if (samples.dataType === 'test') delete batch.y;
      return { group, samples: batch, inx, model: models[group] ?? models[0]! };
    });
  };
}

/** Every batch's results back at their rows' positions; a row no batch covered is an error. */
export function defaultInferenceIntegrate<R>(): (batches: readonly { inx: readonly number[]; result: readonly R[] }[]) => R[] {
  return (batches) => {
    const size = batches.reduce((n, b) => n + b.inx.length, 0);
    const out = new Array<R>(size);
    const filled = new Uint8Array(size);
    for (const batch of batches) {
      if (batch.result.length !== batch.inx.length) throw new RangeError(`a batch of ${batch.inx.length} rows has ${batch.result.length} results`);
      batch.inx.forEach((row, i) => {
        if (row >= size) throw new RangeError(`row ${row} outside the ${size} integrated rows`);
        out[row] = batch.result[i]!;
        filled[row] = 1;
      });
    }
    const missing = filled.indexOf(0);
    if (missing >= 0) throw new RangeError(`row ${missing} has no result`);
    return out;
  };
}
