// The node-lifecycle controller against a real in-memory store and an injected clock (no sleeps):
// a node whose Lease is not renewed within the grace period becomes Unknown with the unreachable
// taints and its pods not Ready; a renewed Lease and a Ready=True post bring it back untainted;
// a kubelet that reports Ready=False gets the not-ready taints; the grace period is a setting.
// The NoExecute taint manager: pods evicted when their tolerations run out (300 s by default, a
// pod's own tolerationSeconds, forever, at once), not when the node comes back in time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Condition, KubeObject } from '../../src/api/meta.ts';
import { NODE_LEASE_NAMESPACE, NodeLifecycleController } from '../../src/apiserver/controllers/node-lifecycle-controller.ts';
import { lifecycleTaints, type Taint, unknownConditions } from '../../src/apiserver/controllers/node-lifecycle.ts';
import { evictionDecision, withDefaultTolerations } from '../../src/apiserver/controllers/taint-eviction.ts';
import type { Toleration } from '../../src/api/taints.ts';
import { builtinResources } from '../../src/apiserver/registry/builtins.ts';
import { GenericStore } from '../../src/apiserver/registry/generic-store.ts';
import { ResourceRegistry } from '../../src/apiserver/registry/registry.ts';
import { SqliteStore } from '../../src/apiserver/storage/sqlite-store.ts';
import { silentLogger } from '../../src/lib/logger.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

