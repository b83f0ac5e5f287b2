// `npm run study:joint-inference`: the joint-inference method measured over several seeds.
// For each seed both models are trained on the training split (epochs chosen on validation, as
// train-models.ts does), each HEM filter's parameter is chosen on validation by the example's rule,
// and the test set is scored once per seed: accuracy against share offloaded for every filter, the
// Random and oracle baselines at the chosen share, a per-class table and bootstrap 95% intervals.
// Writes .sedna/results/joint-inference-study.{json,svg} and the study section of
// examples/joint-inference/README.md.
//
// Full scale (50,000 train images, the committed models' epoch caps, 3 seeds):
//   node --import tsx examples/joint-inference/study.ts
// Reduced scale, e.g.: --train-images 10000 --cloud-max-epochs 6 --resamples 500
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { initTensorflow } from '../../src/lib/backends/tfjs.ts';
import { Progress } from '../../src/lib/progress.ts';
import { seededRandom, shuffledIndices } from '../../src/lib/random.ts';
import { holdOutValidation, VALIDATION_SEED } from '../shared/validation-split.ts';
import { lineChart } from '../shared/svg-plot.ts';
import { CLASS_NAMES, loadFashionMnist, selectRecords } from './fashion-mnist.ts';
import { chooseThreshold, gapRecovered, jointCorrectness, mean, TARGET, type OperatingPoint, type Predictions } from './operating-points.ts';
import { bootstrap, curve, filterHard, meanSd, oracleHard, perClass, randomHard, score, SWEEPS, type ClassRow, type CurvePoint } from './study-metrics.ts';
import { PLANS, predictInMemory, trainOnValidation } from './training.ts';
import { formatStudy, replaceSection, type StudyResults } from './study-report.ts';

interface Options {
  seeds: number[];
  trainImages: number;
  maxEpochs: { edge: number; cloud: number };
  resamples: number;
  out: string;
  readme: string;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string', default: '1,2,3' },
      'train-images': { type: 'string', default: '50000' },
      'edge-max-epochs': { type: 'string', default: String(PLANS.edge.maxEpochs) },
      'cloud-max-epochs': { type: 'string', default: String(PLANS.cloud.maxEpochs) },
      resamples: { type: 'string', default: '1000' },
      'results-dir': { type: 'string', default: '.sedna/results' },
      readme: { type: 'string', default: join(import.meta.dirname, 'README.md') },
    },
  });
  const seeds = values.seeds.split(',').map(Number);
  if (seeds.length < 1 || seeds.some((s) => !Number.isInteger(s))) throw new Error(`--seeds must be integers, got ${values.seeds}`);
  return {
    seeds,
    trainImages: Number(values['train-images']),
    maxEpochs: { edge: Number(values['edge-max-epochs']), cloud: Number(values['cloud-max-epochs']) },
    resamples: Number(values.resamples),
    out: resolve(values['results-dir']),
    readme: values.readme,
  };
}

/** A filter's parameter chosen on validation by the example's rule (as for CrossEntropy). */
function chooseOnValidation(method: string, validation: Predictions, edge: number, cloud: number): OperatingPoint {
  const s = score(validation);
  const rows = curve(method, validation, s).map((p) => ({ threshold: p.parameter, offloaded: p.offloaded, jointAccuracy: p.accuracy, recoveredGap: gapRecovered(edge, cloud, p.accuracy) }));
  return chooseThreshold(rows);
}

interface SeedResult {
  seed: number;
  epochs: { edge: number; cloud: number };
  validation: { edge: number; cloud: number };
  test: { edge: number; cloud: number };
  methods: Record<string, { parameter: number; validation: { offloaded: number; gapRecovered: number }; test: { offloaded: number; jointAccuracy: number; gapRecovered: number } }>;
  baselinesAtCrossEntropyShare: { random: { jointAccuracy: number; gapRecovered: number }; oracle: { jointAccuracy: number; gapRecovered: number } };
  bootstrap95: ReturnType<typeof bootstrap>;
  perClass: ClassRow[];
  curves: Record<string, CurvePoint[]>;
}

/**
 * The study's progress line: training epochs done of the most the seeds can take (both models' caps);
 * a model stopped early by patience counts its remaining epochs as done.
 */
class EpochProgress {
  private done = 0;
  readonly total: number;

  constructor(private readonly bar: Progress, private readonly options: Options) {
    this.total = options.seeds.length * (options.maxEpochs.edge + options.maxEpochs.cloud);
  }

  /** The log trainOnValidation writes to after every epoch of `model` of `seed`. */
  epochLog(seed: number, model: 'edge' | 'cloud'): (line: string) => void {
    let epoch = 0;
    return (line) => {
      epoch++;
      this.done++;
      this.bar.log(line);
      this.bar.update(`seed ${seed}: ${model} epoch ${epoch}/${this.options.maxEpochs[model]}; epochs`, this.done, this.total);
    };
  }

  /** After a model: whatever epochs early stopping skipped. */
  skip(epochs: number): void {
    this.done += epochs;
  }

