// The official JavaScript client (@kubernetes/client-node 1.4.0) against the real server process:
// informers over built-in and custom resources, informers surviving a server restart and a 410
// Gone, list pagination, optimistic concurrency and resourceVersion ordering.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { eventually, startApiServer, type RunningApiServer } from '../helpers/apiserver.ts';

const NS = 'default';
const TEST_TIMEOUT = 120_000;

// ---- helpers -------------------------------------------------------------------------------

type EventType = 'add' | 'update' | 'delete';

interface Recorded {
  type: EventType;
  name: string;
  rv: string;
  obj: k8s.KubernetesObject;
}

interface Recorder {
  events: Recorded[];
  /** Errors reported while the informer was meant to be running. */
  errors: unknown[];
  /** Errors reported after stop() (the abort of the watch). */
  ignored: unknown[];
  connects: number;
  /** Stops the informer; its abort error is waited for, so it cannot land later. */
  stop(): Promise<void>;
  /** Starts it again after stop(). */
  start(): Promise<void>;
}

/**
 * Records what an informer reports. With `restartOnError`, an informer that stopped on an error
 * is started again after a short back-off, as a controller runtime would do.
 */
function record<T extends k8s.KubernetesObject>(informer: k8s.Informer<T> & k8s.ObjectCache<T>, restartOnError = false): Recorder {
  const rec: Recorder = {
    events: [],
    errors: [],
    ignored: [],
    connects: 0,
    async stop() {
      stopped = true;
      clearTimeout(restartTimer);
      const before = rec.ignored.length;
      await informer.stop();
      if (running) await eventually(() => (rec.ignored.length > before ? true : undefined), 10_000, 'the informer to report its aborted watch');
      running = false;
    },
    async start() {
      stopped = false;
      running = true;
      await informer.start();
    },
  };
  let stopped = false;
  let running = false;
  let restartTimer: NodeJS.Timeout | undefined;
  for (const type of ['add', 'update', 'delete'] as const) {
    informer.on(type, (obj: T) => rec.events.push({ type, name: obj.metadata!.name!, rv: obj.metadata!.resourceVersion!, obj }));
  }
  informer.on('connect', () => rec.connects++);
  informer.on('error', (err: unknown) => {
    if (stopped) {
      rec.ignored.push(err);
      return;
    }
    rec.errors.push(err);
    // The informer has stopped itself (client-node 1.4.0 does so on any error but a 410).
    running = false;
    if (restartOnError) {
      restartTimer = setTimeout(() => {
        if (stopped) return;
        running = true;
        void informer.start();
      }, 200);
    }
  });
  return rec;
}

const summary = (events: Recorded[], names?: (name: string) => boolean): [EventType, string, string][] =>
  events.filter((e) => !names || names(e.name)).map((e) => [e.type, e.name, e.rv]);

const keyed = (objects: readonly k8s.KubernetesObject[]): string[] => objects.map((o) => `${o.metadata!.name}@${o.metadata!.resourceVersion}`).sort();

interface WatchEvent {
  type: string;
  object: Record<string, unknown>;
}

/** Opens a raw watch and returns its first event ('closed' if the server ended it without one). */
function firstWatchEvent(kc: k8s.KubeConfig, path: string, params: Record<string, string>): Promise<WatchEvent | 'closed'> {
  return new Promise((resolve, reject) => {
    let controller: AbortController | undefined;
    let settled = false;
    const timer = setTimeout(() => settle(() => reject(new Error(`no event on ${path} within 10s`))), 10_000);
    function settle(fn: () => void): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      controller?.abort();
      fn();
    }
    new k8s.Watch(kc)
      .watch(
        path,
        params,
        (type: string, object: Record<string, unknown>) => settle(() => resolve({ type, object })),
        (err: unknown) => settle(() => (err ? reject(err instanceof Error ? err : new Error(JSON.stringify(err))) : resolve('closed'))),
      )
      .then(
        (c) => {
          controller = c;
          if (settled) c.abort();
        },
        (err: unknown) => settle(() => reject(err instanceof Error ? err : new Error(String(err)))),
      );
  });
}

/** The Status a rejected client call carried. */
function statusOf(err: unknown): { code: number; status: k8s.V1Status } {
  assert.ok(err instanceof k8s.ApiException, `expected an ApiException, got ${String(err)}`);
  const body: unknown = err.body;
  const status = (typeof body === 'string' ? JSON.parse(body) : body) as k8s.V1Status;
  return { code: err.code, status };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('expected the call to be rejected');
}

