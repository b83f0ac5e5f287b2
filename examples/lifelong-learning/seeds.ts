// The lifelong-learning simulation (scenario.ts: the SDK and a real KB server in one process) over
// several seeds, for the spread: each seed draws other images for every split and other model
// initialisations. Writes DATA_DIR/results/lifelong-learning-seeds.json with every seed's figures
// and their mean ± sd, and prints the table.
//
//   nice -n 19 node --import tsx examples/lifelong-learning/seeds.ts [--seeds 3] [--small] [--data-dir .sedna]
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { meanSd, type MeanSd } from '../shared/stats.ts';
import { runIfMain } from '../shared/system.ts';
import { FULL_SCALE, SMALL_SCALE } from './dataset.ts';
import { runScenario, type LifelongResults } from './scenario.ts';
import { DEFAULT_TASK_MODEL } from './task-model.ts';

export interface SeedSummary {
  seeds: number[];
  tasks: Record<string, { accuracyBefore: MeanSd; accuracyAfter: MeanSd; change: MeanSd }>;
  unseenDetection: { model: { precision: MeanSd; recall: MeanSd }; attribute: { precision: MeanSd; recall: MeanSd } };
  bwt: MeanSd;
  fwt: MeanSd;
}

export function summarise(runs: readonly LifelongResults[]): SeedSummary {
  const over = (pick: (r: LifelongResults) => number): MeanSd => meanSd(runs.map(pick));
  const cameras = Object.keys(runs[0]!.tasks);
  return {
    seeds: runs.map((r) => r.seed),
    tasks: Object.fromEntries(cameras.map((c) => [c, {
      accuracyBefore: over((r) => r.tasks[c]!.accuracyBefore),
      accuracyAfter: over((r) => r.tasks[c]!.accuracyAfter),
      change: over((r) => r.tasks[c]!.accuracyAfter - r.tasks[c]!.accuracyBefore),
    }])),
    unseenDetection: {
      model: { precision: over((r) => r.unseenDetection.model.precision), recall: over((r) => r.unseenDetection.model.recall) },
      attribute: { precision: over((r) => r.unseenDetection.attribute.precision), recall: over((r) => r.unseenDetection.attribute.recall) },
    },
    bwt: over((r) => r.bwt),
    fwt: over((r) => r.fwt),
  };
}

const pct = (m: MeanSd): string => `${(100 * m.mean).toFixed(1)} ± ${(100 * m.sd).toFixed(1)}`;

export function seedsTable(summary: SeedSummary): string {
  const lines = [`over seeds ${summary.seeds.join(', ')} (mean ± sd, percent / points)`, 'camera          before          after           change'];
  for (const [camera, t] of Object.entries(summary.tasks)) lines.push(`${camera.padEnd(15)} ${pct(t.accuracyBefore).padEnd(15)} ${pct(t.accuracyAfter).padEnd(15)} ${pct(t.change)}`);
  const d = summary.unseenDetection;
  lines.push(`unseen, model path:     precision ${pct(d.model.precision)}, recall ${pct(d.model.recall)}`);
  lines.push(`unseen, attribute path: precision ${pct(d.attribute.precision)}, recall ${pct(d.attribute.recall)}`);
  lines.push(`BWT ${pct(summary.bwt)} pt   FWT ${pct(summary.fwt)} pt`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seeds: { type: 'string', default: '3' }, small: { type: 'boolean', default: false }, 'data-dir': { type: 'string', default: '.sedna' } } });
  const small = values.small === true;
  const scale = small ? SMALL_SCALE : FULL_SCALE;
  const model = small ? { ...DEFAULT_TASK_MODEL, maxEpochs: 4 } : DEFAULT_TASK_MODEL;
  const runs: LifelongResults[] = [];
  for (let seed = 1; seed <= Number(values.seeds); seed++) {
    const log = (line: string): void => void process.stdout.write(`[seed ${seed}] ${line}\n`);
    runs.push(await runScenario({ dir: join(values['data-dir'], 'lifelong-learning-seeds', String(seed)), scale, model, seed, triggerSamples: Math.floor(scale.streamNew / 2), log }));
  }
  const summary = summarise(runs);
  const out = join(values['data-dir'], 'results', small ? 'lifelong-learning-seeds-small.json' : 'lifelong-learning-seeds.json');
  await mkdir(join(values['data-dir'], 'results'), { recursive: true });
  await writeFile(out, `${JSON.stringify({ summary, runs }, null, 2)}\n`);
  process.stdout.write(`${seedsTable(summary)}\nresults: ${out}\n`);
}

runIfMain(import.meta.filename, 'the lifelong-learning seeds', main);
