// The node-lifecycle controller against a real in-memory store and an injected clock (no sleeps):
// a node whose Lease is not renewed within the grace period becomes Unknown with the unreachable
// taints and its pods not Ready; a renewed Lease and a Ready=True post bring it back untainted;
// a kubelet that reports Ready=False gets the not-ready taints; the grace period is a setting.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Condition, KubeObject } from '../../src/api/meta.ts';
import { NODE_LEASE_NAMESPACE, NodeLifecycleController } from '../../src/apiserver/controllers/node-lifecycle-controller.ts';
import { lifecycleTaints, type Taint, unknownConditions } from '../../src/apiserver/controllers/node-lifecycle.ts';
import { builtinResources } from '../../src/apiserver/registry/builtins.ts';
import { GenericStore } from '../../src/apiserver/registry/generic-store.ts';
import { ResourceRegistry } from '../../src/apiserver/registry/registry.ts';
import { SqliteStore } from '../../src/apiserver/storage/sqlite-store.ts';
import { silentLogger } from '../../src/lib/logger.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

function setup(gracePeriodMs?: number) {
  const store = new GenericStore(new SqliteStore({ path: ':memory:' }), new ResourceRegistry(builtinResources));
  const def = (group: string, plural: string) => store.registry.lookup(group, 'v1', plural)!;
  const ns = def('', 'namespaces');
  for (const name of ['default', NODE_LEASE_NAMESPACE]) store.create(ns, undefined, { metadata: { name } });
  let now = T0;
  const controller = new NodeLifecycleController(store, silentLogger(), { ...(gracePeriodMs !== undefined ? { gracePeriodMs } : {}), clock: () => new Date(now) });
  const nodes = def('', 'nodes');
  const pods = def('', 'pods');
  const leases = def('coordination.k8s.io', 'leases');
  const postReady = (name: string, status: Condition['status'], seconds: number): void => {
    store.guaranteedUpdate(nodes, undefined, name, (o) => {
      o.status = { conditions: [
        { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', lastHeartbeatTime: at(seconds), lastTransitionTime: at(0) },
        { type: 'Ready', status, reason: status === 'True' ? 'KubeletReady' : 'KubeletNotReady', lastHeartbeatTime: at(seconds), lastTransitionTime: at(seconds) },
      ] };
      return o;
    }, { subresource: 'status' });
  };
  const renew = (name: string, seconds: number): void => {
    const spec = { holderIdentity: name, leaseDurationSeconds: 40, renewTime: at(seconds).replace('Z', '.000000Z') };
    if (store.tryGet(leases, NODE_LEASE_NAMESPACE, name)) store.guaranteedUpdate(leases, NODE_LEASE_NAMESPACE, name, (o) => ({ ...o, spec }));
    else store.create(leases, NODE_LEASE_NAMESPACE, { metadata: { name }, spec });
  };
  const addNode = (name: string): void => {
    store.create(nodes, undefined, { metadata: { name } });
    postReady(name, 'True', 0);
    renew(name, 0);
  };
  const addPod = (name: string, node: string): void => {
    store.create(pods, 'default', { metadata: { name }, spec: { nodeName: node, containers: [{ name: 'c', image: 'node' }] } });
    store.guaranteedUpdate(pods, 'default', name, (o) => {
      o.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: at(0) }, { type: 'PodScheduled', status: 'True', lastTransitionTime: at(0) }] };
      return o;
    }, { subresource: 'status' });
  };
  return {
    controller,
    addNode,
    addPod,
    renew,
    postReady,
    advance(seconds: number) {
      now = T0 + seconds * 1000;
      controller.monitor();
    },
    node: (name: string): KubeObject => store.get(nodes, undefined, name),
    ready: (name: string) => ((store.get(nodes, undefined, name).status as { conditions: Condition[] }).conditions.find((c) => c.type === 'Ready')!),
    taints: (name: string): Taint[] => ((store.get(nodes, undefined, name).spec as { taints?: Taint[] } | undefined)?.taints ?? []),
    podReady: (name: string) => ((store.get(pods, 'default', name).status as { conditions: Condition[] }).conditions.find((c) => c.type === 'Ready')!),
  };
}

