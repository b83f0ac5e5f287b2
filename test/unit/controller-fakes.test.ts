// The fakes reconciler tests stand on must behave as the real parts do where tests rely on it:
// the clock fires timers in time order (nested ones included) and only when advanced; the client
// keeps the API server's semantics for conflicts, absence, generations, status and patches.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../src/api/meta.ts';
import { isApiError, sleepOn, WorkQueue } from '../../src/controller/index.ts';
import { FakeKubeClient } from '../../src/controller/fake-client.ts';
import { FakeClock } from '../../src/lib/fake-clock.ts';

describe('FakeClock', () => {
  it('fires due timers in time order, timers set by timers included, and never early', async () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@20'), 20);
    clock.setTimeout(() => {
      fired.push('a@10');
      clock.setTimeout(() => fired.push('c@15'), 5);
    }, 10);
    const cancel = clock.setTimeout(() => fired.push('never'), 12);
    cancel();
    await clock.advance(9);
    assert.deepEqual(fired, []);
    await clock.advance(11);
    assert.deepEqual(fired, ['a@10', 'c@15', 'b@20']);
    assert.equal(clock.now(), 20);
    assert.equal(clock.pending, 0);
  });

  it('drives sleepOn and a work queue’s delayed adds', async () => {
    const clock = new FakeClock(0);
    let woke = false;
    void sleepOn(clock, 1_000).then(() => (woke = true));
    const handled: string[] = [];
    const queue = new WorkQueue({ clock });
    queue.run((key) => void handled.push(key));
    queue.addAfter('k', 500);
    await clock.advance(499);
    assert.deepEqual([woke, handled], [false, []]);
    await clock.advance(501);
    assert.deepEqual([woke, handled], [true, ['k']]);
    queue.shutdown();
  });
});

describe('FakeKubeClient', () => {
  const CM = { apiVersion: 'v1', plural: 'configmaps', namespace: 'ns' };
  const cm = (name: string, data: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns' }, data });

  it('answers 404, 409 on a duplicate create and on a stale resourceVersion', async () => {
    const client = new FakeKubeClient(new FakeClock());
    await assert.rejects(client.get({ ...CM, name: 'a' }), (err) => isApiError(err, 404));
    const created = await client.create(CM, cm('a', { k: '1' }));
    assert.ok(created.metadata.uid && created.metadata.resourceVersion);
    await assert.rejects(client.create(CM, cm('a', {})), (err) => isApiError(err, 409));
    await client.update({ ...CM, name: 'a' }, { ...created, data: { k: '2' } });
    await assert.rejects(client.update({ ...CM, name: 'a' }, { ...created, data: { k: '3' } }), (err) => isApiError(err, 409));
    assert.deepEqual(client.writes().map((a) => a.verb), ['create', 'create', 'update', 'update'], 'failed calls are recorded too');
  });

  it('bumps generation on spec changes only; status goes through updateStatus; merge patches', async () => {
    const client = new FakeKubeClient(new FakeClock());
    const ref = { apiVersion: 'apps/v1', plural: 'deployments', namespace: 'ns', name: 'd' };
    const deployment: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'ns' }, spec: { replicas: 1 } };
    const d = await client.create(ref, deployment);
    const withStatus = await client.updateStatus(ref, { ...d, status: { availableReplicas: 1 } });
    assert.equal(withStatus.metadata.generation, 1);
    const ignored = await client.update(ref, { ...withStatus, status: { availableReplicas: 9 } });
    assert.deepEqual(ignored.status, { availableReplicas: 1 }, 'update does not write status');
    const scaled = await client.update(ref, { ...ignored, spec: { replicas: 3 } });
    assert.equal(scaled.metadata.generation, 2);
    const patched = await client.patch(ref, { metadata: { labels: { a: 'b' } }, spec: { paused: true } }, 'merge');
    assert.deepEqual([patched.metadata.labels, patched.spec], [{ a: 'b' }, { replicas: 3, paused: true }]);
    await client.delete(ref);
    await assert.rejects(client.delete(ref), (err) => isApiError(err, 404));
  });

  it('lists by label selector and names generateName objects', async () => {
    const client = new FakeKubeClient(new FakeClock());
    const pods = { apiVersion: 'v1', plural: 'pods', namespace: 'ns' };
    const pod = (labels: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'p-', namespace: 'ns', labels } });
    const a = await client.create(pods, pod({ app: 'x' }));
    await client.create(pods, pod({ app: 'y' }));
    assert.match(a.metadata.name ?? '', /^p-[0-9a-z]{5}$/);
    assert.deepEqual((await client.list(pods, { labelSelector: 'app=x' })).items.map((p) => p.metadata.name), [a.metadata.name]);
  });
});
