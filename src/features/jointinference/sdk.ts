// Joint inference's worker SDK: the edge worker, the cloud's big-model service and its client, and
// the edge's inference counters. Re-exported by src/worker.ts (`sedna/worker`).
export { BigModelService, type BigModelServiceOptions } from './big-model-service.ts';
export { CloudClient, CloudError } from './cloud-client.ts';
export { InferenceReporter, type InferenceReporterOptions } from './inference-reporter.ts';
export { JointInference, type InferenceResult, type JointInferenceOptions } from './worker.ts';
