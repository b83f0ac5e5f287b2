import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../src/api/meta.ts';
import { CrdController } from '../../src/apiserver/controllers/crd-controller.ts';
import { StatusError } from '../../src/apiserver/errors.ts';
import { builtinResources } from '../../src/apiserver/registry/builtins.ts';
import { GenericStore } from '../../src/apiserver/registry/generic-store.ts';
import { ResourceRegistry } from '../../src/apiserver/registry/registry.ts';
import type { ResourceDef } from '../../src/apiserver/registry/types.ts';
import { SqliteStore } from '../../src/apiserver/storage/sqlite-store.ts';
import { silentLogger } from '../../src/lib/logger.ts';

function newStore(): GenericStore {
  const store = new GenericStore(new SqliteStore({ path: ':memory:' }), new ResourceRegistry(builtinResources));
  store.create(def(store, '', 'namespaces'), undefined, { metadata: { name: 'default' } });
  return store;
}

function def(store: GenericStore, group: string, plural: string, version = group === '' ? 'v1' : group === 'apps' ? 'apps' : 'v1'): ResourceDef {
  const found = store.registry.all().find((d) => d.group === group && d.plural === plural && (version === 'apps' || d.version === version));
  assert.ok(found, `kind ${group}/${plural}`);
  return found;
}

function statusError(code: number, reason: string, message?: RegExp) {
  return (err: unknown) => err instanceof StatusError && err.code === code && err.reason === reason && (!message || message.test(err.message));
}

const deployment = (name: string, image = 'nginx'): KubeObject => ({
  metadata: { name },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }] } },
  },
  status: { replicas: 99 },
});

