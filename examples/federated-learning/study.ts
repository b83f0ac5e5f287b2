// `npm run study:federated-learning`: federated against centralized training on Fashion-MNIST, in
// one process with the SDK's own aggregation code (simulation.ts). For every α of the per-class
// Dirichlet split (or Hsu's, --scheme hsu) and every split seed, each strategy's client learning
// rate is chosen on validation from the same grid the centralized baseline is tuned on, with the
// same epochs (rounds × local epochs) and constant schedule; test is scored for the chosen ones.
// Writes .sedna/results/federated-learning-study.{json,svg} and the study section of the README.
//
// Full scale: node --import tsx examples/federated-learning/study.ts --train-images 50000
// (the default flags are the reduced scale this shared machine could run: 5,000 training images,
// 20 rounds, batch 128 for throughput; the README section says what ran). Each (α, seed) can run in
// its own process (--alphas 0.5 --seeds 1 --results-dir dir1, …) and be combined with --merge.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ClassifierData } from 'sedna/worker';
import { seededRandom, shuffledIndices } from '../../src/lib/random.ts';
import { holdOutValidation, VALIDATION_SEED } from '../shared/validation-split.ts';
import { lineChart } from '../shared/svg-plot.ts';
import { meanSd } from '../shared/stats.ts';
import { loadFashionMnist } from '../joint-inference/fashion-mnist.ts';
import { Progress } from '../../src/lib/progress.ts';
import { runCentralized, runFederated, subset, testAccuracies, type EvaluationSets, type LocalSettings, type OnStep, type StrategyChoice } from './simulation.ts';
import { dirichletSplit, type SplitScheme } from './split.ts';
import { formatFlStudy, replaceFlSection, type FlStudyResults, type CellResult } from './study-report.ts';

export const STRATEGIES: StrategyChoice[] = [
  { name: 'FedAvg', params: {} },
  { name: 'FedAvgM', params: { eta: '1', beta: '0.5' } },
  { name: 'FedProx', params: { mu: '0.01' } },
  { name: 'FedAdam', params: { eta: '0.01' } },
];

interface Options {
  alphas: number[];
  seeds: number[];
  clients: number;
  trainImages: number;
  rounds: number;
  learningRates: number[];
  local: Omit<LocalSettings, 'learningRate'>;
  scheme: SplitScheme;
  curveAlpha: number;
  /** Validation images the learning rate is chosen on (a seeded subset of the 10,000 when fewer). */
  validationImages: number;
  out: string;
  readme: string;
  /** Result files of runs over other seeds, written with --results-dir, to combine instead of running. */
  merge: string[];
  /** Keep each run's best round (epoch, for centralized) on validation instead of its last. */
  bestRound: boolean;
  /** Names a study of its own scale (its own result file, plot and README section); '' for the default one. */
  part: string;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      alphas: { type: 'string', default: '0.1,0.5,1,inf' },
      seeds: { type: 'string', default: '1,2,3' },
      clients: { type: 'string', default: '10' },
      'train-images': { type: 'string', default: '5000' },
      rounds: { type: 'string', default: '20' },
      'learning-rates': { type: 'string', default: '0.1,0.3' },
      'batch-size': { type: 'string', default: '128' },
      'local-epochs': { type: 'string', default: '1' },
      scheme: { type: 'string', default: 'per-class-dirichlet' },
      'curve-alpha': { type: 'string', default: '0.5' },
      'validation-images': { type: 'string', default: '10000' },
      'results-dir': { type: 'string', default: '.sedna/results' },
      readme: { type: 'string', default: join(import.meta.dirname, 'README.md') },
      merge: { type: 'string', default: '' },
      part: { type: 'string', default: '' },
      'best-round': { type: 'boolean', default: false },
    },
  });
  const list = (text: string) => text.split(',').map((v) => (v.trim() === 'inf' ? Infinity : Number(v)));
  if (values.scheme !== 'per-class-dirichlet' && values.scheme !== 'hsu') throw new Error(`--scheme must be per-class-dirichlet or hsu, got ${values.scheme}`);
  if (!/^[a-z0-9.-]*$/.test(values.part)) throw new Error(`--part must be lower-case letters, digits, dots and dashes, got ${JSON.stringify(values.part)}`);
  return {
    alphas: list(values.alphas),
    seeds: list(values.seeds),
    clients: Number(values.clients),
    trainImages: Number(values['train-images']),
    rounds: Number(values.rounds),
    learningRates: list(values['learning-rates']),
    local: { batchSize: Number(values['batch-size']), localEpochs: Number(values['local-epochs']) },
    scheme: values.scheme,
    curveAlpha: values['curve-alpha'] === 'inf' ? Infinity : Number(values['curve-alpha']),
    validationImages: Number(values['validation-images']),
    out: resolve(values['results-dir']),
    readme: values.readme,
    merge: values.merge === '' ? [] : values.merge.split(',').map((f) => resolve(f)),
    part: values.part,
    bestRound: values['best-round'],
  };
}

