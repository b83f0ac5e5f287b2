// `npm run example:lifelong-learning`: runs the scenario (scenario.ts) at full scale under
// .sedna/lifelong-learning, writes .sedna/results/lifelong-learning.json and prints the table.
// `--small` runs the reduced scale the test uses.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runIfMain } from '../shared/system.ts';
import { FULL_SCALE, SMALL_SCALE } from './dataset.ts';
import { resultsTable } from './results-table.ts';
import { runScenario, type LifelongResults } from './scenario.ts';
import { DEFAULT_TASK_MODEL } from './task-model.ts';

export async function runLifelongLearning(dataDir: string, small: boolean, log: (line: string) => void): Promise<LifelongResults> {
  const scale = small ? SMALL_SCALE : FULL_SCALE;
  const model = small ? { ...DEFAULT_TASK_MODEL, maxEpochs: 4 } : DEFAULT_TASK_MODEL;
  const results = await runScenario({ dir: join(dataDir, 'lifelong-learning'), scale, model, triggerSamples: Math.floor(scale.streamNew / 2), log });
  const out = join(dataDir, 'results', small ? 'lifelong-learning-small.json' : 'lifelong-learning.json');
  await mkdir(join(dataDir, 'results'), { recursive: true });
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
  log(`${resultsTable(results)}\nresults: ${resolve(out)}`);
  return results;
}

runIfMain(import.meta.filename, 'the lifelong-learning example', async () => {
  const small = process.argv.includes('--small');
  const dataDirArg = process.argv.indexOf('--data-dir');
  const dataDir = dataDirArg > 0 ? process.argv[dataDirArg + 1]! : '.sedna';
  await runLifelongLearning(dataDir, small, (line) => process.stdout.write(`${line}\n`));
});
