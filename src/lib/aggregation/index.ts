// Federated learning aggregation (lib.md §8.2 and the additions FedAvgM, FedProx, FedAdam, FedYogi):
// the strategies, their registry and the env entry point.
export { ADAPTIVE_DEFAULTS, AdaptiveServerOptimizer, type AdaptiveOptions } from './adaptive.ts';
export { FedAdam } from './fedadam.ts';
export { FedAvg } from './fedavg.ts';
export { FEDAVGM_DEFAULTS, FedAvgM, type FedAvgMOptions } from './fedavgm.ts';
export { FEDPROX_DEFAULT_MU, FedProx } from './fedprox.ts';
export { FedYogi } from './fedyogi.ts';
export { parseAggregationParameters } from './parameters.ts';
export {
  aggregationFromEnv,
  aggregationNameFromEnv,
  createAggregation,
  DEFAULT_AGGREGATION,
  knownAggregations,
  registerAggregation,
} from './registry.ts';
export type { AggregationFactory, AggregationStrategy, ClientUpdate, StrategyState } from './types.ts';
export { checkUpdates, sampleShares, weightedMean, weightedSumInto } from './weighted-mean.ts';
