// The JointInferenceService reconciler in sample-controller's style: the cache is filled by hand,
// the reconciler runs once against the fake client, and the test reads the actions it took. No
// process, socket or sleep: time is a FakeClock.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { KubeObject } from '../../src/api/meta.ts';
import { SEDNA_API_VERSION } from '../../src/api/sedna/index.ts';
import type { JointInferenceService } from '../../src/api/sedna/joint-inference-service.ts';
import type { Model } from '../../src/api/sedna/model.ts';
import { rfc3339 } from '../../src/controller/index.ts';
import type { Action } from '../../src/controller/fake-client.ts';
import { jointInferenceParts, type JointInferenceReconciler } from '../../src/features/jointinference/controller.ts';
import { WORKER_FAILED, WORKER_RECOVERED } from '../../src/features/jointinference/status.ts';
import type { Deployment } from '../../src/gm/workers/index.ts';
import { fakeFeatureContext, type FakeFeatureContext } from '../helpers/feature-context.ts';

const NS = 'default';
const JI = { apiVersion: SEDNA_API_VERSION, plural: 'jointinferenceservices', namespace: NS };
const MODELS = { apiVersion: SEDNA_API_VERSION, plural: 'models', namespace: NS };
const DEPLOYMENTS = { apiVersion: 'apps/v1', plural: 'deployments', namespace: NS };
const CLOUD = 'helmet-deployment-cloud';
const EDGE = 'helmet-deployment-edge';

function service(): JointInferenceService {
  return {
    apiVersion: SEDNA_API_VERSION,
    kind: 'JointInferenceService',
    metadata: { name: 'helmet', namespace: NS },
    spec: {
      edgeWorker: { model: { name: 'little' }, hardExampleMining: { name: 'IBT' }, template: { spec: { nodeName: 'edge-1', containers: [{ name: 'little', image: 'node' }] } } },
      cloudWorker: { model: { name: 'big' }, template: { spec: { nodeName: 'cloud', containers: [{ name: 'big', image: 'node' }] } } },
    },
  };
}

function model(name: string): Model {
  return { apiVersion: SEDNA_API_VERSION, kind: 'Model', metadata: { name, namespace: NS }, spec: { url: `/models/${name}.pb`, format: 'pb' } };
}

/** A write as `verb plural/name`, the way the assertions read. */
function describeWrite(action: Action): string {
  // An Event's name is a hash of what it says; its plural is enough here.
  return `${action.verb} ${action.plural}${action.name && action.plural !== 'events' ? `/${action.name}` : ''}`;
}

