// The server-side aggregation contract of federated learning (lib.md §8.2): each round the
// aggregation worker hands the clients' updates and the current global model to a strategy and
// broadcasts what it returns. Strategies may keep state across rounds (momentum, Adam moments), so
// one instance serves one job for its whole life.
import type { ModelWeights } from '../weights.ts';

export interface ClientUpdate {
  weights: ModelWeights;
  /** The client's training sample count: its weight in the average. */
  numSamples: number;
  /** The client's id, used only to name it in errors. */
  client?: string;
}

export interface AggregationStrategy {
  readonly name: string;
  /**
   * The next global model. `global` is undefined before the first round; with no updates the
   * previous global model is returned as it is.
   */
  aggregate(global: ModelWeights | undefined, updates: readonly ClientUpdate[]): ModelWeights;
  /** The optimiser state that lives across rounds, for a checkpoint; undefined before any (stateless strategies omit it). */
  exportState?(): StrategyState | undefined;
  /** Takes back what exportState gave, in a restarted server, before the next round. */
  importState?(state: StrategyState): void;
}

/** Optimiser state kept across rounds (FedAvgM's velocity, FedAdam's moments): per-layer arrays by name. */
export type StrategyState = Record<string, Float32Array[]>;

/** Builds a strategy from its string parameters (`aggregation_parameters`). */
export type AggregationFactory = (params: Readonly<Record<string, string>>) => AggregationStrategy;