describe('NodeLifecycleController', () => {
  it('a node whose Lease is not renewed within 40 s becomes Unknown and unreachable, its pods not Ready', () => {
    const f = setup();
    f.addNode('edge-1');
    f.addNode('edge-2');
    f.addPod('on-edge-1', 'edge-1');
    f.addPod('on-edge-2', 'edge-2');
    f.advance(0);
    f.advance(30);
    f.renew('edge-2', 30);
    f.advance(40);
    assert.equal(f.ready('edge-1').status, 'True', 'within the grace period');
    assert.deepEqual(f.taints('edge-1'), []);
    f.advance(41);
    const ready = f.ready('edge-1');
    assert.equal(ready.status, 'Unknown');
    assert.equal(ready.reason, 'NodeStatusUnknown');
    assert.equal(ready.message, 'Kubelet stopped posting node status.');
    assert.equal(ready.lastTransitionTime, at(41));
    const conditions = (f.node('edge-1').status as { conditions: Condition[] }).conditions;
    assert.ok(conditions.every((c) => c.status === 'Unknown'), 'every condition Unknown');
    assert.deepEqual(f.taints('edge-1'), [
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: at(41) },
    ]);
    assert.equal(f.podReady('on-edge-1').status, 'False');
    assert.equal(f.podReady('on-edge-1').reason, 'NodeNotReady');
    assert.equal(f.ready('edge-2').status, 'True', 'edge-2 renewed at 30 s');
    assert.equal(f.podReady('on-edge-2').status, 'True');
    // Another pass changes nothing (no write churn).
    const rv = f.node('edge-1').metadata.resourceVersion;
    f.advance(45);
    assert.equal(f.node('edge-1').metadata.resourceVersion, rv);
  });

  it('is Ready again, untainted, once the kubelet renews its Lease and posts Ready', () => {
    const f = setup();
    f.addNode('edge-1');
    f.addPod('p', 'edge-1');
    f.advance(0);
    f.advance(50);
    assert.equal(f.ready('edge-1').status, 'Unknown');
    f.renew('edge-1', 55);
    f.advance(56);
    assert.equal(f.ready('edge-1').status, 'Unknown', 'the controller never posts Ready=True itself');
    assert.equal(f.taints('edge-1')[0]!.key, 'node.kubernetes.io/unreachable');
    f.postReady('edge-1', 'True', 57);
    f.advance(58);
    assert.deepEqual(f.taints('edge-1'), []);
    assert.equal((f.node('edge-1').spec as { taints?: Taint[] } | undefined)?.taints, undefined);
    f.advance(90);
    assert.equal(f.ready('edge-1').status, 'True', 'the heartbeat at 57 s counts as heard');
    f.advance(98);
    assert.equal(f.ready('edge-1').status, 'True', 'observed at 58 s: 40 s is within the grace period');
    f.advance(99);
    assert.equal(f.ready('edge-1').status, 'Unknown', 'silent again for more than 40 s');
  });

  it('a kubelet that reports Ready=False gets the not-ready taints', () => {
    const f = setup();
    f.addNode('edge-1');
    f.advance(0);
    f.postReady('edge-1', 'False', 5);
    f.advance(6);
    assert.deepEqual(f.taints('edge-1').map((t) => `${t.key}:${t.effect}`), ['node.kubernetes.io/not-ready:NoSchedule', 'node.kubernetes.io/not-ready:NoExecute']);
  });

  it('takes its grace period from the option (--node-monitor-grace-period)', () => {
    const f = setup(10_000);
    f.addNode('edge-1');
    f.advance(0);
    f.advance(10);
    assert.equal(f.ready('edge-1').status, 'True');
    f.advance(11);
    assert.equal(f.ready('edge-1').status, 'Unknown');
  });

  it('gives a node it has just seen a full grace period, whatever its timestamps say', () => {
    const f = setup();
    f.addNode('edge-1');
    f.advance(1_000);
    assert.equal(f.ready('edge-1').status, 'True', 'first seen at 1000 s');
    f.advance(1_041);
    assert.equal(f.ready('edge-1').status, 'Unknown');
  });
});

describe('node lifecycle decisions', () => {
  it('keeps taints it does not own and a transition time that did not change', () => {
    const other: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
    assert.deepEqual(lifecycleTaints([other, { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }], 'True', at(1)), [other]);
    const once = unknownConditions([{ type: 'Ready', status: 'True', lastTransitionTime: at(0) }], at(5));
    assert.deepEqual(unknownConditions(once, at(9)), once);
  });
});
