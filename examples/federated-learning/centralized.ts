// The baseline: the same MLP, the same optimiser settings and the same total number of epochs
// (rounds × local epochs), trained in one place on the union of the edge nodes' images, then
// evaluated on the 10,000 test images. The runner starts it in its own process next to the job.
//
//   node --import tsx examples/federated-learning/centralized.ts --epochs 12 <index>... > result.json
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { TfjsClassifier } from 'sedna/worker';
import { loadIndexedImages, loadTestSet } from './data.ts';
import { buildMlp, classifierOptions, trainingSettings } from './model.ts';

export interface CentralizedResult {
  accuracy: number;
  loss: number;
  epochs: number;
  trainImages: number;
  seconds: number;
}

export async function trainCentralized(indexFiles: string[], epochs: number, env: NodeJS.ProcessEnv = process.env): Promise<CentralizedResult> {
  const started = Date.now();
  const settings = { ...trainingSettings(env), epochs };
  const train = await loadIndexedImages(indexFiles);
  const test = await loadTestSet();
  const model = await TfjsClassifier.create(buildMlp, classifierOptions(settings, 1));
  // One epoch per call, each with its own shuffle, as the rounds of the federated run get.
  for (let epoch = 0; epoch < epochs; epoch++) await model.train(train, { epochs: 1, seed: epoch + 1 });
  const { accuracy = NaN, loss = NaN } = await model.evaluate(test);
  return { accuracy, loss, epochs, trainImages: train.count, seconds: Math.round((Date.now() - started) / 100) / 10 };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { epochs: { type: 'string' } }, allowPositionals: true });
  const epochs = Number(values.epochs);
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`--epochs must be a positive integer, got ${JSON.stringify(values.epochs)}`);
  if (positionals.length === 0) throw new Error('name the txt index files to train on');
  const result = await trainCentralized(positionals, epochs);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main().catch((error: unknown) => {
    process.stderr.write(`centralized baseline failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
