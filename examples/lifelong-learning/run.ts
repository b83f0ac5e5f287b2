// `npm run example:lifelong-learning`: the scenario as a LifelongLearningJob on the embedded system
// (system-scenario.ts) at full scale under --data-dir (default .sedna); writes
// DATA_DIR/results/lifelong-learning.json and prints the table. `--small` runs the reduced scale
// the test uses. The in-process simulation over several seeds is seeds.ts.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runIfMain, stillUpMessage } from '../shared/system.ts';
import { FULL_SCALE, SMALL_SCALE } from './dataset.ts';
import { resultsTable } from './results-table.ts';
import { runSystemScenario, type SystemResults } from './system-scenario.ts';
import { DEFAULT_TASK_MODEL } from './task-model.ts';

export async function runLifelongLearning(dataDir: string, small: boolean, log: (line: string) => void, seed = 1): Promise<SystemResults> {
  const scale = small ? SMALL_SCALE : FULL_SCALE;
  const model = small ? { ...DEFAULT_TASK_MODEL, maxEpochs: 4 } : DEFAULT_TASK_MODEL;
  const results = await runSystemScenario({ dataDir, scale, model, seed, log });
  const out = join(dataDir, 'results', small ? 'lifelong-learning-small.json' : 'lifelong-learning.json');
  await mkdir(join(dataDir, 'results'), { recursive: true });
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
  const s = results.system;
  const served = Object.entries(s.servedAccuracyAfter).map(([c, a]) => `${c} ${(100 * a).toFixed(1)}%`).join(', ');
  log(`${resultsTable(results)}\nthe edge's own answers after the hot update (unseen counted wrong): ${served}\nedge: ${s.edge.answered} answered, ${s.edge.failed} failed; knowledge base versions served ${s.edge.versions.length}; train trigger → serving (s): ${s.triggerToServingSeconds.join(', ')}\nresults: ${resolve(out)}`);
  return results;
}

runIfMain(import.meta.filename, 'the lifelong-learning example', async () => {
  const { values } = parseArgs({ options: { small: { type: 'boolean', default: false }, 'data-dir': { type: 'string', default: '.sedna' }, seed: { type: 'string', default: '1' } } });
  await runLifelongLearning(values['data-dir'], values.small === true, (line) => process.stdout.write(`${line}\n`), Number(values.seed));
  process.stdout.write(stillUpMessage(values['data-dir'], 'll,deploy,pods'));
});
