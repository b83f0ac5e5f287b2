import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Condition, KubeObject } from '../../src/api/meta.ts';
import { CrdController } from '../../src/apiserver/controllers/crd-controller.ts';
import { NamespaceController } from '../../src/apiserver/controllers/namespace-controller.ts';
import { StatusError } from '../../src/apiserver/errors.ts';
import { builtinResources } from '../../src/apiserver/registry/builtins.ts';
import { GenericStore } from '../../src/apiserver/registry/generic-store.ts';
import { ResourceRegistry } from '../../src/apiserver/registry/registry.ts';
import type { ResourceDef } from '../../src/apiserver/registry/types.ts';
import { SqliteStore } from '../../src/apiserver/storage/sqlite-store.ts';
import { silentLogger } from '../../src/lib/logger.ts';

interface Fixture {
  store: GenericStore;
  ns: ResourceDef;
  cm: ResourceDef;
  pod: ResourceDef;
  controller: NamespaceController;
}

function setup(options: { start?: boolean } = {}): Fixture {
  const store = new GenericStore(new SqliteStore({ path: ':memory:' }), new ResourceRegistry(builtinResources));
  const ns = store.registry.lookup('', 'v1', 'namespaces')!;
  for (const name of ['default', 'doomed']) store.create(ns, undefined, { metadata: { name } });
  const controller = new NamespaceController(store, silentLogger());
  if (options.start !== false) controller.start();
  return { store, ns, controller, cm: store.registry.lookup('', 'v1', 'configmaps')!, pod: store.registry.lookup('', 'v1', 'pods')! };
}

function pod(name: string, nodeName?: string): KubeObject {
  return { metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...(nodeName ? { nodeName } : {}) } };
}

function conditions(f: Fixture, name: string): Map<string, Condition> {
  const status = f.store.get(f.ns, undefined, name).status as { conditions?: Condition[] };
  return new Map((status.conditions ?? []).map((c) => [c.type, c]));
}