function setup(gracePeriodMs?: number, defaultTolerationSeconds?: number) {
  const store = new GenericStore(new SqliteStore({ path: ':memory:' }), new ResourceRegistry(builtinResources));
  const def = (group: string, plural: string) => store.registry.lookup(group, 'v1', plural)!;
  const ns = def('', 'namespaces');
  for (const name of ['default', NODE_LEASE_NAMESPACE]) store.create(ns, undefined, { metadata: { name } });
  let now = T0;
  const options = { ...(gracePeriodMs !== undefined ? { gracePeriodMs } : {}), ...(defaultTolerationSeconds !== undefined ? { defaultTolerationSeconds } : {}), clock: () => new Date(now) };
  let controller = new NodeLifecycleController(store, silentLogger(), options);
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
  const addPod = (name: string, node: string, tolerations?: Toleration[]): void => {
    store.create(pods, 'default', { metadata: { name }, spec: { nodeName: node, containers: [{ name: 'c', image: 'node' }], ...(tolerations ? { tolerations } : {}) } });
    store.guaranteedUpdate(pods, 'default', name, (o) => {
      o.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: at(0) }, { type: 'PodScheduled', status: 'True', lastTransitionTime: at(0) }] };
      return o;
    }, { subresource: 'status' });
  };
  return {
    get controller() {
      return controller;
    },
    /** A new controller on the same store (the API server restarted): no memory of what it saw. */
    restartController() {
      controller = new NodeLifecycleController(store, silentLogger(), options);
    },
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
    pod: (name: string): KubeObject | undefined => store.tryGet(pods, 'default', name),
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

describe('NoExecute taint-based eviction', () => {
  const evicted = (pod: KubeObject | undefined): boolean => !!pod?.metadata.deletionTimestamp;

  it('evicts a pod without tolerations 300 s after its node became unreachable, with DisruptionTarget', () => {
    const f = setup();
    f.addNode('edge-1');
    f.addNode('edge-2');
    f.addPod('on-edge-1', 'edge-1');
    f.addPod('on-edge-2', 'edge-2');
    f.advance(0);
    for (let s = 20; s <= 340; s += 20) {
      f.renew('edge-2', s);
      f.advance(s === 40 ? 41 : s); // edge-1 unreachable, its taint added at 41 s
    }
    f.advance(340);
    assert.equal(evicted(f.pod('on-edge-1')), false, '299 s after the taint');
    f.advance(341);
    const pod = f.pod('on-edge-1')!;
    assert.ok(evicted(pod), 'deleted (Terminating: its kubelet is away, as upstream)');
    const target = (pod.status as { conditions: Condition[] }).conditions.find((c) => c.type === 'DisruptionTarget')!;
    assert.deepEqual([target.status, target.reason, target.message], ['True', 'DeletionByTaintManager', 'Taint manager: deleting due to NoExecute taint']);
    assert.equal(evicted(f.pod('on-edge-2')), false, 'a node that renewed its Lease keeps its pods');
  });

  it('respects the pod\'s tolerations: its own tolerationSeconds, forever without one, at once for 0', () => {
    const f = setup();
    f.addNode('edge-1');
    f.addPod('sixty', 'edge-1', [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }]);
    f.addPod('forever', 'edge-1', [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }]);
    f.addPod('everything', 'edge-1', [{ operator: 'Exists' }]);
    f.addPod('zero', 'edge-1', [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 }]);
    f.addPod('other-key', 'edge-1', [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoExecute' }]);
    f.advance(0);
    f.advance(41);
    assert.ok(evicted(f.pod('zero')), 'tolerationSeconds 0: at once');
    f.advance(100);
    assert.equal(evicted(f.pod('sixty')), false);
    f.advance(101);
    assert.ok(evicted(f.pod('sixty')), '60 s after the taint');
    f.advance(340);
    assert.equal(evicted(f.pod('other-key')), false, 'gets the default 300 s (its toleration is for another key)');
    f.advance(341);
    assert.ok(evicted(f.pod('other-key')));
    f.advance(100_000);
    assert.equal(evicted(f.pod('forever')), false, 'no tolerationSeconds: tolerated forever');
    assert.equal(evicted(f.pod('everything')), false, 'an empty key with Exists tolerates every taint forever');
  });

  it('evicts nothing when the node comes back within the toleration', () => {
    const f = setup();
    f.addNode('edge-1');
    f.addPod('p', 'edge-1');
    f.advance(0);
    f.advance(41);
    f.renew('edge-1', 200);
    f.postReady('edge-1', 'True', 200);
    f.advance(201);
    assert.deepEqual(f.taints('edge-1'), []);
    for (let s = 220; s <= 400; s += 20) {
      f.renew('edge-1', s);
      f.advance(s);
    }
    assert.equal(evicted(f.pod('p')), false, 'past 41 s + 300 s: the first taint is gone');
    f.advance(441); // silent again from 400 s: a new taint at 441 s, a new 300 s
    f.advance(740);
    assert.equal(evicted(f.pod('p')), false);
    f.advance(741);
    assert.ok(evicted(f.pod('p')));
  });

  it('evicts from a not-ready node too, and counts from the taint\'s timeAdded across a controller restart', () => {
    const f = setup();
    f.addNode('edge-1');
    f.addPod('p', 'edge-1');
    f.advance(0);
    f.postReady('edge-1', 'False', 10);
    f.renew('edge-1', 10);
    f.advance(11); // not-ready NoExecute taint added at 11 s
    f.restartController();
    for (let s = 20; s <= 300; s += 20) {
      f.renew('edge-1', s);
      f.postReady('edge-1', 'False', s);
      f.advance(s);
    }
    assert.equal(evicted(f.pod('p')), false);
    f.renew('edge-1', 311);
    f.postReady('edge-1', 'False', 311);
    f.advance(311);
    assert.ok(evicted(f.pod('p')), '300 s after timeAdded, not after the restart');
  });

  it('takes the default from its option (--default-unreachable-toleration-seconds)', () => {
    const f = setup(undefined, 30);
    f.addNode('edge-1');
    f.addPod('p', 'edge-1');
    f.advance(0);
    f.advance(41);
    f.advance(70);
    assert.equal(evicted(f.pod('p')), false);
    f.advance(71);
    assert.ok(evicted(f.pod('p')));
  });

  it('decides as upstream: an untolerated NoExecute taint at once, the earliest deadline over several taints', () => {
    const unreachable: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: at(0) };
    const custom: Taint = { key: 'maintenance', effect: 'NoExecute', timeAdded: at(100) };
    const defaults = withDefaultTolerations(undefined);
    assert.deepEqual(evictionDecision(defaults, [unreachable, custom], T0), { at: 'now' });
    assert.deepEqual(evictionDecision(defaults, [{ key: 'x', effect: 'NoSchedule' }], T0), { at: 'never' });
    const both = withDefaultTolerations([{ key: 'maintenance', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 50 }]);
    assert.deepEqual(evictionDecision(both, [unreachable, custom], T0), { at: T0 + 150_000 });
    assert.deepEqual(evictionDecision(both, [{ ...unreachable, timeAdded: undefined }], T0 + 7_000), { at: T0 + 307_000 }, 'no timeAdded: from when it was noticed');
    assert.equal(withDefaultTolerations([{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }]).length, 2, 'only the missing not-ready default is added');
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
