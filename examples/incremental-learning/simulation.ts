// The scenario's cycles in one process, on the training and validation sets only, so that the
// choices the system run depends on are made on validation (examples/README.md): which
// CrossEntropy threshold mines the edge model's mistakes, and which replay share, epochs and
// learning rate make a round's fine-tuning gain the most on night images without forgetting the
// daytime ones. The system run then uses what this picked; the test sets are not read here.
import { crossEntropyConfidence } from '../../src/lib/hem/index.ts';
import type { ClassifierData, TfjsClassifier } from '../../src/lib/backends/tfjs-classifier.ts';
import { subset } from '../federated-learning/simulation.ts';
import { CLASSES } from './model.ts';
import { planSitting } from './labelling-plan.ts';
import { withReplay, type FineTuneSettings } from './replay.ts';

/** Class probabilities (count × CLASSES) of a classifier's model. */
export async function probabilitiesOf(classifier: TfjsClassifier, data: ClassifierData): Promise<Float32Array> {
  const tf = await import('../../src/lib/backends/tfjs.ts').then((m) => m.initTensorflow());
  const out = new Float32Array(data.count * CLASSES);
  const chunk = 1000;
  for (let start = 0; start < data.count; start += chunk) {
    const size = Math.min(chunk, data.count - start);
    const x = tf.tensor2d(data.x.subarray((start * data.x.length) / data.count, ((start + size) * data.x.length) / data.count), [size, data.x.length / data.count]);
    const y = classifier.model.predict(x) as ReturnType<typeof tf.tensor>;
    out.set(await y.data(), start * CLASSES);
    tf.dispose([x, y]);
  }
  return out;
}

export function confidences(probabilities: Float32Array): Float64Array {
  const count = probabilities.length / CLASSES;
  return Float64Array.from({ length: count }, (_, i) => crossEntropyConfidence(Array.from(probabilities.subarray(i * CLASSES, (i + 1) * CLASSES))));
}

export function mistakes(probabilities: Float32Array, labels: ArrayLike<number>): boolean[] {
  return Array.from({ length: labels.length }, (_, i) => {
    const p = probabilities.subarray(i * CLASSES, (i + 1) * CLASSES);
    let best = 0;
    for (let c = 1; c < CLASSES; c++) if (p[c]! > p[best]!) best = c;
    return best !== labels[i];
  });
}

export interface ThresholdRow {
  threshold: number;
  /** Share of images flagged hard. */
  flagged: number;
  /** Share of flagged images the model got wrong. */
  precision: number;
  /** Share of the model's mistakes flagged. */
  recall: number;
  f1: number;
}

/** Flagging rows for thresholds 0.05 … 0.95: how well "confidence < t" finds the model's mistakes. */
export function thresholdTable(confidence: ArrayLike<number>, wrong: readonly boolean[]): ThresholdRow[] {
  const rows: ThresholdRow[] = [];
  const errors = wrong.filter(Boolean).length;
  for (let step = 1; step <= 19; step++) {
    const threshold = step / 20;
    let flagged = 0;
    let caught = 0;
    for (let i = 0; i < wrong.length; i++) {
      if (confidence[i]! >= threshold) continue;
      flagged++;
      if (wrong[i]) caught++;
    }
    const precision = flagged === 0 ? 0 : caught / flagged;
    const recall = errors === 0 ? 0 : caught / errors;
    rows.push({ threshold, flagged: flagged / wrong.length, precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall) });
  }
  return rows;
}

/** The threshold whose flags best match the mistakes (F1), chosen on validation. */
export function chooseThreshold(rows: readonly ThresholdRow[]): ThresholdRow {
  return rows.reduce((best, row) => (row.f1 > best.f1 ? row : best));
}

export interface SimulationInput {
  base: () => Promise<TfjsClassifier>;
  camera: ClassifierData;
  replayPool: ClassifierData;
  validation: { original: ClassifierData; drifted: ClassifierData };
  threshold: number;
  /** Hard examples labelled per cycle (the labeller's batch). */
  batch: number;
  trainProb: number;
  cycles: number;
  seed: number;
}

export interface SimulationResult {
  settings: FineTuneSettings;
  seed: number;
  /** Validation accuracy after each cycle (deployed model). */
  drifted: number[];
  original: number[];
  /** Original validation accuracy of each cycle's trained model, deployed or not (what forgetting costs). */
  trainedOriginal: number[];
  deployed: number;
}

/**
 * Runs `cycles` mine → label → fine-tune (with replay) → evaluate → deploy rounds as the system
 * does: the deployed model mines the camera frames and the labelling plan (labelling-plan.ts) takes
 * the sitting's; the first trainProb of a batch trains
 * (from the last trained model, deployed or not, as Sedna's LC hands it to the next round), the
 * rest decides (deployed when the new model beats the deployed one there without losing more than
 * `forgetting` on original validation).
 */
export async function simulateCycles(input: SimulationInput, settings: FineTuneSettings, forgetting: number): Promise<SimulationResult> {
  let deployed = await input.base();
  let lastTrained = deployed.getWeights();
  const baseOriginal = (await deployed.evaluate(input.validation.original))['accuracy']!;
  let cursor = 0;
  const labelled = new Set<number>();
  let deploys = 0;
  const drifted: number[] = [];
  const original: number[] = [];
  const trainedOriginal: number[] = [];
  const evalRows: number[] = [];
  for (let cycle = 1; cycle <= input.cycles; cycle++) {
    // The deployed model judges every frame; the labelling plan takes the sitting's frames.
    const confidence = confidences(await probabilitiesOf(deployed, input.camera));
    const sitting = planSitting(cursor, input.camera.count, input.batch, labelled, (frame) => (confidence[frame]! < input.threshold ? 'hard' : 'easy'));
    if (!sitting) throw new Error(`cycle ${cycle}: fewer than ${input.batch} unlabelled hard frames left in the recording`);
    cursor = sitting.nextCursor;
    for (const frame of sitting.frames) labelled.add(frame);
    const hard = sitting.frames;
    const trainCount = Math.floor(input.trainProb * hard.length);
    evalRows.push(...hard.slice(trainCount));
    const candidate = await input.base();
    candidate.setWeights(lastTrained);
    await candidate.train(withReplay(subset(input.camera, hard.slice(0, trainCount)), input.replayPool, settings.replayShare, input.seed + cycle), {
      epochs: settings.epochs,
      learningRate: settings.learningRate,
      batchSize: settings.batchSize,
      seed: input.seed + 100 + cycle,
    });
    lastTrained = candidate.getWeights();
    const evalSet = subset(input.camera, evalRows);
    const better = (await candidate.evaluate(evalSet))['accuracy']! > (await deployed.evaluate(evalSet))['accuracy']!;
    const candidateOriginal = (await candidate.evaluate(input.validation.original))['accuracy']!;
    trainedOriginal.push(candidateOriginal);
    const kept = candidateOriginal >= baseOriginal - forgetting;
    if (better && kept) {
      deployed.dispose();
      deployed = candidate;
      deploys++;
    } else candidate.dispose();
    drifted.push((await deployed.evaluate(input.validation.drifted))['accuracy']!);
    original.push((await deployed.evaluate(input.validation.original))['accuracy']!);
  }
  deployed.dispose();
  return { settings, seed: input.seed, drifted, original, trainedOriginal, deployed: deploys };
}
