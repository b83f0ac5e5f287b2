// Each task group's model in the scenario: the federated-learning example's 784-128-10 MLP
// (TensorFlow.js) behind the SDK's TaskEstimator contract. Pixels arrive as 0..255 CSV values and
// are scaled here. Training keeps the weights of the epoch that scores best on the task's
// validation rows, counting "no more training" as a candidate, so going on training a known task
// on a few new samples can never leave it worse on validation than it was.
import { readFile, writeFile } from 'node:fs/promises';
import { decodeWeights, encodeWeights, TfjsClassifier, type ClassifierData, type ModelWeights, type Samples, type TaskEstimator, type TaskEstimatorFactory } from 'sedna/worker';
import { buildMlp } from '../federated-learning/model.ts';

export interface TaskModelSettings {
  maxEpochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
}

export const DEFAULT_TASK_MODEL: TaskModelSettings = { maxEpochs: 12, batchSize: 32, learningRate: 0.001, seed: 1 };

export function toClassifierData(samples: Samples): ClassifierData {
  const width = samples.columns.length;
  const x = new Float32Array(samples.x.length * width);
  samples.x.forEach((row, i) => {
    for (let j = 0; j < width; j++) x[i * width + j] = row[j]! / 255;
  });
  return { x, y: Int32Array.from(samples.y ?? samples.x.map(() => 0)), count: samples.x.length };
}

class MlpTaskModel implements TaskEstimator {
  constructor(
    private readonly classifier: TfjsClassifier,
    private readonly settings: TaskModelSettings,
  ) {}

  async train(samples: Samples, validation?: Samples): Promise<Record<string, number>> {
    const data = toClassifierData(samples);
    const options = { epochs: 1, batchSize: this.settings.batchSize, learningRate: this.settings.learningRate, optimizer: 'adam' as const };
    if (!validation || validation.x.length === 0) {
      let last: Record<string, number> = {};
      for (let epoch = 0; epoch < this.settings.maxEpochs; epoch++) last = await this.classifier.train(data, { ...options, seed: this.settings.seed + epoch });
      return { ...last, epochs: this.settings.maxEpochs };
    }
    const valid = toClassifierData(validation);
    let best: { accuracy: number; epoch: number; weights: ModelWeights } = { accuracy: (await this.classifier.evaluate(valid)).accuracy!, epoch: 0, weights: this.classifier.getWeights() };
    for (let epoch = 1; epoch <= this.settings.maxEpochs; epoch++) {
      await this.classifier.train(data, { ...options, seed: this.settings.seed + epoch });
      const { accuracy } = await this.classifier.evaluate(valid);
      if (accuracy! > best.accuracy) best = { accuracy: accuracy!, epoch, weights: this.classifier.getWeights() };
    }
    this.classifier.setWeights(best.weights);
    return { validationAccuracy: best.accuracy, epochs: best.epoch, samples: samples.x.length };
  }

  async predict(samples: Samples): Promise<number[][]> {
    if (samples.x.length === 0) return [];
    const data = toClassifierData(samples);
    return this.classifier.predictScores(data);
  }

  async save(path: string): Promise<void> {
    await writeFile(path, encodeWeights(this.classifier.getWeights()));
  }

  setWeights(weights: ModelWeights): void {
    this.classifier.setWeights(weights);
  }

  dispose(): void {
    this.classifier.dispose();
  }
}

export function mlpTaskModels(settings: TaskModelSettings = DEFAULT_TASK_MODEL): TaskEstimatorFactory {
  const create = async (): Promise<MlpTaskModel> => new MlpTaskModel(await TfjsClassifier.create(buildMlp, { seed: settings.seed }), settings);
  return {
    create,
    async load(path) {
      const model = await create();
      model.setWeights(decodeWeights(await readFile(path)));
      return model;
    },
  };
}
