// The cloud worker of the Fashion-MNIST joint-inference example: the big CNN (ONNX Runtime) behind
// Sedna's big-model route, batching concurrent requests. MODEL_URL, BIG_MODEL_BIND_PORT and
// BIG_MODEL_TOKEN come from the GM.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BigModelService, ModelEstimator, workerContext } from 'sedna/worker';

const ctx = workerContext();
const manifest = JSON.parse(readFileSync(join(import.meta.dirname, 'models/manifest.json'), 'utf8')) as { cloud: { inputShape: (number | null)[] } };

async function main(): Promise<void> {
  if (!ctx.modelUrl) throw new Error('MODEL_URL is not set; this worker runs under a JointInferenceService');
  const estimator = await ModelEstimator.load(ctx.modelUrl, manifest.cloud.inputShape.slice(1) as number[]);
  const service = new BigModelService({ estimator });
  const port = await service.start();
  console.log(`cloud worker ${ctx.workerName}: ${ctx.modelUrl} served on port ${port} at /${ctx.jobName}/predict`);
  const stop = (): void => void service.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(`cloud worker failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