const rv = (obj: k8s.KubernetesObject): number => Number(obj.metadata!.resourceVersion);

function pod(name: string, labels: Record<string, string> = {}): k8s.V1Pod {
  return { metadata: { name, labels }, spec: { containers: [{ name: 'main', image: 'busybox:1.36' }] } };
}

// ---- one server for the tests that need nothing special ---------------------------------

describe('client-node against the API server', { timeout: TEST_TIMEOUT }, () => {
  let server: RunningApiServer;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;

  before(async () => {
    server = await startApiServer();
    kc = server.kubeConfig();
    core = kc.makeApiClient(k8s.CoreV1Api);
  });

  after(async () => {
    await server?.stop();
  });

  it('a pod informer sees add, update and delete in order, and its cache follows the server', async () => {
    const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${NS}/pods`, () => core.listNamespacedPod({ namespace: NS }));
    const rec = record(informer);
    const mine = (name: string): boolean => name === 'informed-pod';
    const cacheMatchesServer = async (): Promise<void> => {
      const list = await core.listNamespacedPod({ namespace: NS });
      assert.deepEqual(keyed(informer.list(NS)), keyed(list.items));
    };
    try {
      await rec.start();
      await cacheMatchesServer();

      const created = await core.createNamespacedPod({ namespace: NS, body: pod('informed-pod', { app: 'one' }) });
      await eventually(() => (rec.events.some((e) => mine(e.name)) ? true : undefined), 10_000, 'the add event');
      assert.deepEqual(summary(rec.events, mine), [['add', 'informed-pod', created.metadata!.resourceVersion!]]);
      assert.equal(informer.get('informed-pod', NS)?.metadata?.uid, created.metadata!.uid);
      await cacheMatchesServer();

      const updated = await core.patchNamespacedPod({
        namespace: NS,
        name: 'informed-pod',
        body: [{ op: 'replace', path: '/metadata/labels/app', value: 'two' }],
      });
      assert.ok(rv(updated) > rv(created));
      await eventually(() => (rec.events.filter((e) => mine(e.name)).length >= 2 ? true : undefined), 10_000, 'the update event');
      assert.deepEqual(summary(rec.events, mine), [
        ['add', 'informed-pod', created.metadata!.resourceVersion!],
        ['update', 'informed-pod', updated.metadata!.resourceVersion!],
      ]);
      assert.equal(informer.get('informed-pod', NS)?.metadata?.labels?.app, 'two');
      await cacheMatchesServer();

      // No spec.nodeName: nothing has to confirm termination, so the pod goes at once.
      await core.deleteNamespacedPod({ namespace: NS, name: 'informed-pod' });
      await eventually(() => (rec.events.filter((e) => mine(e.name)).length >= 3 ? true : undefined), 10_000, 'the delete event');
      const seen = summary(rec.events, mine);
      assert.deepEqual(
        seen.map(([type, name]) => [type, name]),
        [
          ['add', 'informed-pod'],
          ['update', 'informed-pod'],
          ['delete', 'informed-pod'],
        ],
      );
      // The DELETED event carries the revision of the deletion itself.
      assert.ok(Number(seen[2]![2]) > rv(updated), `delete event rv ${seen[2]![2]} after ${rv(updated)}`);
      assert.equal(informer.get('informed-pod', NS), undefined);
      await cacheMatchesServer();
      const err = statusOf(await rejection(core.readNamespacedPod({ namespace: NS, name: 'informed-pod' })));
      assert.equal(err.code, 404);
      assert.deepEqual(rec.errors, []);
    } finally {
      await rec.stop();
    }
  });

  it('a custom resource informer sees add, update and delete in order; a status JSON patch changes status only', async () => {
    const group = 'tests.sedna.io';
    const version = 'v1';
    const plural = 'widgets';
    const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    await ext.createCustomResourceDefinition({
      body: {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: `${plural}.${group}` },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural, singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
          versions: [
            {
              name: version,
              served: true,
              storage: true,
              subresources: { status: {} },
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: { type: 'object', properties: { size: { type: 'integer' } } },
                    status: { type: 'object', properties: { phase: { type: 'string' } } },
                  },
                },
              },
            },
          ],
        },
      },
    });
    await eventually(
      async () => {
        const crd = await ext.readCustomResourceDefinition({ name: `${plural}.${group}` });
        return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
      },
      15_000,
      'the CRD to be Established',
    );

    type Widget = k8s.KubernetesObject & { spec?: { size?: number }; status?: { phase?: string } };
    const list = (): Promise<k8s.KubernetesListObject<Widget>> =>
      custom.listNamespacedCustomObject({ group, version, namespace: NS, plural }) as Promise<k8s.KubernetesListObject<Widget>>;
    const informer = k8s.makeInformer<Widget>(kc, `/apis/${group}/${version}/namespaces/${NS}/${plural}`, list);
    const rec = record(informer);
    const cacheMatchesServer = async (): Promise<void> => assert.deepEqual(keyed(informer.list(NS)), keyed((await list()).items));
    const waitEvents = (n: number, what: string): Promise<true> =>
      eventually(() => (rec.events.length >= n ? true : undefined), 10_000, what);
    try {
      await rec.start();
      assert.deepEqual(informer.list(NS), []);

      const created = (await custom.createNamespacedCustomObject({
        group,
        version,
        namespace: NS,
        plural,
        body: { apiVersion: `${group}/${version}`, kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 1 } },
      })) as Widget;
      assert.equal(created.metadata?.generation, 1);
      await waitEvents(1, 'the add event');
      await cacheMatchesServer();

      const updated = (await custom.patchNamespacedCustomObject({
        group,
        version,
        namespace: NS,
        plural,
        name: 'w1',
        body: [{ op: 'replace', path: '/spec/size', value: 2 }],
      })) as Widget;
      assert.equal(updated.spec?.size, 2);
      assert.equal(updated.metadata?.generation, 2);
      await waitEvents(2, 'the update event');
      await cacheMatchesServer();

      // Through the status subresource, a patch that also touches spec changes status only.
      const statusPatched = (await custom.patchNamespacedCustomObjectStatus({
        group,
        version,
        namespace: NS,
        plural,
        name: 'w1',
        body: [
          { op: 'add', path: '/status', value: { phase: 'Ready' } },
          { op: 'replace', path: '/spec/size', value: 99 },
        ],
      })) as Widget;
      assert.equal(statusPatched.status?.phase, 'Ready');
      assert.equal(statusPatched.spec?.size, 2, 'spec must not change through /status');
      assert.equal(statusPatched.metadata?.generation, 2, 'a status change does not bump generation');
      assert.ok(rv(statusPatched) > rv(updated));
      const stored = (await custom.getNamespacedCustomObject({ group, version, namespace: NS, plural, name: 'w1' })) as Widget;
      assert.deepEqual({ spec: stored.spec, status: stored.status }, { spec: { size: 2 }, status: { phase: 'Ready' } });
      await waitEvents(3, 'the status update event');
      assert.equal(informer.get('w1', NS)?.status?.phase, 'Ready');
      await cacheMatchesServer();

      await custom.deleteNamespacedCustomObject({ group, version, namespace: NS, plural, name: 'w1' });
      await waitEvents(4, 'the delete event');
      const seen = summary(rec.events);
      assert.deepEqual(
        seen.slice(0, 3),
        [
          ['add', 'w1', created.metadata?.resourceVersion],
          ['update', 'w1', updated.metadata?.resourceVersion],
          ['update', 'w1', statusPatched.metadata?.resourceVersion],
        ],
      );
      assert.deepEqual(seen.slice(3).map(([type, name]) => [type, name]), [['delete', 'w1']]);
      assert.ok(Number(seen[3]![2]) > rv(statusPatched));
      assert.equal(informer.get('w1', NS), undefined);
      await cacheMatchesServer();
      assert.deepEqual(rec.errors, []);
    } finally {
      await rec.stop();
    }
  });

  it('lists page through limit and continue', async () => {
    const namespace = 'paging';
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    for (let i = 0; i < 25; i++) {
      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: `cm-${String(i).padStart(2, '0')}` }, data: { i: String(i) } } });
    }
    // Everything in the namespace (a controller may publish its own ConfigMaps there too).
    const all = await core.listNamespacedConfigMap({ namespace });
    const total = all.items.length;
    const pages: k8s.V1ConfigMapList[] = [];
    let token: string | undefined;
    do {
      const page = await core.listNamespacedConfigMap({ namespace, limit: 10, ...(token ? { _continue: token } : {}) });
      pages.push(page);
      assert.ok(page.items.length <= 10);
      assert.ok(page.metadata?.resourceVersion, 'every page has a resourceVersion');
      token = page.metadata?._continue;
    } while (token && pages.length < 10);
    const names = pages.flatMap((p) => p.items.map((cm) => cm.metadata!.name!));
    assert.equal(new Set(names).size, names.length, 'no item on two pages');
    assert.deepEqual([...names].sort(), all.items.map((cm) => cm.metadata!.name!).sort());
    for (let i = 0; i < 25; i++) assert.ok(names.includes(`cm-${String(i).padStart(2, '0')}`));
    assert.equal(total, 25, `namespace ${namespace} holds only the test's ConfigMaps: ${names.join(', ')}`);
    assert.equal(pages.length, 3);
    assert.deepEqual(
      pages.map((p) => p.items.length),
      [10, 10, 5],
    );
    assert.equal(pages[0]!.metadata?.remainingItemCount, 15);
    assert.equal(pages[1]!.metadata?.remainingItemCount, 5);
    assert.equal(pages[2]!.metadata?._continue, undefined);
    assert.equal(pages[2]!.metadata?.remainingItemCount, undefined);
    // All pages are one consistent snapshot.
    assert.equal(new Set(pages.map((p) => p.metadata?.resourceVersion)).size, 1);
  });

  it(
    'continued pages come from the snapshot the first page was read at',
    async () => {
      const namespace = 'snapshot';
      await core.createNamespace({ body: { metadata: { name: namespace } } });
      const originals = new Map<string, string>();
      for (let i = 0; i < 15; i++) {
        const cm = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: `s-${String(i).padStart(2, '0')}` }, data: { i: String(i) } } });
        originals.set(cm.metadata!.name!, cm.metadata!.resourceVersion!);
      }
      const first = await core.listNamespacedConfigMap({ namespace, limit: 5 });
      const snapshot = first.metadata!.resourceVersion!;
      // Changes after the first page, all in the part not yet read.
      await core.deleteNamespacedConfigMap({ namespace, name: 's-07' });
      await core.patchNamespacedConfigMap({ namespace, name: 's-08', body: [{ op: 'replace', path: '/data/i', value: 'changed' }] });
      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 's-10a' } } });
      const items = [...first.items];
      let token = first.metadata?._continue;
      while (token) {
        const page = await core.listNamespacedConfigMap({ namespace, limit: 5, _continue: token });
        assert.equal(page.metadata?.resourceVersion, snapshot);
        items.push(...page.items);
        token = page.metadata?._continue;
      }
      assert.deepEqual(
        items.map((cm) => `${cm.metadata!.name}@${cm.metadata!.resourceVersion}`),
        [...originals].map(([name, version]) => `${name}@${version}`),
      );
    },
  );

  it('a replace with a stale resourceVersion is rejected with 409 Conflict', async () => {
    const first = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'occ' }, data: { v: '1' } } });
    const second = await core.replaceNamespacedConfigMap({ namespace: NS, name: 'occ', body: { ...first, data: { v: '2' } } });
    assert.ok(rv(second) > rv(first));
    const err = statusOf(await rejection(core.replaceNamespacedConfigMap({ namespace: NS, name: 'occ', body: { ...first, data: { v: 'stale' } } })));
    assert.equal(err.code, 409);
    assert.equal(err.status.kind, 'Status');
    assert.equal(err.status.status, 'Failure');
    assert.equal(err.status.reason, 'Conflict');
    assert.equal(err.status.code, 409);
    assert.equal(
      err.status.message,
      'Operation cannot be fulfilled on configmaps "occ": the object has been modified; please apply your changes to the latest version and try again',
    );
    assert.equal(err.status.details?.name, 'occ');
    const now = await core.readNamespacedConfigMap({ namespace: NS, name: 'occ' });
    assert.deepEqual(now.data, { v: '2' });
    assert.equal(now.metadata?.resourceVersion, second.metadata?.resourceVersion);
  });

  it('every list has a resourceVersion and every write a strictly larger one', async () => {
    const namespace = 'rv-order';
    const writes: [string, k8s.KubernetesObject][] = [];
    let last = 0;
    const write = async <T extends k8s.KubernetesObject>(what: string, promise: Promise<T>): Promise<T> => {
      const obj = await promise;
      const value = rv(obj);
      assert.ok(Number.isInteger(value) && value > last, `${what}: resourceVersion ${obj.metadata?.resourceVersion} after ${last}`);
      last = value;
      writes.push([what, obj]);
      const listed = await core.listNamespacedConfigMap({ namespace: NS });
      assert.ok(Number(listed.metadata?.resourceVersion) >= last, 'a list is at least as new as the last write');
      return obj;
    };
    await write('create namespace', core.createNamespace({ body: { metadata: { name: namespace } } }));
    const cm = await write('create configmap', core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'a' }, data: { n: '0' } } }));
    const replaced = await write('replace configmap', core.replaceNamespacedConfigMap({ namespace, name: 'a', body: { ...cm, data: { n: '1' } } }));
    await write('patch configmap', core.patchNamespacedConfigMap({ namespace, name: 'a', body: [{ op: 'replace', path: '/data/n', value: '2' }] }));
    await write('create second configmap', core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'b' } } }));
    await write('create pod', core.createNamespacedPod({ namespace, body: pod('p') }));
    await write(
      'patch pod status',
      core.patchNamespacedPodStatus({ namespace, name: 'p', body: [{ op: 'add', path: '/status/phase', value: 'Running' }] }),
    );
    await write('label namespace', core.patchNamespace({ name: namespace, body: [{ op: 'add', path: '/metadata/labels', value: { a: 'b' } }] }));
    await core.deleteNamespacedConfigMap({ namespace, name: 'b' });
    await write('create after a delete', core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'c' } } }));
    assert.ok(rv(replaced) > rv(cm));

    const lists: [string, Promise<{ metadata?: k8s.V1ListMeta }>][] = [
      ['namespaces', core.listNamespace()],
      ['configmaps', core.listNamespacedConfigMap({ namespace })],
      ['configmaps (all namespaces)', core.listConfigMapForAllNamespaces()],
      ['pods', core.listNamespacedPod({ namespace })],
      ['empty list of secrets', core.listNamespacedSecret({ namespace })],
      ['customresourcedefinitions', kc.makeApiClient(k8s.ApiextensionsV1Api).listCustomResourceDefinition()],
    ];
    for (const [what, promise] of lists) {
      const list = await promise;
      const listRv = list.metadata?.resourceVersion;
      assert.ok(listRv && /^\d+$/.test(listRv), `${what}: list resourceVersion ${listRv}`);
      assert.ok(Number(listRv) >= last, `${what}: list resourceVersion ${listRv} older than the last write ${last}`);
    }
  });
});

