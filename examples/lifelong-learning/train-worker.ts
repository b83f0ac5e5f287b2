// The train worker of the lifelong-learning example (one pod per round, created by the GM when the
// LC's trigger fires). It reads the round's samples (TRAIN_DATASET_URL: the LC's split of the
// Dataset, CSV rows with a `camera` column) and the labelled validation rows (every CSV under
// VALIDATION_URL; the operator adds the new camera's with the labels), and calls
// LifelongLearning.train: the initial training builds the knowledge base (a task and model per
// camera, the unseen-sample detector calibrated on validation); with HAS_COMPLETED_INITIAL_TRAINING
// it updates the one at CLOUD_KB_INDEX (a new camera becomes a new task). Models, samples and the
// index go to the knowledge base (KB_SERVER, KB_TOKEN); the SDK reports the index to the LC.
import { LifelongLearning, readSamplesCsv, workerContext } from 'sedna/worker';
import { modelSettingsFromEnv, pipelineOptions, readCsvFolder } from './worker-setup.ts';

const ctx = workerContext();

async function main(): Promise<void> {
  const validationDir = process.env.VALIDATION_URL;
  if (!ctx.trainDatasetUrl) throw new Error('TRAIN_DATASET_URL is not set; this worker runs under a LifelongLearningJob');
  if (!validationDir) throw new Error('VALIDATION_URL is not set: the folder of labelled validation CSV files');
  const train = readSamplesCsv(ctx.trainDatasetUrl, { dataType: 'train' });
  if (train.x.length === 0) throw new Error(`${ctx.trainDatasetUrl} holds no samples`);
  const validation = readCsvFolder(validationDir, 'train');
  const settings = modelSettingsFromEnv();
  console.log(`train worker ${ctx.workerName}: ${train.x.length} samples, ${validation?.x.length ?? 0} validation rows, ${ctx.hasCompletedInitialTraining ? `update of ${ctx.cloudKbIndex}` : 'initial training'}; ${JSON.stringify(settings)}`);
  const ll = new LifelongLearning(pipelineOptions(settings));
  const index = await ll.train(train, validation);
  console.log(`train worker ${ctx.workerName}: knowledge base ${index.create_time}, round ${index.round}, tasks ${index.seen_task.task_groups.map((g) => `${g.entry} (${g.samples.sample_num})`).join(', ')}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`train worker failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