  log(line: string): void {
    this.bar.log(line);
  }
}

async function trainBoth(tf: Awaited<ReturnType<typeof initTensorflow>>, seed: number, options: Options, sets: Awaited<ReturnType<typeof loadSets>>, progress: EpochProgress) {
  const trained = [];
  for (const model of ['edge', 'cloud'] as const) {
    const plan = { ...PLANS[model], maxEpochs: options.maxEpochs[model] };
    const result = await trainOnValidation(tf, plan, sets.train, sets.validation, seed, progress.epochLog(seed, model));
    progress.skip(plan.maxEpochs - result.history.length);
    trained.push(result);
  }
  return { edge: trained[0]!, cloud: trained[1]! };
}

async function runSeed(seed: number, options: Options, sets: Awaited<ReturnType<typeof loadSets>>, progress: EpochProgress): Promise<SeedResult> {
  const tf = await initTensorflow('wasm');
  const { edge, cloud } = await trainBoth(tf, seed, options, sets, progress);
  const predict = async (data: typeof sets.test): Promise<Predictions> => ({
    edge: await predictInMemory(tf, edge.model, data, PLANS.edge.inputShape),
    cloud: await predictInMemory(tf, cloud.model, data, PLANS.cloud.inputShape),
    labels: data.labels,
  });
  const validation = await predict(sets.validation);
  const test = await predict(sets.test);
  edge.model.dispose();
  cloud.model.dispose();
  const vs = score(validation);
  const ts = score(test);
  const acc = { validation: { edge: mean(vs.edgeRight), cloud: mean(vs.cloudRight) }, test: { edge: mean(ts.edgeRight), cloud: mean(ts.cloudRight) } };

  const methods: SeedResult['methods'] = {};
  for (const method of Object.keys(SWEEPS)) {
    const chosen = chooseOnValidation(method, validation, acc.validation.edge, acc.validation.cloud);
    const hard = filterHard(method, chosen.threshold, test);
    const jointAccuracy = mean(jointCorrectness(ts.edgeRight, ts.cloudRight, hard));
    methods[method] = {
      parameter: chosen.threshold,
      validation: { offloaded: chosen.offloaded, gapRecovered: chosen.recoveredGap },
      test: { offloaded: mean(hard), jointAccuracy, gapRecovered: gapRecovered(acc.test.edge, acc.test.cloud, jointAccuracy) },
    };
  }
  const ceHard = filterHard('CrossEntropy', methods['CrossEntropy']!.parameter, test);
  const share = mean(ceHard);
  const at = (hard: Uint8Array) => {
    const jointAccuracy = mean(jointCorrectness(ts.edgeRight, ts.cloudRight, hard));
    return { jointAccuracy, gapRecovered: gapRecovered(acc.test.edge, acc.test.cloud, jointAccuracy) };
  };
  const curves: Record<string, CurvePoint[]> = Object.fromEntries(Object.keys(SWEEPS).map((m) => [m, curve(m, test, ts)]));
  const shares = Array.from({ length: 21 }, (_, i) => i / 20);
  curves['Random'] = shares.map((s) => ({ parameter: s, offloaded: s, accuracy: at(randomHard(s, ts.labels.length, seededRandom(seed * 1000 + Math.round(s * 100)))).jointAccuracy }));
  curves['Oracle'] = shares.map((s) => ({ parameter: s, offloaded: s, accuracy: at(oracleHard(s, ts)).jointAccuracy }));
  const result: SeedResult = {
    seed,
    epochs: { edge: edge.epochs, cloud: cloud.epochs },
    ...acc,
    methods,
    baselinesAtCrossEntropyShare: { random: at(randomHard(share, ts.labels.length, seededRandom(seed))), oracle: at(oracleHard(share, ts)) },
    bootstrap95: bootstrap(ts, ceHard, options.resamples, seed),
    perClass: perClass(ts, ceHard),
    curves,
  };
  const ce = methods['CrossEntropy']!;
  progress.log(`seed ${seed}: edge ${acc.test.edge.toFixed(4)} cloud ${acc.test.cloud.toFixed(4)}; CrossEntropy ${ce.parameter} (validation) → test ${(ce.test.offloaded * 100).toFixed(1)}% offloaded, ${(ce.test.gapRecovered * 100).toFixed(1)}% of the gap`);
  return result;
}

async function loadSets(trainImages: number) {
  const [all, test] = await Promise.all([loadFashionMnist('train'), loadFashionMnist('test')]);
  const records = holdOutValidation(all.count);
  if (!(trainImages > 0 && trainImages <= records.train.length)) throw new Error(`--train-images must be in 1..${records.train.length}`);
  // A reduced run trains on a seeded subset of the training split; validation and test stay whole.
  const order = shuffledIndices(records.train.length, seededRandom(VALIDATION_SEED + 1));
  const subset = trainImages === records.train.length ? records.train : order.slice(0, trainImages).map((i) => records.train[i]!).sort();
  return { train: selectRecords(all, subset), validation: selectRecords(all, records.validation), test };
}

