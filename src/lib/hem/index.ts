// Hard-example mining (lib.md §6): the filters, their registry and the env entry point.
export { CloudOnly, CrossEntropy, crossEntropyConfidence, EdgeOnly, IBT, Random, Threshold } from './algorithms.ts';
export { createHardExampleMining, hemFromEnv, knownHardExampleMining, registerHardExampleMining } from './registry.ts';
export type { HardExampleMining, HemFactory, HemOptions } from './types.ts';
