// The adaptive server optimisers of Reddi et al., "Adaptive Federated Optimization" (ICLR 2021),
// Algorithm 2: with Δ = w_avg − w_global (the negative pseudo-gradient),
//   m ← β₁·m + (1 − β₁)·Δ,   v ← (per optimiser, from Δ²),   w ← w_global + η·m / (√v + τ).
// m starts at 0, v at τ²; both live across rounds. No bias correction (the paper has none). The
// first round (no global model yet) returns the weighted mean. This base holds the options and the
// state; FedAdam and FedYogi each write their whole per-layer loop (no call per element).
import type { ModelWeights } from '../weights.ts';
import { checkStateFits, previousGlobal, stateLike } from './server-state.ts';
import type { AggregationStrategy, ClientUpdate, StrategyState } from './types.ts';
import { checkUpdates, weightedMean } from './weighted-mean.ts';

export const ADAPTIVE_DEFAULTS = { eta: 0.01, beta1: 0.9, beta2: 0.99, tau: 1e-3 } as const;

export interface AdaptiveOptions {
  /** Server learning rate η > 0. */
  eta?: number;
  /** First-moment decay β₁ in [0, 1). */
  beta1?: number;
  /** Second-moment decay β₂ in [0, 1). */
  beta2?: number;
  /** Adaptivity τ > 0: the floor under √v, and √ of v's initial value. */
  tau?: number;
}

function check(strategy: string, key: string, value: number, ok: boolean, expected: string): void {
  if (!Number.isFinite(value) || !ok) throw new RangeError(`${strategy}: ${key} must be ${expected}, got ${value}`);
}

export abstract class AdaptiveServerOptimizer implements AggregationStrategy {
  abstract readonly name: string;
  readonly eta: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly tau: number;
  private moments: { m: Float32Array[]; v: Float32Array[] } | undefined;

  constructor(strategy: string, options: AdaptiveOptions) {
    const { eta = ADAPTIVE_DEFAULTS.eta, beta1 = ADAPTIVE_DEFAULTS.beta1, beta2 = ADAPTIVE_DEFAULTS.beta2, tau = ADAPTIVE_DEFAULTS.tau } = options;
    check(strategy, 'eta', eta, eta > 0, 'a positive number');
    check(strategy, 'beta1', beta1, beta1 >= 0 && beta1 < 1, 'in [0, 1)');
    check(strategy, 'beta2', beta2, beta2 >= 0 && beta2 < 1, 'in [0, 1)');
    check(strategy, 'tau', tau, tau > 0, 'a positive number');
    this.eta = eta;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.tau = tau;
  }

  aggregate(global: ModelWeights | undefined, updates: readonly ClientUpdate[]): ModelWeights {
    if (updates.length === 0) return previousGlobal(global, this.name);
    checkUpdates(updates, global);
    const result = weightedMean(updates);
    if (!global) return result;
    this.moments ??= { m: stateLike(global), v: stateLike(global, this.tau * this.tau) };
    checkStateFits(this.moments.m, global, this.name);
    const { m, v } = this.moments;
    for (let l = 0; l < result.length; l++) this.step(global[l]!.data, result[l]!.data, m[l]!, v[l]!);
    return result;
  }

  exportState(): StrategyState | undefined {
    return this.moments ? { m: this.moments.m, v: this.moments.v } : undefined;
  }

  importState(state: StrategyState): void {
    if (!state.m || !state.v) throw new RangeError(`${this.name}: the saved state needs both moments m and v`);
    this.moments = { m: state.m, v: state.v };
  }

  /** In place: `mean` (the weighted mean) becomes the new global layer; m and v are updated. */
  protected abstract step(global: Float32Array, mean: Float32Array, m: Float32Array, v: Float32Array): void;
}
