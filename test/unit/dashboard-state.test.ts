// The dashboard's picture of the cluster: rows from objects, series from status changes (a resync
// adds nothing), per-round federated metrics from the aggregation Model, bounded history.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Series } from '../../src/dashboard/history.ts';
import { DashboardState, metricsOf, nodeRow, resourceRow } from '../../src/dashboard/state.ts';

function clock(start = 1_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const metrics = (m: Record<string, string>): { key: string; value: string }[] => Object.entries(m).map(([key, value]) => ({ key, value }));

describe('dashboard history', () => {
  it('keeps the newest points up to its capacity, and a repeated x replaces the last point', () => {
    const s = new Series(3);
    for (let i = 1; i <= 5; i++) s.add(i, i * 10);
    assert.deepEqual(s.toJSON(), [[3, 30], [4, 40], [5, 50]]);
    s.add(5, 55);
    assert.deepEqual(s.toJSON(), [[3, 30], [4, 40], [5, 55]]);
    assert.throws(() => new Series(0), /positive integer/);
  });
});

describe('dashboard state', () => {
  it('joint inference: a point per change of status.metrics, none on a resync', () => {
    const c = clock();
    const state = new DashboardState(['JointInferenceService'], { points: 100, events: 10, rows: 10 }, c.now);
    const ji = (inferences: number, hard: number): Record<string, unknown> => ({ metadata: { name: 'ji', namespace: 'default' }, status: { metrics: metrics({ inferenceNumber: String(inferences), hardExampleNumber: String(hard), uploadCloudRatio: String(hard / inferences) }) } });
    state.upsert('JointInferenceService', ji(10, 2));
    c.advance(1000);
    state.upsert('JointInferenceService', ji(10, 2));
    c.advance(1000);
    state.upsert('JointInferenceService', ji(30, 6));
    const series = state.snapshot().series['JointInferenceService/default/ji']!;
    assert.deepEqual(series.inferences, [[1000, 10], [3000, 30]]);
    assert.deepEqual(series.hardExamples, [[1000, 2], [3000, 6]]);
    assert.deepEqual(series.offloadShare, [[1000, 0.2]]);
    assert.equal(series.cloudFailures, undefined, 'not reported, not plotted');
  });

  it('federated learning: the aggregation Model\'s metrics become a point of the job\'s current round', () => {
    const c = clock();
    const state = new DashboardState([], undefined, c.now);
    const job = (round: number): Record<string, unknown> => ({ metadata: { name: 'fl', namespace: 'ns' }, spec: { aggregationWorker: { model: { name: 'agg' } } }, status: { round } });
    const model = (accuracy: number, loss: number): Record<string, unknown> => ({ metadata: { name: 'agg', namespace: 'ns' }, status: { metrics: metrics({ accuracy: String(accuracy), loss: String(loss), bytesSent: '4096' }) } });
    state.upsert('FederatedLearningJob', job(1));
    state.upsert('Model', model(0.6, 1.1));
    c.advance(500);
    state.upsert('FederatedLearningJob', job(2));
    state.upsert('Model', model(0.7, 0.9));
    // A second trainer's report of the same round replaces that round's point.
    state.upsert('Model', model(0.72, 0.85));
    // A Model of another namespace with the same name is not the job's.
    state.upsert('Model', { metadata: { name: 'agg', namespace: 'other' }, status: { metrics: metrics({ accuracy: '0.1' }) } });
    const s = state.snapshot().series['FederatedLearningJob/ns/fl']!;
    assert.deepEqual(s.accuracy, [[1, 0.6], [2, 0.72]]);
    assert.deepEqual(s.loss, [[1, 1.1], [2, 0.85]]);
    assert.deepEqual(s.bytes, [[1, 4096], [2, 4096]]);
    assert.deepEqual(s.round, [[1000, 1], [1500, 2]]);
  });

  it('a deleted resource takes its history along; synced once every watch listed', () => {
    const state = new DashboardState(['Dataset', 'Node'], undefined, clock().now);
    const ds = { metadata: { name: 'd', namespace: 'default' }, status: { numberOfSamples: 5 } };
    state.upsert('Dataset', ds);
    assert.ok(state.snapshot().series['Dataset/default/d']);
    state.remove('Dataset', ds);
    assert.equal(state.snapshot().series['Dataset/default/d'], undefined);
    assert.equal(state.snapshot().synced, false);
    state.markSynced('Dataset');
    state.markSynced('Node');
    assert.equal(state.snapshot().synced, true);
  });

  it('keeps only the newest events and lists resources by kind with phase and stage', () => {
    const state = new DashboardState([], { points: 10, events: 2, rows: 10 }, clock().now);
    for (let i = 0; i < 6; i++) state.upsert('Event', { metadata: { name: `e${i}`, namespace: 'default' }, reason: 'R', message: `m${i}`, involvedObject: { kind: 'Pod', name: 'p' }, lastTimestamp: `2026-01-01T00:00:0${i}Z` });
    assert.deepEqual(state.snapshot().events.map((e) => e.message), ['m5', 'm4']);
    const row = resourceRow('IncrementalLearningJob', { metadata: { name: 'il', namespace: 'default' }, status: { conditions: [{ type: 'Waiting', status: 'True', stage: 'Train' }, { type: 'Running', status: 'True', stage: 'Eval' }] } });
    assert.deepEqual([row.phase, row.stage, row.conditions.length], ['Running', 'Eval', 2]);
    assert.equal(resourceRow('Dataset', { metadata: { name: 'x' } }).phase, 'Unknown');
  });

  it('reads node readiness and ignores malformed metrics', () => {
    assert.deepEqual(nodeRow({ metadata: { name: 'edge-1', labels: { 'node-role.kubernetes.io/edge': '' } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }), { name: 'edge-1', ready: true, roles: ['edge'] });
    assert.equal(nodeRow({ metadata: { name: 'n' }, status: { conditions: [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown' }] } }).reason, 'NodeStatusUnknown');
    assert.deepEqual(metricsOf({ metrics: [{ key: 'a', value: '1' }, { key: 2, value: 'x' }, 'junk'] }), { a: '1' });
    assert.deepEqual(metricsOf({ metrics: 'nope' }), {});
  });
});
