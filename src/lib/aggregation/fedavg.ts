// FedAvg (McMahan et al. 2017; Sedna's only real algorithm): the sample-weighted mean of the
// clients' weights, w = Σ wᵢ · nᵢ / Σ nᵢ per layer. Stateless.
import type { ModelWeights } from '../weights.ts';
import { previousGlobal } from './server-state.ts';
import type { AggregationStrategy, ClientUpdate } from './types.ts';
import { checkUpdates, weightedMean } from './weighted-mean.ts';

export class FedAvg implements AggregationStrategy {
  readonly name: string = 'FedAvg';

  aggregate(global: ModelWeights | undefined, updates: readonly ClientUpdate[]): ModelWeights {
    if (updates.length === 0) return previousGlobal(global, this.name);
    checkUpdates(updates, global);
    return weightedMean(updates);
  }
}
