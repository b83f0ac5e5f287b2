import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject, OwnerReference } from '../../src/api/meta.ts';
import { CrdController } from '../../src/apiserver/controllers/crd-controller.ts';
import { GarbageCollector } from '../../src/apiserver/controllers/garbage-collector.ts';
import { builtinResources } from '../../src/apiserver/registry/builtins.ts';
import { GenericStore } from '../../src/apiserver/registry/generic-store.ts';
import { ResourceRegistry } from '../../src/apiserver/registry/registry.ts';
import type { ResourceDef } from '../../src/apiserver/registry/types.ts';
import { SqliteStore } from '../../src/apiserver/storage/sqlite-store.ts';
import { silentLogger } from '../../src/lib/logger.ts';

interface Fixture {
  store: GenericStore;
  gc: GarbageCollector;
  cm: ResourceDef;
}

function setup(options: { startGc?: boolean } = {}): Fixture {
  const store = new GenericStore(new SqliteStore({ path: ':memory:' }), new ResourceRegistry(builtinResources));
  store.create(store.registry.lookup('', 'v1', 'namespaces')!, undefined, { metadata: { name: 'default' } });
  const gc = new GarbageCollector(store, silentLogger());
  if (options.startGc !== false) gc.start();
  return { store, gc, cm: store.registry.lookup('', 'v1', 'configmaps')! };
}

function ref(owner: KubeObject, extra: Partial<OwnerReference> = {}): OwnerReference {
  return { apiVersion: owner.apiVersion!, kind: owner.kind!, name: owner.metadata.name!, uid: owner.metadata.uid!, ...extra };
}

function configMap(f: Fixture, name: string, owners: OwnerReference[] = []): KubeObject {
  return f.store.create(f.cm, 'default', { metadata: { name, ...(owners.length ? { ownerReferences: owners } : {}) }, data: { k: name } });
}

function exists(f: Fixture, name: string, def = f.cm, namespace: string | undefined = 'default'): boolean {
  return f.store.tryGet(def, namespace, name) !== undefined;
}

const widgetCrd: KubeObject = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } },
      },
    ],
  },
};

