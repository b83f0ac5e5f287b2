// FedAvgM, server momentum (Hsu et al. 2019, "Measuring the effects of non-identical data
// distribution on federated visual classification"): with Δ = w_global − w_avg,
//   v ← β·v + Δ,   w ← w_global − η·v.
// β = 0, η = 1 is FedAvg. v lives across rounds; the first round (no global model yet) is FedAvg.
import type { ModelWeights } from '../weights.ts';
import { checkStateFits, previousGlobal, stateLike } from './server-state.ts';
import type { AggregationStrategy, ClientUpdate, StrategyState } from './types.ts';
import { checkUpdates, weightedMean } from './weighted-mean.ts';

export const FEDAVGM_DEFAULTS = { eta: 1.0, beta: 0.9 } as const;

export interface FedAvgMOptions {
  /** Server learning rate η. */
  eta?: number;
  /** Server momentum β in [0, 1). */
  beta?: number;
}

export class FedAvgM implements AggregationStrategy {
  readonly name = 'FedAvgM';
  readonly eta: number;
  readonly beta: number;
  private velocity: Float32Array[] | undefined;

  constructor({ eta = FEDAVGM_DEFAULTS.eta, beta = FEDAVGM_DEFAULTS.beta }: FedAvgMOptions = {}) {
    if (!Number.isFinite(eta) || eta <= 0) throw new RangeError(`FedAvgM: eta must be a positive number, got ${eta}`);
    if (!Number.isFinite(beta) || beta < 0 || beta >= 1) throw new RangeError(`FedAvgM: beta must be in [0, 1), got ${beta}`);
    this.eta = eta;
    this.beta = beta;
  }

  aggregate(global: ModelWeights | undefined, updates: readonly ClientUpdate[]): ModelWeights {
    if (updates.length === 0) return previousGlobal(global, this.name);
    checkUpdates(updates, global);
    const result = weightedMean(updates);
    if (!global) return result;
    this.velocity ??= stateLike(global);
    checkStateFits(this.velocity, global, this.name);
    for (let l = 0; l < result.length; l++) this.step(global[l]!.data, result[l]!.data, this.velocity[l]!);
    return result;
  }

  exportState(): StrategyState | undefined {
    return this.velocity ? { velocity: this.velocity } : undefined;
  }

  importState(state: StrategyState): void {
    if (!state.velocity) throw new RangeError(`${this.name}: the saved state has no velocity`);
    this.velocity = state.velocity;
  }

  /** In place: `mean` (the weighted mean) becomes the new global layer. */
  private step(global: Float32Array, mean: Float32Array, velocity: Float32Array): void {
    const { eta, beta } = this;
    for (let i = 0; i < mean.length; i++) {
      const g = global[i]!;
      const v = beta * velocity[i]! + (g - mean[i]!);
      velocity[i] = v;
      mean[i] = g - eta * v;
    }
  }
}
