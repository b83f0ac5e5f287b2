// Trains the incremental-learning example's base edge model and makes every choice the scenario
// depends on, on validation only (examples/README.md); writes to --out (default models/):
//   base/model.json + weights.bin   the 784-64-10 MLP trained on the 40,000 original images, its
//                                   epochs chosen on original validation (best epoch kept)
//   manifest.json                   the splits, the drift and how much it costs on validation, the
//                                   CrossEntropy threshold (F1 of flagging the model's mistakes on
//                                   night validation) and the fine-tuning settings (replay share,
//                                   epochs, learning rate) chosen by simulating the cycles in process
// The test sets are not read: the scenario scores them once, at its end.
// Run: nice -n 19 node --import tsx examples/incremental-learning/train-base-model.ts [--out DIR] [--seed N] [--reuse-base]
// (--reuse-base keeps the base model already in --out, with its base-training.json, and redoes the choices.)
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initTensorflow, type Tf } from '../../src/lib/backends/tfjs.ts';
import { saveLayersModel } from '../../src/lib/backends/tfjs-file-io.ts';
import { TfjsClassifier } from '../../src/lib/backends/tfjs-classifier.ts';
import { PIXELS } from '../joint-inference/fashion-mnist.ts';
import { trainOnValidation } from '../joint-inference/training.ts';
import { VALIDATION_SEED } from '../shared/validation-split.ts';
import { asClassifierData, loadScenarioData, type ScenarioData, SPLIT_SEED } from './data.ts';
import { NIGHT_CAMERA } from './drift.ts';
import { ARCHITECTURE, buildEdgeMlp } from './model.ts';
import { type FineTuneSettings } from './replay.ts';
import { meanSd } from '../shared/stats.ts';
import { chooseThreshold, confidences, mistakes, probabilitiesOf, simulateCycles, type SimulationResult, thresholdTable } from './simulation.ts';
import { CYCLES, FORGETTING_ALLOWED, LABELLING_BATCH, TRAIN_PROB } from './scenario-settings.ts';

export const DEFAULT_SEED = 4242;
/** What the grid tries (each run simulates CYCLES cycles). */
// Replay 0 (no replay) was tried in an earlier sweep: every seed forgot 6-11 points of original
// validation in both cycles, so the guard deployed nothing; it is left out to keep this within a
// shared machine's budget. 3 epochs gained less at night than 8 in a first single-seed sweep.
// The grid: replay share × epochs at lr 0.0005 (chosen over 0.002 in that first sweep: more
// forgetting at 0.002), plus lr 0.001 at the highest replay share, which forgets least.
const GRID: readonly Omit<FineTuneSettings, 'batchSize'>[] = [
  ...[0.5, 0.65, 0.8].flatMap((replayShare) => [5, 8].map((epochs) => ({ replayShare, epochs, learningRate: 0.0005 }))),
  { replayShare: 0.8, epochs: 8, learningRate: 0.001 },
];
/** Seeds of the simulated cycles (replay draws and batch orders) per setting. */
const SIMULATION_SEEDS = 3;
/**
 * Room kept below the guard: the chosen setting's every trained model, in every seed and cycle,
 * must keep original validation this much above the guard's floor (base − FORGETTING_ALLOWED), so
 * the system run, whose train worker draws its own replay and batch order, also passes it.
 */
const GUARD_MARGIN = 0.005;
const BATCH_SIZE = 32;

const round = (x: number): number => Math.round(x * 10000) / 10000;

export interface SettingSummary {
  settings: FineTuneSettings;
  runs: SimulationResult[];
  /** Mean over seeds of the deployed model's night validation accuracy after the last cycle. */
  night: number;
  /** The lowest original validation accuracy any seed's deployed model ended with. */
  worstOriginal: number;
  /** The lowest original validation accuracy of any trained model (deployed or not), any seed and cycle. */
  worstTrainedOriginal: number;
  /** Whether every seed deployed in every cycle. */
  alwaysDeployed: boolean;
}

/**
 * The chosen setting: the best mean night validation accuracy among the robust ones, whose every
 * seed deployed in every cycle and whose every trained model kept original validation at least
 * GUARD_MARGIN above the guard's floor; failing that, among those whose every seed kept original
 * validation within FORGETTING_ALLOWED; failing that, among all.
 */
