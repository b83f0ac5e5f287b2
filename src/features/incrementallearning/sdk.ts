// Incremental learning's worker SDK: the train, eval and inference workers' class, its hard-example
// folder, and the hot-update parts an inference worker may use directly. Re-exported by
// src/worker.ts (`sedna/worker`).
export { HardExampleFolder, jsonEncoder, type EncodedExample, type HardExample, type HardExampleEncoder } from './hard-examples.ts';
export {
  IncrementalLearning,
  metricLists,
  modelSavePath,
  type IncrementalEvaluator,
  type IncrementalLearningCounters,
  type IncrementalLearningOptions,
  type IncrementalTrainer,
  type Metrics,
  type ModelInfo,
  type ModelLoader,
  type ServingModel,
  type SwapRecord,
  type TrainOptions,
} from './worker.ts';
export { HotSwapSlot, HotUpdater, pushHotUpdate, readHotUpdateConfig, writeHotUpdateConfig, type HotUpdateConfig } from '../../lib/hot-update/index.ts';
