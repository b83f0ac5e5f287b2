// A training worker of the federated-learning example (one per edge node): loads the images its
// Dataset's index names (TRAIN_DATASET_URL, set by the GM), wraps the MLP in a TfjsClassifier and
// hands it to FederatedLearning, which trains a round locally, sends the weights to the
// aggregator, takes the aggregate, and repeats until the aggregator says the job is done. The
// images never leave this node; only weights do. Restarted mid-job, it rejoins under the same
// WORKER_NAME and continues from the aggregator's current round.
import { FederatedLearning, TfjsClassifier, workerContext } from 'sedna/worker';
import { loadIndexedImages } from './data.ts';
import { buildMlp, classifierOptions, trainingSettings } from './model.ts';

const ctx = workerContext();

/**
 * A shuffling seed per Dataset: the three trainers do not draw batches in lockstep, and a run
 * (or a trainer recreated mid-job) repeats exactly, whatever WORKER_NAME the job got.
 */
function seedFor(name: string): number {
  let hash = 7;
  for (const char of name) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) >>> 0;
  return hash;
}

async function main(): Promise<void> {
  if (!ctx.trainDatasetUrl) throw new Error('TRAIN_DATASET_URL is not set; this worker runs under a FederatedLearningJob');
  const settings = trainingSettings();
  const data = await loadIndexedImages([ctx.trainDatasetUrl]);
  const classifier = await TfjsClassifier.create(buildMlp, classifierOptions(settings, seedFor(ctx.datasetName ?? ctx.workerName)));
  console.log(
    `trainer ${ctx.workerName}: ${data.count} images from ${ctx.trainDatasetUrl}; aggregator ${ctx.aggIp}:${ctx.aggPort}; ` +
      `${settings.optimizer} lr ${settings.learningRate}, batch ${settings.batchSize}, ${settings.epochs} epoch(s) a round`,
  );
  const fl = new FederatedLearning({
    estimator: classifier,
    onRound: (round) => {
      const loss = round.metrics['loss'];
      console.log(`round ${round.round}: local loss ${loss === undefined ? 'n/a' : loss.toFixed(4)}, sent ${round.bytesSent} bytes, aggregated ${round.clients.join(',')} (${round.exitFlag})`);
    },
  });
  const rounds = await fl.train(data, { numSamples: data.count });
  console.log(`trainer ${ctx.workerName}: finished after round ${rounds.at(-1)?.round ?? 'none'}`);
}

process.once('SIGTERM', () => process.exit(0));
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`training worker failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