function best(summaries: readonly SettingSummary[], baseOriginal: number): SettingSummary {
  const floor = baseOriginal - FORGETTING_ALLOWED;
  const robust = summaries.filter((s) => s.alwaysDeployed && s.worstTrainedOriginal >= floor + GUARD_MARGIN);
  const keeps = summaries.filter((s) => s.worstOriginal >= floor);
  const pool = robust.length > 0 ? robust : keeps.length > 0 ? keeps : summaries;
  return pool.reduce((a, b) => (b.night > a.night ? b : a));
}

function summarise(settings: FineTuneSettings, runs: SimulationResult[]): SettingSummary {
  return {
    settings,
    runs,
    night: meanSd(runs.map((r) => r.drifted.at(-1)!)).mean,
    worstOriginal: Math.min(...runs.map((r) => r.original.at(-1)!)),
    worstTrainedOriginal: Math.min(...runs.flatMap((r) => r.trainedOriginal)),
    alwaysDeployed: runs.every((r) => r.deployed === CYCLES),
  };
}

interface BaseRecord {
  epochs: number;
  history: number[];
}

/** Trains the base model on the original images, its epochs chosen on original validation, and saves it with its record. */
async function trainBase(tf: Tf, data: ScenarioData, baseDir: string, seed: number): Promise<BaseRecord> {
  const plan = { name: 'edge' as const, architecture: ARCHITECTURE, build: buildEdgeMlp, inputShape: [PIXELS], maxEpochs: 12, patience: 2, batchSize: 64, learningRate: 0.001 };
  const trained = await trainOnValidation(tf, plan, data.original, data.validation.original, seed, console.log);
  await saveLayersModel(trained.model, baseDir);
  trained.model.dispose();
  const record = { epochs: trained.epochs, history: trained.history };
  await writeFile(join(baseDir, '..', BASE_RECORD), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

async function readBaseRecord(baseDir: string): Promise<BaseRecord> {
  return JSON.parse(await readFile(join(baseDir, '..', BASE_RECORD), 'utf8')) as BaseRecord;
}

/** Beside the model folder, so the folder the LC copies holds only the model. */
const BASE_RECORD = 'base-training.json';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' }, seed: { type: 'string' }, 'reuse-base': { type: 'boolean', default: false } } });
  const out = values.out ?? join(import.meta.dirname, 'models');
  const seed = Number(values.seed ?? DEFAULT_SEED);
  const tf = await initTensorflow('wasm');
  const data = await loadScenarioData();
  console.log(`original ${data.original.count} / camera ${data.camera.count} / validation ${data.validation.original.count}+${data.validation.drifted.count} (original+night)`);

  const baseDir = join(out, 'base');
  const record = values['reuse-base'] ? await readBaseRecord(baseDir) : await trainBase(tf, data, baseDir, seed);
  const loadBase = (): Promise<TfjsClassifier> => TfjsClassifier.load(baseDir);

  const base = await loadBase();
  const validation = { original: asClassifierData(data.validation.original), drifted: asClassifierData(data.validation.drifted) };
  const baseOriginal = (await base.evaluate(validation.original))['accuracy']!;
  const baseDrifted = (await base.evaluate(validation.drifted))['accuracy']!;
  console.log(`base model on validation: original ${(baseOriginal * 100).toFixed(2)}%, night camera ${(baseDrifted * 100).toFixed(2)}% (drop ${((baseOriginal - baseDrifted) * 100).toFixed(1)} points)`);

  const probabilities = await probabilitiesOf(base, validation.drifted);
  const table = thresholdTable(confidences(probabilities), mistakes(probabilities, validation.drifted.y));
  const threshold = chooseThreshold(table);
  base.dispose();
  console.log(`threshold_cross_entropy chosen on night validation: ${threshold.threshold} (flags ${(threshold.flagged * 100).toFixed(1)}%, precision ${threshold.precision.toFixed(3)}, recall ${threshold.recall.toFixed(3)})`);

  const input = { base: loadBase, camera: asClassifierData(data.camera), replayPool: asClassifierData(data.original), validation, threshold: threshold.threshold, batch: LABELLING_BATCH, trainProb: TRAIN_PROB, cycles: CYCLES, seed };
  const summaries: SettingSummary[] = [];
  for (const setting of GRID) {
    const settings: FineTuneSettings = { ...setting, batchSize: BATCH_SIZE };
    const runs: SimulationResult[] = [];
    for (let s = 0; s < SIMULATION_SEEDS; s++) {
      const started = Date.now();
      const run = await simulateCycles({ ...input, seed: seed + 7919 * s }, settings, FORGETTING_ALLOWED);
      runs.push(run);
      const pct = (xs: number[]): string => xs.map((a) => (a * 100).toFixed(2)).join(' → ');
      console.log(`replay ${settings.replayShare} epochs ${settings.epochs} lr ${settings.learningRate} seed ${run.seed}: night ${pct(run.drifted)}, original ${pct(run.original)} (trained: ${pct(run.trainedOriginal)}), deployed ${run.deployed}/${CYCLES} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
    summaries.push(summarise(settings, runs));
  }
  const chosen = best(summaries, baseOriginal);
  console.log(`chosen on validation: ${JSON.stringify(chosen.settings)} (night ${(chosen.night * 100).toFixed(2)}% mean over ${SIMULATION_SEEDS} seeds, worst original ${(chosen.worstOriginal * 100).toFixed(2)}%)`);

  const manifest = {
    command: `nice -n 19 node --import tsx examples/incremental-learning/train-base-model.ts --seed ${seed}`,
    tfjsBackend: tf.getBackend(),
    seed,
    splits: {
      source: 'Fashion-MNIST (FASHION_MNIST_DIR, Debian dataset-fashion-mnist, or the download cache)',
      validationSeed: VALIDATION_SEED,
      splitSeed: SPLIT_SEED,
      original: data.original.count,
      camera: data.camera.count,
      validation: { original: validation.original.count, night: validation.drifted.count },
      test: { original: data.test.original.count, night: data.test.drifted.count },
    },
    drift: { name: 'night camera (low light, shot and read noise, dark signal, limited auto-gain, 8-bit)', ...NIGHT_CAMERA },
    base: { path: 'base/model.json', format: 'tfjs', architecture: ARCHITECTURE, inputShape: [null, PIXELS], epochsChosenOnValidation: record.epochs, validationHistory: record.history.map(round), parameters: 784 * 64 + 64 + 64 * 10 + 10 },
    validation: { original: round(baseOriginal), night: round(baseDrifted), drop: round(baseOriginal - baseDrifted) },
    hardExampleMining: { name: 'CrossEntropy', selectedOn: 'validation (night)', rule: 'threshold with the best F1 of flagging the base model\'s mistakes', table: table.map((r) => ({ ...r, flagged: round(r.flagged), precision: round(r.precision), recall: round(r.recall), f1: round(r.f1) })), threshold: threshold.threshold },
    fineTuning: {
      selectedOn: 'validation',
      rule: `highest mean night validation accuracy after ${CYCLES} simulated cycles (${SIMULATION_SEEDS} seeds) among settings whose every seed deployed in every cycle and whose every trained model kept original validation ${GUARD_MARGIN} above the guard (base − ${FORGETTING_ALLOWED})`,
      labellingPlan: 'labelling-plan.ts: each sitting takes the next hard frames in frame order from its cursor',
      guardMargin: GUARD_MARGIN,
      seeds: SIMULATION_SEEDS,
      cycles: CYCLES,
      labellingBatch: LABELLING_BATCH,
      trainProb: TRAIN_PROB,
      tried: summaries.map((s) => ({
        ...s.settings,
        nightMean: round(s.night),
        nightSd: round(meanSd(s.runs.map((r) => r.drifted.at(-1)!)).sd),
        worstOriginal: round(s.worstOriginal),
        worstTrainedOriginal: round(s.worstTrainedOriginal),
        alwaysDeployed: s.alwaysDeployed,
        runs: s.runs.map((r) => ({ seed: r.seed, night: r.drifted.map(round), original: r.original.map(round), trainedOriginal: r.trainedOriginal.map(round), deployed: r.deployed })),
      })),
      chosen: chosen.settings,
    },
  };
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`wrote ${values['reuse-base'] ? '' : `${baseDir}/{model.json,weights.bin} and `}${join(out, 'manifest.json')}`);
}

await main();