async function loadSets(validationImages: number): Promise<{ all: ClassifierData; train: Int32Array; sets: EvaluationSets }> {
  const [train, test] = await Promise.all([loadFashionMnist('train'), loadFashionMnist('test')]);
  const all = { x: train.images, y: train.labels, count: train.count };
  const records = holdOutValidation(train.count);
  const order = shuffledIndices(records.validation.length, seededRandom(VALIDATION_SEED + 2));
  const validation = Array.from(order.subarray(0, Math.min(validationImages, records.validation.length)), (i) => records.validation[i]!);
  return { all, train: records.train, sets: { validation: subset(all, validation), test: { x: test.images, y: test.labels, count: test.count } } };
}

/** The learning rate with the best validation accuracy, and its run. */
async function tuned<T extends { validationAccuracy: number }>(rates: number[], run: (lr: number) => Promise<T>): Promise<{ learningRate: number; result: T; tried: { learningRate: number; validationAccuracy: number }[] }> {
  const tried: { learningRate: number; result: T }[] = [];
  for (const lr of rates) tried.push({ learningRate: lr, result: await run(lr) });
  const best = [...tried].sort((a, b) => b.result.validationAccuracy - a.result.validationAccuracy)[0]!;
  return { learningRate: best.learningRate, result: best.result, tried: tried.map((t) => ({ learningRate: t.learningRate, validationAccuracy: t.result.validationAccuracy })) };
}

/** The study's runs, each a training of `rounds` rounds (or epochs): what the progress line counts. */
function runsOf(options: Options): number {
  return options.seeds.length * options.learningRates.length * (1 + options.alphas.length * STRATEGIES.length);
}

