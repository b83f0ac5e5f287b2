// The eval worker of the incremental-learning example (one pod per round). IncrementalLearning
// hands it every model of MODEL_URLS, the newly trained one first and the deployed one second; it
// scores each on the eval samples (TEST_DATASET_URL: the labelled night images the LC's trainProb
// kept out of training) and on the original validation images (ORIGINAL_VALIDATION_URL), and
// reports, as lists of numbers:
//   accuracy           on the night eval samples
//   original_accuracy  on the original validation images
//   guarded_accuracy   accuracy, or 0 when original_accuracy fell more than FORGETTING_ALLOWED
//                      below BASE_ORIGINAL_ACCURACY (the base model's, from models/manifest.json)
// The job's deploy condition, `guarded_accuracy_delta[0] > 0`, then deploys a model only when it is
// better at night and has not forgotten the day. Nothing here reads the test sets.
import { IncrementalLearning, numberParameter, TfjsClassifier, workerContext, type ClassifierData } from 'sedna/worker';
import { loadIndexedImages } from '../federated-learning/data.ts';
import { loadLabelledExamples } from './hard-example-file.ts';

const ctx = workerContext();

async function main(): Promise<void> {
  const originalIndex = process.env.ORIGINAL_VALIDATION_URL;
  if (!ctx.testDatasetUrl) throw new Error('TEST_DATASET_URL is not set; this worker runs under an IncrementalLearningJob');
  if (!originalIndex) throw new Error('ORIGINAL_VALIDATION_URL is not set: the original validation images that guard against forgetting');
  const reference = numberParameter('BASE_ORIGINAL_ACCURACY', Number.NaN, process.env);
  if (!Number.isFinite(reference)) throw new Error('BASE_ORIGINAL_ACCURACY must be the base model\'s original validation accuracy');
  const allowed = numberParameter('FORGETTING_ALLOWED', 0.02, process.env, { min: 0 });
  const night = await loadLabelledExamples(ctx.testDatasetUrl);
  if (night.count === 0) throw new Error(`${ctx.testDatasetUrl} names no samples`);
  const original = await loadIndexedImages([originalIndex]);
  console.log(`eval worker ${ctx.workerName}: ${night.count} night eval samples, ${original.count} original validation images; models ${ctx.modelUrls}`);
  const il = new IncrementalLearning();
  const evaluator = {
    evaluate: async (data: ClassifierData, modelPath: string) => {
      const classifier = await TfjsClassifier.load(modelPath);
      try {
        const accuracy = (await classifier.evaluate(data))['accuracy']!;
        const originalAccuracy = (await classifier.evaluate(original))['accuracy']!;
        const guarded = originalAccuracy >= reference - allowed ? accuracy : 0;
        console.log(`eval worker: ${modelPath}: night ${accuracy.toFixed(4)}, original ${originalAccuracy.toFixed(4)}, guarded ${guarded.toFixed(4)}`);
        return { accuracy: [accuracy], original_accuracy: [originalAccuracy], guarded_accuracy: [guarded] };
      } finally {
        classifier.dispose();
      }
    },
  };
  await il.evaluate(evaluator, night, { format: 'tfjs' });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`eval worker failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
