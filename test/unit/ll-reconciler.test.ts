// The LifelongLearningJob reconciler against the fake client and a FakeClock, node reports through
// its upstream handler, and status.knowledgeBase read from a real knowledge-base server on
// 127.0.0.1 (SQLite in a temp dir). Nothing sleeps.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { EdgeMessage } from '../../src/api/edge-protocol.ts';
import type { KbIndex } from '../../src/api/kb-index.ts';
import type { Dataset } from '../../src/api/sedna/dataset.ts';
import { SEDNA_API_VERSION } from '../../src/api/sedna/index.ts';
import type { LifelongLearningJob } from '../../src/api/sedna/lifelong-learning-job.ts';
import { handleLifelongLearningUpstream, lifelongLearningParts, type LifelongLearningReconciler } from '../../src/features/lifelonglearning/controller.ts';
import { DEPLOYED_AT_ANNOTATION, HOT_UPDATED, KB_HOT_UPDATE_ANNOTATION } from '../../src/features/lifelonglearning/workers.ts';
import { POD_FAILED, RETRY_BASE_MS } from '../../src/features/incrementallearning/status.ts';
import { RejectedMessage } from '../../src/gm/feature.ts';
import type { CoreSecret, Deployment, EnvVar, WorkerPod } from '../../src/gm/workers/index.ts';
import { KbDatabase } from '../../src/kb/db.ts';
import { KbFiles } from '../../src/kb/files.ts';
import { KbServer } from '../../src/kb/server.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { fakeFeatureContext, type FakeFeatureContext } from '../helpers/feature-context.ts';

const NS = 'default';
const NAME = 'atcii-classifier-demo';
const JOBS = { apiVersion: SEDNA_API_VERSION, plural: 'lifelonglearningjobs', namespace: NS };
const DATASETS = { apiVersion: SEDNA_API_VERSION, plural: 'datasets', namespace: NS };
const PODS = { apiVersion: 'v1', plural: 'pods', namespace: NS };
const DEPLOYMENTS = { apiVersion: 'apps/v1', plural: 'deployments', namespace: NS };
const INFERENCE = `${NAME}-deployment-inference`;
const SECRETS = { apiVersion: 'v1', plural: 'secrets', namespace: NS };
const KB_SECRET = `${NAME}-kb-token`;
const EDGE = 'edge-node';
const KB_TOKEN = 'll-test-kb-token';
type Pod = WorkerPod & { status?: { phase?: string } };

function job(): LifelongLearningJob {
  const template = (name: string): LifelongLearningJob['spec']['trainSpec']['template'] => ({ spec: { nodeName: EDGE, containers: [{ name, image: 'node' }] } });
  return {
    apiVersion: SEDNA_API_VERSION,
    kind: 'LifelongLearningJob',
    metadata: { name: NAME, namespace: NS },
    spec: {
      dataset: { name: 'lifelong-dataset', trainProb: 0.8 },
      trainSpec: { template: template('train-worker'), trigger: { checkPeriodSeconds: 60, condition: { operator: '>', threshold: 500, metric: 'num_of_samples' } } },
      evalSpec: { template: template('eval-worker') },
      deploySpec: { template: template('infer-worker') },
      outputDir: '/output',
    },
  };
}

const dataset: Dataset = { apiVersion: SEDNA_API_VERSION, kind: 'Dataset', metadata: { name: 'lifelong-dataset', namespace: NS }, spec: { url: '/data/trainData.csv', format: 'csv', nodeName: EDGE } };

const envOf = (pod: { spec?: { containers: { env?: { name: string; value?: string }[] }[] } }): Record<string, string> =>
  Object.fromEntries((pod.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value ?? '']));

function kbIndex(): KbIndex {
  const group = (entry: string, samples: number, precision: number) => ({
    entry,
    tasks: [{ entry, meta_attr: { Season: entry }, samples: { sample_num: samples, data_type: entry === 'winter' ? 'unseen' : 'train' } }],
    samples: { sample_num: samples },
    model: { model: `http://kb/${entry}.model`, scores: { precision_score: precision }, classes: ['cool', 'neutral', 'warm'] },
  });
  return { seen_task: { extractor: { summer: 0, winter: 1 }, task_groups: [group('summer', 300, 0.81), group('winter', 120, 0.74)] }, unseen_task: { extractor: null, task_groups: [] } };
}

