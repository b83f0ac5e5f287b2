// The LC's incremental-learning manager on a FakeClock, with a real Dataset index file read by the
// real dataset manager, Models kept by the real model manager, a real SQLite file, and real sample
// and model files: the data loop splits by trainProb, the train trigger fires once per Train/Waiting,
// eval uses the kept eval versions, the deploy decision follows Sedna's {metric, metric_delta}, and
// an LC restarted mid-cycle resumes its round and sample split.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { EdgeMessage } from '../../src/api/edge-protocol.ts';
import type { StageCondition } from '../../src/api/sedna/incremental-learning-job.ts';
import { edge as datasetEdge } from '../../src/features/dataset/edge.ts';
import type { DatasetManager } from '../../src/features/dataset/local-manager.ts';
import { decideDeploy, deployStats } from '../../src/features/incrementallearning/deploy-decision.ts';
import { edge as incrementalEdge } from '../../src/features/incrementallearning/edge.ts';
import { type IncrementalLearningManager, JOB_LOOP_MS } from '../../src/features/incrementallearning/local-manager.ts';
import { IncrementalLearning } from '../../src/features/incrementallearning/sdk.ts';
import { EVAL_VERSIONS, emptySamples, split, trimEvalVersions } from '../../src/features/incrementallearning/samples.ts';
import { LcDatabase } from '../../src/lc/db.ts';
import type { LocalJobManager, LocalManagerContext } from '../../src/lc/edge-feature.ts';
import { ModelManager } from '../../src/lc/models.ts';
import { compileTrigger } from '../../src/lc/triggers.ts';
import { FakeClock } from '../../src/lib/fake-clock.ts';
import { silentLogger } from '../../src/lib/logger.ts';

const dir = mkdtempSync(join(tmpdir(), 'il-local-manager-'));
const index = join(dir, 'train.txt');
const out = join(dir, 'output');
const models = join(dir, 'models');
let dbPath = join(dir, 'database.db');

const dataset = { kind: 'Dataset', metadata: { name: 'ds', namespace: 'default' }, spec: { url: index, format: 'txt', nodeName: 'edge-1' } };
const model = (name: string): object => ({ kind: 'Model', metadata: { name, namespace: 'default' }, spec: { url: join(models, name, 'model.pb'), format: 'pb' } });

let tick = 0;
function condition(stage: StageCondition['stage'], type: StageCondition['type'], data?: unknown): StageCondition {
  tick += 1;
  return { stage, type, status: 'True', lastTransitionTime: new Date(Date.UTC(2026, 0, 5, 10, 0, tick)).toISOString(), ...(data ? { data: JSON.stringify(data) } : {}) };
}

function job(conditions: StageCondition[]): object {
  return {
    kind: 'IncrementalLearningJob',
    metadata: { name: 'helmet-il', namespace: 'default' },
    spec: {
      dataset: { name: 'ds', trainProb: 0.8 },
      initialModel: { name: 'initial-model' },
      trainSpec: { template: {}, trigger: { checkPeriodSeconds: 30, condition: { operator: '>', threshold: 5, metric: 'num_of_samples' } } },
      evalSpec: { template: {} },
      deploySpec: { model: { name: 'deploy-model' }, trigger: { condition: { operator: '>', threshold: 0.1, metric: 'precision_delta[0]' } }, hardExampleMining: { name: 'IBT' }, template: {} },
      outputDir: out,
    },
    status: { conditions },
  };
}

/** One LC lifetime: its database, the model manager and the two feature managers, wired as the LC wires them. */
class Node {
  readonly sent: EdgeMessage[] = [];
  readonly db = new LcDatabase(dbPath);
  readonly models = new ModelManager(this.db);
  readonly datasets: DatasetManager;
  readonly il: IncrementalLearningManager;

  constructor(clock: FakeClock) {
    const managers = new Map<string, LocalJobManager>();
    const ctx: LocalManagerContext = { nodeName: 'edge-1', db: this.db, send: (m) => this.sent.push(m), clock, logger: silentLogger(), rootfs: '', pollIntervalMs: 3_600_000, manager: (f) => managers.get(f) };
    this.datasets = datasetEdge.createLocalManager!(ctx) as DatasetManager;
    this.il = incrementalEdge.createLocalManager!(ctx) as IncrementalLearningManager;
    managers.set('dataset', this.datasets);
    this.datasets.resume();
    this.il.resume();
  }

