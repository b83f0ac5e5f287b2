// The controller runtime without a server: conditions, owner references, the informer cache and
// the reconcile loop, driven through ObjectStore as a fake informer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../src/lib/fake-clock.ts';
import { Registry } from 'prom-client';
import type { Condition, KubeObject } from '../../src/api/meta.ts';
import {
  Controller,
  type ControllerOptions,
  controllerRef,
  findCondition,
  getControllerOf,
  isControlledBy,
  isTrue,
  microTime,
  type ObjectKey,
  ObjectStore,
  parseKey,
  prometheusControllerMetrics,
  type ReconcileOutcome,
  type Reconciler,
  resourcePath,
  type Result,
  setCondition,
  TerminalError,
} from '../../src/controller/index.ts';

const JIS = { apiVersion: 'sedna.io/v1alpha1', kind: 'JointInferenceService' };

function obj(name: string, extra: Partial<KubeObject['metadata']> = {}, namespace = 'ns'): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, uid: `uid-${name}`, resourceVersion: '1', ...extra } };
}

function owned(name: string, ownerName: string, kind = JIS.kind, rv = '1'): KubeObject {
  return obj(name, { resourceVersion: rv, ownerReferences: [{ apiVersion: JIS.apiVersion, kind, name: ownerName, uid: `uid-${ownerName}`, controller: true }] });
}

/** A promise plus its resolver, for event-driven waits. */
function signal<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function syncedStore<T extends KubeObject = KubeObject>(...items: T[]): ObjectStore<T> {
  const store = new ObjectStore<T>();
  store.replace(items);
  store.markSynced();
  return store;
}

/** A reconciler from plain synchronous code; a throw becomes a rejected reconcile. */
function reconciler(fn: (key: ObjectKey) => Result | void): Reconciler {
  return (key) => Promise.resolve().then(() => fn(key));
}

function controller(reconcile: Reconciler, options: Partial<ControllerOptions> = {}): Controller {
  return new Controller({ name: 'test', reconcile, baseDelayMs: 1, maxDelayMs: 50, ...options });
}

describe('conditions', () => {
  const t0 = new Date('2026-01-02T03:04:05.678Z');
  const t1 = new Date('2026-01-02T04:00:00Z');
  const ready = (status: Condition['status'], extra: Partial<Condition> = {}): Condition => ({ type: 'Ready', status, ...extra });

  it('stamps a new condition with now, in whole seconds', () => {
    const list = setCondition(undefined, ready('True', { reason: 'Up' }), t0);
    assert.deepEqual(list, [{ type: 'Ready', status: 'True', reason: 'Up', lastTransitionTime: '2026-01-02T03:04:05Z' }]);
  });

  it('keeps lastTransitionTime while the status stays, but takes the new reason, message and observedGeneration', () => {
    const first = setCondition([], ready('True', { reason: 'Up', observedGeneration: 1 }), t0);
    const second = setCondition(first, ready('True', { reason: 'StillUp', message: 'fine', observedGeneration: 2 }), t1);
    assert.deepEqual(second, [{ type: 'Ready', status: 'True', reason: 'StillUp', message: 'fine', observedGeneration: 2, lastTransitionTime: '2026-01-02T03:04:05Z' }]);
  });

  it('moves lastTransitionTime when the status flips, leaves other types and the input alone', () => {
    const first = Object.freeze(setCondition(setCondition([], ready('True'), t0), { type: 'Degraded', status: 'False' }, t0));
    const second = setCondition(first, ready('False', { reason: 'Down' }), t1);
    assert.equal(findCondition(second, 'Ready')?.lastTransitionTime, '2026-01-02T04:00:00Z');
    assert.equal(findCondition(first, 'Ready')?.status, 'True', 'the input array is not modified');
    assert.deepEqual(second.map((c) => c.type), ['Ready', 'Degraded'], 'order is kept');
    assert.equal(isTrue(second, 'Ready'), false);
    assert.equal(isTrue(first, 'Ready'), true);
    assert.equal(isTrue(first, 'Missing'), false);
  });

  it('formats MicroTime with six fractional digits', () => {
    assert.equal(microTime(t0), '2026-01-02T03:04:05.678000Z');
  });
});