describe('LifelongLearningJob reconciler', () => {
  let dir: string;
  let db: KbDatabase;
  let kb: KbServer;
  let kbUrl: string;
  let f: FakeFeatureContext;
  let reconciler: LifelongLearningReconciler;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sedna-ll-'));
    writeFileSync(join(dir, 'kb-token'), `${KB_TOKEN}\n`);
    db = new KbDatabase(join(dir, 'kb.sqlite3'));
    kb = new KbServer({ db, files: new KbFiles(join(dir, 'files')), token: KB_TOKEN, logger: silentLogger(), port: 0 });
    kbUrl = `http://127.0.0.1:${await kb.start()}`;
    db.recordIndex(kbIndex());
  });
  after(async () => {
    await kb.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function reconcile(): Promise<{ writes: string[]; requeueAfter?: number }> {
    await f.sync();
    f.client.clearActions();
    const result = await reconciler.reconcileKey(NS, NAME);
    return { writes: f.client.writes().map((a) => `${a.verb} ${a.plural}${a.name && a.plural !== 'events' ? `/${a.name}` : ''}`), ...(result?.requeueAfter !== undefined ? { requeueAfter: result.requeueAfter } : {}) };
  }
  const current = (): Promise<LifelongLearningJob> => f.client.get<LifelongLearningJob>({ ...JOBS, name: NAME });
  const state = async (): Promise<string> => {
    const c = (await current()).status?.conditions?.at(-1);
    return c ? `${c.stage}/${c.type}` : '';
  };
  /**
   * KB_TOKEN comes from the job's Secret by secretKeyRef, and the token is nowhere in the worker's
   * spec (anyone who may read pods or Deployments reads their env); the Secret holds it and the job
   * owns it, so it goes with the job.
   */
  function assertKbTokenFromSecret(worker: { spec?: { containers: { env?: EnvVar[] }[] } }): void {
    assert.deepEqual(worker.spec?.containers[0]?.env?.find((e) => e.name === 'KB_TOKEN'), { name: 'KB_TOKEN', valueFrom: { secretKeyRef: { name: KB_SECRET, key: 'token' } } });
    assert.ok(!JSON.stringify(worker).includes(KB_TOKEN), 'the token is not in the spec');
    const secret = f.client.objects<CoreSecret>(SECRETS).find((s) => s.metadata.name === KB_SECRET);
    assert.equal(Buffer.from(secret?.data?.token ?? '', 'base64').toString(), KB_TOKEN);
    assert.deepEqual(secret?.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.controller]), [['LifelongLearningJob', NAME, true]]);
  }
  const pods = (type: string): Pod[] => f.client.objects<Pod>(PODS).filter((p) => p.metadata.labels?.['lifelonglearningjob.sedna.io/worker-type'] === type);
  function report(content: unknown, node = EDGE): Promise<void> {
    const message: EdgeMessage = { header: { namespace: NS, resourceKind: 'LifelongLearningJob', resourceName: NAME, operation: 'status' }, content };
    return handleLifelongLearningUpstream(f.ctx, node, message);
  }
  async function setPhase(pod: Pod, phase: string): Promise<void> {
    await f.client.updateStatus({ ...PODS, name: pod.metadata.name! }, { ...pod, status: { phase } });
  }
  async function until(want: string, limit = 4): Promise<void> {
    for (let i = 0; i < limit && (await state()) !== want; i++) await reconcile();
    assert.equal(await state(), want);
  }
  /** Train/Ready from the LC, the pod runs, the worker's report: Train/Completed, then Eval/Waiting. */
  async function train(round: number, models: Record<string, unknown>[] = [{ format: 'pkl', url: `/output/train/${round}/index.json` }]): Promise<void> {
    await report({ phase: 'train', status: 'ready', input: { dataURL: `/output/data/train/${round}/data.csv`, outputDir: `/output/train/${round}` } });
    await until('Train/Starting');
    const pod = pods('train').at(-1)!;
    await setPhase(pod, 'Running');
    await until('Train/Running');
    await report({ phase: 'train', status: 'completed', output: { models } });
    await until('Eval/Waiting');
  }
  async function evalAndDeploy(round: number): Promise<void> {
    await report({ phase: 'eval', status: 'ready', input: { models: [{ format: 'pkl', url: `/output/train/${round}/index.json` }], dataURL: `/output/data/eval/${round}/data.csv`, outputDir: `/output/eval/${round}` } });
    await until('Eval/Starting');
    await setPhase(pods('eval').at(-1)!, 'Running');
    await until('Eval/Running');
    await report({ phase: 'eval', status: 'completed', output: { models: [{ format: 'pkl', url: `/output/eval/${round}/index.json`, number_of_unseen_sample: 7 }] } });
    await until('Deploy/Waiting');
    await report({ phase: 'deploy', status: 'ready', input: { models: [{ format: 'pkl', url: '/output/deploy/index.json' }] } });
    await until('Train/Waiting', 6);
  }

  beforeEach(() => {
    f = fakeFeatureContext();
    f.ctx.config.knowledgeBaseServer = { server: kbUrl, tokenFile: join(dir, 'kb-token') };
    reconciler = lifelongLearningParts(f.ctx).reconciler;
    f.client.seed(JOBS, job());
    f.client.seed(DATASETS, dataset);
  });

  it('starts in Train/Waiting with no inference worker, and sends the job to its dataset node', async () => {
    assert.deepEqual((await reconcile()).writes, [`updateStatus lifelonglearningjobs/${NAME}`]);
    assert.equal(await state(), 'Train/Waiting');
    assert.equal((await current()).status!.round, 1);
    assert.deepEqual((await reconcile()).writes, []);
    assert.equal(f.client.objects<Deployment>(DEPLOYMENTS).length, 0);
    assert.ok(f.hub.sent.some((s) => s.node === EDGE && s.message.header.resourceKind === 'lifelonglearningjob'));
  });

  it('runs train, eval and deploy with Sedna\'s env, the KB token, and knowledgeBase from the KB', async () => {
    await until('Train/Waiting');
    await train(1);
    const trainPod = pods('train')[0]!;
    const trainEnv = envOf(trainPod);
    assert.deepEqual(
      Object.keys(trainEnv).filter((n) => ['NAMESPACE', 'JOB_NAME', 'WORKER_NAME', 'HAS_COMPLETED_INITIAL_TRAINING', 'LC_SERVER', 'KB_SERVER'].includes(n)),
      ['NAMESPACE', 'JOB_NAME', 'WORKER_NAME', 'HAS_COMPLETED_INITIAL_TRAINING', 'LC_SERVER', 'KB_SERVER'],
    );
    assert.equal(trainEnv.HAS_COMPLETED_INITIAL_TRAINING, 'false');
    assert.equal(trainEnv.CLOUD_KB_INDEX, undefined);
    assert.equal(trainEnv.KB_SERVER, kbUrl);
    assertKbTokenFromSecret(trainPod);
    assert.match(trainEnv.WORKER_NAME!, /^train-worker-[a-z0-9]{5}$/);
    assert.ok(trainEnv.OUTPUT_URL!.endsWith('/output/train/1'));
    assert.ok(trainEnv.TRAIN_DATASET_URL!.endsWith('/output/data/train/1/data.csv'));
    assert.equal(trainPod.spec.dnsPolicy, 'ClusterFirstWithHostNet');
    assert.equal(trainPod.spec.hostNetwork, true);
    assert.equal(trainPod.metadata.ownerReferences?.[0]?.kind, 'LifelongLearningJob');
    assert.equal((await current()).metadata.annotations?.['sedna.io/Train'], EDGE, 'downstream follows the stage to its node');

    // status.knowledgeBase is the KB's: two task models with their precision and training samples.
    const kbStatus = (await current()).status!.knowledgeBase!;
    assert.deepEqual(kbStatus.AIModels, {
      numberOfAIModels: 2,
      listOfAIModels: [
        { modelID: 'summer', averagePrecision: 0.81, numberOfTrainSamples: 300 },
        { modelID: 'winter', averagePrecision: 0.74, numberOfTrainSamples: 120 },
      ],
    });
    assert.deepEqual(kbStatus.AIClasses, { numberOfAIClasses: 3, listOfAIClasses: ['cool', 'neutral', 'warm'] });
    assert.deepEqual(kbStatus.samples, { numberOfLabeledUnseenSample: 120, numberOfUnseenSample: 0 });

    await evalAndDeploy(1);
    const evalEnv = envOf(pods('eval')[0]!);
    assert.ok(evalEnv.MODEL_URLS!.endsWith('/output/train/1/index.json'), evalEnv.MODEL_URLS);
    assertKbTokenFromSecret(pods('eval')[0]!);
    assert.match(evalEnv.WORKER_NAME!, /^eval-worker-[a-z0-9]{5}$/);
    assert.equal((await current()).status!.knowledgeBase!.samples.numberOfUnseenSample, 7);

    const status = (await current()).status!;
    assert.equal(status.deployedModel, '/output/deploy/index.json');
    assert.equal(status.round, 2);
    const deployment = await f.client.get<Deployment>({ ...DEPLOYMENTS, name: INFERENCE });
    const inferEnv = envOf(deployment.spec.template);
    assert.ok(inferEnv.MODEL_URLS!.endsWith('/output/deploy/index.json'), inferEnv.MODEL_URLS);
    assert.equal(inferEnv.OUTPUT_URL, '/output');
    assert.equal(inferEnv.KB_SERVER, kbUrl);
    assertKbTokenFromSecret(deployment.spec.template);
    assert.match(inferEnv.WORKER_NAME!, /^inferworker-[a-z0-9]{5}$/);
    assert.equal(deployment.metadata.ownerReferences?.[0]?.kind, 'LifelongLearningJob');
    const firstDeploy = deployment.spec.template.metadata?.annotations?.[DEPLOYED_AT_ANNOTATION];
    assert.ok(firstDeploy);

    // The second cycle updates the KB from the first training's index, and its deploy rolls the worker.
    await f.clock.advance(1000);
    await train(2);
    const second = envOf(pods('train').at(-1)!);
    assert.equal(second.HAS_COMPLETED_INITIAL_TRAINING, 'true');
    assert.equal(second.CLOUD_KB_INDEX, '/output/train/1/index.json');
    await evalAndDeploy(2);
    const rolled = await f.client.get<Deployment>({ ...DEPLOYMENTS, name: INFERENCE });
    assert.notEqual(rolled.spec.template.metadata?.annotations?.[DEPLOYED_AT_ANNOTATION], firstDeploy);
    assert.equal(envOf(rolled.spec.template).WORKER_NAME, inferEnv.WORKER_NAME, 'an unchanged worker keeps its name');

    // A deleted inference worker is recreated.
    await f.client.delete({ ...DEPLOYMENTS, name: INFERENCE });
    assert.deepEqual((await reconcile()).writes, [`create deployments/${INFERENCE}`]);
  });

  it('with hot update asked for, a later deploy reaches the serving worker in place: no restart, no roll', async () => {
    await f.client.patch({ ...JOBS, name: NAME }, { metadata: { annotations: { [KB_HOT_UPDATE_ANNOTATION]: 'true' } } }, 'merge');
    await until('Train/Waiting');
    await train(1);
    await evalAndDeploy(1);
    const first = (await current()).status!.conditions!.findLast((c) => c.stage === 'Deploy' && c.type === 'Completed')!;
    assert.equal(first.reason, 'InferenceWorkerRestarted', 'the first deploy starts the worker');
    const deployment = await f.client.get<Deployment>({ ...DEPLOYMENTS, name: INFERENCE });
    await f.client.updateStatus({ ...DEPLOYMENTS, name: INFERENCE }, { ...deployment, status: { replicas: 1, availableReplicas: 1 } });
    await f.clock.advance(1000);
    await train(2);
    await evalAndDeploy(2);
    const second = (await current()).status!.conditions!.findLast((c) => c.stage === 'Deploy' && c.type === 'Completed')!;
    assert.equal(second.reason, HOT_UPDATED);
    const after = await f.client.get<Deployment>({ ...DEPLOYMENTS, name: INFERENCE });
    assert.equal(after.spec.template.metadata?.annotations?.[DEPLOYED_AT_ANNOTATION], deployment.spec.template.metadata?.annotations?.[DEPLOYED_AT_ANNOTATION], 'the pod template is unchanged: the worker is not rolled');
  });

  it('brings the KB token Secret back when deleted and to the GM\'s token when it changes; without a token, neither Secret nor KB_TOKEN', async () => {
    await until('Train/Waiting');
    await train(1);
    await evalAndDeploy(1);
    await f.client.delete({ ...SECRETS, name: KB_SECRET });
    assert.deepEqual((await reconcile()).writes, [`create secrets/${KB_SECRET}`], 'the inference worker needs it');
    writeFileSync(join(dir, 'kb-token-rotated'), 'rotated-token\n');
    f.ctx.config.knowledgeBaseServer = { server: kbUrl, tokenFile: join(dir, 'kb-token-rotated') };
    assert.deepEqual((await reconcile()).writes, [`update secrets/${KB_SECRET}`], 'the pod spec is unchanged: it names the Secret only');
    const secret = await f.client.get<CoreSecret>({ ...SECRETS, name: KB_SECRET });
    assert.equal(Buffer.from(secret.data?.token ?? '', 'base64').toString(), 'rotated-token');

    f = fakeFeatureContext();
    f.ctx.config.knowledgeBaseServer = { server: kbUrl, tokenFile: '' };
    reconciler = lifelongLearningParts(f.ctx).reconciler;
    f.client.seed(JOBS, job());
    f.client.seed(DATASETS, dataset);
    await until('Train/Waiting');
    await train(1);
    assert.equal(envOf(pods('train')[0]!).KB_TOKEN, undefined);
    assert.deepEqual(f.client.objects<CoreSecret>(SECRETS), []);
  });

  it('falls back to the reported models when the KB is unreachable, and records the report', async () => {
    f.ctx.config.knowledgeBaseServer = { server: 'http://127.0.0.1:1', tokenFile: join(dir, 'kb-token') };
    await until('Train/Waiting');
    await train(1, [{ format: 'pkl', url: '/output/train/1/index.json', classes: ['a', 'b'], current_metric: { 'task-a': { precision: 0.5 } }, number_of_labeled_unseen_sample: 12 }]);
    assert.deepEqual((await current()).status!.knowledgeBase, {
      AIModels: { numberOfAIModels: 1, listOfAIModels: [{ modelID: 'task-a', averagePrecision: 0.5, numberOfTrainSamples: 12 }] },
      AIClasses: { numberOfAIClasses: 2, listOfAIClasses: ['a', 'b'] },
      samples: { numberOfLabeledUnseenSample: 12, numberOfUnseenSample: 0 },
    });
  });

  it('a GM restarted mid-cycle carries on from the status: no task, model or sample count lost', async () => {
    await until('Train/Waiting');
    await train(1);
    const before = (await current()).status!;
    // A new GM process: new informers, a new reconciler; only the API server's objects remain.
    const restarted = fakeFeatureContext();
    for (const object of [await current()]) restarted.client.seed(JOBS, object);
    restarted.client.seed(DATASETS, dataset);
    for (const pod of f.client.objects<Pod>(PODS)) restarted.client.seed(PODS, pod);
    restarted.ctx.config.knowledgeBaseServer = f.ctx.config.knowledgeBaseServer;
    f = restarted;
    reconciler = lifelongLearningParts(f.ctx).reconciler;
    assert.deepEqual((await reconcile()).writes, [], 'nothing to redo: no second train pod, no condition rewritten');
    assert.equal(pods('train').length, 1);
    await evalAndDeploy(1);
    const after = (await current()).status!;
    assert.deepEqual(after.knowledgeBase!.AIModels, before.knowledgeBase!.AIModels);
    assert.equal(after.round, 2);
  });

  it('retries a failed train pod with backoff from its Ready input', async () => {
    await until('Train/Waiting');
    await report({ phase: 'train', status: 'ready', input: { dataURL: '/output/data/train/1/data.csv', outputDir: '/output/train/1' } });
    await until('Train/Starting');
    await setPhase(pods('train')[0]!, 'Failed');
    await until('Train/Failed');
    assert.equal((await current()).status!.conditions!.at(-1)!.reason, POD_FAILED);
    const { requeueAfter } = await reconcile();
    assert.equal(requeueAfter, RETRY_BASE_MS);
    await f.clock.advance(RETRY_BASE_MS);
    await until('Train/Starting');
    assert.equal(pods('train').length, 2);
  });

  it('refuses reports from other nodes, of another stage, or malformed', async () => {
    await until('Train/Waiting');
    await assert.rejects(report({ phase: 'train', status: 'ready', input: {} }, 'edge-2'), RejectedMessage);
    await assert.rejects(report({ phase: 'eval', status: 'ready', input: {} }), /a Eval report while the job is in its Train stage/);
    await assert.rejects(report({ phase: 'train', status: 'ready', input: { dataURL: 5 } }), /lifelonglearningjob report: input\.dataURL must be a string/);
    assert.equal(await state(), 'Train/Waiting');
  });
});
