// The joint-inference study's result file shape and the Markdown it puts in the example's README
// (between the study markers, so each run replaces its own section and nothing else).
import { replaceSection as replaceBetween } from '../shared/readme-section.ts';
import type { MeanSd } from '../shared/stats.ts';
import type { ClassRow, CurvePoint, Interval } from './study-metrics.ts';


export interface StudyResults {
  scale: { trainImages: number; validationImages: number; validationSeed: number; testImages: number; seeds: number[]; maxEpochs: { edge: number; cloud: number }; bootstrapResamples: number; fullScale: boolean };
  command: string;
  target: { minRecoveredGap: number; maxOffloaded: number };
  thresholdSelectedOn: 'validation';
  summary: {
    edgeAccuracy: MeanSd;
    cloudAccuracy: MeanSd;
    methods: Record<string, { offloaded: MeanSd; jointAccuracy: MeanSd; gapRecovered: MeanSd; parameter: number[] }>;
    randomAtSameShare: { jointAccuracy: MeanSd; gapRecovered: MeanSd };
    oracleAtSameShare: { jointAccuracy: MeanSd; gapRecovered: MeanSd };
    targetMet: boolean;
    perClass: { class: string; edge: number; cloud: number; joint: number; offloaded: number }[];
  };
  seeds: {
    seed: number;
    epochs: { edge: number; cloud: number };
    test: { edge: number; cloud: number };
    bootstrap95: { jointAccuracy: Interval; gapRecovered: Interval };
    perClass: ClassRow[];
    curves: Record<string, CurvePoint[]>;
    methods: Record<string, { parameter: number; test: { offloaded: number; jointAccuracy: number; gapRecovered: number } }>;
  }[];
  seconds: number;
}

export const SECTION_START = '<!-- study:joint-inference:start (written by npm run study:joint-inference) -->';
export const SECTION_END = '<!-- study:joint-inference:end -->';

const pct = (x: number, digits = 1) => `${(x * 100).toFixed(digits)}%`;
const pm = (m: MeanSd, digits = 1) => `${(m.mean * 100).toFixed(digits)} ± ${(m.sd * 100).toFixed(digits)}`;

export function formatStudy(r: StudyResults): string {
  const s = r.summary;
  const ce = s.methods['CrossEntropy']!;
  const lines = [
    `Scale: ${r.scale.trainImages} training images, ${r.scale.validationImages} validation (seed ${r.scale.validationSeed}), ${r.scale.testImages} test; seeds ${r.scale.seeds.join(', ')}; ` +
      `epoch caps edge ${r.scale.maxEpochs.edge} / cloud ${r.scale.maxEpochs.cloud}; ${r.scale.bootstrapResamples} bootstrap resamples${r.scale.fullScale ? ' (full scale)' : ' (reduced scale; full scale: `npm run study:joint-inference`)'}.`,
    `Command: \`${r.command}\``,
    '',
    'Test figures, mean ± sd over seeds (%); each filter\'s parameter chosen on validation by the example\'s rule:',
    '',
    '| | edge only | cloud only | offloaded | joint | gap recovered |',
    '|---|---:|---:|---:|---:|---:|',
    ...Object.entries(s.methods).map(([m, v]) => `| ${m} (${v.parameter.join(', ')}) | ${pm(s.edgeAccuracy, 2)} | ${pm(s.cloudAccuracy, 2)} | ${pm(v.offloaded)} | ${pm(v.jointAccuracy, 2)} | ${pm(v.gapRecovered)} |`),
    `| Random at CrossEntropy's share | | | ${pm(ce.offloaded)} | ${pm(s.randomAtSameShare.jointAccuracy, 2)} | ${pm(s.randomAtSameShare.gapRecovered)} |`,
    `| Oracle at CrossEntropy's share | | | ${pm(ce.offloaded)} | ${pm(s.oracleAtSameShare.jointAccuracy, 2)} | ${pm(s.oracleAtSameShare.gapRecovered)} |`,
    '',
    `Target (≥ ${pct(r.target.minRecoveredGap, 0)} of the gap at ≤ ${pct(r.target.maxOffloaded, 0)} offloaded, CrossEntropy, mean over seeds): **${s.targetMet ? 'met' : 'missed'}**.`,
    '',
    'Bootstrap 95% intervals (CrossEntropy at the validation-chosen threshold, resampling test images):',
    '',
    '| seed | epochs edge / cloud | edge | cloud | joint [95% CI] | gap recovered [95% CI] |',
    '|---:|---:|---:|---:|---:|---:|',
    ...r.seeds.map((x) => {
      const m = x.methods['CrossEntropy']!.test;
      return `| ${x.seed} | ${x.epochs.edge} / ${x.epochs.cloud} | ${pct(x.test.edge, 2)} | ${pct(x.test.cloud, 2)} | ${pct(m.jointAccuracy, 2)} [${pct(x.bootstrap95.jointAccuracy.low, 2)}, ${pct(x.bootstrap95.jointAccuracy.high, 2)}] | ${pct(m.gapRecovered)} [${pct(x.bootstrap95.gapRecovered.low)}, ${pct(x.bootstrap95.gapRecovered.high)}] |`;
    }),
    '',
    'Per class (test, mean over seeds, CrossEntropy at the chosen threshold):',
    '',
    '| class | edge | cloud | joint | offloaded |',
    '|---|---:|---:|---:|---:|',
    ...s.perClass.map((c) => `| ${c.class} | ${pct(c.edge)} | ${pct(c.cloud)} | ${pct(c.joint)} | ${pct(c.offloaded)} |`),
    '',
    '![accuracy against share offloaded](study.svg)',
  ];
  return lines.join('\n');
}

export function replaceSection(readme: string, body: string): string {
  return replaceBetween(readme, body, SECTION_START, SECTION_END);
}
