// Federated training in one process, for the study: the same MLP, the same TfjsClassifier local
// training and the same SDK aggregation strategies (createAggregation) the system's trainers and
// aggregator run, without the sockets. Every client starts each round from the global model and
// draws a fresh batch order (seeded by round and client); FedProx's μ reaches local training as in
// the SDK's FederatedLearning worker.
import { createAggregation, TfjsClassifier, type ClassifierData, type ClientUpdate, type ModelWeights } from 'sedna/worker';
import { buildMlp } from './model.ts';

export interface LocalSettings {
  learningRate: number;
  batchSize: number;
  localEpochs: number;
}

export interface StrategyChoice {
  name: string;
  params: Record<string, string>;
}

export interface RunResult {
  validationAccuracy: number;
  /** The round (or epoch) whose model is kept: the last, or the best on validation when asked for. */
  round: number;
  /** The final global model, scored on test only if this run is the one chosen on validation. */
  finalWeights: ModelWeights;
  /** The global model after every round (only when asked for: the study's per-round plot). */
  roundWeights: ModelWeights[];
}

export interface EvaluationSets {
  validation: ClassifierData;
  test: ClassifierData;
}

/** A client's images as the classifier's arrays. */
export function subset(data: ClassifierData, records: readonly number[], pixels = 784): ClassifierData {
  const x = new Float32Array(records.length * pixels);
  const y = new Uint8Array(records.length);
  records.forEach((record, i) => {
    x.set(data.x.subarray(record * pixels, (record + 1) * pixels), i * pixels);
    y[i] = data.y[record]!;
  });
  return { x, y, count: records.length };
}

/** Told after each round (federated) or epoch (centralized): how many of how many are done. */
export type OnStep = (done: number, total: number) => void;

/**
 * Keeps the model of the best round on validation (ties: the earlier), or only the last one: a
 * constant-rate SGD model swings by several points between epochs, so a last-iterate comparison
 * measures that swing as much as the method.
 */
class RoundKeeper {
  private best: { round: number; accuracy: number; weights: ModelWeights } | undefined;
  constructor(
    private readonly model: TfjsClassifier,
    private readonly validation: ClassifierData,
    private readonly bestOnValidation: boolean,
    private readonly rounds: number,
  ) {}

  async offer(round: number, weights: ModelWeights): Promise<void> {
    if (!this.bestOnValidation && round < this.rounds) return;
    this.model.setWeights(weights);
    const accuracy = (await this.model.evaluate(this.validation)).accuracy!;
    if (!this.best || accuracy > this.best.accuracy) this.best = { round, accuracy, weights };
  }

  result(roundWeights: ModelWeights[]): RunResult {
    const best = this.best!;
    return { validationAccuracy: best.accuracy, round: best.round, finalWeights: best.weights, roundWeights };
  }
}

export async function runFederated(clients: readonly ClassifierData[], strategyChoice: StrategyChoice, local: LocalSettings, rounds: number, validation: ClassifierData, seed: number, keepRounds: boolean, onStep: OnStep = () => {}, bestRound = false): Promise<RunResult> {
  const model = await TfjsClassifier.create(buildMlp, { optimizer: 'sgd', batchSize: local.batchSize, learningRate: local.learningRate });
  const strategy = createAggregation(strategyChoice.name, strategyChoice.params);
  const proximalMu = (strategy as { proximalMu?: number }).proximalMu ?? 0;
  let global: ModelWeights = model.getWeights();
  const roundWeights: ModelWeights[] = [];
  const keeper = new RoundKeeper(model, validation, bestRound, rounds);
  for (let round = 1; round <= rounds; round++) {
    const updates: ClientUpdate[] = [];
    for (const [c, data] of clients.entries()) {
      model.setWeights(global);
      await model.train(data, { epochs: local.localEpochs, seed: seed * 1_000_003 + round * 101 + c, globalWeights: global, proximalMu });
      updates.push({ weights: model.getWeights(), numSamples: data.count, client: `client-${c + 1}` });
    }
    global = strategy.aggregate(global, updates);
    if (keepRounds) roundWeights.push(global);
    await keeper.offer(round, global);
    onStep(round, rounds);
  }
  model.dispose();
  return keeper.result(roundWeights);
}

/** The centralized baseline: the same model, optimiser and epochs (rounds × local epochs) on the union. */
export async function runCentralized(union: ClassifierData, local: LocalSettings, epochs: number, validation: ClassifierData, seed: number, onStep: OnStep = () => {}, bestEpoch = false): Promise<RunResult> {
  const model = await TfjsClassifier.create(buildMlp, { optimizer: 'sgd', batchSize: local.batchSize, learningRate: local.learningRate });
  const scorer = await TfjsClassifier.create(buildMlp);
  const keeper = new RoundKeeper(scorer, validation, bestEpoch, epochs);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    await model.train(union, { epochs: 1, seed: seed * 1_000_003 + epoch * 101 });
    await keeper.offer(epoch, model.getWeights());
    onStep(epoch, epochs);
  }
  model.dispose();
  scorer.dispose();
  return keeper.result([]);
}

/** Test accuracy of each model: the chosen configurations only, once each. */
export async function testAccuracies(models: readonly ModelWeights[], test: ClassifierData): Promise<number[]> {
  const model = await TfjsClassifier.create(buildMlp);
  const accuracies: number[] = [];
  for (const weights of models) {
    model.setWeights(weights);
    accuracies.push((await model.evaluate(test)).accuracy!);
  }
  model.dispose();
  return accuracies;
}