describe('GarbageCollector', () => {
  it('cascades a background deletion through two levels', async () => {
    const f = setup();
    const root = configMap(f, 'root');
    const child = configMap(f, 'child', [ref(root)]);
    configMap(f, 'grandchild', [ref(child)]);
    configMap(f, 'bystander');
    await f.gc.idle();
    assert.ok(exists(f, 'child') && exists(f, 'grandchild'), 'live owners keep their dependents');

    f.store.delete(f.cm, 'default', 'root', { propagationPolicy: 'Background' });
    await f.gc.idle();
    assert.equal(exists(f, 'child'), false);
    assert.equal(exists(f, 'grandchild'), false);
    assert.ok(exists(f, 'bystander'));
    f.gc.stop();
  });

  it('orphans dependents: they stay and lose the reference, then the owner goes', async () => {
    const f = setup();
    const owner = configMap(f, 'owner');
    const other = configMap(f, 'other');
    configMap(f, 'a', [ref(owner)]);
    configMap(f, 'b', [ref(owner), ref(other)]);
    await f.gc.idle();

    const marked = f.store.delete(f.cm, 'default', 'owner', { propagationPolicy: 'Orphan' });
    assert.equal(marked.deleted, false);
    assert.deepEqual(marked.object.metadata.finalizers, ['orphan']);
    await f.gc.idle();
    assert.equal(exists(f, 'owner'), false, 'the orphan finalizer was removed');
    assert.equal(f.store.get(f.cm, 'default', 'a').metadata.ownerReferences, undefined);
    assert.deepEqual(
      f.store.get(f.cm, 'default', 'b').metadata.ownerReferences?.map((r) => r.name),
      ['other'],
    );
    f.gc.stop();
  });

  it('deletes dependents before the owner in a foreground deletion, grandchildren first', async () => {
    const f = setup();
    const root = configMap(f, 'root');
    const child = configMap(f, 'child', [ref(root, { blockOwnerDeletion: true })]);
    configMap(f, 'grandchild', [ref(child, { blockOwnerDeletion: true })]);
    await f.gc.idle();
    const order: string[] = [];
    f.store.storage.subscribe((e) => {
      if (e.type === 'DELETED') order.push((JSON.parse(e.value) as KubeObject).metadata.name!);
    });

    const marked = f.store.delete(f.cm, 'default', 'root', { propagationPolicy: 'Foreground' });
    assert.equal(marked.deleted, false);
    assert.deepEqual(marked.object.metadata.finalizers, ['foregroundDeletion']);
    assert.ok(marked.object.metadata.deletionTimestamp);
    await f.gc.idle();
    assert.deepEqual(order, ['grandchild', 'child', 'root']);
    f.gc.stop();
  });

  it('waits in a foreground deletion for a dependent that has its own finalizer', async () => {
    const f = setup();
    const root = configMap(f, 'root');
    f.store.create(f.cm, 'default', { metadata: { name: 'held', finalizers: ['example.com/hold'], ownerReferences: [ref(root)] } });
    f.store.delete(f.cm, 'default', 'root', { propagationPolicy: 'Foreground' });
    await f.gc.idle();
    assert.ok(f.store.get(f.cm, 'default', 'held').metadata.deletionTimestamp, 'the dependent is being deleted');
    assert.ok(exists(f, 'root'), 'the owner waits for it');

    f.store.guaranteedUpdate(f.cm, 'default', 'held', (cm) => ({ ...cm, metadata: { ...cm.metadata, finalizers: [] } }));
    await f.gc.idle();
    assert.equal(exists(f, 'held'), false);
    assert.equal(exists(f, 'root'), false);
    f.gc.stop();
  });

  it('keeps an object with two owners when one goes, dropping only that reference', async () => {
    const f = setup();
    const first = configMap(f, 'first');
    const second = configMap(f, 'second');
    configMap(f, 'shared', [ref(first), ref(second)]);
    f.store.delete(f.cm, 'default', 'first');
    await f.gc.idle();
    assert.deepEqual(
      f.store.get(f.cm, 'default', 'shared').metadata.ownerReferences?.map((r) => r.name),
      ['second'],
    );

    f.store.delete(f.cm, 'default', 'second');
    await f.gc.idle();
    assert.equal(exists(f, 'shared'), false, 'collected once the last owner is gone');
    f.gc.stop();
  });

  it('collects a dependent whose owner never existed, or now has another uid', async () => {
    const f = setup();
    configMap(f, 'ghost-child', [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'ghost', uid: '00000000-0000-0000-0000-000000000000' }]);
    const reborn = configMap(f, 'reborn');
    const stale = { ...ref(reborn), uid: '11111111-1111-1111-1111-111111111111' };
    configMap(f, 'stale-child', [stale]);
    await f.gc.idle();
    assert.equal(exists(f, 'ghost-child'), false);
    assert.equal(exists(f, 'stale-child'), false, 'the same name with a different uid is a different owner');
    assert.ok(exists(f, 'reborn'));
    f.gc.stop();
  });

  it('lets a cluster-scoped owner own namespaced dependents', async () => {
    const f = setup();
    const nodeDef = f.store.registry.lookup('', 'v1', 'nodes')!;
    const node = f.store.create(nodeDef, undefined, { metadata: { name: 'edge-1' } });
    configMap(f, 'node-config', [ref(node)]);
    await f.gc.idle();
    assert.ok(exists(f, 'node-config'));
    f.store.delete(nodeDef, undefined, 'edge-1');
    await f.gc.idle();
    assert.equal(exists(f, 'node-config'), false);
    f.gc.stop();
  });

  it('collects what became garbage while it was not running (initial scan)', async () => {
    const f = setup({ startGc: false });
    const owner = configMap(f, 'owner');
    configMap(f, 'dependent', [ref(owner)]);
    f.store.delete(f.cm, 'default', 'owner');
    assert.ok(exists(f, 'dependent'));
    f.gc.start();
    await f.gc.idle();
    assert.equal(exists(f, 'dependent'), false);
    f.gc.stop();
  });

  it('works for kinds a CustomResourceDefinition defines, as owners and as dependents', async () => {
    const f = setup();
    const crds = new CrdController(f.store, silentLogger());
    crds.start();
    f.store.create(f.store.registry.lookup('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!, undefined, widgetCrd);
    await crds.idle();
    const widgets = f.store.registry.lookup('example.com', 'v1', 'widgets');
    assert.ok(widgets, 'the CRD kind is served');

    const parent = f.store.create(widgets, 'default', { metadata: { name: 'parent' }, spec: { size: 1 } });
    configMap(f, 'widget-config', [ref(parent)]);
    const holder = configMap(f, 'holder');
    f.store.create(widgets, 'default', { metadata: { name: 'owned-widget', ownerReferences: [ref(holder)] }, spec: {} });
    await f.gc.idle();
    assert.ok(exists(f, 'widget-config') && exists(f, 'owned-widget', widgets));

    f.store.delete(widgets, 'default', 'parent');
    f.store.delete(f.cm, 'default', 'holder');
    await f.gc.idle();
    assert.equal(exists(f, 'widget-config'), false, 'a custom resource owner');
    assert.equal(exists(f, 'owned-widget', widgets), false, 'a custom resource dependent');
    crds.stop();
    f.gc.stop();
  });

  it('leaves an owner of an unknown kind alone until the kind is served', async () => {
    const f = setup();
    configMap(f, 'waiting', [{ apiVersion: 'example.com/v1', kind: 'Widget', name: 'never', uid: 'never-uid' }]);
    await f.gc.idle();
    assert.ok(exists(f, 'waiting'), 'an owner that cannot be looked up might exist');

    const crds = new CrdController(f.store, silentLogger());
    crds.start();
    f.store.create(f.store.registry.lookup('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!, undefined, widgetCrd);
    await crds.idle();
    await f.gc.idle();
    assert.equal(exists(f, 'waiting'), false, 'once Widgets are served, the missing owner is absent');
    crds.stop();
    f.gc.stop();
  });
});