describe('GenericStore', () => {
  it('fills system metadata on create and drops status behind a status subresource', () => {
    const store = newStore();
    const created = store.create(def(store, 'apps', 'deployments'), 'default', deployment('web'));
    assert.match(created.metadata.uid!, /^[0-9a-f-]{36}$/);
    assert.match(created.metadata.creationTimestamp!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(created.metadata.generation, 1);
    assert.equal(created.status, undefined);
    assert.equal(created.apiVersion, 'apps/v1');
    assert.equal((created.spec as { revisionHistoryLimit: number }).revisionHistoryLimit, 10, 'defaults applied');
  });

  it('bumps generation on spec changes only; the main door keeps status, the status door keeps spec', () => {
    const store = newStore();
    const d = def(store, 'apps', 'deployments');
    store.create(d, 'default', deployment('web'));
    const relabeled = store.guaranteedUpdate(d, 'default', 'web', (o) => ({ ...o, metadata: { ...o.metadata, labels: { a: 'b' } } }));
    assert.equal(relabeled.metadata.generation, 1);
    const withStatus = store.guaranteedUpdate(d, 'default', 'web', (o) => ({ ...o, status: { replicas: 3 }, spec: { ...(o.spec as object), replicas: 7 } }), { subresource: 'status' });
    assert.deepEqual(withStatus.status, { replicas: 3 });
    assert.equal((withStatus.spec as { replicas: number }).replicas, 1, 'spec ignored through /status');
    assert.equal(withStatus.metadata.generation, 1);
    const scaled = store.guaranteedUpdate(d, 'default', 'web', (o) => ({ ...o, status: { replicas: 0 }, spec: { ...(o.spec as object), replicas: 5 } }));
    assert.equal(scaled.metadata.generation, 2);
    assert.deepEqual(scaled.status, { replicas: 3 }, 'status ignored through the main door');
  });

  it('refuses a stale resourceVersion with 409 and leaves a no-op write unversioned', () => {
    const store = newStore();
    const cm = def(store, '', 'configmaps');
    const first = store.create(cm, 'default', { metadata: { name: 'c' }, data: { a: '1' } });
    const second = store.update(cm, 'default', 'c', { ...first, data: { a: '2' } }).object;
    assert.throws(() => store.update(cm, 'default', 'c', { ...first, data: { a: '3' } }), statusError(409, 'Conflict', /the object has been modified/));
    const same = store.update(cm, 'default', 'c', second).object;
    assert.equal(same.metadata.resourceVersion, second.metadata.resourceVersion);
  });

  it('names objects from generateName and refuses duplicates', () => {
    const store = newStore();
    const cm = def(store, '', 'configmaps');
    const a = store.create(cm, 'default', { metadata: { generateName: 'job-' } });
    assert.match(a.metadata.name!, /^job-[a-z0-9]{5}$/);
    assert.throws(() => store.create(cm, 'default', { metadata: { name: a.metadata.name! } }), statusError(409, 'AlreadyExists'));
    assert.throws(() => store.get(cm, 'default', 'missing'), statusError(404, 'NotFound', /configmaps "missing" not found/));
  });

  it('reports every invalid field of a built-in kind with its path', () => {
    const store = newStore();
    const pods = def(store, '', 'pods');
    assert.throws(
      () => store.create(pods, 'default', { metadata: { name: 'Bad_Name' }, spec: { containers: [{ name: 'c' }] } }),
      (err: unknown) =>
        err instanceof StatusError &&
        err.code === 422 &&
        err.details!.causes!.map((c) => c.field).join() === 'metadata.name,spec.containers[0].image',
    );
  });

  it('keeps an object with finalizers until they are removed', () => {
    const store = newStore();
    const cm = def(store, '', 'configmaps');
    store.create(cm, 'default', { metadata: { name: 'f', finalizers: ['example.com/hold'] } });
    const marked = store.delete(cm, 'default', 'f');
    assert.equal(marked.deleted, false);
    assert.ok(marked.object.metadata.deletionTimestamp);
    const gone = store.guaranteedUpdate(cm, 'default', 'f', (o) => ({ ...o, metadata: { ...o.metadata, finalizers: [] } }));
    assert.ok(gone.metadata.deletionTimestamp);
    assert.equal(store.tryGet(cm, 'default', 'f'), undefined);
  });

  it('turns propagation policies into GC finalizers and checks preconditions', () => {
    const store = newStore();
    const cm = def(store, '', 'configmaps');
    const created = store.create(cm, 'default', { metadata: { name: 'o' } });
    assert.throws(() => store.delete(cm, 'default', 'o', { preconditions: { uid: 'other' } }), statusError(409, 'Conflict', /Precondition failed: UID/));
    const orphaning = store.delete(cm, 'default', 'o', { propagationPolicy: 'Orphan' });
    assert.deepEqual(orphaning.object.metadata.finalizers, ['orphan']);
    assert.equal(orphaning.object.metadata.uid, created.metadata.uid);
  });

  it('waits for the grace period of a pod bound to a node, and deletes an unbound one at once', () => {
    const store = newStore();
    const pods = def(store, '', 'pods');
    const spec = { containers: [{ name: 'c', image: 'x' }] };
    store.create(pods, 'default', { metadata: { name: 'bound' }, spec: { ...spec, nodeName: 'edge-1' } });
    store.create(pods, 'default', { metadata: { name: 'free' }, spec });
    const bound = store.delete(pods, 'default', 'bound');
    assert.equal(bound.deleted, false);
    assert.equal(bound.object.metadata.deletionGracePeriodSeconds, 30);
    assert.equal(store.delete(pods, 'default', 'free').deleted, true);
    assert.equal(store.delete(pods, 'default', 'bound', { gracePeriodSeconds: 0 }).deleted, true, "the node agent's final delete");
  });

  it('refuses new objects in a terminating namespace', () => {
    const store = newStore();
    const ns = def(store, '', 'namespaces');
    store.create(ns, undefined, { metadata: { name: 'team' } });
    const terminating = store.delete(ns, undefined, 'team');
    assert.equal(terminating.deleted, false);
    assert.equal((terminating.object.status as { phase: string }).phase, 'Terminating');
    assert.throws(
      () => store.create(def(store, '', 'configmaps'), 'team', { metadata: { name: 'x' } }),
      statusError(403, 'Forbidden', /because it is being terminated/),
    );
    assert.throws(() => store.create(def(store, '', 'configmaps'), 'nowhere', { metadata: { name: 'x' } }), statusError(404, 'NotFound', /namespaces "nowhere"/));
  });

  it('pages lists with continue tokens and counts what remains', () => {
    const store = newStore();
    const cm = def(store, '', 'configmaps');
    for (let i = 0; i < 7; i++) store.create(cm, 'default', { metadata: { name: `c${i}`, labels: { even: String(i % 2 === 0) } } });
    const first = store.list(cm, 'default', { limit: 3 });
    assert.equal(first.items.length, 3);
    assert.equal(first.remainingItemCount, 4);
    const second = store.list(cm, 'default', { limit: 3, continue: first.continue! });
    const third = store.list(cm, 'default', { limit: 3, continue: second.continue! });
    assert.equal(third.continue, undefined);
    const names = [...first.items, ...second.items, ...third.items].map((raw) => (JSON.parse(raw) as KubeObject).metadata.name);
    assert.deepEqual(names, ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
    const even = store.list(cm, 'default', { labelSelector: 'even=true', limit: 2 });
    assert.equal(even.items.length, 2);
    const evenRest = store.list(cm, 'default', { labelSelector: 'even=true', limit: 2, continue: even.continue! });
    assert.equal(evenRest.items.length, 2);
  });

  it('tells a watcher with a selector when objects enter and leave it', () => {
    const store = newStore();
    const cm = def(store, '', 'configmaps');
    const created = store.create(cm, 'default', { metadata: { name: 'w', labels: { tier: 'a' } } });
    const events: string[] = [];
    const stop = store.watch(cm, 'default', { resourceVersion: created.metadata.resourceVersion!, labelSelector: 'tier=b' }, {
      event: (type, raw) => events.push(`${type}:${(JSON.parse(raw) as KubeObject).metadata.labels?.tier}`),
      error: (err) => assert.fail(err.message),
    });
    const set = (tier: string) => store.guaranteedUpdate(cm, 'default', 'w', (o) => ({ ...o, metadata: { ...o.metadata, labels: { tier } } }));
    set('b');
    set('b2');
    set('b');
    store.delete(cm, 'default', 'w');
    stop();
    assert.deepEqual(events, ['ADDED:b', 'DELETED:b2', 'ADDED:b', 'DELETED:b']);
  });

  it('answers a watch from a compacted revision with 410 Expired', () => {
    const store = newStore();
    const cm = def(store, '', 'configmaps');
    let obj = store.create(cm, 'default', { metadata: { name: 'x' }, data: { n: '0' } });
    for (let i = 1; i < 5; i++) obj = store.update(cm, 'default', 'x', { ...obj, data: { n: String(i) } }).object;
    store.storage.compact(1);
    const errors: StatusError[] = [];
    store.watch(cm, 'default', { resourceVersion: '2' }, { event: () => assert.fail('no events expected'), error: (e) => errors.push(e) });
    assert.equal(errors[0]?.code, 410);
    assert.equal(errors[0]?.reason, 'Expired');
  });

  it('serves a CRD kind once stored, validating, defaulting and pruning its objects', async () => {
    const store = newStore();
    const controller = new CrdController(store, silentLogger());
    controller.start();
    store.create(def(store, 'apiextensions.k8s.io', 'customresourcedefinitions'), undefined, {
      metadata: { name: 'models.sedna.io' },
      spec: {
        group: 'sedna.io',
        scope: 'Namespaced',
        names: { plural: 'models', kind: 'Model' },
        versions: [
          {
            name: 'v1alpha1',
            served: true,
            storage: true,
            subresources: { status: {} },
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: {
                    type: 'object',
                    required: ['url'],
                    properties: { url: { type: 'string' }, format: { type: 'string', default: 'pb' } },
                  },
                },
              },
            },
          },
        ],
      },
    });
    const models = store.registry.lookup('sedna.io', 'v1alpha1', 'models');
    assert.ok(models, 'served as soon as the CRD is stored');
    const warnings: string[] = [];
    const created = store.create(models, 'default', { metadata: { name: 'm' }, spec: { url: 's3://m', extra: 1 } }, { warnings });
    assert.deepEqual(created.spec, { url: 's3://m', format: 'pb' });
    assert.deepEqual(warnings, ['unknown field "spec.extra"']);
    assert.throws(() => store.create(models, 'default', { metadata: { name: 'n' }, spec: {} }), statusError(422, 'Invalid', /spec.url: Required value/));
    await controller.idle();
    const crd = store.get(def(store, 'apiextensions.k8s.io', 'customresourcedefinitions'), undefined, 'models.sedna.io');
    const established = (crd.status as { conditions: { type: string; status: string }[] }).conditions.find((c) => c.type === 'Established');
    assert.equal(established?.status, 'True');
    controller.stop();
  });
});
