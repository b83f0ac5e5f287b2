// The IncrementalLearningJob reconciler against the fake client and a FakeClock: the cache is
// filled by hand, the reconciler takes one step per call, node reports go through the upstream
// handler, and the test reads the objects and conditions that result. Nothing sleeps or listens.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { EdgeMessage } from '../../src/api/edge-protocol.ts';
import type { KubeObject } from '../../src/api/meta.ts';
import type { Dataset } from '../../src/api/sedna/dataset.ts';
import { SEDNA_API_VERSION } from '../../src/api/sedna/index.ts';
import type { IncrementalLearningJob, StageCondition } from '../../src/api/sedna/incremental-learning-job.ts';
import type { Model } from '../../src/api/sedna/model.ts';
import type { Action } from '../../src/controller/fake-client.ts';
import { incrementalLearningParts, type IncrementalLearningReconciler } from '../../src/features/incrementallearning/controller.ts';
import { INVALID_INPUT, MODEL_NOT_FOUND, NO_REPORT, POD_FAILED, REPORT_GRACE_MS, RETRY_BASE_MS } from '../../src/features/incrementallearning/status.ts';
import { handleIncrementalLearningUpstream } from '../../src/features/incrementallearning/upstream.ts';
import { DEPLOYED_MODEL_ANNOTATION, HOT_UPDATE_ANNOTATION, STAGE_RUN_ANNOTATION } from '../../src/features/incrementallearning/workers.ts';
import { RejectedMessage } from '../../src/gm/feature.ts';
import type { Deployment, WorkerPod } from '../../src/gm/workers/index.ts';
import { fakeFeatureContext, type FakeFeatureContext } from '../helpers/feature-context.ts';

const NS = 'default';
const JOBS = { apiVersion: SEDNA_API_VERSION, plural: 'incrementallearningjobs', namespace: NS };
const MODELS = { apiVersion: SEDNA_API_VERSION, plural: 'models', namespace: NS };
const DATASETS = { apiVersion: SEDNA_API_VERSION, plural: 'datasets', namespace: NS };
const PODS = { apiVersion: 'v1', plural: 'pods', namespace: NS };
const DEPLOYMENTS = { apiVersion: 'apps/v1', plural: 'deployments', namespace: NS };
const INFERENCE = 'helmet-il-deployment-inference';
const EDGE = 'edge-node';
type Pod = WorkerPod & { status?: { phase?: string } };

function job(hotUpdateEnabled = false): IncrementalLearningJob {
  const template = (name: string): IncrementalLearningJob['spec']['trainSpec']['template'] => ({ spec: { nodeName: EDGE, containers: [{ name, image: 'node' }] } });
  return {
    apiVersion: SEDNA_API_VERSION,
    kind: 'IncrementalLearningJob',
    metadata: { name: 'helmet-il', namespace: NS },
    spec: {
      initialModel: { name: 'initial-model' },
      dataset: { name: 'incremental-dataset', trainProb: 0.8 },
      trainSpec: { template: template('train-worker'), trigger: { checkPeriodSeconds: 60, condition: { operator: '>', threshold: 500, metric: 'num_of_samples' } } },
      evalSpec: { template: template('eval-worker') },
      deploySpec: {
        model: { name: 'deploy-model', hotUpdateEnabled, pollPeriodSeconds: 60 },
        trigger: { condition: { operator: '>', threshold: 0.1, metric: 'precision_delta[0]' } },
        hardExampleMining: { name: 'IBT', parameters: [{ key: 'threshold_img', value: '0.9' }] },
        template: template('infer-worker'),
      },
      outputDir: '/output',
    },
  };
}

const model = (name: string): Model => ({ apiVersion: SEDNA_API_VERSION, kind: 'Model', metadata: { name, namespace: NS }, spec: { url: `/models/${name}/model.pb`, format: 'pb' } });
const dataset: Dataset = { apiVersion: SEDNA_API_VERSION, kind: 'Dataset', metadata: { name: 'incremental-dataset', namespace: NS }, spec: { url: '/data/index.txt', format: 'txt', nodeName: EDGE } };

const TRAIN_INPUT = { models: [{ format: 'pb', url: '/models/initial-model/model.pb' }], dataURL: '/output/data/train/1/data.txt', dataIndexURL: '', outputDir: '/output/train/1' };
const TRAINED = { format: 'pb', url: '/output/train/1/model.pb', classes: null };

