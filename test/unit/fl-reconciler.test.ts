// The FederatedLearningJob reconciler in sample-controller's style: the cache is filled by hand,
// the reconciler runs against the fake client, and the test reads the actions it took. Requeues
// wait on a FakeClock; nothing sleeps and nothing listens.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { KubeObject } from '../../src/api/meta.ts';
import type { Dataset } from '../../src/api/sedna/dataset.ts';
import type { FederatedLearningJob } from '../../src/api/sedna/federated-learning-job.ts';
import { SEDNA_API_VERSION } from '../../src/api/sedna/index.ts';
import type { Model } from '../../src/api/sedna/model.ts';
import type { Action } from '../../src/controller/fake-client.ts';
import { federatedLearningParts, type FederatedLearningReconciler } from '../../src/features/federatedlearning/controller.ts';
import { COMPLETED, WORKER_FAILED } from '../../src/features/federatedlearning/status.ts';
import { generationOf, slotOf } from '../../src/features/federatedlearning/workers.ts';
import type { WorkerPod } from '../../src/gm/workers/index.ts';
import { fakeFeatureContext, type FakeFeatureContext } from '../helpers/feature-context.ts';

const NS = 'ns1';
const JOBS = { apiVersion: SEDNA_API_VERSION, plural: 'federatedlearningjobs', namespace: NS };
const PODS = { apiVersion: 'v1', plural: 'pods', namespace: NS };
type Pod = WorkerPod & { status?: { phase?: string } };

function job(name = 'surface'): FederatedLearningJob {
  const template = (node: string): FederatedLearningJob['spec']['aggregationWorker']['template'] => ({ spec: { nodeName: node, containers: [{ name: 'main', image: 'node' }] } });
  return {
    apiVersion: SEDNA_API_VERSION,
    kind: 'FederatedLearningJob',
    metadata: { name, namespace: NS },
    spec: {
      aggregationWorker: { model: { name: 'agg-model' }, template: template('cloud') },
      trainingWorkers: [
        { dataset: { name: 'd1' }, template: template('edge-1') },
        { dataset: { name: 'd2' }, template: template('edge-2') },
      ],
    },
  };
}

const model: Model = { apiVersion: SEDNA_API_VERSION, kind: 'Model', metadata: { name: 'agg-model', namespace: NS }, spec: { url: '/models/agg/', format: 'pb' } };
const dataset = (name: string, node: string): Dataset => ({ apiVersion: SEDNA_API_VERSION, kind: 'Dataset', metadata: { name, namespace: NS }, spec: { url: `/data/${name}.txt`, format: 'txt', nodeName: node } });

function describeWrite(action: Action): string {
  return `${action.verb} ${action.plural}${action.name && action.plural !== 'events' ? `/${action.name}` : ''}`;
}