describe('JointInferenceService reconciler', () => {
  let f: FakeFeatureContext;
  let reconciler: JointInferenceReconciler;

  async function reconcile(): Promise<string[]> {
    await f.sync();
    f.client.clearActions();
    await reconciler.reconcileKey(NS, 'helmet');
    return f.client.writes().map(describeWrite);
  }

  async function setAvailable(name: string, replicas: number): Promise<void> {
    const live = await f.client.get<Deployment>({ ...DEPLOYMENTS, name });
    await f.client.updateStatus({ ...DEPLOYMENTS, name }, { ...live, status: { availableReplicas: replicas } });
  }

  async function current(): Promise<JointInferenceService> {
    return f.client.get<JointInferenceService>({ ...JI, name: 'helmet' });
  }

  beforeEach(() => {
    f = fakeFeatureContext();
    reconciler = jointInferenceParts(f.ctx).reconciler;
    f.client.seed(JI, service());
    f.client.seed(MODELS, model('big'), model('little'));
  });

  it('creates the token Secret, both Deployments and the cloud Service, and sends the service to its edge node', async () => {
    assert.deepEqual(await reconcile(), [
      'create secrets/helmet-cloud-token',
      `create deployments/${CLOUD}`,
      'create services/helmet-cloud',
      `create deployments/${EDGE}`,
      'updateStatus jointinferenceservices/helmet',
    ]);
    assert.deepEqual(
      f.hub.sent.map(({ node, message }) => [node, message.header.resourceKind, message.header.operation]),
      [['edge-1', 'jointinferenceservice', 'insert']],
    );
    const status = (await current()).status!;
    assert.equal(status.conditions!.at(-1)!.type, 'Pending');
    assert.equal(status.startTime, rfc3339(new Date(f.clock.now())), 'timestamps come from the injected clock');
  });

  it('does nothing when everything is in sync', async () => {
    await reconcile();
    assert.deepEqual(await reconcile(), []);
    assert.equal(f.hub.sent.length, 1, 'an unchanged service is not sent again');
  });

  it('leaves objects it does not control alone', async () => {
    const foreign = (name: string, owner?: KubeObject['metadata']['ownerReferences']): Deployment =>
      ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: NS, ...(owner ? { ownerReferences: owner } : {}) }, spec: { replicas: 3 } }) as unknown as Deployment;
    f.client.seed(DEPLOYMENTS, foreign('unowned'), foreign('other-owner', [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'helmet', uid: 'x', controller: true }]));
    const writes = await reconcile();
    assert.ok(writes.every((w) => !w.includes('unowned') && !w.includes('other-owner')), writes.join(', '));
    await reconcile();
    for (const name of ['unowned', 'other-owner']) {
      const live = await f.client.get<Deployment>({ ...DEPLOYMENTS, name });
      assert.equal(live.metadata.resourceVersion, f.client.objects<Deployment>(DEPLOYMENTS).find((d) => d.metadata.name === name)!.metadata.resourceVersion);
      assert.deepEqual(live.spec, { replicas: 3 }, `${name} untouched`);
    }
  });

  it('recreates a deleted child and only that child', async () => {
    await reconcile();
    await f.client.delete({ ...DEPLOYMENTS, name: EDGE });
    await f.client.delete({ apiVersion: 'v1', plural: 'services', namespace: NS, name: 'helmet-cloud' });
    assert.deepEqual(await reconcile(), ['create services/helmet-cloud', `create deployments/${EDGE}`]);
  });

  it('rolls a spec edit to the worker whose template changed, keeping its WORKER_NAME', async () => {
    await reconcile();
    const workerName = (d: Deployment): string | undefined => d.spec.template.spec.containers[0]!.env!.find((e) => e.name === 'WORKER_NAME')?.value;
    const before = await f.client.get<Deployment>({ ...DEPLOYMENTS, name: EDGE });
    const cloudBefore = await f.client.get<Deployment>({ ...DEPLOYMENTS, name: CLOUD });
    const edited = await current();
    const edge = edited.spec.edgeWorker.template.spec.containers[0]!;
    edge.image = 'node:22';
    await f.client.update({ ...JI, name: 'helmet' }, edited);
    assert.deepEqual(await reconcile(), [`update deployments/${EDGE}`, 'updateStatus jointinferenceservices/helmet']);
    const after = await f.client.get<Deployment>({ ...DEPLOYMENTS, name: EDGE });
    assert.equal(after.spec.template.spec.containers[0]!.image, 'node:22');
    assert.equal(workerName(after), workerName(before));
    assert.equal((await f.client.get<Deployment>({ ...DEPLOYMENTS, name: CLOUD })).metadata.resourceVersion, cloudBefore.metadata.resourceVersion, 'the cloud worker is not touched');
    assert.equal((await current()).status!.observedGeneration, 2);
  });

  it('moves the conditions Pending → Running → Failed → Running, with events on failure and recovery', async () => {
    await reconcile();
    const types = async (): Promise<string[]> => (await current()).status!.conditions!.map((c) => c.type);
    assert.deepEqual(await types(), ['Pending']);

    await f.clock.advance(60_000);
    await setAvailable(CLOUD, 1);
    await setAvailable(EDGE, 1);
    assert.deepEqual(await reconcile(), ['updateStatus jointinferenceservices/helmet']);
    assert.deepEqual(await types(), ['Pending', 'Running']);
    assert.equal((await current()).status!.conditions!.at(-1)!.lastTransitionTime, rfc3339(new Date(f.clock.now())));

    await f.clock.advance(60_000);
    await setAvailable(CLOUD, 0);
    assert.deepEqual(await reconcile(), ['updateStatus jointinferenceservices/helmet', 'create events']);
    const failed = (await current()).status!.conditions!.at(-1)!;
    assert.deepEqual([failed.type, failed.reason], ['Failed', WORKER_FAILED]);
    assert.equal((await current()).status!.failed, 1);

    await setAvailable(CLOUD, 1);
    assert.deepEqual(await reconcile(), ['updateStatus jointinferenceservices/helmet', 'create events']);
    assert.deepEqual(await types(), ['Pending', 'Running', 'Failed', 'Running']);
    const events = f.client.objects<KubeObject & { reason: string; type: string; involvedObject: { kind: string; name: string } }>({ apiVersion: 'v1', plural: 'events', namespace: NS });
    assert.deepEqual(
      events.map((e) => [e.type, e.reason, e.involvedObject.kind, e.involvedObject.name]),
      [
        ['Warning', WORKER_FAILED, 'JointInferenceService', 'helmet'],
        ['Normal', WORKER_RECOVERED, 'JointInferenceService', 'helmet'],
      ],
    );
  });

  it('a missing Model is a Failed condition that clears once the Model appears', async () => {
    await f.client.delete({ ...MODELS, name: 'little' });
    assert.deepEqual(await reconcile(), ['updateStatus jointinferenceservices/helmet', 'create events']);
    const condition = (await current()).status!.conditions!.at(-1)!;
    assert.deepEqual([condition.type, condition.reason], ['Failed', 'ModelNotFound']);
    assert.match(condition.message!, /model default\/little \(spec.edgeWorker.model.name\) not found/);
    f.client.seed(MODELS, model('little'));
    const writes = await reconcile();
    assert.ok(writes.includes(`create deployments/${EDGE}`), writes.join(', '));
  });

  it('a deleted service is removed from its node', async () => {
    await reconcile();
    await f.client.delete({ ...JI, name: 'helmet' });
    assert.deepEqual(await reconcile(), []);
    assert.deepEqual(
      f.hub.sent.map(({ node, message }) => [node, message.header.operation]),
      [
        ['edge-1', 'insert'],
        ['edge-1', 'delete'],
      ],
    );
  });
});
