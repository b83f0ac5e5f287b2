// The LC's lifelong-learning manager on a FakeClock, with a real CSV Dataset index read by the real
// dataset manager, a real SQLite file and real sample and index files: the train trigger fires once
// per Train/Waiting with the CSV header kept, eval takes the trained index, deploy copies the
// evaluated index into <out>/deploy/index.json, missing inputs are reported instead of stuck, and
// an LC restarted mid-cycle resumes its round and sample split without repeating a task.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { EdgeMessage } from '../../src/api/edge-protocol.ts';
import type { StageCondition } from '../../src/api/sedna/incremental-learning-job.ts';
import { edge as datasetEdge } from '../../src/features/dataset/edge.ts';
import type { DatasetManager } from '../../src/features/dataset/local-manager.ts';
import { edge as lifelongEdge } from '../../src/features/lifelonglearning/edge.ts';
import { JOB_LOOP_MS, type LifelongLearningManager } from '../../src/features/lifelonglearning/local-manager.ts';
import { LcDatabase } from '../../src/lc/db.ts';
import type { LocalJobManager, LocalManagerContext } from '../../src/lc/edge-feature.ts';
import { FakeClock } from '../../src/lib/fake-clock.ts';
import { silentLogger } from '../../src/lib/logger.ts';

const dir = mkdtempSync(join(tmpdir(), 'll-local-manager-'));
const index = join(dir, 'trainData.csv');
const out = join(dir, 'output');
const dbPath = join(dir, 'database.db');
const HEADER = 'Season,Temperature,Thermal preference';
const dataset = { kind: 'Dataset', metadata: { name: 'lifelong-dataset', namespace: 'default' }, spec: { url: index, format: 'csv', nodeName: 'edge-node' } };

let second = 0;
function condition(stage: StageCondition['stage'], type: StageCondition['type'], data?: unknown): StageCondition {
  second += 1;
  return { stage, type, status: 'True', lastTransitionTime: new Date(Date.UTC(2026, 0, 5, 10, 0, second)).toISOString(), ...(data ? { data: JSON.stringify(data) } : {}) };
}

function job(conditions: StageCondition[]): object {
  return {
    kind: 'LifelongLearningJob',
    metadata: { name: 'atcii-classifier-demo', namespace: 'default' },
    spec: {
      dataset: { name: 'lifelong-dataset', trainProb: 0.8 },
      trainSpec: { template: {}, trigger: { checkPeriodSeconds: 30, condition: { operator: '>', threshold: 5, metric: 'num_of_samples' } } },
      evalSpec: { template: {} },
      deploySpec: { template: {} },
      outputDir: out,
    },
    status: { conditions },
  };
}

class Node {
  readonly sent: EdgeMessage[] = [];
  readonly db = new LcDatabase(dbPath);
  readonly datasets: DatasetManager;
  readonly ll: LifelongLearningManager;

  constructor(readonly clock: FakeClock) {
    const managers = new Map<string, LocalJobManager>();
    const ctx: LocalManagerContext = { nodeName: 'edge-node', db: this.db, send: (m) => this.sent.push(m), clock, logger: silentLogger(), rootfs: '', pollIntervalMs: 3_600_000, manager: (f) => managers.get(f) };
    this.datasets = datasetEdge.createLocalManager!(ctx) as DatasetManager;
    this.ll = lifelongEdge.createLocalManager!(ctx) as LifelongLearningManager;
    managers.set('dataset', this.datasets);
    this.datasets.resume();
    this.ll.resume();
  }

  async rescan(): Promise<void> {
    this.datasets.check('default/dataset/lifelong-dataset');
    await this.datasets.settled();
  }

  async loop(n = 1): Promise<void> {
    for (let i = 0; i < n; i++) {
      await this.clock.advance(JOB_LOOP_MS);
      await this.ll.settled();
    }
  }

  reports(): Record<string, unknown>[] {
    return this.sent.filter((m) => m.header.resourceKind === 'LifelongLearningJob').map((m) => m.content as Record<string, unknown>);
  }

  async stop(): Promise<void> {
    await this.ll.stop();
    await this.datasets.stop();
    this.db.close();
  }
}

const rows = (from: number, n: number): string => Array.from({ length: n }, (_, i) => `${i % 2 ? 'Summer' : 'Winter'},${20 + ((from + i) % 10)},${(from + i) % 3}\n`).join('');