describe('FederatedLearningJob reconciler', () => {
  let f: FakeFeatureContext;
  let reconciler: FederatedLearningReconciler;

  async function reconcile(name = 'surface'): Promise<string[]> {
    await f.sync();
    f.client.clearActions();
    await reconciler.reconcileKey(NS, name);
    return f.client.writes().map(describeWrite);
  }

  const pods = (jobName = 'surface'): Pod[] => f.client.objects<Pod>(PODS).filter((p) => p.metadata.ownerReferences?.[0]?.name === jobName);
  const slotPod = (slot: string): Pod => pods().find((p) => slotOf(p) === slot)!;
  const current = (name = 'surface'): Promise<FederatedLearningJob> => f.client.get<FederatedLearningJob>({ ...JOBS, name });

  async function setPhase(slot: string, phase: string): Promise<void> {
    const pod = slotPod(slot);
    await f.client.updateStatus({ ...PODS, name: pod.metadata.name! }, { ...pod, status: { phase } });
  }

  beforeEach(() => {
    f = fakeFeatureContext();
    reconciler = federatedLearningParts(f.ctx).reconciler;
    f.client.seed(JOBS, job());
    f.client.seed({ apiVersion: SEDNA_API_VERSION, plural: 'models', namespace: NS }, model);
    f.client.seed({ apiVersion: SEDNA_API_VERSION, plural: 'datasets', namespace: NS }, dataset('d1', 'edge-1'), dataset('d2', 'edge-2'));
  });

  it('creates the Secret, the aggregation Service and one pod per slot, and sends the job to its trainers', async () => {
    assert.deepEqual(await reconcile(), [
      'create secrets/surface-agg-token',
      'create services/surface-aggregation',
      'create pods',
      'create pods',
      'create pods',
      'updateStatus federatedlearningjobs/surface',
    ]);
    assert.deepEqual(pods().map(slotOf).sort(), ['aggregation', 'train-0', 'train-1']);
    assert.deepEqual(f.hub.sent.map(({ node }) => node).sort(), ['edge-1', 'edge-2']);
    assert.equal((await current()).status!.conditions!.at(-1)!.reason, 'WorkersCreated');
  });

  it('does nothing when everything is in sync, and does not create twice while its pods are not cached yet', async () => {
    await reconcile();
    f.client.clearActions();
    await reconciler.reconcileKey(NS, 'surface'); // the cache has not seen the new pods
    assert.ok(!f.client.writes().some((a) => a.verb === 'create' && a.plural === 'pods'), 'expectations hold back a second create');
    assert.equal(pods().length, 3);
    await reconcile(); // pods observed: counters change
    assert.deepEqual(await reconcile(), []);
  });

  it('leaves pods it does not control alone, even with its labels', async () => {
    await reconcile();
    const uid = (await current()).metadata.uid!;
    const stranger: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'stranger', namespace: NS, labels: { 'federatedlearningjob.sedna.io/uid': uid, 'federatedlearningjob.sedna.io/worker-type': 'aggregation' } },
      spec: { containers: [{ name: 'x', image: 'y' }] },
      status: { phase: 'Failed' },
    };
    f.client.seed(PODS, stranger);
    await reconcile();
    assert.deepEqual(await reconcile(), []);
    assert.equal(f.client.objects<Pod>(PODS).find((p) => p.metadata.name === 'stranger')?.status?.phase, 'Failed', 'not deleted');
    assert.notEqual((await current()).status!.phase, 'Failed', 'its failure is not the job’s');
  });

  it('recreates a deleted pod in the same slot and nothing else', async () => {
    await reconcile();
    await reconcile();
    const gone = slotPod('train-1');
    const workerName = (p: Pod): string | undefined => p.spec.containers[0]!.env!.find((e) => e.name === 'WORKER_NAME')?.value;
    await f.client.delete({ ...PODS, name: gone.metadata.name! });
    const writes = await reconcile();
    assert.deepEqual(writes.filter((w) => w !== 'updateStatus federatedlearningjobs/surface'), ['create pods']);
    assert.notEqual(slotPod('train-1').metadata.name, gone.metadata.name);
    assert.equal(workerName(slotPod('train-1')), workerName(gone));
  });

  it('rolls a spec edit to this job’s pods only, through the generation annotation', async () => {
    f.client.seed(JOBS, job('other'));
    await reconcile();
    await reconcile('other');
    await reconcile();
    const otherPods = pods('other').map((p) => p.metadata.resourceVersion);
    const edited = await current();
    const trainer = edited.spec.trainingWorkers[0]!.template.spec.containers[0]!;
    trainer.image = 'node:22';
    await f.client.update({ ...JOBS, name: 'surface' }, edited);
    const deletes = (await reconcile()).filter((w) => w.startsWith('delete'));
    assert.equal(deletes.length, 3, 'the three pods of generation 1 go');
    await reconcile(); // the deletions reach the cache: the missing slots are filled from generation 2
    assert.deepEqual(pods().map(generationOf), [2, 2, 2]);
    assert.equal(slotPod('train-0').spec.containers[0]!.image, 'node:22');
    assert.deepEqual(pods('other').map((p) => p.metadata.resourceVersion), otherPods, 'the other job is not touched');
    assert.equal((await current()).status!.conditions!.at(-1)!.reason, 'SpecUpdated');
  });

  it('moves the conditions to Running, then Complete with a Normal event when the aggregator succeeds', async () => {
    await reconcile();
    await reconcile();
    for (const slot of ['aggregation', 'train-0', 'train-1']) await setPhase(slot, 'Running');
    await reconcile();
    assert.equal((await current()).status!.phase, 'Running');
    await f.clock.advance(3_600_000);
    await setPhase('aggregation', 'Succeeded');
    const trainers = ['train-0', 'train-1'].map((slot) => `delete pods/${slotPod(slot).metadata.name}`);
    const writes = await reconcile();
    assert.deepEqual(writes.slice(0, 2), ['updateStatus federatedlearningjobs/surface', 'create events']);
    assert.deepEqual(writes.slice(2).sort(), trainers.sort(), 'running trainers are stopped');
    const status = (await current()).status!;
    assert.equal(status.phase, 'Succeeded');
    assert.equal(status.completionTime, new Date(f.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    const events = f.client.objects<KubeObject & { reason: string; type: string }>({ apiVersion: 'v1', plural: 'events', namespace: NS });
    assert.deepEqual(events.map((e) => [e.type, e.reason]), [['Normal', COMPLETED]]);
    assert.deepEqual(await reconcile(), ['updateStatus federatedlearningjobs/surface'], 'the stopped trainers leave the counters');
    assert.deepEqual(await reconcile(), [], 'a finished job stays finished: nothing recreated');
    assert.equal((await current()).status!.active, 0);
  });

  it('a failed trainer fails the job with a Warning event', async () => {
    await reconcile();
    await reconcile();
    await setPhase('train-0', 'Failed');
    const writes = await reconcile();
    assert.ok(writes.includes('create events'), writes.join(', '));
    const failed = (await current()).status!.conditions!.find((c) => c.type === 'Failed')!;
    assert.equal(failed.reason, WORKER_FAILED);
    const events = f.client.objects<KubeObject & { reason: string; type: string }>({ apiVersion: 'v1', plural: 'events', namespace: NS });
    assert.deepEqual(events.map((e) => [e.type, e.reason]), [['Warning', WORKER_FAILED]]);
  });

  it('a requeue waits on the injected clock', async () => {
    f = fakeFeatureContext();
    f.client.seed(JOBS, job());
    f.client.seed({ apiVersion: SEDNA_API_VERSION, plural: 'models', namespace: NS }, model);
    f.client.seed({ apiVersion: SEDNA_API_VERSION, plural: 'datasets', namespace: NS }, dataset('d1', 'edge-1'), dataset('d2', 'edge-2'));
    const { scaffold, reconciler: r } = federatedLearningParts(f.ctx);
    await f.sync();
    const controller = scaffold.controller(
      (obj) => r.reconcile(obj),
      (key) => r.forget(key),
    );
    await controller.start();
    await controller.idle();
    assert.equal(f.client.writes().filter((a) => a.verb === 'create' && a.plural === 'pods').length, 3);
    f.client.clearActions();
    await f.clock.advance(999);
    await controller.idle();
    assert.equal(f.client.actions.length, 0, 'not before the requeue delay');
    await f.clock.advance(1);
    await controller.idle();
    assert.ok(f.client.actions.some((a) => a.plural === 'federatedlearningjobs'), 'reconciled again after 1 s of fake time');
    assert.equal(f.client.writes().filter((a) => a.plural === 'pods').length, 0, 'and created nothing twice');
    await controller.stop();
  });
});