async function main(): Promise<void> {
  const options = parseOptions();
  if (options.merge.length > 0) return merge(options);
  const started = Date.now();
  const progress = new Progress(process.stdout);
  const totalRuns = runsOf(options);
  let runsDone = 0;
  // A run's rounds move the line; the bar counts runs (each lr of each cell is one).
  const step = (what: string): OnStep => (done, total) => {
    if (done === total) runsDone++;
    progress.update(`${what}: ${done === total ? 'done' : `round ${done + 1}/${total}`}; runs`, runsDone, totalRuns);
  };
  const log = (line: string): void => progress.log(line);
  const { all, train, sets } = await loadSets(options.validationImages);
  const clientNames = Array.from({ length: options.clients }, (_, i) => `client-${i + 1}`);
  const cells: CellResult[] = [];
  const centralized: FlStudyResults['centralized'] = [];
  const curves: FlStudyResults['curves'] = [];
  // After every cell, the seeds done so far, and the cells of the seed under way apart (a long study
  // that is stopped keeps its figures; the table is over completed seeds only).
  const checkpoint = (seedsDone: number): void => {
    const seeds = new Set(options.seeds.slice(0, seedsDone));
    const done = { ...options, seeds: [...seeds] };
    const mine = <T extends { seed: number }>(rows: T[]): T[] => rows.filter((r) => seeds.has(r.seed));
    const summary = summarize(done, mine(cells), mine(centralized), mine(curves), Math.round((Date.now() - started) / 1000));
    const pendingCells = cells.filter((c) => !seeds.has(c.seed));
    mkdirSync(options.out, { recursive: true });
    writeFileSync(join(options.out, `${studyFileName(options.part)}.json`), `${JSON.stringify({ ...summary, partial: seedsDone < options.seeds.length, ...(pendingCells.length > 0 ? { pendingCells } : {}) }, null, 2)}\n`);
  };
  for (const seed of options.seeds) {
    // The union is the same for every α of a seed (the same seeded subset), so one baseline per seed.
    const first = dirichletSplit(all.y, { nodes: clientNames, alpha: Infinity, records: train, total: options.trainImages, seed });
    const union = subset(all, first.flatMap((s) => s.records));
    const base = await tuned(options.learningRates, (lr) => runCentralized(union, { ...options.local, learningRate: lr }, options.rounds * options.local.localEpochs, sets.validation, seed, step(`seed ${seed} centralized lr ${lr}`), options.bestRound));
    const [baseTest] = await testAccuracies([base.result.finalWeights], sets.test);
    centralized.push({ seed, learningRate: base.learningRate, epoch: base.result.round, validationAccuracy: base.result.validationAccuracy, testAccuracy: baseTest!, tried: base.tried });
    log(`seed ${seed}: centralized lr ${base.learningRate} validation ${base.result.validationAccuracy.toFixed(4)} test ${baseTest!.toFixed(4)}`);
    for (const alpha of options.alphas) {
      const shards = dirichletSplit(all.y, { nodes: clientNames, alpha, records: train, total: options.trainImages, seed, scheme: options.scheme, minPerNode: 10 });
      const clients = shards.map((s) => subset(all, s.records));
      for (const strategy of STRATEGIES) {
        const perRound = alpha === options.curveAlpha;
        const best = await tuned(options.learningRates, (lr) => runFederated(clients, strategy, { ...options.local, learningRate: lr }, options.rounds, sets.validation, seed, perRound, step(`seed ${seed} α ${alpha} ${strategy.name} lr ${lr}`), options.bestRound));
        // Test is scored for the configuration chosen on validation only.
        const [testAccuracy] = await testAccuracies([best.result.finalWeights], sets.test);
        const gap = baseTest! - testAccuracy!;
        cells.push({ alpha, seed, strategy: strategy.name, learningRate: best.learningRate, round: best.result.round, validationAccuracy: best.result.validationAccuracy, testAccuracy: testAccuracy!, gap, tried: best.tried });
        if (perRound) curves.push({ alpha, seed, strategy: strategy.name, testPerRound: await testAccuracies(best.result.roundWeights, sets.test) });
        checkpoint(centralized.length - 1);
        log(`  α ${alpha} ${strategy.name}: lr ${best.learningRate} validation ${best.result.validationAccuracy.toFixed(4)} test ${testAccuracy!.toFixed(4)} gap ${(gap * 100).toFixed(2)} pts`);
      }
    }
    checkpoint(centralized.length);
  }
  progress.finish();
  writeOutputs(options, summarize(options, cells, centralized, curves, Math.round((Date.now() - started) / 1000)));
}

/** The result file, the plot and the README section. */
function writeOutputs(options: Options, results: FlStudyResults): void {
  mkdirSync(options.out, { recursive: true });
  writeFileSync(join(options.out, `${studyFileName(options.part)}.json`), `${JSON.stringify(results, null, 2)}\n`);
  // Per-round curves are kept at --curve-alpha only; a run without that α has no plot.
  const hasCurves = results.curves.length > 0;
  if (hasCurves) {
    const svg = plot(results, options);
    writeFileSync(join(options.out, `${studyFileName(options.part)}.svg`), svg);
    writeFileSync(join(dirname(options.readme), plotFileName(options.part)), svg);
  }
  const section = formatFlStudy(results, hasCurves ? plotFileName(options.part) : null);
  writeFileSync(options.readme, replaceFlSection(readFileSync(options.readme, 'utf8'), section, options.part));
  console.log(section);
}

/** The result file's name (without extension): one per part, so studies of different scales coexist. */
function studyFileName(part: string): string {
  return part === '' ? 'federated-learning-study' : `federated-learning-study-${part}`;
}

/** The plot beside the README. */
function plotFileName(part: string): string {
  return part === '' ? 'study.svg' : `study-${part}.svg`;
}

/** The settings that must agree for result files to be combined (all but the seeds and the α). */
const SAME_SCALE = ['trainImages', 'validationImages', 'validationSeed', 'clients', 'rounds', 'localEpochs', 'batchSize', 'learningRateGrid', 'scheme', 'roundChosenOnValidation'] as const;

