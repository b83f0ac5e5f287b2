// The incremental- and lifelong-learning pages' data: cycles cut from the status conditions as
// the IL controller writes them (a retry is not a new cycle; a Deploy/Completed without a Ready is
// the LC's "not deployed"), the Eval metric per cycle from Sedna's condition data, the knowledge
// base from status.knowledgeBase, the per-cycle series kept beyond the bounded conditions, and the
// same figures at /metrics.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evalMetric, knowledgeBaseOf, learningCycles, MAX_KB_ENTRIES, metricValue } from '../../src/dashboard/learning.ts';
import { dashboardRegistry } from '../../src/dashboard/metrics.ts';
import { DashboardState, resourceRow } from '../../src/dashboard/state.ts';

let minute = 0;
function cond(stage: string, type: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  minute++;
  return { type, stage, status: 'True', lastTransitionTime: `2026-12-07T04:${String(minute).padStart(2, '0')}:00Z`, ...extra };
}

/** Sedna's IncrementalCondData with output models carrying metrics. */
function evalData(trained: Record<string, unknown>, deployed?: Record<string, unknown>): string {
  const models = [{ format: 'pb', url: '/out/train/2/model.pb', metrics: trained }, ...(deployed ? [{ format: 'pb', url: '/models/deploy.pb', metrics: deployed }] : [])];
  return JSON.stringify({ input: { models: models.map(({ format, url }) => ({ format, url })) }, output: { models } });
}

/** One cycle as the IL controller and LC write it. */
function cycle(options: { trained: number; deployed: number; deploy: boolean; trainFailures?: number }): Record<string, unknown>[] {
  const out = [cond('Train', 'Waiting'), cond('Train', 'Ready', { data: JSON.stringify({ input: { dataURL: '/d.txt' } }) }), cond('Train', 'Starting')];
  for (let i = 0; i < (options.trainFailures ?? 0); i++) out.push(cond('Train', 'Failed', { message: 'pod failed' }), cond('Train', 'Ready', { reason: 'Retry' }), cond('Train', 'Starting'));
  out.push(
    cond('Train', 'Running'),
    cond('Train', 'Completed', { data: JSON.stringify({ output: { models: [{ format: 'pb', url: '/out/train/model.pb', metrics: { loss: [0.3] } }] } }) }),
    cond('Eval', 'Waiting'),
    cond('Eval', 'Ready'),
    cond('Eval', 'Starting'),
    cond('Eval', 'Running'),
    cond('Eval', 'Completed', { data: evalData({ precision: [options.trained, options.trained], recall: [0.5] }, { precision: [options.deployed], recall: [0.4] }) }),
    cond('Deploy', 'Waiting'),
  );
  if (options.deploy) out.push(cond('Deploy', 'Ready'), cond('Deploy', 'Completed'));
  else out.push(cond('Deploy', 'Completed', { message: 'not deployed: precision_delta 0.01 is not > 0.1' }));
  return out;
}

