// The eval worker of the lifelong-learning example (one pod per round). LifelongLearning.evaluate
// reads the knowledge base the round trained (MODEL_URLS), scores every task's model on its rows of
// TEST_DATASET_URL (the labelled samples the LC's trainProb held out of training: never the
// scenario's test set), drops the tasks the filter (`operator`, `model_threshold`) rejects, tells
// the knowledge base which task models to deploy (update/status) and reports the scored index.
import { LifelongLearning, readSamplesCsv, workerContext } from 'sedna/worker';
import { modelSettingsFromEnv, pipelineOptions } from './worker-setup.ts';

const ctx = workerContext();

async function main(): Promise<void> {
  if (!ctx.testDatasetUrl) throw new Error('TEST_DATASET_URL is not set; this worker runs under a LifelongLearningJob');
  const samples = readSamplesCsv(ctx.testDatasetUrl, { dataType: 'test' });
  console.log(`eval worker ${ctx.workerName}: ${samples.x.length} held-out samples; knowledge base ${ctx.modelUrls}`);
  const ll = new LifelongLearning(pipelineOptions(modelSettingsFromEnv()));
  const result = await ll.evaluate(samples);
  console.log(`eval worker ${ctx.workerName}: ${result.tasks.map((t) => `${t.entry} ${JSON.stringify(t.scores)}`).join(', ')}; dropped ${result.dropped.join(', ') || 'none'}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`eval worker failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
