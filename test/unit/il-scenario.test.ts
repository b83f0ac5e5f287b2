// The incremental-learning example's pure parts: the night camera is deterministic and darkens
// and adds noise; the data cuts are disjoint; replay mixes the asked share; the labelling plan and
// the labeller label the serving model's next hard frames by frame index, with their true labels, once; the results' targets and the
// per-cycle figures read from the job's conditions.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { StageCondition } from '../../src/api/sedna/incremental-learning-job.ts';
import { CAMERA_IMAGES, cutRecords } from '../../examples/incremental-learning/data.ts';
import { NIGHT_CAMERA, nightShot } from '../../examples/incremental-learning/drift.ts';
import { encodeHardExample } from '../../examples/incremental-learning/hard-example-file.ts';
import { Labeller } from '../../examples/incremental-learning/labeller.ts';
import { type Judgement, planSitting } from '../../examples/incremental-learning/labelling-plan.ts';
import type { StreamStats } from '../../examples/incremental-learning/stream-stats.ts';
import { replayCount, withReplay } from '../../examples/incremental-learning/replay.ts';
import { checkTargets, formatResults, type IncrementalResults, meetsTargets } from '../../examples/incremental-learning/results.ts';
import { cycleFigures } from '../../examples/incremental-learning/run.ts';

describe('the night camera', () => {
  const day = Float32Array.from({ length: 784 }, (_, i) => (i % 28) / 27);
  it('is deterministic per image id and differs between images', () => {
    const a = nightShot(day, 7, new Float32Array(784));
    assert.deepEqual(nightShot(day, 7, new Float32Array(784)), a);
    assert.notDeepEqual(nightShot(day, 8, new Float32Array(784)), a);
  });

  it('is darker, with a grey noisy floor, and 8-bit', () => {
    const night = nightShot(day, 1, new Float32Array(784));
    const mean = (xs: Float32Array): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(mean(night) < 0.7 * mean(day), `mean ${mean(night)} vs ${mean(day)}`);
    const black = night.filter((_, i) => i % 28 === 0);
    assert.ok(mean(black) > 0.03, 'black is lifted by the dark signal');
    assert.ok(new Set(black).size > 3, 'and noisy');
    for (const v of night) assert.ok(Math.abs(Math.round(v * 255) - v * 255) < 1e-3, `${v} is an 8-bit level`);
    assert.ok(NIGHT_CAMERA.gain * NIGHT_CAMERA.exposure < 1, 'the gain cannot make up for the light');
  });
});

describe('the data cuts', () => {
  it('are disjoint and cover the training file', () => {
    const cut = cutRecords(60_000, 10_000);
    const train = [...cut.original, ...cut.camera, ...cut.validation[0], ...cut.validation[1]];
    assert.equal(new Set(train).size, 60_000);
    assert.equal(cut.camera.length, CAMERA_IMAGES);
    assert.equal(cut.original.length, 40_000);
    assert.equal(new Set([...cut.test[0], ...cut.test[1]]).size, 10_000);
    assert.deepEqual(cutRecords(60_000, 10_000).camera, cut.camera, 'the same cut every run');
  });
});

describe('replay', () => {
  it('adds originals to make the asked share of the mix, without repeats', () => {
    assert.equal(replayCount(800, 0.5, 40_000), 800);
    assert.equal(replayCount(800, 0.8, 40_000), 3200);
    assert.equal(replayCount(800, 0, 40_000), 0);
    assert.throws(() => replayCount(800, 1, 10), /replayShare/);
    const fresh = { x: new Float32Array([1, 1, 2, 2]), y: new Uint8Array([1, 2]), count: 2 };
    const pool = { x: Float32Array.from({ length: 20 }, (_, i) => 10 + Math.floor(i / 2)), y: Uint8Array.from({ length: 10 }, (_, i) => i), count: 10 };
    const mix = withReplay(fresh, pool, 0.5, 3);
    assert.equal(mix.count, 4);
    assert.deepEqual([...mix.y.subarray(0, 2)], [1, 2]);
    assert.equal(new Set(mix.y.subarray(2)).size, 2);
    for (let i = 2; i < 4; i++) assert.equal(mix.x[i * 2], 10 + mix.y[i]!, 'pixels travel with their label');
  });
});

