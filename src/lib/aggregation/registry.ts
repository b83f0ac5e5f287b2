// The aggregation registry, Sedna's `ClassFactory` for `FL_AGG`: the built-ins are registered here,
// users add their own by name, and the aggregation worker's env `aggregation_algorithm` picks one.
// An unknown name or a bad parameter is a `ConfigError` naming it (Sedna raised a bare ValueError).
import { ConfigError, type Env } from '../context.ts';
import { ADAPTIVE_DEFAULTS, type AdaptiveOptions } from './adaptive.ts';
import { FedAdam } from './fedadam.ts';
import { FedAvg } from './fedavg.ts';
import { FedAvgM, FEDAVGM_DEFAULTS } from './fedavgm.ts';
import { FedProx } from './fedprox.ts';
import { FedYogi } from './fedyogi.ts';
import { envValue, numberParameter, parseAggregationParameters, rejectUnknownParameters, type AggregationParams } from './parameters.ts';
import type { AggregationFactory, AggregationStrategy } from './types.ts';

export const DEFAULT_AGGREGATION = 'FedAvg';

/** The parameters each built-in takes, in the order the options are documented. */
const ADAPTIVE_KEYS = Object.keys(ADAPTIVE_DEFAULTS) as (keyof AdaptiveOptions)[];

function numbers<K extends string>(strategy: string, params: AggregationParams, keys: readonly K[]): Partial<Record<K, number>> {
  rejectUnknownParameters(strategy, params, keys);
  const options: Partial<Record<K, number>> = {};
  for (const key of keys) {
    const value = numberParameter(strategy, params, key);
    if (value !== undefined) options[key] = value;
  }
  return options;
}

const registry = new Map<string, AggregationFactory>([
  ['FedAvg', (p) => {
    rejectUnknownParameters('FedAvg', p, []);
    return new FedAvg();
  }],
  ['FedAvgM', (p) => new FedAvgM(numbers('FedAvgM', p, Object.keys(FEDAVGM_DEFAULTS) as ('eta' | 'beta')[]))],
  ['FedProx', (p) => new FedProx(numbers('FedProx', p, ['mu']))],
  ['FedAdam', (p) => new FedAdam(numbers('FedAdam', p, ADAPTIVE_KEYS))],
  ['FedYogi', (p) => new FedYogi(numbers('FedYogi', p, ADAPTIVE_KEYS))],
]);

/** Adds a strategy under `name`; a taken name throws unless `replace`. */
export function registerAggregation(name: string, factory: AggregationFactory, { replace = false } = {}): void {
  if (!name) throw new Error('an aggregation algorithm needs a name');
  if (registry.has(name) && !replace) throw new Error(`aggregation algorithm ${name} is already registered`);
  registry.set(name, factory);
}

export function knownAggregations(): string[] {
  return [...registry.keys()];
}

/** A new strategy instance (strategies keep per-job state: one instance per job). */
export function createAggregation(name: string, params: Record<string, string> = {}): AggregationStrategy {
  const factory = registry.get(name);
  if (!factory) throw new ConfigError(`unknown aggregation algorithm ${JSON.stringify(name)}; known: ${knownAggregations().join(', ')}`);
  try {
    return factory(params);
  } catch (err) {
    // Range checks live in the constructors (RangeError naming the option): report them as config.
    if (err instanceof RangeError) throw new ConfigError(`aggregation parameters of ${name}: ${err.message}`);
    throw err;
  }
}

/** The algorithm's name from env `aggregation_algorithm` (or upper case), default FedAvg. */
export function aggregationNameFromEnv(env: Env = process.env): string {
  const name = envValue(env, 'aggregation_algorithm')?.trim();
  return name ? name : DEFAULT_AGGREGATION;
}

/** The strategy chosen by env `aggregation_algorithm` with env `aggregation_parameters` (JSON). */
export function aggregationFromEnv(env: Env = process.env): AggregationStrategy {
  const variable = env.aggregation_parameters === undefined ? 'AGGREGATION_PARAMETERS' : 'aggregation_parameters';
  return createAggregation(aggregationNameFromEnv(env), parseAggregationParameters(env[variable], variable));
}
