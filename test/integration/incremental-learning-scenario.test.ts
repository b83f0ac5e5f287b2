// The incremental-learning scenario that `npm run example:incremental-learning` runs, end to end on
// the embedded system: the committed base model serves the night camera through the SDK, hard
// examples are labelled into the Dataset, the LC's trigger, the train and eval workers and the
// deploy condition run twice, the new model is hot-swapped while the stream goes on, and the test
// sets are scored once at the end. Asserts the result file's shape and the targets (the
// swap time's only by its presence: timings are the bench's).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runIncrementalLearningScenario } from '../../examples/incremental-learning/run.ts';
import { checkTargets, formatResults, type IncrementalResults } from '../../examples/incremental-learning/results.ts';
import { startCluster, type LocalCluster } from '../helpers/cluster.ts';

describe('incremental learning on Fashion-MNIST at night, end to end (npm run example:incremental-learning)', { timeout: 900_000 }, () => {
  let cluster: LocalCluster;
  let results: IncrementalResults;
  const lines: string[] = [];

  before(async () => {
    cluster = await startCluster({ nodes: 'cloud,edge-1', prefix: 'sedna-il-scenario-' });
    results = await runIncrementalLearningScenario({ dataDir: cluster.dir, cycles: 2, log: (line) => lines.push(line), timeoutMs: 840_000 });
  });

  after(async () => {
    await cluster?.stop();
  });

  it('writes DATA_DIR/results/incremental-learning.json with every figure the issue names', () => {
    const saved = JSON.parse(readFileSync(join(cluster.dir, 'results/incremental-learning.json'), 'utf8')) as IncrementalResults;
    assert.deepEqual(saved, results);
    for (const key of ['baseAccuracy', 'finalAccuracy', 'originalAccuracyBefore', 'originalAccuracyAfter'] as const) {
      assert.ok(saved[key] > 0.1 && saved[key] < 1, `${key} ${saved[key]}`);
    }
    assert.equal(saved.cycles, 2);
    assert.equal(saved.triggerToDeploySeconds.length, 2);
    for (const s of saved.triggerToDeploySeconds) assert.ok(s > 0 && s < 600, `trigger→deploy ${s} s`);
    assert.ok(saved.inferenceRequests > 1000, `${saved.inferenceRequests} requests`);
    assert.ok(saved.labelled >= 2000 && saved.hardExamples >= saved.labelled);
    assert.ok(saved.swaps >= 1 && saved.swapMs.p99 >= saved.swapMs.p50 && saved.swapMs.p50 > 0);
    assert.equal(saved.choicesMadeOn, 'validation');
    assert.deepEqual(saved.splits, { original: 40_000, camera: 10_000, validation: { original: 5000, night: 5000 }, test: { original: 5000, night: 5000 } });
  });

  // Swap time is a timing claim: the rules measure those in bench/ (npm run bench:incremental-learning),
  // never in a test on a shared machine; it is printed here and checked for presence above.
  // What is labelled follows a fixed plan by frame index (labelling-plan.ts), not the stream's
  // timing, and the fine-tuning setting was chosen on validation among those whose every simulated
  // seed deployed in every cycle with room above the forgetting guard; so every run labels the same
  // frames and deploys, and the targets are asserted whatever the machine's load.
  it('meets the targets: +10 points at night, ≤ 2 points forgotten, no failed inference, every labelled round deployed', (t) => {
    t.diagnostic(formatResults(results));
    const missed = checkTargets(results).filter((c) => !c.met && !c.name.startsWith('swap'));
    assert.deepEqual(missed, [], `${lines.join('\n')}`);
    assert.equal(results.labelled, 2000, 'two sittings of 1,000 hard examples, by the plan');
    assert.equal(results.deployedCycles, 2, `both rounds deployed: ${JSON.stringify(results.cycleFigures)}`);
    assert.equal(results.swaps, 2, 'one hot swap per deployed round');
    assert.ok(results.baseAccuracy < results.originalAccuracyBefore - 0.15, 'the drift costs the base model at least 15 points');
  });
});