const gadgetCrd: KubeObject = {
  metadata: { name: 'gadgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'gadgets', kind: 'Gadget' },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
};

describe('NamespaceController', () => {
  it('deletes everything in a deleted namespace, then the namespace itself', async () => {
    const f = setup();
    const crds = new CrdController(f.store, silentLogger());
    crds.start();
    f.store.create(f.store.registry.lookup('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!, undefined, gadgetCrd);
    await crds.idle();
    const gadgets = f.store.registry.lookup('example.com', 'v1', 'gadgets')!;
    f.store.create(f.cm, 'doomed', { metadata: { name: 'config' } });
    f.store.create(f.pod, 'doomed', pod('unscheduled'));
    f.store.create(gadgets, 'doomed', { metadata: { name: 'g' } });
    f.store.create(f.cm, 'default', { metadata: { name: 'keep' } });

    const marked = f.store.delete(f.ns, undefined, 'doomed');
    assert.equal(marked.deleted, false, 'the kubernetes finalizer holds the namespace');
    assert.equal((marked.object.status as { phase: string }).phase, 'Terminating');
    await f.controller.idle();
    assert.equal(f.store.tryGet(f.ns, undefined, 'doomed'), undefined);
    assert.equal(f.store.listObjects(f.cm, 'doomed').length, 0);
    assert.equal(f.store.listObjects(f.pod, 'doomed').length, 0);
    assert.equal(f.store.listObjects(gadgets, 'doomed').length, 0);
    assert.ok(f.store.tryGet(f.cm, 'default', 'keep'), 'other namespaces are untouched');
    crds.stop();
    f.controller.stop();
  });

  it('waits for content with finalizers and reports it in status conditions', async () => {
    const f = setup();
    f.store.create(f.cm, 'doomed', { metadata: { name: 'held', finalizers: ['example.com/hold'] } });
    f.store.delete(f.ns, undefined, 'doomed');
    await f.controller.idle();

    const ns = f.store.get(f.ns, undefined, 'doomed');
    assert.equal((ns.status as { phase: string }).phase, 'Terminating');
    const conds = conditions(f, 'doomed');
    assert.equal(conds.get('NamespaceContentRemaining')?.status, 'True');
    assert.equal(conds.get('NamespaceContentRemaining')?.reason, 'SomeResourcesRemain');
    assert.equal(conds.get('NamespaceContentRemaining')?.message, 'Some resources are remaining: configmaps has 1 resource instances');
    assert.equal(conds.get('NamespaceFinalizersRemaining')?.status, 'True');
    assert.match(conds.get('NamespaceFinalizersRemaining')?.message ?? '', /example\.com\/hold in 1 resource instances/);
    assert.equal(conds.get('NamespaceDeletionContentFailure')?.status, 'False');
    const rv = ns.metadata.resourceVersion;
    await f.controller.idle();
    assert.equal(f.store.get(f.ns, undefined, 'doomed').metadata.resourceVersion, rv, 'an unchanged status is not rewritten');

    assert.throws(
      () => f.store.create(f.cm, 'doomed', { metadata: { name: 'late' } }),
      (err: unknown) => err instanceof StatusError && err.code === 403,
      'a terminating namespace refuses new content',
    );

    // Whoever owns the finalizer releases it; the deletion wakes the controller at once.
    f.store.guaranteedUpdate(f.cm, 'doomed', 'held', (cm) => ({ ...cm, metadata: { ...cm.metadata, finalizers: [] } }));
    await f.controller.idle();
    assert.equal(f.store.tryGet(f.ns, undefined, 'doomed'), undefined);
    f.controller.stop();
  });

  it('lets a node agent finish pods bound to a node before the namespace goes', async () => {
    const f = setup();
    f.store.create(f.pod, 'doomed', pod('running', 'edge-1'));
    f.store.delete(f.ns, undefined, 'doomed');
    await f.controller.idle();
    const graceful = f.store.get(f.pod, 'doomed', 'running');
    assert.ok(graceful.metadata.deletionTimestamp, 'the pod got a graceful deletion');
    assert.equal(graceful.metadata.deletionGracePeriodSeconds, 30);
    assert.ok(f.store.tryGet(f.ns, undefined, 'doomed'), 'the namespace waits for it');

    // The node agent has stopped the containers and deletes the pod for good.
    f.store.delete(f.pod, 'doomed', 'running', { gracePeriodSeconds: 0 });
    await f.controller.idle();
    assert.equal(f.store.tryGet(f.ns, undefined, 'doomed'), undefined);
    f.controller.stop();
  });

  it('picks up namespaces that were already terminating when it started', async () => {
    const f = setup({ start: false });
    f.store.create(f.cm, 'doomed', { metadata: { name: 'config' } });
    f.store.delete(f.ns, undefined, 'doomed');
    assert.ok(f.store.tryGet(f.ns, undefined, 'doomed'));
    f.controller.start();
    await f.controller.idle();
    assert.equal(f.store.tryGet(f.ns, undefined, 'doomed'), undefined);
    assert.ok(f.store.tryGet(f.ns, undefined, 'default'), 'an active namespace is left alone');
    f.controller.stop();
  });

  it('keeps a namespace whose spec lists another finalizer until that one is removed too', async () => {
    const f = setup();
    f.store.create(f.ns, undefined, { metadata: { name: 'shared' }, spec: { finalizers: ['kubernetes', 'example.com/external'] } });
    f.store.delete(f.ns, undefined, 'shared');
    await f.controller.idle();
    const ns = f.store.get(f.ns, undefined, 'shared');
    assert.deepEqual((ns.spec as { finalizers: string[] }).finalizers, ['example.com/external']);

    f.store.update(f.ns, undefined, 'shared', { ...ns, spec: { finalizers: [] } }, { subresource: 'finalize' });
    assert.equal(f.store.tryGet(f.ns, undefined, 'shared'), undefined);
    f.controller.stop();
  });
});