  async rescan(): Promise<void> {
    this.datasets.check('default/dataset/ds');
    await this.datasets.settled();
  }

  reports(): unknown[] {
    return this.sent.filter((m) => m.header.resourceKind === 'IncrementalLearningJob').map((m) => m.content);
  }

  async stop(): Promise<void> {
    await this.il.stop();
    await this.datasets.stop();
    this.db.close();
  }
}

/** `n` job loops on the clock, each waited for (its file writes are real I/O). */
async function loop(node: Node, clock: FakeClock, n = 1): Promise<void> {
  for (let i = 0; i < n; i++) {
    await clock.advance(JOB_LOOP_MS);
    await node.il.settled();
  }
}

const lines = (from: number, n: number): string => Array.from({ length: n }, (_, i) => `img/${from + i}.jpg\n`).join('');
const TRAINED = join(out, 'train', '1', 'model.pb');

describe('incremental learning: samples and the deploy decision', () => {
  it('splits new samples by trainProb, keeps eval versions, and starts over on a shrunk dataset', () => {
    let state = split(emptySamples(), 10, 0.8);
    assert.deepEqual(state, { splitUpTo: 10, train: [[0, 8]], evalVersions: [[8, 10]] });
    state = split(state, 13, 0.5);
    assert.deepEqual(state, { splitUpTo: 13, train: [[0, 8], [10, 11]], evalVersions: [[8, 10], [11, 13]] });
    assert.equal(split(state, 13, 0.5), state, 'nothing new: the same state');
    for (let n = 14; n < 14 + EVAL_VERSIONS + 2; n++) state = split(state, n, 0);
    assert.equal(trimEvalVersions(state).evalVersions.length, EVAL_VERSIONS);
    assert.deepEqual(split(state, 4, 1), { splitUpTo: 4, train: [[0, 4]], evalVersions: [] });
  });

  it('computes {metric, metric_delta} as Sedna does and evaluates the deploy trigger on it', () => {
    assert.deepEqual(deployStats({ precision: [0.9, 0.5], recall: [0.4] }, { precision: [0.7, 0.6], recall: [0.5] }), {
      precision: [0.9, 0.5],
      precision_delta: [0.9 - 0.7, 0.5 - 0.6],
      recall: [0.4],
      recall_delta: [0.4 - 0.5],
    });
    const trigger = compileTrigger({ condition: { operator: '>', threshold: 0.1, metric: 'precision_delta[0]' } });
    const evalDone = (metrics: unknown[]): StageCondition[] => [condition('Eval', 'Completed', { output: { models: metrics.map((m, i) => ({ format: 'pb', url: `/m${i}`, metrics: m })) } })];
    const now = new Date();
    assert.equal(decideDeploy(evalDone([{ precision: [0.9] }, { precision: [0.7] }]), trigger, now).deploy, true);
    const same = decideDeploy(evalDone([{ precision: [0.8] }, { precision: [0.7] }]), trigger, now);
    assert.equal(same.deploy, false, '0.1 is not > 0.1 (equality within 1e-6)');
    const one = decideDeploy(evalDone([{ precision: [0.9] }]), trigger, now);
    assert.ok(!one.deploy && /exactly 2/.test(one.reason));
    const scalar = decideDeploy(evalDone([{ precision: 0.9 }, { precision: [0.7] }]), trigger, now);
    assert.ok(!scalar.deploy && /precision is not a list of numbers/.test(scalar.reason));
    // A condition that cannot be evaluated on the metrics says why (Sedna's is silently false).
    const metrics = evalDone([{ accuracy: [0.9] }, { accuracy: [0.7] }]);
    const spec = (metric: string, operator = '>'): unknown => ({ condition: { operator, threshold: 0.1, metric } });
    const typo = decideDeploy(metrics, compileTrigger(spec('precision_delta[0]')), now, spec('precision_delta[0]'));
    assert.ok(!typo.deploy && typo.unevaluable);
    assert.match(typo.reason, /metric "precision_delta\[0\]" is not in the evaluation's metrics \(accuracy\[1\], accuracy_delta\[1\]\)/);
    const list = decideDeploy(metrics, compileTrigger(spec('accuracy_delta')), now, spec('accuracy_delta'));
    assert.ok(!list.deploy && /not a number \(a list needs an index, e.g. accuracy_delta\[0\]\)/.test(list.reason));
    const operator = decideDeploy(metrics, compileTrigger(spec('accuracy_delta[0]', '~')), now, spec('accuracy_delta[0]', '~'));
    assert.ok(!operator.deploy && /unknown operator "~"/.test(operator.reason));
    assert.equal(decideDeploy(metrics, compileTrigger(spec('accuracy_delta[0]')), now, spec('accuracy_delta[0]')).deploy, true);
  });
});

describe('incremental learning manager (LC)', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs train → eval → deploy from the GM\'s conditions and resumes after an LC restart mid-cycle', async () => {
    mkdirSync(join(models, 'initial-model'), { recursive: true });
    mkdirSync(join(models, 'deploy-model'), { recursive: true });
    writeFileSync(join(models, 'deploy-model', 'model.pb'), 'old model');
    const clock = new FakeClock(new Date(2026, 0, 5, 10, 10));
    writeFileSync(index, lines(0, 10));
    let node = new Node(clock);
    node.models.insert(model('initial-model'));
    node.models.insert(model('deploy-model'));
    node.datasets.insert(dataset);
    await node.rescan();
    const trainWaiting = condition('Train', 'Waiting');
    node.il.insert(job([trainWaiting]));

    await loop(node, clock);
    const trainReady = { phase: 'Train', status: 'Ready', input: { models: [{ url: join(models, 'initial-model', 'model.pb'), format: 'pb' }], dataURL: join(out, 'data/train/1/data.txt'), dataIndexURL: '', outputDir: join(out, 'train/1') }, output: null };
    assert.deepEqual(node.reports(), [trainReady]);
    assert.equal(readFileSync(join(out, 'data/train/1/data.txt'), 'utf8'), lines(0, 8), 'the first floor(0.8 · 10) samples');
    for (const sub of ['train', 'eval', 'data/train', 'data/eval']) assert.ok(existsSync(join(out, sub)), `${sub}: the workers' pods mount it`);

    // The GM has not moved on yet: the same Train/Waiting triggers nothing more (Sedna's double trigger).
    await loop(node, clock, 6);
    assert.equal(node.reports().length, 1);

    // The LC restarts while the train worker runs; 5 samples arrive meanwhile.
    await node.stop();
    appendFileSync(index, lines(10, 5));
    node = new Node(clock);
    await node.rescan();
    assert.equal(node.il.state(job([])).round, 1, 'the round survives the restart');
    const trainCompleted = condition('Train', 'Completed', { output: { models: [{ format: 'pb', url: TRAINED }] } });
    node.il.insert(job([trainWaiting, condition('Train', 'Ready'), condition('Train', 'Running'), trainCompleted, condition('Eval', 'Waiting')]));
    mkdirSync(join(out, 'train', '1'), { recursive: true });
    writeFileSync(TRAINED, 'new model');
    await loop(node, clock);
    assert.deepEqual(node.il.state(job([])).train, [[10, 14]], 'the new samples were split once, from where the split stopped');
    const evalReady = node.reports().at(-1) as { phase: string; status: string; input: { models: { url: string }[]; dataURL: string } };
    assert.equal(`${evalReady.phase}/${evalReady.status}`, 'Eval/Ready');
    assert.deepEqual(evalReady.input.models.map((m) => m.url), [TRAINED, join(models, 'deploy-model', 'model.pb')]);
    assert.equal(readFileSync(evalReady.input.dataURL, 'utf8'), lines(8, 2) + lines(14, 1), 'the kept eval versions, each sample once');

    const evalCompleted = condition('Eval', 'Completed', { output: { models: [{ format: 'pb', url: TRAINED, metrics: { precision: [0.9] } }, { format: 'pb', url: 'old', metrics: { precision: [0.7] } }] } });
    const conditions = [trainWaiting, trainCompleted, condition('Eval', 'Ready'), evalCompleted, condition('Deploy', 'Waiting')];
    node.il.insert(job(conditions));
    await loop(node, clock);
    assert.deepEqual(node.reports().at(-1), { phase: 'Deploy', status: 'Ready', input: { models: [{ format: 'pb', url: TRAINED }, { url: join(models, 'deploy-model', 'model.pb'), format: 'pb' }] } });
    assert.equal(readFileSync(join(models, 'deploy-model', 'model.pb'), 'utf8'), 'new model', 'the trained model was copied onto the deploy model');

    // Round 2: training starts from the model trained in round 1.
    node.il.insert(job([...conditions, condition('Deploy', 'Ready'), condition('Deploy', 'Completed'), condition('Train', 'Waiting')]));
    appendFileSync(index, lines(15, 3));
    await node.rescan();
    await loop(node, clock, 3);
    const round2 = node.reports().at(-1) as { phase: string; input: { models: { url: string }[]; dataURL: string } };
    assert.equal(round2.phase, 'Train');
    assert.deepEqual(round2.input.models.map((m) => m.url), [TRAINED]);
    assert.equal(readFileSync(round2.input.dataURL, 'utf8'), lines(10, 4) + lines(15, 2), 'train samples since round 1, split 0.8 per arrival');
    await node.stop();
  });

  it('does not deploy when the trigger does not fire, and fails Eval without a trained model instead of crashing', async () => {
    const clock = new FakeClock(new Date(2026, 0, 5, 12, 0));
    dbPath = join(dir, 'second.db');
    const node = new Node(clock);
    node.datasets.insert(dataset);
    node.models.insert(model('deploy-model'));
    const noGain = condition('Eval', 'Completed', { output: { models: [{ format: 'pb', url: TRAINED, metrics: { precision: [0.75] } }, { format: 'pb', url: 'old', metrics: { precision: [0.7] } }] } });
    const trained = condition('Train', 'Completed', { output: { models: [{ format: 'pb', url: TRAINED }] } });
    node.il.insert(job([trained, noGain, condition('Deploy', 'Waiting')]));
    await loop(node, clock);
    assert.deepEqual(node.reports().at(-1), { phase: 'Deploy', status: 'Completed', message: 'not deployed: the deploy trigger did not fire' });

    // A deploy condition on a metric the evaluation did not report: Failed with the cause (the GM
    // retries the decision), and once the job names a reported metric, the retry deploys.
    const typo = job([trained, noGain, condition('Deploy', 'Waiting')]) as { spec: { deploySpec: { trigger: unknown } }; status: { conditions: StageCondition[] } };
    typo.spec.deploySpec.trigger = { condition: { operator: '>', threshold: 0.01, metric: 'recall_delta[0]' } };
    node.il.insert(typo);
    await loop(node, clock);
    const failed = node.reports().at(-1) as { phase: string; status: string; message: string };
    assert.equal(`${failed.phase}/${failed.status}`, 'Deploy/Failed');
    assert.match(failed.message, /the deploy trigger cannot be evaluated: metric "recall_delta\[0\]" is not in the evaluation's metrics/);
    typo.spec.deploySpec.trigger = { condition: { operator: '>', threshold: 0.01, metric: 'precision_delta[0]' } };
    typo.status.conditions = [...typo.status.conditions, condition('Deploy', 'Failed'), condition('Deploy', 'Waiting')];
    node.il.insert(typo);
    await loop(node, clock);
    assert.equal((node.reports().at(-1) as { status: string }).status, 'Ready', 'fixed: the retried decision deploys');

    node.il.insert(job([condition('Train', 'Completed', { output: { models: [] } }), condition('Eval', 'Waiting')]));
    await loop(node, clock);
    assert.deepEqual(node.reports().at(-1), { phase: 'Eval', status: 'Failed', message: 'no trained model of the eval model\'s format in the latest Train/Completed' });
    await node.stop();
  });

  it('with hot update: copies the deployed model beside model_config.json and points the config at it', async () => {
    const rootfs = join(dir, 'rootfs');
    mkdirSync(join(rootfs, 'out/train/1'), { recursive: true });
    writeFileSync(join(rootfs, 'out/train/1/model.pb'), 'hot model');
    const clock = new FakeClock(new Date(2026, 0, 5, 13, 0));
    const db = new LcDatabase(join(dir, 'hot.db'));
    const sent: EdgeMessage[] = [];
    const ctx: LocalManagerContext = { nodeName: 'edge-1', db, send: (m) => sent.push(m), clock, logger: silentLogger(), rootfs, manager: () => undefined };
    const manager = incrementalEdge.createLocalManager!(ctx) as IncrementalLearningManager;
    const config = '/var/lib/sedna/model-hot-update/default/incrementallearningjob/helmet-il/model_config.json';
    const base = job([condition('Deploy', 'Ready', { input: { models: [{ format: 'pb', url: '/out/train/1/model.pb' }, { format: 'pb', url: '/models/deploy.pb' }] } }), condition('Deploy', 'Starting'), condition('Deploy', 'Running')]) as {
      metadata: Record<string, unknown>;
      spec: { deploySpec: { model: Record<string, unknown> }; outputDir: string };
    };
    base.metadata.annotations = { 'sedna.io/model-hot-update-config': config };
    base.spec.deploySpec.model.hotUpdateEnabled = true;
    // The inference worker's node is this one: its LC runs the hot update.
    (base.spec.deploySpec as Record<string, unknown>).template = { spec: { nodeName: 'edge-1' } };
    base.spec.outputDir = '/out';
    manager.insert(base);
    await clock.advance(JOB_LOOP_MS);
    await manager.settled();
    const written = JSON.parse(readFileSync(join(rootfs, config), 'utf8')) as { model_config: { model_path: string; model_update_time: string } };
    assert.equal(written.model_config.model_path, '/model-hot-update/model.pb');
    assert.ok(written.model_config.model_update_time);
    assert.equal(readFileSync(join(rootfs, '/var/lib/sedna/model-hot-update/default/incrementallearningjob/helmet-il/model.pb'), 'utf8'), 'hot model');
    assert.deepEqual(sent, [], 'the worker reports the deploy, not the LC');
    manager.delete(base);
    await manager.stop(); // waits for the folder's removal too
    assert.equal(existsSync(join(rootfs, '/var/lib/sedna/model-hot-update/default/incrementallearningjob/helmet-il')), false, 'a deleted job leaves no hot-update folder');
    db.close();
  });

  it('with hot update and a listening inference worker: the LC pushes, the worker serves the model before its next poll', async () => {
    const rootfs = join(dir, 'rootfs-push');
    mkdirSync(join(rootfs, 'out/train/1'), { recursive: true });
    writeFileSync(join(rootfs, 'out/train/1/model.json'), '{"bias": 7}');
    writeFileSync(join(rootfs, 'initial.json'), '{"bias": 1}');
    const clock = new FakeClock(new Date(2026, 0, 5, 13, 0));
    const db = new LcDatabase(join(dir, 'push.db'));
    const ctx: LocalManagerContext = { nodeName: 'edge-1', db, send: () => undefined, clock, logger: silentLogger(), rootfs, manager: () => undefined };
    const manager = incrementalEdge.createLocalManager!(ctx) as IncrementalLearningManager;
    const config = '/var/lib/sedna/model-hot-update/default/incrementallearningjob/push-il/model_config.json';
    // The inference worker as the kubelet starts it: MODEL_HOT_UPDATE_CONFIG mapped to the node's folder.
    const loadToy = async (path: string): Promise<{ predict: (x: number) => number }> => {
      const { bias } = JSON.parse(await readFile(path, 'utf8')) as { bias: number };
      return { predict: (x) => x + bias };
    };
    const worker = new IncrementalLearning<number, number>({
      env: { MODEL_URL: join(rootfs, 'initial.json'), MODEL_HOT_UPDATE: 'true', MODEL_HOT_UPDATE_CONFIG: join(rootfs, config), MODEL_POLL_PERIOD_SECONDS: '3600' },
      load: loadToy,
      report: false,
      clock: new FakeClock(),
      logger: silentLogger(),
    });
    await worker.start();
    assert.equal((await worker.inference(1))[0], 2);
    const base = job([condition('Deploy', 'Ready', { input: { models: [{ format: 'json', url: '/out/train/1/model.json' }, { format: 'json', url: '/models/deploy.json' }] } }), condition('Deploy', 'Starting'), condition('Deploy', 'Running')]) as {
      metadata: Record<string, unknown>;
      spec: { deploySpec: { model: Record<string, unknown> }; outputDir: string };
    };
    (base.metadata as { name: string }).name = 'push-il';
    base.metadata.annotations = { 'sedna.io/model-hot-update-config': config };
    base.spec.deploySpec.model.hotUpdateEnabled = true;
    // The inference worker's node is this one: its LC runs the hot update.
    (base.spec.deploySpec as Record<string, unknown>).template = { spec: { nodeName: 'edge-1' } };
    base.spec.outputDir = '/out';
    manager.insert(base);
    await clock.advance(JOB_LOOP_MS);
    await manager.settled(); // the push is answered once the worker serves the model
    assert.equal((await worker.inference(1))[0], 8);
    assert.equal(worker.swapHistory.at(-1)?.via, 'push');
    await worker.close();
    await manager.stop();
    db.close();
  });
});
