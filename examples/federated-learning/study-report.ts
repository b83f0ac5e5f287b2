// The federated-learning study's result file shape and the Markdown table it writes into the
// example's README between its markers.
import { replaceSection } from '../shared/readme-section.ts';
import type { MeanSd } from '../shared/stats.ts';
import type { StrategyChoice } from './simulation.ts';

export interface CellResult {
  alpha: number;
  seed: number;
  strategy: string;
  learningRate: number;
  /** The round whose global model is kept (the last, or the best on validation with --best-round). */
  round?: number;
  validationAccuracy: number;
  testAccuracy: number;
  /** Centralized test accuracy − this strategy's, both chosen on validation. */
  gap: number;
  tried: { learningRate: number; validationAccuracy: number }[];
}

export interface FlStudyResults {
  scale: {
    trainImages: number;
    validationImages: number;
    validationSeed: number;
    testImages: number;
    clients: number;
    rounds: number;
    localEpochs: number;
    batchSize: number;
    learningRateGrid: number[];
    alphas: string[];
    seeds: number[];
    scheme: string;
    /** Each run keeps its best round (epoch) on validation rather than its last. */
    roundChosenOnValidation?: boolean;
    fullScale: boolean;
  };
  strategies: StrategyChoice[];
  command: string;
  target: { alpha: number; maxGap: number; met: boolean | null };
  centralized: { seed: number; learningRate: number; epoch?: number; validationAccuracy: number; testAccuracy: number; tried: { learningRate: number; validationAccuracy: number }[] }[];
  centralizedTest: MeanSd;
  table: { alpha: string; strategy: string; testAccuracy: MeanSd; gap: MeanSd; learningRates: number[]; rounds?: number[] }[];
  bestPerAlpha: { alpha: string; chosen: string[]; gap: MeanSd; testAccuracy: MeanSd }[];
  cells: CellResult[];
  curves: { alpha: number; seed: number; strategy: string; testPerRound: number[] }[];
  /** Wall-clock seconds (summed over the processes when merged). */
  seconds: number;
  /** How many result files (processes over different seeds) were combined, when more than one. */
  mergedFrom?: number;
}

/** The README markers of a study part ('' for the default section). */
export function flSectionMarkers(part = ''): { start: string; end: string } {
  const name = part === '' ? 'study:federated-learning' : `study:federated-learning:${part}`;
  return { start: `<!-- ${name}:start (written by npm run study:federated-learning) -->`, end: `<!-- ${name}:end -->` };
}

const pts = (m: MeanSd) => `${(m.mean * 100).toFixed(2)} ± ${(m.sd * 100).toFixed(2)}`;

const percent = (m: MeanSd) => `${(m.mean * 100).toFixed(2)} ± ${(m.sd * 100).toFixed(2)}`;

/** The section's text; `plotFile` null when the run kept no per-round curve (its α did not include the curve's). */
export function formatFlStudy(r: FlStudyResults, plotFile: string | null = 'study.svg'): string {
  const s = r.scale;
  const alphas = s.alphas;
  const strategies = r.strategies.map((x) => x.name);
  const cell = (alpha: string, strategy: string) => r.table.find((t) => t.alpha === alpha && t.strategy === strategy)!;
  // The round (epoch) each seed kept, when chosen on validation.
  const kept = (rounds: number[], what: string) => (s.roundChosenOnValidation && rounds.length > 0 ? `; ${what} ${rounds.join('/')}` : '');
  return [
    `Scale: ${s.trainImages} training images over ${s.clients} clients (${s.scheme}), ${s.validationImages} validation images to choose on (of the 10,000 split with seed ${s.validationSeed}), ${s.testImages} test; ` +
      `${s.rounds} rounds × ${s.localEpochs} local epoch, batch ${s.batchSize}, SGD; client learning rate chosen on validation from {${s.learningRateGrid.join(', ')}} for every strategy and for centralized; ` +
      `${s.roundChosenOnValidation ? 'each run keeps its best round (centralized: epoch) on validation, of at most the budget; ' : 'each run keeps its last round (epoch); '}` +
      `split seeds ${s.seeds.join(', ')}${s.fullScale ? ' (full scale)' : ' (reduced scale; full scale: `--train-images 50000 --rounds 20 --validation-images 10000`, with the other flags as in the command)'}; ${r.seconds} s${r.mergedFrom ? ` summed over ${r.mergedFrom} processes run side by side (seeds split between them, then combined with --merge)` : ''}.`,
    `Server settings (fixed): ${r.strategies.map((x) => `${x.name} ${JSON.stringify(x.params)}`).join(', ')}.`,
    `Command: \`${r.command}\``,
    '',
    `Centralized (same model, same epochs, same grid): test ${pts(r.centralizedTest)}%.`,
    '',
    'Gap to centralized on test, percentage points, mean ± sd over split seeds (positive: federated is worse):',
    '',
    `| strategy | ${alphas.map((a) => `α = ${a === 'Infinity' ? '∞ (IID)' : a}`).join(' | ')} |`,
    `|---|${alphas.map(() => '---:').join('|')}|`,
    ...strategies.map((st) => `| ${st} | ${alphas.map((a) => pts(cell(a, st).gap)).join(' | ')} |`),
    `| best on validation | ${r.bestPerAlpha.map((b) => `${pts(b.gap)} (${b.chosen.join('/')})`).join(' | ')} |`,
    '',
    'Test accuracy, %, mean ± sd over split seeds, with what was chosen on validation per seed (learning rate; and the round kept, when chosen):',
    '',
    `| | ${alphas.map((a) => `α = ${a === 'Infinity' ? '∞ (IID)' : a}`).join(' | ')} |`,
    `|---|${alphas.map(() => '---:').join('|')}|`,
    `| centralized | ${alphas.map(() => `${percent(r.centralizedTest)} (lr ${r.centralized.map((c) => c.learningRate).join('/')}${kept(r.centralized.map((c) => c.epoch ?? s.rounds), 'epoch')})`).join(' | ')} |`,
    ...strategies.map((st) => `| ${st} | ${alphas.map((a) => `${percent(cell(a, st).testAccuracy)} (lr ${cell(a, st).learningRates.join('/')}${kept(cell(a, st).rounds ?? [], 'round')})`).join(' | ')} |`),
    '',
    `Target (α = 0.5, best tuned strategy within ${r.target.maxGap * 100} points of centralized, mean over seeds): **${r.target.met === null ? 'not run' : r.target.met ? 'met' : 'missed'}**.`,
    '',
    plotFile === null ? '(No per-round plot: per-round test accuracy is kept for α = 0.5 only, which this run did not include.)' : `![test accuracy per round](${plotFile})`,
  ].join('\n');
}

export function replaceFlSection(readme: string, body: string, part = ''): string {
  const { start, end } = flSectionMarkers(part);
  return replaceSection(readme, body, start, end);
}
