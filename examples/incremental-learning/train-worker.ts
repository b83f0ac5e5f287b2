// The train worker of the incremental-learning example (one pod per round, created by the GM when
// the LC's trigger fires). It fine-tunes the model of BASE_MODEL_URL (the initial model in round 1,
// the last trained one after) on the round's newly labelled night images (TRAIN_DATASET_URL, the
// LC's split of the Dataset) mixed with a replay draw of original images (REPLAY_DATASET_URL), so
// the model learns the night camera without forgetting daylight (replay.ts). IncrementalLearning
// saves it under MODEL_URL and reports it to the LC. Settings (env, from models/manifest.json,
// chosen on validation): replay_share, epochs, learning_rate, batch_size.
import { IncrementalLearning, numberParameter, TfjsClassifier, workerContext } from 'sedna/worker';
import { loadIndexedImages } from '../federated-learning/data.ts';
import { loadLabelledExamples } from './hard-example-file.ts';
import { replayCount, withReplay, type FineTuneSettings } from './replay.ts';

const ctx = workerContext();

function settingsFromEnv(): FineTuneSettings {
  return {
    replayShare: numberParameter('replay_share', 0.5, process.env, { min: 0 }),
    epochs: numberParameter('epochs', 3, process.env, { positive: true, integer: true }),
    learningRate: numberParameter('learning_rate', 0.001, process.env, { positive: true }),
    batchSize: numberParameter('batch_size', 32, process.env, { positive: true, integer: true }),
  };
}

/** A seed per round (from the output folder, which names it), so rounds draw different replays and a rerun repeats. */
function roundSeed(): number {
  const round = Number(/(\d+)\/*$/.exec(ctx.modelUrl ?? '')?.[1] ?? 0);
  return numberParameter('seed', 4242, process.env) + 1000 * round;
}

async function main(): Promise<void> {
  const baseModel = process.env.BASE_MODEL_URL;
  const replayIndex = process.env.REPLAY_DATASET_URL;
  if (!baseModel || !ctx.trainDatasetUrl) throw new Error('BASE_MODEL_URL and TRAIN_DATASET_URL must be set; this worker runs under an IncrementalLearningJob');
  if (!replayIndex) throw new Error('REPLAY_DATASET_URL is not set: the index of the original images replayed against forgetting');
  const settings = settingsFromEnv();
  const seed = roundSeed();
  const fresh = await loadLabelledExamples(ctx.trainDatasetUrl);
  if (fresh.count === 0) throw new Error(`${ctx.trainDatasetUrl} names no samples`);
  const pool = await loadIndexedImages([replayIndex]);
  const replayed = replayCount(fresh.count, settings.replayShare, pool.count);
  const classifier = await TfjsClassifier.load(baseModel);
  console.log(`train worker ${ctx.workerName}: ${fresh.count} labelled night images + ${replayed} replayed originals, from ${baseModel}; ${JSON.stringify(settings)}`);
  const il = new IncrementalLearning();
  const trainer = {
    train: async () => {
      const fit = await classifier.train(withReplay(fresh, pool, settings.replayShare, seed), { epochs: settings.epochs, learningRate: settings.learningRate, batchSize: settings.batchSize, seed: seed + 1 });
      return { loss: fit['loss'] ?? Number.NaN, samples: fresh.count, replayed };
    },
    save: (path: string) => classifier.save(path),
  };
  const info = await il.train(trainer, fresh, undefined, { format: 'tfjs' });
  console.log(`train worker ${ctx.workerName}: saved ${info.url} (${JSON.stringify(info.metrics)})`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`train worker failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