// ---- informers across a restart and a compaction -----------------------------------------

describe('client-node informers across restarts and compaction', { timeout: TEST_TIMEOUT }, () => {
  it('an informer resumes after the server restarts on the same data and port', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sedna-restart-'));
    let server: RunningApiServer | undefined = await startApiServer({ dataDir });
    let rec: Recorder | undefined;
    try {
      const port = Number(new URL(server.url).port);
      const kc = server.kubeConfig();
      const core = kc.makeApiClient(k8s.CoreV1Api);
      const a = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'before-a' }, data: { x: 'a' } } });
      const b = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'before-b' }, data: { x: 'b' } } });
      const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${NS}/configmaps`, () => core.listNamespacedConfigMap({ namespace: NS }));
      rec = record(informer, true);
      await rec.start();
      assert.ok(informer.get('before-a', NS) && informer.get('before-b', NS));
      const seenBefore = rec.events.length;

      await server.stop();
      // The informer loses its watch and reports it; while the server is down nothing changes.
      await eventually(() => (rec!.errors.length > 0 ? true : undefined), 10_000, 'the informer to notice the server went away');
      assert.equal(rec.events.length, seenBefore, 'no events while the server is down');
      assert.equal(informer.get('before-a', NS)?.metadata?.resourceVersion, a.metadata!.resourceVersion);
      assert.equal(informer.get('before-b', NS)?.metadata?.resourceVersion, b.metadata!.resourceVersion);

      server = await startApiServer({ dataDir, port });
      assert.equal(server.url, `https://127.0.0.1:${port}`);
      const core2 = server.kubeConfig().makeApiClient(k8s.CoreV1Api);
      for (const before of [a, b]) {
        const now = await core2.readNamespacedConfigMap({ namespace: NS, name: before.metadata!.name! });
        assert.equal(now.metadata?.uid, before.metadata!.uid);
        assert.equal(now.metadata?.resourceVersion, before.metadata!.resourceVersion);
        assert.deepEqual(now.data, before.data);
      }
      const c = await core2.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'after-c' }, data: { x: 'c' } } });
      assert.ok(rv(c) > Math.max(rv(a), rv(b)), 'the revision carries on after a restart');
      await core2.deleteNamespacedConfigMap({ namespace: NS, name: 'before-a' });

      await eventually(
        () => (informer.get('after-c', NS) && !informer.get('before-a', NS) ? true : undefined),
        20_000,
        'the restarted informer to see the new ConfigMap and the deletion',
      );
      const afterRestart = rec.events.slice(seenBefore);
      assert.deepEqual(
        afterRestart.map((e) => [e.type, e.name]),
        [
          ['add', 'after-c'],
          ['delete', 'before-a'],
        ],
      );
      assert.equal(afterRestart[0]!.rv, c.metadata!.resourceVersion);
      const list = await core2.listNamespacedConfigMap({ namespace: NS });
      assert.deepEqual(keyed(informer.list(NS)), keyed(list.items));
      assert.equal(informer.get('before-b', NS)?.metadata?.uid, b.metadata!.uid);
    } finally {
      await rec?.stop();
      await server?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a compacted resourceVersion gets 410 Expired, and a stale informer re-lists', async () => {
    const server = await startApiServer({ args: ['--compact-interval', '1', '--compact-retain', '1'] });
    let rec: Recorder | undefined;
    try {
      const kc = server.kubeConfig();
      const core = kc.makeApiClient(k8s.CoreV1Api);
      const path = `/api/v1/namespaces/${NS}/configmaps`;
      const waitCompactedPast = (resourceVersion: string): Promise<WatchEvent> =>
        eventually(
          async () => {
            const event = await firstWatchEvent(kc, path, { resourceVersion });
            return event !== 'closed' && event.type === 'ERROR' ? event : undefined;
          },
          30_000,
          `compaction past resourceVersion ${resourceVersion}`,
        );

      const old = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'old' }, data: { v: '0' } } });
      for (let i = 1; i <= 20; i++) {
        await core.patchNamespacedConfigMap({ namespace: NS, name: 'old', body: [{ op: 'replace', path: '/data/v', value: String(i) }] });
      }
      const expired = await waitCompactedPast(old.metadata!.resourceVersion!);
      assert.equal(expired.object.kind, 'Status');
      assert.equal(expired.object.apiVersion, 'v1');
      assert.equal(expired.object.status, 'Failure');
      assert.equal(expired.object.code, 410);
      assert.equal(expired.object.reason, 'Expired');
      assert.match(String(expired.object.message), /too old resource version/);
      // A current resourceVersion still watches fine.
      const current = await core.listNamespacedConfigMap({ namespace: NS });
      const fresh = firstWatchEvent(kc, path, { resourceVersion: current.metadata!.resourceVersion! });
      const touched = await core.patchNamespacedConfigMap({ namespace: NS, name: 'old', body: [{ op: 'replace', path: '/data/v', value: 'live' }] });
      const live = await fresh;
      assert.ok(live !== 'closed');
      assert.equal(live.type, 'MODIFIED');
      assert.equal((live.object.metadata as { resourceVersion?: string }).resourceVersion, touched.metadata!.resourceVersion);

      // An informer that was away while its resourceVersion got compacted re-lists.
      const informer = k8s.makeInformer(kc, path, () => core.listNamespacedConfigMap({ namespace: NS }));
      // makeInformer gives a ListWatch; its resourceVersion is what a reconnect resumes from.
      assert.ok((informer as object) instanceof k8s.ListWatch);
      const latestResourceVersion = (): string => (informer as unknown as k8s.ListWatch<k8s.V1ConfigMap>).latestResourceVersion();
      rec = record(informer);
      await rec.start();
      assert.equal(informer.get('old', NS)?.metadata?.resourceVersion, touched.metadata!.resourceVersion);
      await rec.stop();
      const staleRv = latestResourceVersion();
      const seenBefore = rec.events.length;
      const connectsBefore = rec.connects;

      const n1 = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'new-1' }, data: { v: '1' } } });
      await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'new-2' }, data: { v: '2' } } });
      await core.replaceNamespacedConfigMap({ namespace: NS, name: 'new-1', body: { ...n1, data: { v: '1b' } } });
      await core.deleteNamespacedConfigMap({ namespace: NS, name: 'old' });
      await waitCompactedPast(staleRv);

      await rec.start();
      const listed = await core.listNamespacedConfigMap({ namespace: NS });
      await eventually(
        () => (keyed(informer.list(NS)).join() === keyed(listed.items).join() ? true : undefined),
        15_000,
        'the informer cache to match the server after re-listing',
      );
      assert.deepEqual(rec.errors, [], 'a 410 is handled by re-listing, not reported');
      assert.ok(rec.connects >= connectsBefore + 2, 'the informer connected again after the 410 (re-list)');
      assert.ok(Number(latestResourceVersion()) > Number(staleRv));
      const changes = rec.events.slice(seenBefore);
      assert.deepEqual(changes.map((e) => [e.type, e.name]).sort(), [
        ['add', 'new-1'],
        ['add', 'new-2'],
        ['delete', 'old'],
      ]);
      assert.equal(informer.get('new-1', NS)?.data?.v, '1b');

      // And it keeps watching from the re-listed resourceVersion.
      const n3 = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'new-3' } } });
      await eventually(() => (informer.get('new-3', NS) ? true : undefined), 10_000, 'the informer to see new-3');
      assert.equal(informer.get('new-3', NS)?.metadata?.resourceVersion, n3.metadata!.resourceVersion);
      assert.deepEqual(rec.errors, []);
    } finally {
      await rec?.stop();
      await server.stop();
    }
  });

  it('a resume whose backlog is over the replay limit gets 410 Expired, and a stale informer re-lists', async () => {
    // Every write below is ~200 kB of event (object and previous state): the ring holds the newest ~5,
    // the database may replay the newest ~10, and the first of 16 is beyond both.
    const server = await startApiServer({ args: ['--watch-cache-mib', '1', '--watch-replay-mib', '2'] });
    let rec: Recorder | undefined;
    try {
      const kc = server.kubeConfig();
      const core = kc.makeApiClient(k8s.CoreV1Api);
      const path = `/api/v1/namespaces/${NS}/configmaps`;
      const big = (v: number): Record<string, string> => ({ v: String(v), pad: 'p'.repeat(100_000) });
      const informer = k8s.makeInformer(kc, path, () => core.listNamespacedConfigMap({ namespace: NS }));
      rec = record(informer);
      const first = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'big' }, data: big(0) } });
      await rec.start();
      await eventually(() => (informer.get('big', NS) ? true : undefined), 10_000, 'the informer to see big');
      await rec.stop();
      const connectsBefore = rec.connects;
      let last = first;
      for (let i = 1; i <= 15; i++) last = await core.replaceNamespacedConfigMap({ namespace: NS, name: 'big', body: { ...last, data: big(i) } });

      const expired = await firstWatchEvent(kc, path, { resourceVersion: first.metadata!.resourceVersion! });
      assert.ok(expired !== 'closed');
      assert.equal(expired.type, 'ERROR');
      assert.equal(expired.object.code, 410);
      assert.equal(expired.object.reason, 'Expired');
      assert.match(String(expired.object.message), /too old resource version/);
      // A resume within the replay limit but older than the ring replays from the database.
      const recent = await firstWatchEvent(kc, path, { resourceVersion: String(Number(last.metadata!.resourceVersion!) - 7) });
      assert.ok(recent !== 'closed');
      assert.equal(recent.type, 'MODIFIED');

      // The informer that was away re-lists and catches up, with no error reported.
      await rec.start();
      await eventually(() => (informer.get('big', NS)?.data?.v === '15' ? true : undefined), 15_000, 'the informer to re-list to v=15');
      assert.deepEqual(rec.errors, [], 'a 410 is handled by re-listing, not reported');
      assert.ok(rec.connects >= connectsBefore + 2, 'the informer connected again after the 410 (re-list)');
    } finally {
      await rec?.stop();
      await server.stop();
    }
  });
});
