// Federated learning's worker SDK: the trainer and the aggregation server. Re-exported by
// src/worker.ts (`sedna/worker`).
export { AggregationServer, type AggregationServerOptions, type RoundSummary } from './aggregation-server.ts';
export { FederatedLearning, type FederatedLearningOptions, type FederatedRound, type FederatedTrainOptions } from './worker.ts';