function summarize(seeds: SeedResult[], options: Options, seconds: number): StudyResults {
  const ms = (f: (s: SeedResult) => number) => meanSd(seeds.map(f));
  const methods = Object.fromEntries(
    Object.keys(SWEEPS).map((m) => [m, { offloaded: ms((s) => s.methods[m]!.test.offloaded), jointAccuracy: ms((s) => s.methods[m]!.test.jointAccuracy), gapRecovered: ms((s) => s.methods[m]!.test.gapRecovered), parameter: seeds.map((s) => s.methods[m]!.parameter) }]),
  );
  const ce = methods['CrossEntropy']!;
  const perClassMean = Array.from({ length: 10 }, (_, c) => ({
    class: CLASS_NAMES[c]!,
    edge: mean(seeds.map((s) => s.perClass[c]!.edge)),
    cloud: mean(seeds.map((s) => s.perClass[c]!.cloud)),
    joint: mean(seeds.map((s) => s.perClass[c]!.joint)),
    offloaded: mean(seeds.map((s) => s.perClass[c]!.offloaded)),
  }));
  return {
    scale: { trainImages: options.trainImages, validationImages: 10_000, validationSeed: VALIDATION_SEED, testImages: 10_000, seeds: options.seeds, maxEpochs: options.maxEpochs, bootstrapResamples: options.resamples, fullScale: options.trainImages === 50_000 && options.maxEpochs.cloud >= PLANS.cloud.maxEpochs },
    command: `node --import tsx examples/joint-inference/study.ts --seeds ${options.seeds.join(',')} --train-images ${options.trainImages} --edge-max-epochs ${options.maxEpochs.edge} --cloud-max-epochs ${options.maxEpochs.cloud} --resamples ${options.resamples}`,
    target: TARGET,
    thresholdSelectedOn: 'validation',
    summary: {
      edgeAccuracy: ms((s) => s.test.edge),
      cloudAccuracy: ms((s) => s.test.cloud),
      methods,
      randomAtSameShare: { jointAccuracy: ms((s) => s.baselinesAtCrossEntropyShare.random.jointAccuracy), gapRecovered: ms((s) => s.baselinesAtCrossEntropyShare.random.gapRecovered) },
      oracleAtSameShare: { jointAccuracy: ms((s) => s.baselinesAtCrossEntropyShare.oracle.jointAccuracy), gapRecovered: ms((s) => s.baselinesAtCrossEntropyShare.oracle.gapRecovered) },
      targetMet: ce.gapRecovered.mean >= TARGET.minRecoveredGap && ce.offloaded.mean <= TARGET.maxOffloaded,
      perClass: perClassMean,
    },
    seeds,
    seconds,
  };
}

function plot(results: StudyResults): string {
  const methods = ['CrossEntropy', 'Threshold', 'Random', 'Oracle'];
  const series = methods.map((m) => {
    const perSeed = results.seeds.map((s) => s.curves[m]!);
    const points = perSeed[0]!.map((_, i) => [mean(perSeed.map((c) => c[i]!.offloaded)), mean(perSeed.map((c) => c[i]!.accuracy))] as const).sort((a, b) => a[0] - b[0]);
    return { name: m === 'Threshold' ? 'Threshold (top-1 p)' : m, points, dashed: m === 'Random' || m === 'Oracle' };
  });
  const low = Math.floor((results.summary.edgeAccuracy.mean - 0.02) * 50) / 50;
  return lineChart(series, {
    title: `Joint inference on Fashion-MNIST test, mean of ${results.seeds.length} seeds`,
    xLabel: 'share of images offloaded to the cloud',
    yLabel: 'joint accuracy',
    x: [0, 1],
    y: [low, 1],
  });
}

async function main(): Promise<void> {
  const options = parseOptions();
  const started = Date.now();
  const sets = await loadSets(options.trainImages);
  console.log(`joint-inference study: ${sets.train.count} train / ${sets.validation.count} validation / ${sets.test.count} test images, seeds ${options.seeds.join(',')}`);
  const seeds: SeedResult[] = [];
  const bar = new Progress(process.stdout);
  const progress = new EpochProgress(bar, options);
  for (const seed of options.seeds) seeds.push(await runSeed(seed, options, sets, progress));
  bar.finish();
  const results = summarize(seeds, options, Math.round((Date.now() - started) / 1000));
  mkdirSync(options.out, { recursive: true });
  writeFileSync(join(options.out, 'joint-inference-study.json'), `${JSON.stringify(results, null, 2)}\n`);
  const svg = plot(results);
  writeFileSync(join(options.out, 'joint-inference-study.svg'), svg);
  writeFileSync(join(dirname(options.readme), 'study.svg'), svg);
  const table = formatStudy(results);
  writeFileSync(options.readme, replaceSection(readFileSync(options.readme, 'utf8'), table));
  console.log(table);
  console.log(`wrote ${join(options.out, 'joint-inference-study.json')}, the plot and the README section`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) await main();
