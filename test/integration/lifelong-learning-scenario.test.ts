// The lifelong-learning scenario at its small scale (examples/lifelong-learning, `--small`): the
// whole cycle through the SDK and a real knowledge-base server, and the result file's shape and
// targets: unseen samples recognised by attribute and by the model path, the new camera learned
// and served by its own task after the hot update, no forgetting of the known cameras.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KNOWN_CAMERAS, NEW_CAMERA } from '../../examples/lifelong-learning/cameras.ts';
import { resultsTable } from '../../examples/lifelong-learning/results-table.ts';
import { runLifelongLearning } from '../../examples/lifelong-learning/run.ts';
import type { LifelongResults } from '../../examples/lifelong-learning/scenario.ts';

describe('the lifelong-learning scenario (small run)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'll-scenario-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('detects the new camera, learns it, serves it after the hot update, and forgets nothing', { timeout: 900_000 }, async (t) => {
    const results = await runLifelongLearning(dir, true, () => {});
    t.diagnostic(resultsTable(results));
    const written = JSON.parse(readFileSync(join(dir, 'results', 'lifelong-learning-small.json'), 'utf8')) as LifelongResults;
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
  });
});