describe('lifelong learning on the LC', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs train, eval and deploy from the CSV dataset, and resumes after a restart without repeating a task', async () => {
    writeFileSync(index, `${HEADER}\n${rows(0, 10)}`);
    const clock = new FakeClock(Date.UTC(2026, 0, 5, 10));
    let node = new Node(clock);
    node.datasets.insert(dataset);
    await node.rescan();
    const waiting = condition('Train', 'Waiting');
    node.ll.insert(job([waiting]));
    await node.loop(3);
    const [trainReady] = node.reports();
    assert.equal(trainReady!.phase, 'Train');
    assert.equal(trainReady!.status, 'Ready');
    const input = trainReady!.input as { dataURL: string; outputDir: string };
    assert.equal(input.outputDir, `${out}/train/1`);
    assert.equal(input.dataURL, `${out}/data/train/1/data.csv`);
    const written = readFileSync(input.dataURL, 'utf8').trim().split('\n');
    assert.equal(written[0], HEADER, 'the csv header comes first');
    assert.equal(written.length, 1 + 8, 'trainProb 0.8 of 10 samples');
    await node.loop(3);
    assert.equal(node.reports().length, 1, 'one report per Train/Waiting');

    // The LC restarts: its round and sample split are in the database; the same condition is not acted on again.
    await node.stop();
    node = new Node(clock);
    node.ll.insert(job([waiting]));
    await node.rescan();
    await node.loop(3);
    assert.deepEqual(node.reports(), []);
    assert.equal(node.ll.state(job([]) as never).round, 1);

    // Eval: the trained index goes to the eval worker with the kept eval samples.
    const trained = join(out, 'train', '1', 'index.json');
    mkdirSync(join(out, 'train', '1'), { recursive: true });
    writeFileSync(trained, JSON.stringify({ seen_task: { extractor: null, task_groups: [] }, unseen_task: { extractor: null, task_groups: [] } }));
    const trainDone = condition('Train', 'Completed', { input, output: { models: [{ format: 'json', url: trained }] } });
    node.ll.insert(job([waiting, trainDone, condition('Eval', 'Waiting')]));
    await node.loop();
    const evalReady = node.reports().at(-1)!;
    assert.equal(evalReady.status, 'Ready');
    const evalInput = evalReady.input as { models: { url: string }[]; dataURL: string; outputDir: string };
    assert.deepEqual(evalInput.models.map((m) => m.url), [trained]);
    assert.equal(evalInput.outputDir, `${out}/eval/1`);
    assert.equal(readFileSync(evalInput.dataURL, 'utf8').trim().split('\n').length, 1 + 2);

    // Deploy: the evaluated index is copied into <out>/deploy/index.json.
    const evaluated = join(out, 'eval', '1', 'index.json');
    mkdirSync(join(out, 'eval', '1'), { recursive: true });
    writeFileSync(evaluated, '{"evaluated":true}');
    const evalDone = condition('Eval', 'Completed', { output: { models: [{ format: 'json', url: evaluated }] } });
    node.ll.insert(job([waiting, trainDone, evalDone, condition('Deploy', 'Waiting')]));
    await node.loop();
    const deployReady = node.reports().at(-1)!;
    assert.deepEqual(deployReady, { phase: 'Deploy', status: 'Ready', input: { models: [{ format: 'json', url: `${out}/deploy/index.json` }] } });
    assert.equal(readFileSync(join(out, 'deploy', 'index.json'), 'utf8'), '{"evaluated":true}');

    // The next round counts only the new samples.
    appendFileSync(index, rows(10, 10));
    await node.rescan();
    node.ll.insert(job([waiting, trainDone, evalDone, condition('Deploy', 'Completed'), condition('Train', 'Waiting')]));
    await node.loop(3);
    const round2 = node.reports().at(-1)!;
    assert.equal((round2.input as { outputDir: string }).outputDir, `${out}/train/2`);
    assert.equal(readFileSync((round2.input as { dataURL: string }).dataURL, 'utf8').trim().split('\n').length, 1 + 8);
    await node.stop();
  });

  it('reports a missing trained index, evaluated index or failed copy instead of waiting forever', async () => {
    rmSync(dbPath, { force: true });
    const clock = new FakeClock(Date.UTC(2026, 0, 6, 10));
    const node = new Node(clock);
    node.ll.insert(job([condition('Train', 'Completed', { output: { models: null } }), condition('Eval', 'Waiting')]));
    await node.loop();
    assert.match(String(node.reports().at(-1)!.message), /names no output model/);
    assert.equal(node.reports().at(-1)!.status, 'Failed');
    node.ll.insert(job([condition('Eval', 'Completed', { output: { models: [{ url: join(dir, 'missing.json') }] } }), condition('Deploy', 'Waiting')]));
    await node.loop();
    assert.equal(node.reports().at(-1)!.status, 'Failed');
    assert.match(String(node.reports().at(-1)!.message), /missing\.json.*failed: ENOENT/);
    node.ll.insert(job([condition('Eval', 'Completed', {}), condition('Deploy', 'Waiting')]));
    await node.loop();
    assert.deepEqual(node.reports().at(-1), { phase: 'Deploy', status: 'Completed', message: 'not deployed: the latest Eval/Completed names no evaluated index' });
    await node.stop();
  });
});
