// Pieces the strategies share around the weighted mean: the no-updates rule and the per-layer
// optimiser state (momentum, moments) that lives across rounds.
import type { ModelWeights } from '../weights.ts';

/** Sedna's rule for a round without updates: the previous global model, unchanged. */
export function previousGlobal(global: ModelWeights | undefined, strategy: string): ModelWeights {
  if (!global) throw new RangeError(`${strategy}: no client updates and no global model to keep`);
  return global;
}

/** One Float32Array per layer of `weights`, filled with `value`. */
export function stateLike(weights: ModelWeights, value = 0): Float32Array[] {
  const state: Float32Array[] = [];
  for (const layer of weights) state.push(new Float32Array(layer.data.length).fill(value));
  return state;
}

/**
 * Throws when the global model no longer matches the optimiser state: one strategy instance
 * serves one model for its whole life, and silently restarting the moments would hide the bug.
 */
export function checkStateFits(state: readonly Float32Array[], global: ModelWeights, strategy: string): void {
  if (state.length !== global.length) {
    throw new RangeError(`${strategy}: the global model has ${global.length} layers but the optimiser state was built for ${state.length}`);
  }
  for (let l = 0; l < state.length; l++) {
    if (state[l]!.length !== global[l]!.data.length) {
      throw new RangeError(`${strategy}: global layer ${l} has ${global[l]!.data.length} values but the optimiser state has ${state[l]!.length}`);
    }
  }
}
