// The worker SDK: what a program running as a Sedna worker imports (`import … from 'sedna/worker'`).
// Configuration comes from the environment the GM sets (lib.md §1); reports go to the node's
// LocalController; feature classes wrap the user's model (an Estimator) into edge–cloud jobs.
export { algorithmFromEnv, ConfigError, getParameter, numberParameter, optionalNumberParameter, workerContext, type AlgorithmConfig, type NumberRule, type WorkerContext } from './lib/context.ts';
export { LcClient, type TaskInfo, type WorkerMessage } from './lib/lc-client.ts';
export { download, isRemote, joinPath, removePathPrefix, upload } from './lib/file-ops/index.ts';
export { parseCsv, parseTxtIndex, readIdx, type DataSource } from './lib/datasources/index.ts';
export { backendType, loadInferenceModel, type InferenceModel, type Tensor } from './lib/backends/index.ts';
export { ModelEstimator, type Estimator, type Vector } from './lib/estimator.ts';
export { createHardExampleMining, hemFromEnv, registerHardExampleMining, type HardExampleMining } from './lib/hem/index.ts';
export { listenAddress } from './lib/net/bind.ts';
export { serviceAgent } from './lib/net/http-agent.ts';
export { decodeWeights, encodeWeights, cloneWeights, sameShapes, type LayerWeights, type ModelWeights } from './lib/weights.ts';
export { createAggregation, type AggregationStrategy, type ClientUpdate } from './lib/aggregation/index.ts';
export { type LocalTrainOptions, type TrainableEstimator } from './lib/estimator.ts';
export { TfjsClassifier, type ClassifierData, type ClassifierTrainOptions, type TfjsClassifierOptions } from './lib/backends/tfjs-classifier.ts';
// The features' worker classes: one line per feature with an SDK (its `sdk.ts`, also named in
// src/features/registry.ts; test/unit/feature-registry.test.ts checks the two agree).
export * from './features/jointinference/sdk.ts';
export * from './features/federatedlearning/sdk.ts';
export * from './features/incrementallearning/sdk.ts';
export * from './features/lifelonglearning/sdk.ts';
