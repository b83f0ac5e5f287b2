// The lifelong-learning scenario at its small scale (examples/lifelong-learning, `--small`) as a
// LifelongLearningJob on the embedded system (`sedna up` on ephemeral ports with its knowledge
// base; train, eval and inference workers as pods): the result file's shape and targets — unseen
// samples recognised by attribute and by the model path (by the inference worker), the new camera
// learned and served by its own task after the hot update, no forgetting of the known cameras —
// and the job's stages, each once per round, with the second deploy delivered in place.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KNOWN_CAMERAS, NEW_CAMERA } from '../../examples/lifelong-learning/cameras.ts';
import { resultsTable } from '../../examples/lifelong-learning/results-table.ts';
import { runLifelongLearning } from '../../examples/lifelong-learning/run.ts';
import type { SystemResults } from '../../examples/lifelong-learning/system-scenario.ts';
import { type LocalCluster, startCluster } from '../helpers/cluster.ts';

describe('the lifelong-learning scenario (small run)', () => {
  let cluster: LocalCluster;
  before(async () => {
    cluster = await startCluster({ nodes: 'edge-1', prefix: 'sedna-ll-scenario-' });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('detects the new camera, learns it, serves it after the hot update, and forgets nothing', { timeout: 900_000 }, async (t) => {
    const results = await runLifelongLearning(cluster.dir, true, () => {});
    t.diagnostic(resultsTable(results));
    const written = JSON.parse(readFileSync(join(cluster.dir, 'results', 'lifelong-learning-small.json'), 'utf8')) as SystemResults;
    assert.deepEqual(written.tasks, results.tasks);

    assert.deepEqual(Object.keys(results.tasks).sort(), [...KNOWN_CAMERAS, NEW_CAMERA].sort());
    for (const task of Object.values(results.tasks)) {
      assert.ok(task.accuracyBefore >= 0 && task.accuracyBefore <= 1 && task.accuracyAfter >= 0 && task.accuracyAfter <= 1);
    }
    assert.deepEqual([results.unseenDetection.attribute.precision, results.unseenDetection.attribute.recall], [1, 1]);
    assert.ok(results.unseenDetection.model.precision >= 0.9, `model-path precision ${results.unseenDetection.model.precision}`);
    assert.ok(results.unseenDetection.model.recall >= 0.9, `model-path recall ${results.unseenDetection.model.recall}`);
    assert.ok(results.bwt >= -0.02, `BWT ${results.bwt}`);
    assert.ok(Number.isFinite(results.fwt));
    assert.ok(results.newCamera.servedByOwnTaskAfterUpdate >= 0.9, `served by its own task: ${results.newCamera.servedByOwnTaskAfterUpdate}`);
    assert.equal(results.thresholdSelectedOn, 'validation');
    assert.deepEqual(results.knowledgeBase.tasks.map((t) => t.name).sort(), [...KNOWN_CAMERAS, NEW_CAMERA].sort());
    assert.equal(results.knowledgeBase.versions.length, 2);
    assert.ok(results.knowledgeBase.models.every((g) => g.models >= 1 && g.deploy));
    // The system: each stage once per round, the second deploy taken in place by the same worker.
    const steps = results.system.conditions;
    for (const step of ['Train/Completed', 'Eval/Completed']) assert.equal(steps.filter((s) => s === step).length, 2, steps.join(' → '));
    assert.deepEqual(steps.filter((s) => s.startsWith('Deploy/Completed')), ['Deploy/Completed (InferenceWorkerRestarted)', 'Deploy/Completed (KnowledgeBaseHotUpdate)']);
    assert.equal(results.system.edge.failed, 0);
    assert.equal(results.system.edge.versions.length, 2, 'one worker served both knowledge bases');
    // The known tasks' task models, as counted by the KB, equal the rows the LC gave training (no double count).
    const trainRows = readFileSync(join(cluster.dir, 'examples', 'lifelong-learning', 'output', 'data', 'train', '1', 'data.csv'), 'utf8').trim().split('\n').length - 1;
    const roundTwo = readFileSync(join(cluster.dir, 'examples', 'lifelong-learning', 'output', 'data', 'train', '2', 'data.csv'), 'utf8').trim().split('\n').length - 1;
    assert.equal(results.knowledgeBase.tasks.reduce((n, task) => n + task.sampleNum, 0), trainRows + roundTwo);
  });
});
