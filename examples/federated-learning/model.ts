// The model every party of the example builds: a 784-128-10 MLP, small enough to train fast on
// tfjs's wasm backend. The initialisers are seeded so every trainer, the aggregator and the
// centralized baseline start from the very same weights (FedAvg averages models that share an
// initialisation; different random starts would average into noise in round 1).
import type { Tf } from '../../src/lib/backends/tfjs.ts';
import { numberParameter, type TfjsClassifierOptions } from 'sedna/worker';

export const PIXELS = 784;
export const HIDDEN_UNITS = 128;
export const CLASSES = 10;
const INIT_SEED = 2024;

type LayersModel = ReturnType<Tf['sequential']>;

export function buildMlp(tf: Tf): LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [PIXELS], units: HIDDEN_UNITS, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: INIT_SEED }) }));
  model.add(tf.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: INIT_SEED + 1 }) }));
  return model;
}

/** Local training settings from the worker's env (resources.yaml), with the tuned defaults. */
export interface TrainingSettings {
  epochs: number;
  batchSize: number;
  learningRate: number;
  optimizer: 'sgd' | 'adam';
}

export const DEFAULT_SETTINGS: TrainingSettings = { epochs: 1, batchSize: 32, learningRate: 0.1, optimizer: 'sgd' };


export function trainingSettings(env: NodeJS.ProcessEnv = process.env): TrainingSettings {
  const optimizer = env['optimizer'] || DEFAULT_SETTINGS.optimizer;
  if (optimizer !== 'sgd' && optimizer !== 'adam') throw new Error(`env optimizer must be sgd or adam, got ${JSON.stringify(optimizer)}`);
  return {
    epochs: numberParameter('epochs', DEFAULT_SETTINGS.epochs, env, { positive: true }),
    batchSize: numberParameter('batch_size', DEFAULT_SETTINGS.batchSize, env, { positive: true }),
    learningRate: numberParameter('learning_rate', DEFAULT_SETTINGS.learningRate, env, { positive: true }),
    optimizer,
  };
}

export function classifierOptions(settings: TrainingSettings, seed: number): TfjsClassifierOptions {
  return { ...settings, seed };
}
