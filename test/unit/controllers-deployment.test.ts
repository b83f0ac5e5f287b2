import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Condition, KubeObject } from '../../src/api/meta.ts';
import { podTemplateHash, resolveFenceposts } from '../../src/apiserver/controllers/deployment-controller.ts';
import { type RunningControllers, startControllers } from '../../src/apiserver/controllers/index.ts';
import { builtinResources } from '../../src/apiserver/registry/builtins.ts';
import { GenericStore, nowTimestamp } from '../../src/apiserver/registry/generic-store.ts';
import { ResourceRegistry } from '../../src/apiserver/registry/registry.ts';
import type { ResourceDef } from '../../src/apiserver/registry/types.ts';
import { SqliteStore } from '../../src/apiserver/storage/sqlite-store.ts';
import { silentLogger } from '../../src/lib/logger.ts';

interface Fixture {
  store: GenericStore;
  controllers: RunningControllers;
  deploy: ResourceDef;
  rs: ResourceDef;
  pod: ResourceDef;
}

interface WorkloadStatus {
  replicas?: number;
  fullyLabeledReplicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  observedGeneration?: number;
  conditions?: Condition[];
}

function setup(): Fixture {
  const store = new GenericStore(new SqliteStore({ path: ':memory:' }), new ResourceRegistry(builtinResources));
  store.create(store.registry.lookup('', 'v1', 'namespaces')!, undefined, { metadata: { name: 'default' } });
  return {
    store,
    controllers: startControllers(store, silentLogger()),
    deploy: store.registry.lookup('apps', 'v1', 'deployments')!,
    rs: store.registry.lookup('apps', 'v1', 'replicasets')!,
    pod: store.registry.lookup('', 'v1', 'pods')!,
  };
}

function deployment(name: string, replicas: number, image = 'nginx:1', strategy?: unknown): KubeObject {
  return {
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image }] } },
      ...(strategy ? { strategy } : {}),
    },
  };
}

const settle = (f: Fixture): Promise<void> => f.controllers.idle();

function replicaSets(f: Fixture): KubeObject[] {
  return f.store.listObjects(f.rs, 'default');
}

/** Pods that count: not finished, not being deleted. */
function livePods(f: Fixture, filter: (pod: KubeObject) => boolean = () => true): KubeObject[] {
  return f.store.listObjects(f.pod, 'default').filter((p) => !p.metadata.deletionTimestamp && !['Failed', 'Succeeded'].includes(phase(p)) && filter(p));
}

function phase(pod: KubeObject): string {
  return (pod.status as { phase?: string } | undefined)?.phase ?? '';
}