describe('the labelling plan', () => {
  const judge = (hard: number[], seenUpTo = Infinity) => (frame: number): Judgement => (frame >= seenUpTo ? 'unseen' : hard.includes(frame) ? 'hard' : 'easy');

  it('takes the next hard frames in frame order from the cursor, skipping labelled ones, and moves the cursor past the last', () => {
    assert.deepEqual(planSitting(0, 10, 2, new Set(), judge([1, 3, 4])), { frames: [1, 3], nextCursor: 4 });
    assert.deepEqual(planSitting(4, 10, 2, new Set([1]), judge([1, 3, 4, 8])), { frames: [4, 8], nextCursor: 9 });
  });

  it('wraps at the end of the recording and never takes a frame twice', () => {
    assert.equal(planSitting(8, 10, 3, new Set([9]), judge([0, 2, 9])), undefined, 'a whole loop holds only two unlabelled hard frames');
    assert.deepEqual(planSitting(8, 10, 2, new Set([9]), judge([0, 2, 9])), { frames: [0, 2], nextCursor: 3 });
  });

  it('waits while a frame it must judge has not been through the serving model', () => {
    assert.equal(planSitting(0, 10, 2, new Set(), judge([1, 5], 4)), undefined, 'frame 4 unseen before a second hard frame');
    assert.deepEqual(planSitting(0, 10, 1, new Set(), judge([1, 5], 4)), { frames: [1], nextCursor: 2 }, 'the frames needed were all judged');
  });
});