describe('dashboard learning view', () => {
  it('cuts an incremental-learning job\'s conditions into cycles numbered from status.round', () => {
    const conditions = [...cycle({ trained: 0.8, deployed: 0.6, deploy: true, trainFailures: 1 }), ...cycle({ trained: 0.82, deployed: 0.8, deploy: false }), cond('Train', 'Waiting'), cond('Train', 'Ready')];
    const cycles = learningCycles({ round: 7, conditions });
    assert.deepEqual(cycles.map((c) => c.cycle), [5, 6, 7]);
    assert.deepEqual(cycles.map((c) => c.outcome), ['deployed', 'not deployed', 'in progress']);
    assert.equal(cycles[1]!.reason, 'not deployed: precision_delta 0.01 is not > 0.1');
    // A retry (Train/Waiting or Ready with reason Retry) stays in its cycle and counts as a failure.
    assert.deepEqual(cycles[0]!.stages.map((s) => [s.stage, s.state, s.failures]), [['Train', 'Completed', 1], ['Eval', 'Completed', 0], ['Deploy', 'Completed', 0]]);
    assert.deepEqual(cycles[0]!.metric, { name: 'precision', trained: 0.8, deployed: 0.6 });
    assert.equal(cycles[0]!.trainedModel, '/out/train/model.pb');
    assert.ok(cycles[0]!.started && cycles[0]!.ended && cycles[0]!.started < cycles[0]!.ended);
    assert.deepEqual(cycles[2]!.stages.map((s) => [s.stage, s.state]), [['Train', 'Ready']]);
    assert.equal(cycles[2]!.metric, undefined);
    assert.equal(cycles[2]!.ended, undefined);
  });

  it('counts cycles from 1 without status.round; a cycle cut short before a deploy is not deployed', () => {
    const cycles = learningCycles({ conditions: [cond('Train', 'Waiting'), cond('Train', 'Failed'), cond('Train', 'Waiting'), cond('Train', 'Ready')] });
    assert.deepEqual(cycles.map((c) => [c.cycle, c.outcome]), [[1, 'not deployed'], [2, 'in progress']]);
    assert.equal(cycles[0]!.reason, 'the cycle ended before a deploy');
    // Conditions that start mid-cycle (the oldest were dropped) are a cycle of their own.
    assert.deepEqual(learningCycles({ round: 3, conditions: [cond('Eval', 'Completed'), cond('Train', 'Waiting')] }).map((c) => c.cycle), [2, 3]);
    assert.deepEqual(learningCycles({}), []);
    assert.deepEqual(learningCycles({ conditions: 'junk' }), []);
  });

  it('reads metrics leniently: lists are averaged, preferred names first, bad data is no metric', () => {
    assert.equal(metricValue([0.5, '0.7', 'x']), 0.6);
    assert.equal(metricValue('0.25'), 0.25);
    assert.equal(metricValue([]), undefined);
    assert.equal(metricValue({}), undefined);
    assert.deepEqual(evalMetric(evalData({ loss: 0.2, accuracy: 0.9 })), { name: 'accuracy', trained: 0.9 });
    assert.deepEqual(evalMetric(evalData({ custom_score: [1, 3] })), { name: 'custom_score', trained: 2 });
    assert.deepEqual(evalMetric(JSON.stringify({ output: { model: { url: '/m', metrics: { f1_score: 0.4 } } } })), { name: 'f1_score', trained: 0.4 });
    assert.equal(evalMetric('{not json'), undefined);
    assert.equal(evalMetric(JSON.stringify({ output: { models: [{ url: '/m', metrics: null }] } })), undefined);
    assert.equal(evalMetric(undefined), undefined);
    const [c] = learningCycles({ conditions: [cond('Train', 'Waiting'), cond('Eval', 'Completed', { data: '{broken' })] });
    assert.equal(c!.metric, undefined);
  });

  it('reads a lifelong job\'s knowledge base in Sedna\'s shape, bounded', () => {
    const listOfAIModels = Array.from({ length: MAX_KB_ENTRIES + 5 }, (_, i) => ({ modelID: `task-${i}`, averagePrecision: 0.5, numberOfTrainSamples: 10 }));
    const kb = knowledgeBaseOf({ knowledgeBase: { AIModels: { numberOfAIModels: listOfAIModels.length, listOfAIModels }, AIClasses: { numberOfAIClasses: 2, listOfAIClasses: ['road', 'sky'] }, samples: { numberOfLabeledUnseenSample: 4, numberOfUnseenSample: 9 } } })!;
    assert.equal(kb.models.length, MAX_KB_ENTRIES);
    assert.equal(kb.numberOfModels, MAX_KB_ENTRIES + 5);
    assert.deepEqual(kb.classes, ['road', 'sky']);
    assert.deepEqual([kb.unseenSamples, kb.labeledUnseenSamples], [9, 4]);
    assert.equal(knowledgeBaseOf({}), undefined);
    // A model without a precision shows none rather than a made-up one.
    assert.deepEqual(knowledgeBaseOf({ knowledgeBase: { AIModels: { listOfAIModels: [{ modelID: 'm' }] } } })!.models, [{ modelID: 'm', numberOfTrainSamples: 0 }]);
  });

  it('rows carry the view; the per-cycle series outlive the bounded conditions; /metrics exports them', async () => {
    let t = 1_000;
    const state = new DashboardState([], undefined, () => t);
    const first = cycle({ trained: 0.8, deployed: 0.6, deploy: true });
    const second = cycle({ trained: 0.9, deployed: 0.8, deploy: true });
    const job = (round: number, conditions: unknown[]): Record<string, unknown> => ({ metadata: { name: 'helmet', namespace: 'default' }, status: { round, conditions } });
    state.upsert('IncrementalLearningJob', job(1, first));
    t += 1000;
    state.upsert('IncrementalLearningJob', job(2, [...first, ...second]));
    // The controller keeps the newest conditions only: cycle 1 drops out of the status.
    state.upsert('IncrementalLearningJob', job(2, second));
    const s = state.snapshot();
    const series = s.series['IncrementalLearningJob/default/helmet']!;
    assert.deepEqual(series.trainedMetric, [[1, 0.8], [2, 0.9]]);
    assert.deepEqual(series.deployedMetric, [[1, 0.6], [2, 0.8]]);
    assert.deepEqual(series.cycle, [[1000, 1], [2000, 2]]);
    const row = s.resources.IncrementalLearningJob![0]!;
    assert.deepEqual(row.learning!.cycles.map((c) => c.cycle), [2]);
    assert.equal(row.learning!.knowledgeBase, undefined);
    state.upsert('LifelongLearningJob', { metadata: { name: 'semantic', namespace: 'default' }, status: { conditions: cycle({ trained: 0.7, deployed: 0, deploy: true }), knowledgeBase: { AIModels: { numberOfAIModels: 3 }, AIClasses: { numberOfAIClasses: 0 }, samples: { numberOfUnseenSample: 12, numberOfLabeledUnseenSample: 5 } } } });
    assert.equal(resourceRow('Dataset', { metadata: { name: 'd' } }).learning, undefined);
    const text = await dashboardRegistry(state).metrics();
    assert.match(text, /^sedna_incrementallearning_cycle\{namespace="default",name="helmet"\} 2$/m);
    assert.match(text, /^sedna_incrementallearning_trained_model_metric\{namespace="default",name="helmet"\} 0.9$/m);
    assert.match(text, /^sedna_incrementallearning_deployed_model_metric\{namespace="default",name="helmet"\} 0.8$/m);
    assert.match(text, /^sedna_lifelonglearning_knowledge_base_models\{namespace="default",name="semantic"\} 3$/m);
    assert.match(text, /^sedna_lifelonglearning_unseen_samples\{namespace="default",name="semantic"\} 12$/m);
    assert.match(text, /^sedna_lifelonglearning_labeled_unseen_samples\{namespace="default",name="semantic"\} 5$/m);
    assert.match(text, /^sedna_lifelonglearning_trained_model_metric\{namespace="default",name="semantic"\} 0.7$/m);
  });
});