describe('owner references', () => {
  const service: KubeObject = { ...JIS, metadata: { name: 'jis', namespace: 'ns', uid: 'u-1' } };

  it('names the resource Kind and marks the controller', () => {
    assert.deepEqual(controllerRef(service, JIS), {
      apiVersion: 'sedna.io/v1alpha1',
      kind: 'JointInferenceService',
      name: 'jis',
      uid: 'u-1',
      controller: true,
      blockOwnerDeletion: true,
    });
  });

  it('refuses an owner without a uid, and a kind that is not the owner’s (a controller name, say)', () => {
    assert.throws(() => controllerRef({ metadata: { name: 'x' } }, JIS), /no name or uid/);
    assert.throws(() => controllerRef(service, { apiVersion: JIS.apiVersion, kind: 'JointInference' }), /not a JointInference/);
  });

  it('finds the controlling owner and matches it by uid', () => {
    const child = obj('pod', {
      ownerReferences: [
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', uid: 'u-cm' },
        controllerRef(service, JIS),
      ],
    });
    assert.equal(getControllerOf(child)?.name, 'jis');
    assert.equal(isControlledBy(child, service), true);
    assert.equal(isControlledBy(child, { ...service, metadata: { ...service.metadata, uid: 'other' } }), false);
    assert.equal(getControllerOf(obj('orphan')), undefined);
  });
});