type ParsedResults = FlStudyResults & { partial?: boolean };

/**
 * Combines result files of the same scale over different seeds or α (runs split across processes so
 * a machine's cores are used), as if one run had done them all; only the seeds a file completed count.
 * Every α must end up with every seed, and a seed's centralized baseline (which does not depend on α)
 * must agree wherever it was trained.
 */
function merge(options: Options): void {
  const parts = options.merge.map((file) => ({ file, results: JSON.parse(readFileSync(file, 'utf8')) as ParsedResults }));
  const first = parts[0]!.results;
  for (const { file, results } of parts) {
    for (const key of SAME_SCALE) {
      // Files written before rounds could be chosen on validation kept the last round.
      const value = (scale: FlStudyResults['scale']) => JSON.stringify(key === 'roundChosenOnValidation' ? (scale[key] ?? false) : scale[key]);
      if (value(results.scale) !== value(first.scale)) throw new Error(`--merge: ${file} has ${key} ${value(results.scale)}, ${parts[0]!.file} has ${value(first.scale)}`);
    }
  }
  const covered = new Set<string>();
  for (const { results } of parts) {
    for (const alpha of results.scale.alphas) {
      for (const seed of results.scale.seeds) {
        if (covered.has(`${alpha}/${seed}`)) throw new Error(`--merge: a seed appears in more than one file for the same α (α ${alpha}, seed ${seed})`);
        covered.add(`${alpha}/${seed}`);
      }
    }
  }
  const alphas = [...new Set(parts.flatMap((p) => p.results.scale.alphas))].map(Number).sort((a, b) => a - b);
  const seeds = [...new Set(parts.flatMap((p) => p.results.scale.seeds))].sort((a, b) => a - b);
  const missing = alphas.flatMap((a) => seeds.filter((s) => !covered.has(`${a}/${s}`)).map((s) => `α ${a} seed ${s}`));
  if (missing.length > 0) throw new Error(`--merge: the files do not cover every α with every seed; missing ${missing.join(', ')}`);
  const done = (p: (typeof parts)[number]) => new Set(p.results.scale.seeds);
  const scale = first.scale;
  const merged: Options = {
    ...options,
    alphas,
    seeds,
    clients: scale.clients,
    trainImages: scale.trainImages,
    rounds: scale.rounds,
    learningRates: scale.learningRateGrid,
    local: { batchSize: scale.batchSize, localEpochs: scale.localEpochs },
    scheme: scale.scheme as SplitScheme,
    validationImages: scale.validationImages,
    bestRound: scale.roundChosenOnValidation === true,
  };
  // JSON writes α = ∞ as null.
  const alphaOf = <T extends { alpha: number | null }>(row: T): T & { alpha: number } => ({ ...row, alpha: row.alpha ?? Infinity });
  const cells = parts.flatMap((p) => p.results.cells.filter((c) => done(p).has(c.seed)).map(alphaOf));
  const curves = parts.flatMap((p) => p.results.curves.filter((c) => done(p).has(c.seed)).map(alphaOf));
  const seconds = parts.reduce((sum, p) => sum + p.results.seconds, 0);
  writeOutputs(merged, { ...summarize(merged, cells, centralizedOnce(parts), curves, seconds), mergedFrom: parts.length });
}

/** Each seed's centralized baseline once; files that trained it again must have reached the same model. */
function centralizedOnce(parts: { file: string; results: ParsedResults }[]): FlStudyResults['centralized'] {
  const bySeed = new Map<number, FlStudyResults['centralized'][number]>();
  for (const { file, results } of parts) {
    for (const row of results.centralized.filter((c) => results.scale.seeds.includes(c.seed))) {
      const seen = bySeed.get(row.seed);
      if (seen && (seen.testAccuracy !== row.testAccuracy || seen.learningRate !== row.learningRate)) throw new Error(`--merge: ${file} has another centralized baseline for seed ${row.seed} (test ${row.testAccuracy}, lr ${row.learningRate}; elsewhere ${seen.testAccuracy}, lr ${seen.learningRate})`);
      bySeed.set(row.seed, row);
    }
  }
  return [...bySeed.values()].sort((a, b) => a.seed - b.seed);
}