function isReady(pod: KubeObject): boolean {
  return ((pod.status as WorkloadStatus | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function ownedBy(owner: KubeObject): (obj: KubeObject) => boolean {
  return (obj) => obj.metadata.ownerReferences?.some((r) => r.uid === owner.metadata.uid && r.controller) ?? false;
}

/** What a node agent reports once a pod's containers run and pass their readiness probe. */
function setPodStatus(f: Fixture, pod: KubeObject, status: Record<string, unknown>): void {
  f.store.guaranteedUpdate(f.pod, 'default', pod.metadata.name!, (p) => ({ ...p, status: { ...(p.status as object), ...status } }), { subresource: 'status' });
}

function markReady(f: Fixture, pod: KubeObject): void {
  setPodStatus(f, pod, { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: nowTimestamp() }] });
}

function status(f: Fixture, name: string, def = f.deploy): WorkloadStatus {
  return (f.store.get(def, 'default', name).status ?? {});
}

function condition(s: WorkloadStatus, type: string): Condition | undefined {
  return s.conditions?.find((c) => c.type === type);
}

function scale(f: Fixture, name: string, replicas: number): void {
  // What PUT/PATCH on deployments/<name>/scale does: spec.replicas changes, nothing else.
  f.store.guaranteedUpdate(f.deploy, 'default', name, (d) => ({ ...d, spec: { ...(d.spec as object), replicas } }));
}

function setImage(f: Fixture, name: string, image: string): void {
  f.store.guaranteedUpdate(f.deploy, 'default', name, (d) => {
    const spec = structuredClone(d.spec) as { template: { spec: { containers: { image: string }[] } } };
    spec.template.spec.containers[0]!.image = image;
    return { ...d, spec };
  });
}

/** Acts as the node agent: makes every pending pod ready, round after round, until none is left. */
async function readyAll(f: Fixture, eachRound: () => void = () => {}): Promise<number> {
  let rounds = 0;
  for (; rounds < 50; rounds++) {
    await settle(f);
    eachRound();
    const pending = livePods(f, (p) => !isReady(p));
    if (pending.length === 0) return rounds;
    for (const pod of pending) markReady(f, pod);
  }
  throw new Error('pods kept appearing');
}

describe('ReplicaSet and Deployment controllers', () => {
  it('creates a ReplicaSet named by the template hash, and its pods', async () => {
    const f = setup();
    const d = f.store.create(f.deploy, 'default', deployment('web', 3));
    await settle(f);

    const [rs, ...more] = replicaSets(f);
    assert.ok(rs);
    assert.equal(more.length, 0);
    const hash = rs.metadata.labels?.['pod-template-hash'];
    assert.ok(hash && hash.length <= 10);
    assert.equal(rs.metadata.name, `web-${hash}`);
    assert.deepEqual((rs.spec as { selector: unknown }).selector, { matchLabels: { app: 'web', 'pod-template-hash': hash } });
    assert.equal(rs.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
    assert.equal(f.store.get(f.deploy, 'default', 'web').metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
    assert.deepEqual(rs.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: d.metadata.uid, controller: true, blockOwnerDeletion: true }]);

    const pods = livePods(f);
    assert.equal(pods.length, 3);
    for (const pod of pods) {
      assert.equal(pod.metadata.generateName, `web-${hash}-`);
      assert.deepEqual(pod.metadata.labels, { app: 'web', 'pod-template-hash': hash });
      assert.ok(ownedBy(rs)(pod));
      assert.equal(pod.metadata.ownerReferences?.[0]?.blockOwnerDeletion, true);
    }

    const s = status(f, 'web');
    assert.equal(s.replicas, 3);
    assert.equal(s.updatedReplicas, 3);
    assert.equal(s.readyReplicas, undefined, 'nothing runs the pods yet');
    assert.equal(s.unavailableReplicas, 3);
    assert.equal(condition(s, 'Available')?.status, 'False');
    assert.equal(condition(s, 'Available')?.reason, 'MinimumReplicasUnavailable');
    assert.equal(condition(s, 'Progressing')?.status, 'True');
    assert.equal(condition(s, 'Progressing')?.reason, 'ReplicaSetUpdated');

    await readyAll(f);
    const done = status(f, 'web');
    assert.equal(done.readyReplicas, 3);
    assert.equal(done.availableReplicas, 3);
    assert.equal(done.unavailableReplicas, undefined);
    assert.equal(done.observedGeneration, 1);
    assert.equal(condition(done, 'Available')?.reason, 'MinimumReplicasAvailable');
    assert.equal(condition(done, 'Available')?.status, 'True');
    assert.equal(condition(done, 'Progressing')?.reason, 'NewReplicaSetAvailable');
    assert.ok(condition(done, 'Progressing')?.lastUpdateTime && condition(done, 'Progressing')?.lastTransitionTime);
    const rsStatus = status(f, rs.metadata.name, f.rs);
    assert.deepEqual(
      [rsStatus.replicas, rsStatus.readyReplicas, rsStatus.availableReplicas, rsStatus.observedGeneration],
      [3, 3, 3, 1],
    );
    f.controllers.stop();
  });

  it('replaces a deleted pod and a failed pod', async () => {
    const f = setup();
    f.store.create(f.deploy, 'default', deployment('web', 2));
    await readyAll(f);
    const [first, second] = livePods(f);
    assert.ok(first && second);

    f.store.delete(f.pod, 'default', first.metadata.name!);
    await settle(f);
    let pods = livePods(f);
    assert.equal(pods.length, 2);
    assert.ok(!pods.some((p) => p.metadata.name === first.metadata.name));

    setPodStatus(f, second, { phase: 'Failed', conditions: [{ type: 'Ready', status: 'False' }] });
    await settle(f);
    pods = livePods(f);
    assert.equal(pods.length, 2);
    assert.ok(!pods.some((p) => p.metadata.name === second.metadata.name));
    assert.equal(f.store.tryGet(f.pod, 'default', second.metadata.name!), undefined, 'the failed pod was deleted');
    f.controllers.stop();
  });

  it('scales through spec.replicas, removing not-ready pods first', async () => {
    const f = setup();
    f.store.create(f.deploy, 'default', deployment('web', 3));
    await settle(f);
    const keeper = livePods(f)[1]!;
    markReady(f, keeper);
    await settle(f);

    scale(f, 'web', 1);
    await settle(f);
    const pods = livePods(f);
    assert.deepEqual(
      pods.map((p) => p.metadata.name),
      [keeper.metadata.name],
    );
    assert.equal((replicaSets(f)[0]!.spec as { replicas: number }).replicas, 1);
    assert.equal(status(f, 'web').replicas, 1);

    scale(f, 'web', 4);
    await settle(f);
    assert.equal(livePods(f).length, 4);
    assert.equal(replicaSets(f).length, 1, 'scaling does not roll');
    f.controllers.stop();
  });

  it('rolls out a new template as new pods become ready, within maxSurge and maxUnavailable', async () => {
    const f = setup();
    f.store.create(f.deploy, 'default', deployment('web', 3, 'nginx:1'));
    await readyAll(f);
    const oldRs = replicaSets(f)[0]!;

    setImage(f, 'web', 'nginx:2');
    await settle(f);
    const newRs = replicaSets(f).find((rs) => rs.metadata.uid !== oldRs.metadata.uid)!;
    assert.ok(newRs, 'a new ReplicaSet for the new template');
    assert.notEqual(newRs.metadata.labels?.['pod-template-hash'], oldRs.metadata.labels?.['pod-template-hash']);
    assert.equal(newRs.metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
    // 25% of 3: surge rounds up to 1, unavailable rounds down to 0.
    assert.equal(livePods(f, ownedBy(newRs)).length, 1);
    assert.equal(livePods(f, ownedBy(oldRs)).length, 3, 'nothing old goes before something new is ready');
    await settle(f);
    assert.equal(livePods(f, ownedBy(oldRs)).length, 3, 'and the rollout waits for readiness');
    const progressing = condition(status(f, 'web'), 'Progressing');
    assert.equal(progressing?.reason, 'ReplicaSetUpdated');
    assert.equal(progressing?.message, `ReplicaSet "${newRs.metadata.name}" is progressing.`);

    const rounds = await readyAll(f, () => {
      const live = livePods(f);
      assert.ok(live.length <= 4, `at most replicas+maxSurge pods (saw ${live.length})`);
      assert.ok(live.filter(isReady).length >= 3, 'never fewer than replicas-maxUnavailable ready pods');
    });
    assert.ok(rounds >= 3, 'the new pods came one at a time');

    assert.equal((f.store.get(f.rs, 'default', oldRs.metadata.name!).spec as { replicas: number }).replicas, 0);
    assert.equal(livePods(f, ownedBy(oldRs)).length, 0);
    assert.equal(livePods(f, ownedBy(newRs)).length, 3);
    const s = status(f, 'web');
    assert.equal(s.updatedReplicas, 3);
    assert.equal(s.replicas, 3);
    assert.equal(s.availableReplicas, 3);
    assert.equal(condition(s, 'Progressing')?.reason, 'NewReplicaSetAvailable');
    assert.equal(condition(s, 'Available')?.status, 'True');
    assert.equal(f.store.get(f.deploy, 'default', 'web').metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
    f.controllers.stop();
  });

  it('Recreate: stops every old pod before starting new ones', async () => {
    const f = setup();
    const d = deployment('job', 2, 'app:1', { type: 'Recreate' });
    // Bound to a node, the pods get a graceful deletion that their node agent must finish.
    (d.spec as { template: { spec: { nodeName: string } } }).template.spec.nodeName = 'edge-1';
    f.store.create(f.deploy, 'default', d);
    await readyAll(f);
    const oldRs = replicaSets(f)[0]!;
    const events: string[] = [];
    f.store.storage.subscribe((e) => {
      if (!e.key.startsWith('core/pods/')) return;
      const pod = JSON.parse(e.value) as KubeObject;
      events.push(`${e.type} ${ownedBy(oldRs)(pod) ? 'old' : 'new'}`);
    });

    setImage(f, 'job', 'app:2');
    await settle(f);
    assert.equal((f.store.get(f.rs, 'default', oldRs.metadata.name!).spec as { replicas: number }).replicas, 0);
    const stopping = f.store.listObjects(f.pod, 'default');
    assert.equal(stopping.length, 2);
    assert.ok(stopping.every((p) => p.metadata.deletionTimestamp && ownedBy(oldRs)(p)), 'old pods are stopping');
    assert.equal(replicaSets(f).length, 1, 'no new ReplicaSet while old pods run');

    // The node agent reports the containers stopped and removes the pods.
    for (const pod of stopping) f.store.delete(f.pod, 'default', pod.metadata.name!, { gracePeriodSeconds: 0 });
    await readyAll(f);
    const firstNew = events.indexOf('ADDED new');
    const lastOldGone = events.lastIndexOf('DELETED old');
    assert.ok(firstNew > lastOldGone && lastOldGone >= 0, events.join(', '));
    assert.equal(livePods(f).length, 2);
    assert.equal(livePods(f, ownedBy(oldRs)).length, 0);
    assert.equal(condition(status(f, 'job'), 'Progressing')?.reason, 'NewReplicaSetAvailable');
    f.controllers.stop();
  });

  it('counts a pod available only after minReadySeconds of readiness', async () => {
    const f = setup();
    const d = deployment('slow', 2);
    (d.spec as { minReadySeconds: number }).minReadySeconds = 30;
    f.store.create(f.deploy, 'default', d);
    await settle(f);
    const [early, late] = livePods(f);
    const longAgo = new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    setPodStatus(f, early!, { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: longAgo }] });
    markReady(f, late!);
    await settle(f);
    const s = status(f, 'slow');
    assert.equal(s.readyReplicas, 2);
    assert.equal(s.availableReplicas, 1);
    // maxUnavailable 25% of 2 rounds down to 0: every replica must be available.
    assert.equal(condition(s, 'Available')?.reason, 'MinimumReplicasUnavailable');
    assert.equal((replicaSets(f)[0]!.spec as { minReadySeconds: number }).minReadySeconds, 30);
    f.controllers.stop();
  });

  it('re-checks by itself when a ready pod has served minReadySeconds', async () => {
    const f = setup();
    f.store.create(f.rs, 'default', {
      metadata: { name: 'brief' },
      spec: {
        replicas: 1,
        minReadySeconds: 1,
        selector: { matchLabels: { app: 'brief' } },
        template: { metadata: { labels: { app: 'brief' } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
      },
    });
    await readyAll(f);
    const deadline = Date.now() + 10_000;
    while (status(f, 'brief', f.rs).availableReplicas !== 1) {
      assert.ok(Date.now() < deadline, 'the pod never became available');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    f.controllers.stop();
  });

  it('rolls back to an earlier template by reusing its ReplicaSet under a new revision', async () => {
    const f = setup();
    f.store.create(f.deploy, 'default', deployment('web', 1, 'v:1'));
    await readyAll(f);
    const first = replicaSets(f)[0]!;
    setImage(f, 'web', 'v:2');
    await readyAll(f);
    // What `kubectl rollout undo` writes: the old ReplicaSet's template, hash label removed.
    f.store.guaranteedUpdate(f.deploy, 'default', 'web', (d) => {
      const template = structuredClone((first.spec as { template: { metadata: { labels: Record<string, string>; creationTimestamp?: null } } }).template);
      delete template.metadata.labels['pod-template-hash'];
      template.metadata.creationTimestamp = null;
      return { ...d, spec: { ...(d.spec as object), template } };
    });
    await readyAll(f);
    assert.equal(replicaSets(f).length, 2, 'no third ReplicaSet');
    const reused = f.store.get(f.rs, 'default', first.metadata.name!);
    assert.equal((reused.spec as { replicas: number }).replicas, 1);
    assert.equal(reused.metadata.annotations?.['deployment.kubernetes.io/revision'], '3');
    assert.equal(reused.metadata.annotations?.['deployment.kubernetes.io/revision-history'], '1');
    assert.equal(f.store.get(f.deploy, 'default', 'web').metadata.annotations?.['deployment.kubernetes.io/revision'], '3');
    f.controllers.stop();
  });

  it('keeps only revisionHistoryLimit old ReplicaSets', async () => {
    const f = setup();
    const d = deployment('web', 1, 'v:1');
    (d.spec as { revisionHistoryLimit: number }).revisionHistoryLimit = 1;
    f.store.create(f.deploy, 'default', d);
    await readyAll(f);
    for (const image of ['v:2', 'v:3', 'v:4']) {
      setImage(f, 'web', image);
      await readyAll(f);
    }
    await settle(f);
    const revisions = replicaSets(f)
      .map((rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision'])
      .sort();
    assert.deepEqual(revisions, ['3', '4']);
    f.controllers.stop();
  });

  it('does not roll a paused deployment, and rolls once it is resumed', async () => {
    const f = setup();
    f.store.create(f.deploy, 'default', deployment('web', 2, 'v:1'));
    await readyAll(f);
    f.store.guaranteedUpdate(f.deploy, 'default', 'web', (d) => ({ ...d, spec: { ...(d.spec as object), paused: true } }));
    setImage(f, 'web', 'v:2');
    await readyAll(f);
    assert.equal(replicaSets(f).length, 1);
    assert.equal(condition(status(f, 'web'), 'Progressing')?.reason, 'DeploymentPaused');

    scale(f, 'web', 3);
    await readyAll(f);
    assert.equal(livePods(f).length, 3, 'a paused deployment still scales');

    f.store.guaranteedUpdate(f.deploy, 'default', 'web', (d) => ({ ...d, spec: { ...(d.spec as object), paused: false } }));
    await readyAll(f);
    assert.equal(replicaSets(f).length, 2);
    assert.equal(condition(status(f, 'web'), 'Progressing')?.reason, 'NewReplicaSetAvailable');
    assert.equal(status(f, 'web').updatedReplicas, 3);
    f.controllers.stop();
  });

  it('adopts matching orphan pods and releases pods that stop matching', async () => {
    const f = setup();
    const orphan = f.store.create(f.pod, 'default', {
      metadata: { name: 'stray', labels: { app: 'cache', tier: 'x' } },
      spec: { containers: [{ name: 'c', image: 'redis' }] },
    });
    f.store.create(f.rs, 'default', {
      metadata: { name: 'cache' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'cache' } },
        template: { metadata: { labels: { app: 'cache' } }, spec: { containers: [{ name: 'c', image: 'redis' }] } },
      },
    });
    await settle(f);
    const rs = f.store.get(f.rs, 'default', 'cache');
    assert.ok(ownedBy(rs)(f.store.get(f.pod, 'default', 'stray')), 'the orphan was adopted');
    assert.equal(livePods(f).length, 2, 'and counts toward replicas');
    assert.equal(status(f, 'cache', f.rs).fullyLabeledReplicas, 2);

    f.store.guaranteedUpdate(f.pod, 'default', 'stray', (p) => ({ ...p, metadata: { ...p.metadata, labels: { app: 'other' } } }));
    await settle(f);
    assert.equal(f.store.get(f.pod, 'default', 'stray').metadata.ownerReferences, undefined, 'released');
    assert.equal(livePods(f, ownedBy(rs)).length, 2, 'and replaced');
    assert.equal(orphan.metadata.uid, f.store.get(f.pod, 'default', 'stray').metadata.uid);
    f.controllers.stop();
  });

  it('writes no status when nothing changed', async () => {
    const f = setup();
    f.store.create(f.deploy, 'default', deployment('web', 2));
    await readyAll(f);
    const rs = replicaSets(f)[0]!;
    const before = [f.store.get(f.deploy, 'default', 'web').metadata.resourceVersion, f.store.get(f.rs, 'default', rs.metadata.name!).metadata.resourceVersion];
    const pod = livePods(f)[0]!;
    // Wakes both controllers (pod -> ReplicaSet, ReplicaSet status unchanged -> no Deployment write).
    f.store.guaranteedUpdate(f.pod, 'default', pod.metadata.name!, (p) => ({ ...p, metadata: { ...p.metadata, annotations: { touched: 'yes' } } }));
    setPodStatus(f, pod, { phase: 'Running' });
    await settle(f);
    const after = [f.store.get(f.deploy, 'default', 'web').metadata.resourceVersion, f.store.get(f.rs, 'default', rs.metadata.name!).metadata.resourceVersion];
    assert.deepEqual(after, before);
    f.controllers.stop();
  });

  it('cascades a deployment deletion through the garbage collector', async () => {
    const f = setup();
    f.store.create(f.deploy, 'default', deployment('bg', 2));
    f.store.create(f.deploy, 'default', deployment('fg', 2));
    await readyAll(f);
    assert.equal(livePods(f).length, 4);

    f.store.delete(f.deploy, 'default', 'bg', { propagationPolicy: 'Background' });
    await settle(f);
    assert.equal(replicaSets(f).filter((rs) => rs.metadata.name!.startsWith('bg-')).length, 0);
    assert.equal(livePods(f, (p) => p.metadata.labels?.app === 'bg').length, 0);

    const order: string[] = [];
    f.store.storage.subscribe((e) => {
      if (e.type === 'DELETED') order.push(e.key.split('/')[1]!);
    });
    f.store.delete(f.deploy, 'default', 'fg', { propagationPolicy: 'Foreground' });
    await settle(f);
    assert.equal(f.store.tryGet(f.deploy, 'default', 'fg'), undefined);
    assert.equal(f.store.listObjects(f.pod, 'default').length, 0);
    assert.deepEqual(order, ['pods', 'pods', 'replicasets', 'deployments'], 'dependents first in a foreground deletion');
    f.controllers.stop();
  });
});

describe('deployment arithmetic', () => {
  it('hashes pod templates stably, ignoring the hash label', () => {
    const template = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'x' }] } };
    const hash = podTemplateHash(template);
    assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    assert.equal(podTemplateHash(structuredClone(template)), hash);
    assert.equal(podTemplateHash({ ...template, metadata: { labels: { app: 'a', 'pod-template-hash': hash } } }), hash);
    assert.notEqual(podTemplateHash({ ...template, spec: { containers: [{ name: 'c', image: 'y' }] } }), hash);
    assert.notEqual(podTemplateHash(template, 1), hash, 'a collision count changes the hash');
    const asKubectlSendsIt = { metadata: { creationTimestamp: null, labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'x', resources: {} }] } };
    assert.equal(podTemplateHash(asKubectlSendsIt as never), hash, 'null and empty fields are the same as absent ones');
  });

  it('resolves maxSurge up and maxUnavailable down, never both zero', () => {
    assert.deepEqual(resolveFenceposts('25%', '25%', 3), [1, 0]);
    assert.deepEqual(resolveFenceposts('25%', '25%', 10), [3, 2]);
    assert.deepEqual(resolveFenceposts(0, 0, 5), [0, 1]);
    assert.deepEqual(resolveFenceposts(2, '50%', 5), [2, 2]);
    assert.deepEqual(resolveFenceposts(undefined, undefined, 4), [0, 1]);
  });
});