describe('ObjectStore (the informer cache)', () => {
  it('reports an update only when the resourceVersion changed, and a delete with the last known object', () => {
    const store = new ObjectStore<KubeObject>();
    const seen: string[] = [];
    store.onAdd((o) => seen.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}`));
    store.onUpdate((a, b) => seen.push(`update ${a.metadata.resourceVersion}->${b.metadata.resourceVersion}`));
    store.onDelete((o) => seen.push(`delete ${o.metadata.name}@${o.metadata.resourceVersion}`));
    store.upsert(obj('a'));
    store.upsert(obj('a'));
    store.upsert(obj('a', { resourceVersion: '2' }));
    store.remove(obj('a', { resourceVersion: '3' }));
    store.remove(obj('never-seen'));
    assert.deepEqual(seen, ['add a@1', 'update 1->2', 'delete a@2']);
  });

  it('replace() deletes what a new list no longer has', () => {
    const store = syncedStore(obj('a'), obj('b'));
    const deleted: string[] = [];
    store.onDelete((o) => deleted.push(o.metadata.name!));
    store.replace([obj('b')]);
    assert.deepEqual(deleted, ['a']);
    assert.deepEqual(store.list().map((o) => o.metadata.name), ['b']);
  });

  it('lists by namespace and label selector, and gets by namespace and name', () => {
    const store = syncedStore(obj('a', { labels: { app: 'x', tier: 'edge' } }), obj('b', { labels: { app: 'y' } }), obj('c', { labels: { app: 'x' } }, 'other'));
    assert.deepEqual(store.list('ns', 'app=x').map((o) => o.metadata.name), ['a']);
    assert.deepEqual(store.list(undefined, { matchLabels: { app: 'x' } }).map((o) => o.metadata.name).sort(), ['a', 'c']);
    assert.deepEqual(store.list(undefined, { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }).map((o) => o.metadata.name), ['a']);
    assert.equal(store.list('nowhere').length, 0);
    assert.equal(store.get('other', 'c')?.metadata.name, 'c');
    assert.equal(store.get('ns', 'c'), undefined);
  });

  it('freezes cached objects, replays them to late add handlers, and survives a throwing handler', () => {
    const store = syncedStore(obj('a'));
    const cached = store.get('ns', 'a')!;
    assert.throws(() => {
      (cached.metadata as { name: string }).name = 'changed';
    }, TypeError);
    const replayed: string[] = [];
    store.onAdd(() => {
      throw new Error('bad handler');
    });
    store.onAdd((o) => replayed.push(o.metadata.name!));
    store.upsert(obj('b'));
    assert.deepEqual(replayed, ['a', 'b']);
  });

  it('waitForSync resolves on markSynced, or false when aborted', async () => {
    const store = new ObjectStore<KubeObject>();
    const aborted = new AbortController();
    const early = store.waitForSync(aborted.signal);
    aborted.abort();
    assert.equal(await early, false);
    const waiting = store.waitForSync();
    store.markSynced();
    assert.equal(await waiting, true);
    assert.equal(store.hasSynced(), true);
  });
});

describe('Controller (reconcile loop)', () => {
  it('does not retry a TerminalError, and counts it', async () => {
    const outcomes: ReconcileOutcome[] = [];
    let calls = 0;
    const clock = new FakeClock();
    const c = controller(
      reconciler(() => {
        calls++;
        throw new TerminalError('spec is invalid');
      }),
      { clock, metrics: { reconciled: (_name, outcome) => outcomes.push(outcome) } },
    );
    c.enqueue('ns/a');
    await c.start();
    await c.idle();
    assert.equal(clock.pending, 0, 'no retry scheduled');
    await clock.advance(60_000);
    assert.equal(calls, 1);
    assert.deepEqual(outcomes, ['terminal']);
    await c.stop();
  });

  it('retries an error with growing backoff until it succeeds', async () => {
    const times: number[] = [];
    const outcomes: ReconcileOutcome[] = [];
    const clock = new FakeClock();
    const c = controller(
      reconciler(() => {
        times.push(clock.now());
        if (times.length < 4) throw new Error(`transient ${times.length}`);
      }),
      { clock, baseDelayMs: 10, maxDelayMs: 1000, metrics: { reconciled: (_n, outcome) => outcomes.push(outcome) } },
    );
    c.enqueue({ namespace: 'ns', name: 'a' });
    await c.start();
    await c.idle();
    await clock.advance(9);
    assert.equal(times.length, 1, 'the first retry waits 10 ms');
    await clock.advance(1_000);
    await c.idle();
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    assert.deepEqual(outcomes, ['error', 'error', 'error', 'success']);
    assert.deepEqual(gaps, [10, 20, 40], 'backoff doubles from 10 ms');
    await c.stop();
  });

  it('recovers from a reconciler that throws synchronously or throws a non-Error', async () => {
    let calls = 0;
    const done = signal();
    const reconcile = ((): Promise<void> => {
      calls++;
      if (calls === 1) throw new Error('sync throw');
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      if (calls === 2) throw 'a string';
      done.resolve();
      return Promise.resolve();
    }) as Reconciler;
    const c = controller(reconcile);
    c.enqueue('ns/a');
    await c.start();
    await done.promise;
    assert.equal(calls, 3);
    await c.stop();
  });

  it('polls with requeueAfter', async () => {
    const times: number[] = [];
    const clock = new FakeClock();
    const c = controller(
      reconciler(() => {
        times.push(clock.now());
        if (times.length === 1) return { requeueAfter: 30 };
        return {};
      }),
      { clock },
    );
    c.enqueue('ns/a');
    await c.start();
    await c.idle();
    await clock.advance(29);
    assert.equal(times.length, 1, 'not before requeueAfter');
    await clock.advance(1);
    await c.idle();
    assert.deepEqual(times.map((t) => t - times[0]!), [0, 30]);
    await c.stop();
  });

  it('enqueues the controlling owner of a changed or deleted child (owner fan-in)', async () => {
    const services = syncedStore({ ...JIS, metadata: { name: 'jis', namespace: 'ns', uid: 'uid-jis' } });
    const pods = syncedStore(owned('p1', 'jis'));
    const keys: string[] = [];
    /** The keys reconciled since the last call. */
    const taken = (): string[] => keys.splice(0);
    const c = controller(reconciler((key) => void keys.push(`${key.namespace}/${key.name}`)))
      .watchFor(services)
      .watchOwned(pods, JIS.kind, 'sedna.io');
    await c.start();
    await c.idle();
    assert.deepEqual(taken(), ['ns/jis'], 'primary add and child add coalesce into one key');

    pods.upsert(owned('p2', 'other', 'FederatedLearningJob'));
    pods.upsert(obj('p3'));
    await c.idle();
    assert.deepEqual(taken(), [], 'children of another kind, or of none, are ignored');

    pods.remove(owned('p1', 'jis'));
    await c.idle();
    assert.deepEqual(taken(), ['ns/jis'], 'a deleted child enqueues its owner');

    pods.upsert(owned('p4', 'jis-a'));
    await c.idle();
    pods.upsert(owned('p4', 'jis-b', JIS.kind, '2'));
    await c.idle();
    assert.deepEqual(taken(), ['ns/jis-a', 'ns/jis-a', 'ns/jis-b'], 'a child moving owners concerns both');
    await c.stop();
  });

  it('starts workers only after every watched cache synced', async () => {
    const store = new ObjectStore<KubeObject>();
    const reconciled: string[] = [];
    const c = controller(reconciler((key) => void reconciled.push(key.name))).watchFor(store);
    store.upsert(obj('a'));
    let started = false;
    const starting = c.start().then(() => (started = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(started, false);
    assert.deepEqual(reconciled, []);
    store.markSynced();
    await starting;
    await c.idle();
    assert.deepEqual(reconciled, ['a']);
    await c.stop();
  });

  it('fails start() when caches do not sync in time', async () => {
    const c = controller(reconciler(() => {}), { cacheSyncTimeoutMs: 20 }).watchFor(new ObjectStore<KubeObject>());
    await assert.rejects(c.start(), /did not sync in time/);
  });

  it('runs up to maxConcurrentReconciles keys at once, never one key twice', async () => {
    let running = 0;
    let peak = 0;
    const gate = signal();
    const c = controller(
      async () => {
        running++;
        peak = Math.max(peak, running);
        await gate.promise;
        running--;
      },
      { maxConcurrentReconciles: 2 },
    );
    for (const name of ['a', 'b', 'c', 'a']) c.enqueue(`ns/${name}`);
    await c.start();
    await new Promise((r) => setImmediate(r));
    assert.equal(running, 2);
    gate.resolve();
    await c.idle();
    assert.equal(peak, 2);
    await c.stop();
  });

  it('exports reconcile counts and queue depth through prom-client', async () => {
    const registry = new Registry();
    const fail = (key: ObjectKey): void => {
      if (key.name === 'bad') throw new TerminalError('no');
    };
    const c = controller(reconciler(fail), {
      name: 'jointinference',
      metrics: prometheusControllerMetrics(registry),
    });
    c.enqueue('ns/good');
    c.enqueue('ns/bad');
    await c.start();
    await c.idle();
    const text = await registry.metrics();
    assert.match(text, /controller_runtime_reconcile_total\{controller="jointinference",result="success"\} 1/);
    assert.match(text, /controller_runtime_reconcile_total\{controller="jointinference",result="terminal"\} 1/);
    assert.match(text, /controller_runtime_reconcile_errors_total\{controller="jointinference"\} 1/);
    assert.match(text, /workqueue_depth\{name="jointinference"\} 0/);
    await c.stop();
  });
});

describe('keys and paths', () => {
  it('parses namespaced and cluster-scoped keys', () => {
    assert.deepEqual(parseKey('ns/a'), { namespace: 'ns', name: 'a' });
    assert.deepEqual(parseKey('node-1'), { namespace: '', name: 'node-1' });
  });

  it('builds core and group collection paths', () => {
    assert.equal(resourcePath({ apiVersion: 'v1', plural: 'pods' }), '/api/v1/pods');
    assert.equal(resourcePath({ apiVersion: 'sedna.io/v1alpha1', plural: 'datasets', namespace: 'ns' }), '/apis/sedna.io/v1alpha1/namespaces/ns/datasets');
  });
});