function summarize(options: Options, cells: CellResult[], centralized: FlStudyResults['centralized'], curves: FlStudyResults['curves'], seconds: number): FlStudyResults {
  const table = options.alphas.flatMap((alpha) =>
    STRATEGIES.map((s) => {
      const mine = cells.filter((c) => c.alpha === alpha && c.strategy === s.name);
      return { alpha: String(alpha), strategy: s.name, testAccuracy: meanSd(mine.map((c) => c.testAccuracy)), gap: meanSd(mine.map((c) => c.gap)), learningRates: mine.map((c) => c.learningRate), rounds: mine.map((c) => c.round ?? options.rounds) };
    }),
  );
  // "Best tuned strategy" per α and seed: the one with the best validation accuracy.
  const bestPerAlpha = options.alphas.map((alpha) => {
    const perSeed = options.seeds.map((seed) => [...cells.filter((c) => c.alpha === alpha && c.seed === seed)].sort((a, b) => b.validationAccuracy - a.validationAccuracy)[0]!);
    return { alpha: String(alpha), chosen: perSeed.map((c) => c.strategy), gap: meanSd(perSeed.map((c) => c.gap)), testAccuracy: meanSd(perSeed.map((c) => c.testAccuracy)) };
  });
  const atHalf = bestPerAlpha.find((b) => b.alpha === '0.5');
  return {
    scale: {
      trainImages: options.trainImages,
      validationImages: options.validationImages,
      validationSeed: VALIDATION_SEED,
      testImages: 10_000,
      clients: options.clients,
      rounds: options.rounds,
      localEpochs: options.local.localEpochs,
      batchSize: options.local.batchSize,
      learningRateGrid: options.learningRates,
      alphas: options.alphas.map(String),
      seeds: options.seeds,
      scheme: options.scheme,
      roundChosenOnValidation: options.bestRound,
      fullScale: options.trainImages >= 50_000 && options.validationImages >= 10_000 && options.rounds >= 20,
    },
    strategies: STRATEGIES,
    command: `node --import tsx examples/federated-learning/study.ts --alphas ${options.alphas.map((a) => (a === Infinity ? 'inf' : a)).join(',')} --seeds ${options.seeds.join(',')} --clients ${options.clients} --train-images ${options.trainImages} --rounds ${options.rounds} --batch-size ${options.local.batchSize} --local-epochs ${options.local.localEpochs} --learning-rates ${options.learningRates.join(',')} --validation-images ${options.validationImages} --scheme ${options.scheme}${options.bestRound ? ' --best-round' : ''}${options.part === '' ? '' : ` --part ${options.part}`}`,
    target: { alpha: 0.5, maxGap: 0.03, met: atHalf ? atHalf.gap.mean <= 0.03 : null },
    centralized: centralized,
    centralizedTest: meanSd(centralized.map((c) => c.testAccuracy)),
    table,
    bestPerAlpha,
    cells,
    curves,
    seconds,
  };
}

function plot(results: FlStudyResults, options: Options): string {
  const series = STRATEGIES.map((s) => {
    const mine = results.curves.filter((c) => c.strategy === s.name);
    const points = Array.from({ length: options.rounds }, (_, r) => [r + 1, mine.reduce((sum, c) => sum + c.testPerRound[r]!, 0) / mine.length] as const);
    return { name: s.name, points };
  });
  series.push({ name: 'centralized (final)', points: [[1, results.centralizedTest.mean], [options.rounds, results.centralizedTest.mean]] as const, dashed: true } as never);
  const lows = results.curves.flatMap((c) => c.testPerRound).filter(Number.isFinite);
  const low = Math.max(0, Math.floor((Math.min(...lows, results.centralizedTest.mean) - 0.02) * 20) / 20);
  return lineChart(series, {
    title: `Test accuracy per round, α = ${options.curveAlpha}, mean of ${options.seeds.length} split seeds`,
    xLabel: 'round',
    yLabel: 'test accuracy',
    x: [1, options.rounds],
    y: [low, Math.min(1, Math.ceil((results.centralizedTest.mean + 0.02) * 20) / 20)],
  });
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) await main();
