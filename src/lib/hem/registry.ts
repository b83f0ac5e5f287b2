// The HEM registry, Sedna's `ClassFactory` for `hard_example_mining`: the built-ins are registered
// here, users register their own by name, and a resource's `HEM_NAME` picks one. An unknown name is
// a `ConfigError` listing the known ones (Sedna raised a bare "can't find class" ValueError).
import { algorithmFromEnv, ConfigError, type AlgorithmConfig, type Env } from '../context.ts';
import { CloudOnly, CrossEntropy, EdgeOnly, IBT, Random, Threshold } from './algorithms.ts';
import { unitParameter } from './parameters.ts';
import type { HardExampleMining, HemFactory, HemOptions } from './types.ts';

const registry = new Map<string, HemFactory>([
  ['Threshold', (p) => new Threshold(unitParameter(p, 'threshold', 0.5))],
  ['CrossEntropy', (p) => new CrossEntropy(unitParameter(p, 'threshold_cross_entropy', 0.5))],
  ['IBT', (p) => new IBT(unitParameter(p, 'threshold_img', 0.5), unitParameter(p, 'threshold_box', 0.5))],
  ['Random', (p, options) => new Random(unitParameter(p, 'random_ratio', 0.3), options.random)],
  ['EdgeOnly', () => new EdgeOnly()],
  ['CloudOnly', () => new CloudOnly()],
]);

/** Adds a filter under `name`; a taken name throws unless `replace` (Sedna refuses duplicates). */
export function registerHardExampleMining(name: string, factory: HemFactory, { replace = false } = {}): void {
  if (!name) throw new Error('a hard example mining algorithm needs a name');
  if (registry.has(name) && !replace) throw new Error(`hard example mining algorithm ${name} is already registered`);
  registry.set(name, factory);
}

export function knownHardExampleMining(): string[] {
  return [...registry.keys()];
}

export function createHardExampleMining(config: AlgorithmConfig, options: HemOptions = {}): HardExampleMining {
  const factory = registry.get(config.method);
  if (!factory) {
    throw new ConfigError(`unknown hard example mining algorithm ${JSON.stringify(config.method)} (HEM_NAME); known: ${knownHardExampleMining().join(', ')}`);
  }
  return factory(config.param, options);
}

/** The filter chosen by `HEM_NAME`/`HEM_PARAMETERS` (overrides win), or undefined when none is set. */
export function hemFromEnv(env: Env = process.env, overrides: Record<string, string> = {}, options: HemOptions = {}): HardExampleMining | undefined {
  const config = algorithmFromEnv('HEM', overrides, env);
  return config ? createHardExampleMining(config, options) : undefined;
}