function describeWrite(action: Action): string {
  return `${action.verb} ${action.plural}${action.name && action.plural !== 'events' ? `/${action.name}` : ''}`;
}

function envOf(pod: { spec?: { containers: { env?: { name: string; value?: string }[] }[] } }): Record<string, string> {
  return Object.fromEntries((pod.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value ?? '']));
}

describe('IncrementalLearningJob reconciler', () => {
  let f: FakeFeatureContext;
  let reconciler: IncrementalLearningReconciler;

  async function reconcile(): Promise<{ writes: string[]; requeueAfter?: number }> {
    await f.sync();
    f.client.clearActions();
    const result = await reconciler.reconcileKey(NS, 'helmet-il');
    return { writes: f.client.writes().map(describeWrite), ...(result?.requeueAfter !== undefined ? { requeueAfter: result.requeueAfter } : {}) };
  }

  const current = (): Promise<IncrementalLearningJob> => f.client.get<IncrementalLearningJob>({ ...JOBS, name: 'helmet-il' });
  const last = async (): Promise<StageCondition> => (await current()).status!.conditions!.at(-1)!;
  const state = async (): Promise<string> => {
    const c = (await current()).status?.conditions?.at(-1);
    return c ? `${c.stage}/${c.type}` : '';
  };
  const pods = (type: string): Pod[] => f.client.objects<Pod>(PODS).filter((p) => p.metadata.labels?.['incrementallearningjob.sedna.io/worker-type'] === type);

  function report(content: unknown, node = EDGE): Promise<void> {
    const message: EdgeMessage = { header: { namespace: NS, resourceKind: 'IncrementalLearningJob', resourceName: 'helmet-il', operation: 'status' }, content };
    return handleIncrementalLearningUpstream(f.ctx, node, message);
  }

  async function setPhase(pod: Pod, phase: string): Promise<void> {
    await f.client.updateStatus({ ...PODS, name: pod.metadata.name! }, { ...pod, status: { phase } });
  }

  /** Reconciles until the job's latest condition is `want` (at most `limit` steps). */
  async function until(want: string, limit = 4): Promise<void> {
    for (let i = 0; i < limit && (await state()) !== want; i++) await reconcile();
    assert.equal(await state(), want);
  }

  beforeEach(() => {
    f = fakeFeatureContext();
    reconciler = incrementalLearningParts(f.ctx).reconciler;
    f.client.seed(JOBS, job());
    f.client.seed(MODELS, model('initial-model'), model('deploy-model'));
    f.client.seed(DATASETS, dataset);
  });

  it('starts in Train/Waiting, creates the inference Deployment with Sedna env, then is a no-op in sync', async () => {
    assert.deepEqual((await reconcile()).writes, ['updateStatus incrementallearningjobs/helmet-il']);
    const started = await current();
    assert.equal(await state(), 'Train/Waiting');
    assert.equal(started.status!.round, 1);
    assert.equal(started.status!.observedGeneration, 1);

    assert.deepEqual((await reconcile()).writes, [`create deployments/${INFERENCE}`]);
    const deployment = await f.client.get<Deployment>({ ...DEPLOYMENTS, name: INFERENCE });
    assert.equal(deployment.metadata.ownerReferences?.[0]?.kind, 'IncrementalLearningJob');
    assert.equal(deployment.metadata.ownerReferences?.[0]?.controller, true);
    const env = envOf(deployment.spec.template);
    const sednaEnv = ['NAMESPACE', 'JOB_NAME', 'WORKER_NAME', 'HEM_NAME', 'HEM_PARAMETERS', 'LC_SERVER'];
    assert.deepEqual(Object.keys(env).filter((name) => sednaEnv.includes(name)), sednaEnv);
    assert.match(env.WORKER_NAME!, /^inferworker-[a-z0-9]{5}$/);
    assert.equal(env.HEM_NAME, 'IBT');
    assert.equal(env.HEM_PARAMETERS, '[{"key":"threshold_img","value":"0.9"}]');
    assert.equal(env.MODEL_URL, '/home/data/models/deploy-model/model.pb');
    assert.equal(env.MODEL_HOT_UPDATE, undefined);

    assert.deepEqual((await reconcile()).writes, []);
    // The job goes to its dataset's node.
    assert.ok(f.hub.sent.some((s) => s.node === EDGE && s.message.header.resourceKind === 'incrementallearningjob'));
    // So do its Models, as Sedna sends them: the LC reads their URLs and formats.
    const models = f.hub.sent.filter((s) => s.node === EDGE && s.message.header.resourceKind === 'model').map((s) => s.message.header.resourceName);
    assert.deepEqual([...new Set(models)].sort(), ['deploy-model', 'initial-model']);
  });

  it('recreates a deleted inference worker', async () => {
    await until('Train/Waiting');
    await reconcile();
    await f.client.delete({ ...DEPLOYMENTS, name: INFERENCE });
    assert.deepEqual((await reconcile()).writes, [`create deployments/${INFERENCE}`]);
  });

  it('runs a full train → eval → deploy cycle from the nodes\' reports, with Sedna\'s pods', async () => {
    await until('Train/Waiting');
    await reconcile();
    await report({ phase: 'Train', status: 'Ready', input: TRAIN_INPUT, output: null });
    assert.equal(await state(), 'Train/Ready');
    assert.equal((await last()).message, 'reported by lc');

    const created = await reconcile();
    // The LC acts on the latest condition, so a status change goes down to the job's node.
    const sentStatus = f.hub.sent.filter((s) => s.message.header.resourceKind === 'incrementallearningjob').at(-1)!.message.content as IncrementalLearningJob;
    assert.equal(sentStatus.status?.conditions?.at(-1)?.type, 'Ready');
    assert.deepEqual(created.writes, ['create pods', 'updateStatus incrementallearningjobs/helmet-il']);
    assert.equal(await state(), 'Train/Starting');
    const [train] = pods('train');
    assert.ok(train);
    assert.match(train.metadata.generateName!, /^helmet-il-train-$/);
    assert.equal(train.metadata.annotations?.[STAGE_RUN_ANNOTATION], '1/Train/1');
    assert.equal(train.spec.hostNetwork, true);
    assert.equal(train.spec.restartPolicy, 'OnFailure');
    const trainEnv = envOf(train);
    assert.match(trainEnv.WORKER_NAME!, /^train-worker-[a-z0-9]{5}$/);
    assert.equal(trainEnv.JOB_NAME, 'helmet-il');
    assert.equal(trainEnv.BASE_MODEL_URL, '/home/data/models/initial-model/model.pb');
    assert.equal(trainEnv.MODEL_URL, '/home/data/output/train/1');
    assert.equal(trainEnv.TRAIN_DATASET_URL, '/home/data/output/data/train/1/data.txt');
    assert.equal(trainEnv.ORIGINAL_DATASET_URL, '/home/data/data/index.txt');

    // The cache has not seen the pod yet: the live list keeps it from being created twice.
    assert.deepEqual((await reconcile()).writes, []);
    const live = (await f.client.list<Pod>(PODS)).items.find((p) => p.metadata.name === train.metadata.name)!;
    await f.client.updateStatus({ ...PODS, name: live.metadata.name! }, { ...live, spec: { ...live.spec, nodeName: EDGE }, status: { phase: 'Running' } });
    await reconcile();
    assert.equal(await state(), 'Train/Running');
    assert.equal((await current()).metadata.annotations?.['sedna.io/Train'], EDGE);

    await report({ phase: 'train', status: 'completed', output: { models: [TRAINED], ownerInfo: null } });
    assert.equal(await state(), 'Train/Completed');
    assert.deepEqual(JSON.parse((await last()).data!), { output: { models: [TRAINED] } });
    await until('Eval/Waiting');

    await report({ phase: 'Eval', status: 'Ready', input: { models: [TRAINED, { format: 'pb', url: '/models/deploy-model/model.pb' }], dataURL: '/output/data/eval/1/data.txt' } });
    await reconcile();
    assert.equal(await state(), 'Eval/Starting');
    const [evalPod] = pods('eval');
    assert.ok(evalPod);
    assert.match(evalPod.metadata.generateName!, /^helmet-il-eval-$/);
    assert.equal(envOf(evalPod).MODEL_URLS, '/home/data/output/train/1/model.pb;/home/data/models/deploy-model/model.pb');
    assert.equal(envOf(evalPod).TEST_DATASET_URL, '/home/data/output/data/eval/1/data.txt');
    await report({ phase: 'eval', status: 'completed', output: { models: [{ ...TRAINED, metrics: { precision: [0.9] } }, { format: 'pb', url: '/models/deploy-model/model.pb', metrics: { precision: [0.7] } }] } });
    await until('Deploy/Waiting');
    // A worker's report while the LC has not decided the deploy (an inference worker restarted
    // during evaluation reports the model it started on) must not complete the deploy.
    await assert.rejects(report({ phase: 'deploy', status: 'completed', output: { models: null, ownerInfo: null } }), (err: Error) => err instanceof RejectedMessage && /while the stage is Waiting/.test(err.message));
    await assert.rejects(report({ phase: 'eval', status: 'completed', output: { models: [TRAINED] } }), RejectedMessage, 'a late eval report of a finished stage');
    assert.equal(await state(), 'Deploy/Waiting');

    await report({ phase: 'Deploy', status: 'Ready', input: { models: [TRAINED, { format: 'pb', url: '/models/deploy-model/model.pb' }] } });
    await reconcile();
    assert.equal(await state(), 'Deploy/Completed');
    await reconcile();
    const next = await current();
    // The LC's reason for a decision is kept on the condition it reports.
    assert.ok(next.status!.conditions!.some((c) => c.stage === 'Deploy' && c.type === 'Ready' && c.message === 'reported by lc'));
    assert.equal(await state(), 'Train/Waiting');
    assert.equal(next.status!.round, 2);
    assert.equal(next.status!.deployedModel, TRAINED.url);
    // Without hot update the inference worker rolls onto the deployed model.
    await reconcile();
    const rolled = await f.client.get<Deployment>({ ...DEPLOYMENTS, name: INFERENCE });
    assert.equal(rolled.spec.template.metadata?.annotations?.[DEPLOYED_MODEL_ANNOTATION], TRAINED.url);
  });

  it('names a stage worker that died and was restarted by its pod on the latest condition, with an event', async () => {
    await until('Train/Waiting');
    await report({ phase: 'Train', status: 'Ready', input: TRAIN_INPUT });
    await reconcile();
    await f.sync();
    await setPhase(pods('train')[0]!, 'Running');
    await until('Train/Running');
    const restarted = { phase: 'Running', containerStatuses: [{ restartCount: 1, lastState: { terminated: { exitCode: 137, reason: 'Error' } } }] };
    const pod = pods('train')[0]!;
    await f.client.updateStatus({ ...PODS, name: pod.metadata.name! }, { ...pod, status: restarted });
    await reconcile();
    const noted = await last();
    assert.equal(`${noted.stage}/${noted.type}/${noted.reason}`, 'Train/Running/WorkerRestarted');
    assert.match(noted.message!, /restarted \(1 time\), last after exit code 137 \(Error\)/);
    const events = f.client.objects<KubeObject & { reason?: string; type?: string }>({ apiVersion: 'v1', plural: 'events', namespace: NS });
    assert.ok(events.some((e) => e.reason === 'WorkerRestarted' && e.type === 'Warning'), 'an event names it');
    assert.deepEqual((await reconcile()).writes, [], 'said once');
    // The restarted worker's report completes the stage as usual.
    await report({ phase: 'Train', status: 'Completed', input: TRAIN_INPUT, output: { models: [TRAINED] } });
    assert.equal(await state(), 'Train/Completed');
  });

  it('retries a failed stage with backoff on the clock, from the data of its Ready', async () => {
    await until('Train/Waiting');
    await report({ phase: 'Train', status: 'Ready', input: TRAIN_INPUT });
    await reconcile();
    await f.sync();
    await setPhase(pods('train')[0]!, 'Failed');
    await reconcile();
    assert.equal(await state(), 'Train/Failed');
    assert.equal((await last()).reason, POD_FAILED);

    const waiting = await reconcile();
    assert.deepEqual(waiting.writes, []);
    assert.equal(waiting.requeueAfter, RETRY_BASE_MS);
    await f.clock.advance(RETRY_BASE_MS);
    await reconcile();
    const retried = await last();
    assert.equal(`${retried.stage}/${retried.type}/${retried.reason}`, 'Train/Ready/Retry');
    assert.deepEqual((JSON.parse(retried.data!) as { input: unknown }).input, TRAIN_INPUT);
    await reconcile();
    assert.equal(await state(), 'Train/Starting');
    const runs = pods('train').map((p) => p.metadata.annotations?.[STAGE_RUN_ANNOTATION]).sort();
    assert.deepEqual(runs, ['1/Train/1', '1/Train/2']);

    // A second failure doubles the wait.
    await f.sync();
    await setPhase(pods('train').find((p) => p.metadata.annotations?.[STAGE_RUN_ANNOTATION] === '1/Train/2')!, 'Failed');
    await reconcile();
    assert.equal((await reconcile()).requeueAfter, 2 * RETRY_BASE_MS);
  });

  it('fails a stage whose pod succeeded without its worker\'s report, after a grace period', async () => {
    await until('Train/Waiting');
    await report({ phase: 'Train', status: 'Ready', input: TRAIN_INPUT });
    await reconcile();
    await f.sync();
    await setPhase(pods('train')[0]!, 'Succeeded');
    await reconcile();
    assert.equal((await last()).reason, 'WaitingForReport');
    assert.equal((await reconcile()).requeueAfter, REPORT_GRACE_MS);
    await f.clock.advance(REPORT_GRACE_MS);
    await reconcile();
    assert.equal(await state(), 'Train/Failed');
    assert.equal((await last()).reason, NO_REPORT);
  });

  it('names a missing Model on the latest condition, and goes on once it exists', async () => {
    await until('Train/Waiting');
    await f.client.delete({ ...MODELS, name: 'initial-model' });
    await report({ phase: 'Train', status: 'Ready', input: TRAIN_INPUT });
    const { writes } = await reconcile();
    assert.ok(writes.includes('create events'));
    const noted = await last();
    assert.equal(`${noted.stage}/${noted.type}`, 'Train/Ready');
    assert.equal(noted.reason, MODEL_NOT_FOUND);
    assert.match(noted.message!, /model default\/initial-model \(spec\.initialModel\.name\) not found/);
    assert.equal(pods('train').length, 0);

    f.client.seed(MODELS, model('initial-model'));
    await reconcile();
    assert.equal(await state(), 'Train/Starting');
    assert.equal(pods('train').length, 1);
  });

  it('does not panic on an Eval stage without models: the condition names the cause', async () => {
    await until('Train/Waiting');
    await report({ phase: 'Train', status: 'Ready', input: TRAIN_INPUT });
    await reconcile();
    await report({ phase: 'train', status: 'completed', output: { models: [] } });
    await until('Eval/Waiting');
    await report({ phase: 'Eval', status: 'Ready', input: { models: [], dataURL: '/output/data/eval/1/data.txt' } });
    await reconcile();
    const noted = await last();
    assert.equal(`${noted.stage}/${noted.type}`, 'Eval/Ready');
    assert.equal(noted.reason, INVALID_INPUT);
    assert.match(noted.message!, /no models/);
    assert.equal(pods('eval').length, 0);
  });

  it('refuses malformed, stale and foreign reports with the cause named', async () => {
    await until('Train/Waiting');
    await assert.rejects(report({ phase: 'predict', status: 'ready' }), (err: Error) => err instanceof RejectedMessage && /invalid condition stage/.test(err.message));
    await assert.rejects(report({ phase: 'train', status: 'done' }), /invalid condition type/);
    await assert.rejects(report({ phase: 'train', status: 'ready', input: { models: [{ format: 'pb' }] } }), /input\.models\[0\]\.url/);
    await assert.rejects(report({ phase: 'eval', status: 'ready', input: {} }), /Eval report while the job is in its Train stage/);
    await assert.rejects(report({ phase: 'train', status: 'ready', input: TRAIN_INPUT }, 'other-node'), /node other-node reported/);
    await assert.rejects(report({ phase: 'train', status: 'ready', message: 42 }), /message must be a string/);
    // A worker's running is nothing to record.
    await report({ phase: 'train', status: 'running' });
    assert.equal(await state(), 'Train/Waiting');
    // The LC's reason, when it gives one, names the cause on the condition.
    await report({ phase: 'train', status: 'failed', message: 'the initial model has not reached this node' });
    assert.equal((await last()).message, 'reported by lc: the initial model has not reached this node');
  });

  it('with hot update: mounts the config directory, sets Sedna\'s env and annotation, and goes Starting → Running on Deploy', async () => {
    f.client.seed(JOBS, { ...job(true), metadata: { name: 'helmet-il', namespace: NS } });
    await until('Train/Waiting');
    await reconcile();
    const deployment = await f.client.get<Deployment>({ ...DEPLOYMENTS, name: INFERENCE });
    const env = envOf(deployment.spec.template);
    assert.equal(env.MODEL_HOT_UPDATE, 'true');
    assert.equal(env.MODEL_POLL_PERIOD_SECONDS, '60');
    assert.equal(env.MODEL_HOT_UPDATE_CONFIG, '/model-hot-update/model_config.json');
    assert.deepEqual(deployment.spec.template.spec.volumes?.find((v) => v.name === 'sedna-model-hot-update-volume')?.hostPath, {
      path: '/var/lib/sedna/model-hot-update/default/incrementallearningjob/helmet-il',
      type: 'DirectoryOrCreate',
    });
    assert.equal((await current()).metadata.annotations?.[HOT_UPDATE_ANNOTATION], '/var/lib/sedna/model-hot-update/default/incrementallearningjob/helmet-il/model_config.json');
  });

  it('sends the job to the nodes of the stage it is in, not to every node (spec syncToEdge), and takes it back from a node it leaves', async () => {
    const onNode = (name: string): IncrementalLearningJob['spec']['trainSpec']['template'] => ({ spec: { nodeName: name, containers: [{ name: 'worker', image: 'node' }] } });
    const spread = job(true);
    spread.spec.trainSpec.template = onNode('edge-train');
    spread.spec.evalSpec.template = onNode('edge-eval');
    spread.spec.deploySpec.template = onNode('edge-infer');
    f.client.seed(JOBS, spread);
    /** Nodes holding `kind/name` now: the last message to each was an insert. */
    const holders = (kind = 'incrementallearningjob', name = 'helmet-il'): string[] => {
      const last = new Map<string, string>();
      for (const { node, message } of f.hub.sent) if (message.header.resourceKind === kind && message.header.resourceName === name) last.set(node, message.header.operation);
      return [...last].filter(([, op]) => op === 'insert').map(([node]) => node).sort();
    };
    const settle = async (): Promise<void> => {
      await reconcile();
      await reconcile();
    };
    await until('Train/Waiting');
    await settle();
    assert.deepEqual(holders(), [EDGE], 'Train/Waiting: the dataset node only');
    assert.deepEqual(holders('model', 'initial-model'), [EDGE]);

    await report({ phase: 'Train', status: 'Ready', input: TRAIN_INPUT });
    await settle();
    assert.equal(await state(), 'Train/Starting');
    assert.deepEqual(holders(), [EDGE, 'edge-train'], 'the train node holds the job to relay its worker\'s report');
    await f.sync();
    const live = (await f.client.list<Pod>(PODS)).items.find((p) => p.metadata.labels?.['incrementallearningjob.sedna.io/worker-type'] === 'train')!;
    await f.client.updateStatus({ ...PODS, name: live.metadata.name! }, { ...live, status: { phase: 'Running' } });
    await settle();
    assert.equal(await state(), 'Train/Running');
    await report({ phase: 'train', status: 'completed', output: { models: [TRAINED], ownerInfo: null } }, 'edge-train');
    await until('Eval/Waiting');
    await settle();
    assert.deepEqual(holders(), [EDGE], 'the train node got a delete once training completed');

    await report({ phase: 'Eval', status: 'Ready', input: { models: [TRAINED, { format: 'pb', url: '/models/deploy-model/model.pb' }], dataURL: '/output/data/eval/1/data.txt' } });
    await settle();
    assert.deepEqual(holders(), ['edge-eval', EDGE]);
    await report({ phase: 'eval', status: 'completed', output: { models: [{ ...TRAINED, metrics: { precision: [0.9] } }, { format: 'pb', url: '/models/deploy-model/model.pb', metrics: { precision: [0.7] } }] } }, 'edge-eval');
    await until('Deploy/Waiting');
    await settle();
    assert.deepEqual(holders(), ['edge-eval', EDGE], 'the deploy decision runs on the eval node');
    assert.ok(holders('model', 'deploy-model').includes('edge-eval'), 'with the deploy Model');

    await report({ phase: 'Deploy', status: 'Ready', input: { models: [TRAINED, { format: 'pb', url: '/models/deploy-model/model.pb' }] } }, 'edge-eval');
    await settle();
    assert.equal(await state(), 'Deploy/Starting');
    assert.deepEqual(holders(), ['edge-infer', EDGE], 'hot update: the inference node holds the job; the eval node is done');
    // An inference worker's deploy report before the deploy runs is a restarted worker's, about the model it started on.
    await assert.rejects(report({ phase: 'deploy', status: 'completed', output: { models: null, ownerInfo: null } }, 'edge-infer'), (err: Error) => err instanceof RejectedMessage && /not the current run's/.test(err.message));
    assert.equal(await state(), 'Deploy/Starting');
    const inference = await f.client.get<Deployment>({ ...DEPLOYMENTS, name: 'helmet-il-deployment-inference' });
    await f.client.updateStatus({ ...DEPLOYMENTS, name: 'helmet-il-deployment-inference' }, { ...inference, status: { availableReplicas: 1 } });
    await settle();
    assert.equal(await state(), 'Deploy/Running');
    await report({ phase: 'deploy', status: 'completed', output: { models: null, ownerInfo: null } }, 'edge-infer');
    await until('Train/Waiting');
    await settle();
    assert.deepEqual(holders(), ['edge-infer', EDGE], 'the inference node keeps it (its hot-update folder, its worker\'s reports)');
    assert.ok(!f.hub.sent.some(({ node }) => node === 'cloud'), 'no node outside the job gets anything');
  });

  it('a malformed report is refused and named in an event on the job; a worker\'s failure cause lands on the condition', async () => {
    await until('Train/Waiting');
    f.client.clearActions();
    await assert.rejects(report({ phase: 'train', status: 'ready', input: { models: 'all' } }), /input\.models must be a list/);
    const events = f.client.objects<KubeObject & { reason?: string; message?: string; type?: string }>({ apiVersion: 'v1', plural: 'events', namespace: NS });
    const event = events.find((e) => e.reason === 'MalformedReport');
    assert.ok(event, 'a MalformedReport event');
    assert.equal(event.type, 'Warning');
    assert.match(event.message!, /from node edge-node was refused: .*input\.models must be a list/);
    assert.equal(await state(), 'Train/Waiting', 'nothing of the job changed');
    // A relayed worker failure (our SDK puts the cause in ownerInfo.message), of the run the GM started.
    await report({ phase: 'Train', status: 'Ready', input: TRAIN_INPUT });
    await reconcile();
    await report({ phase: 'train', status: 'failed', output: { models: null, ownerInfo: { message: 'train failed: out of memory' } } });
    assert.equal((await last()).message, 'reported by lc: train failed: out of memory');
  });

  it('names a trigger that cannot be evaluated on the latest condition and in an event, and clears it once fixed', async () => {
    await until('Train/Waiting');
    const broken = await current();
    broken.spec.deploySpec.trigger = { condition: { operator: '>', threshold: 'high' as unknown as number, metric: 'precision_delta[0]' } };
    await f.client.update({ ...JOBS, name: 'helmet-il' }, broken);
    const { writes } = await reconcile();
    assert.ok(writes.includes('create events'));
    const noted = await last();
    assert.equal(`${noted.stage}/${noted.type}/${noted.reason}`, 'Train/Waiting/InvalidTrigger');
    assert.match(noted.message!, /spec\.deploySpec\.trigger cannot be evaluated: invalid threshold "high"/);
    const fixed = await current();
    fixed.spec.deploySpec.trigger = { condition: { operator: '>', threshold: 0.1, metric: 'precision_delta[0]' } };
    await f.client.update({ ...JOBS, name: 'helmet-il' }, fixed);
    await reconcile();
    const cleared = await last();
    assert.equal(cleared.reason, undefined);
    assert.equal(`${cleared.stage}/${cleared.type}`, 'Train/Waiting', 'the job goes on from where it was');
  });
});