describe('the labeller', () => {
  const dir = mkdtempSync(join(tmpdir(), 'il-labeller-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const stats = (modelVersion: string, coverage: StreamStats['coverage']): StreamStats => ({ inferenceRequests: 0, failedInferences: 0, hardExamples: 0, modelVersion, swaps: [], coverage, frames: 6, updatedAt: '' });

  it('labels what the serving model found hard by the plan, once, waiting for the stream to cover the frames', async () => {
    const he = join(dir, 'he');
    const index = join(dir, 'index.txt');
    writeFileSync(index, '');
    mkdirSync(he);
    const truth = [3, 1, 4, 1, 5, 9];
    const save = (seq: number, frame: number, model: string): void => writeFileSync(join(he, `a-${String(seq).padStart(4, '0')}.json`), encodeHardExample({ frame, pixels: new Float32Array(784), model }, [1]));
    save(0, 2, 'initial');
    save(1, 5, 'initial');
    const labeller = new Labeller(he, index, truth);
    assert.equal(await labeller.sitting(stats('initial', { initial: { first: 0, count: 3 } }), 2), 0, 'frames 3.. not streamed yet');
    save(2, 2, 'initial'); // the recording looped: the same frame again
    assert.equal(await labeller.sitting(stats('initial', { initial: { first: 0, count: 8 } }), 2), 2);
    assert.deepEqual(readFileSync(index, 'utf8').trim().split('\n'), [`${join(he, 'a-0000.json')} 4`, `${join(he, 'a-0001.json')} 9`]);
    // A new model serves from frame 4 on: its hard frames before 4 are judged only once the stream wraps.
    save(3, 5, 'v2');
    save(4, 0, 'v2');
    save(5, 1, 'v2');
    assert.equal(await labeller.sitting(stats('v2', { v2: { first: 4, count: 2 } }), 1), 0, 'frame 0 (after the cursor) not yet through v2');
    assert.equal(await labeller.sitting(stats('v2', { v2: { first: 4, count: 4 } }), 2), 2, 'frames 0 and 1; 5 was labelled');
    assert.deepEqual(readFileSync(index, 'utf8').trim().split('\n').slice(2), [`${join(he, 'a-0004.json')} 3`, `${join(he, 'a-0005.json')} 1`]);
    assert.equal(labeller.labelled, 4);
  });
});

function condition(stage: StageCondition['stage'], type: StageCondition['type'], at: string, data?: unknown, reason?: string): StageCondition {
  return { stage, type, status: 'True', lastTransitionTime: at, ...(data ? { data: JSON.stringify(data) } : {}), ...(reason ? { reason } : {}) };
}

describe('the results', () => {
  const evalOutput = (trained: number, deployed: number): unknown => ({ output: { models: [{ metrics: { guarded_accuracy: [trained] } }, { metrics: { guarded_accuracy: [deployed] } }] } });
  const conditions = [
    condition('Train', 'Waiting', '2026-01-01T00:00:00Z'),
    condition('Train', 'Ready', '2026-01-01T00:00:10Z'),
    condition('Train', 'Completed', '2026-01-01T00:00:30Z', { output: { models: [{ metrics: { samples: [800], replayed: [800] } }] } }),
    condition('Eval', 'Completed', '2026-01-01T00:00:40Z', evalOutput(0.8, 0.6)),
    condition('Deploy', 'Ready', '2026-01-01T00:00:45Z'),
    condition('Deploy', 'Completed', '2026-01-01T00:00:50Z'),
    condition('Train', 'Waiting', '2026-01-01T00:00:50Z'),
    condition('Train', 'Ready', '2026-01-01T00:01:00Z'),
    condition('Train', 'Completed', '2026-01-01T00:01:20Z', { output: { models: [{ metrics: { samples: [800], replayed: [800] } }] } }),
    condition('Eval', 'Completed', '2026-01-01T00:01:30Z', evalOutput(0, 0.8)),
    condition('Deploy', 'Completed', '2026-01-01T00:01:31Z', undefined, 'not deployed'),
  ];
  const swaps = [{ version: 'v1', via: 'push', loadToServeMs: 20, firstAnswerMs: 5, swapMs: 25, at: '2026-01-01T00:00:46.500Z' }];

  it('reads each cycle from the conditions: samples, eval metrics, deploy, trigger→deploy', () => {
    const figures = cycleFigures(conditions, swaps, 2);
    assert.deepEqual(figures, [
      { round: 1, trainSamples: 1600, deployed: true, triggerToDeploySeconds: 36.5, evalAccuracy: { trained: 0.8, deployed: 0.6 } },
      { round: 2, trainSamples: 1600, deployed: false, triggerToDeploySeconds: 31, evalAccuracy: { trained: 0, deployed: 0.8 } },
    ]);
    assert.equal(cycleFigures(conditions.slice(0, 9), swaps, 2).length, 1, 'a cycle without its deploy decision is not complete');
  });

  it('checks the targets and prints them', () => {
    const results: IncrementalResults = {
      baseAccuracy: 0.62,
      finalAccuracy: 0.8,
      originalAccuracyBefore: 0.88,
      originalAccuracyAfter: 0.87,
      cycles: 2,
      deployedCycles: 1,
      inferenceRequests: 1000,
      failedInferences: 0,
      hardExamples: 600,
      labelled: 500,
      swapMs: { p50: 20, p99: 40 },
      swaps: 1,
      triggerToDeploySeconds: [36.5, 31],
      cycleFigures: cycleFigures(conditions, swaps, 2),
      splits: { original: 40_000, camera: 10_000, validation: { original: 5000, night: 5000 }, test: { original: 5000, night: 5000 } },
      drift: 'night camera',
      replayShare: 0.5,
      hemThreshold: 0.6,
      choicesMadeOn: 'validation',
      finishedAt: '2026-01-01T00:02:00Z',
    };
    assert.ok(meetsTargets(results));
    assert.equal(checkTargets({ ...results, originalAccuracyAfter: 0.85 }).find((t) => !t.met)?.name, 'originalAccuracyAfter ≥ originalAccuracyBefore − 0.02');
    assert.equal(meetsTargets({ ...results, failedInferences: 1 }), false);
    assert.equal(meetsTargets({ ...results, swapMs: { p50: 20, p99: 101 } }), false);
    const table = formatResults(results);
    assert.match(table, /before \(base\)\s+62\.00%\s+88\.00%/);
    assert.match(table, /after 2 cycle\(s\)\s+80\.00%\s+87\.00%/);
    assert.match(table, /met +finalAccuracy − baseAccuracy ≥ 0\.1: 18\.00 points/);
  });
});
