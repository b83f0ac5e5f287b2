// The controller runtime against the real API server process: informer events and lister, an
// informer recovering from a watch that stalls without closing (through a TCP proxy that stops
// forwarding) and from a server restart, Lease leader election with failover and release, and
// Event aggregation.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../../src/api/meta.ts';
import { type CoreEvent, EventRecorder, type Lease, LeaderElector, type LeaderElectionOptions, resourcePath, SharedInformer } from '../../src/controller/index.ts';
import { requestJson } from '../../src/controller/rest.ts';
import { eventually, startApiServer, type RunningApiServer } from '../helpers/apiserver.ts';

const NS = 'default';
const TIMEOUT = 120_000;
const CONFIGMAPS = resourcePath({ apiVersion: 'v1', plural: 'configmaps', namespace: NS });

// ---- helpers -------------------------------------------------------------------------------

/** The same credentials, pointed at another address (TLS still verifies: the host stays 127.0.0.1). */
function withServer(kc: k8s.KubeConfig, server: string): k8s.KubeConfig {
  const copy = new k8s.KubeConfig();
  copy.loadFromOptions({ clusters: kc.clusters.map((c) => ({ ...c, server })), users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext });
  return copy;
}

/** A TCP proxy whose open connections can be frozen: sockets stay open, no byte moves either way. */
class StallingProxy {
  private readonly sockets = new Set<net.Socket>();
  private readonly live = new Set<[net.Socket, net.Socket]>();
  private readonly server: net.Server;
  private blackhole = false;
  connections = 0;

  private constructor(private readonly target: { host: string; port: number }) {
    this.server = net.createServer((client) => this.accept(client));
  }

  static async start(targetUrl: string): Promise<StallingProxy> {
    const url = new URL(targetUrl);
    const proxy = new StallingProxy({ host: url.hostname, port: Number(url.port) });
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `https://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  /** Open connections still forwarding. */
  get forwarding(): number {
    return this.live.size;
  }

  /** Freezes every open connection; later connections forward normally unless `blackhole`. */
  stall(options: { blackhole?: boolean } = {}): void {
    this.blackhole = options.blackhole ?? false;
    for (const [client, upstream] of this.live) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
    this.live.clear();
  }

  /** New connections forward again (frozen ones stay frozen). */
  resume(): void {
    this.blackhole = false;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    this.connections++;
    const upstream = net.connect(this.target.port, this.target.host);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    this.live.add(pair);
    for (const socket of pair) {
      this.sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        this.sockets.delete(socket);
        this.live.delete(pair);
        client.destroy();
        upstream.destroy();
      });
    }
    if (this.blackhole) {
      this.live.delete(pair);
      client.pause();
      return;
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

interface Seen {
  type: 'add' | 'update' | 'delete';
  name: string;
  data: Record<string, string> | undefined;
}

function recordEvents(informer: SharedInformer<KubeObject>): Seen[] {
  const seen: Seen[] = [];
  const data = (o: KubeObject): Record<string, string> | undefined => o.data as Record<string, string> | undefined;
  informer.onAdd((o) => seen.push({ type: 'add', name: o.metadata.name!, data: data(o) }));
  informer.onUpdate((_old, o) => seen.push({ type: 'update', name: o.metadata.name!, data: data(o) }));
  informer.onDelete((o) => seen.push({ type: 'delete', name: o.metadata.name!, data: data(o) }));
  return seen;
}

/** `promise`, or a failure naming `what` after `ms`: a missing takeover must not hang the run. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function configMap(name: string, labels: Record<string, string>, data: Record<string, string> = {}): k8s.V1ConfigMap {
  return { metadata: { name, labels }, data };
}

// ---- informer ------------------------------------------------------------------------------

describe('controller runtime against the API server', { timeout: TIMEOUT }, () => {
  let server: RunningApiServer;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;

  before(async () => {
    server = await startApiServer();
    kc = server.kubeConfig();
    core = kc.makeApiClient(k8s.CoreV1Api);
  });

  after(async () => {
    await server.stop();
  });

  it('an informer reports add, update and delete in order, and its lister reads the cache', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: configMap('pre', { suite: 'order' }, { v: '0' }) });
    await core.createNamespacedConfigMap({ namespace: NS, body: configMap('unlabelled', {}) });
    const informer = new SharedInformer<KubeObject>(kc, { path: CONFIGMAPS, labelSelector: 'suite=order' });
    const seen = recordEvents(informer);
    informer.start();
    try {
      assert.equal(await informer.waitForSync(), true);
      assert.deepEqual(seen, [{ type: 'add', name: 'pre', data: { v: '0' } }]);

      await core.createNamespacedConfigMap({ namespace: NS, body: configMap('a', { suite: 'order' }, { v: '1' }) });
      await core.patchNamespacedConfigMap({ namespace: NS, name: 'a', body: [{ op: 'replace', path: '/data/v', value: '2' }] });
      await core.deleteNamespacedConfigMap({ namespace: NS, name: 'a' });
      await eventually(() => (seen.length >= 4 ? true : undefined), 10_000, 'four informer events');
      assert.deepEqual(seen.slice(1), [
        { type: 'add', name: 'a', data: { v: '1' } },
        { type: 'update', name: 'a', data: { v: '2' } },
        { type: 'delete', name: 'a', data: { v: '2' } },
      ]);

      assert.deepEqual(informer.lister.list(NS).map((o) => o.metadata.name), ['pre']);
      assert.deepEqual(informer.lister.list(NS, 'suite=order').map((o) => o.metadata.name), ['pre']);
      assert.equal(informer.lister.get(NS, 'pre')?.data && (informer.lister.get(NS, 'pre')!.data as Record<string, string>).v, '0');
      assert.equal(informer.lister.get(NS, 'unlabelled'), undefined, 'the label selector scopes the watch');
      assert.equal(informer.stats.failures, 0);
    } finally {
      await informer.stop();
    }
  });

  it('an informer re-lists every resync period without reporting unchanged objects', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: configMap('steady', { suite: 'resync' }) });
    const informer = new SharedInformer<KubeObject>(kc, { path: CONFIGMAPS, labelSelector: 'suite=resync', resyncPeriodMs: 300 });
    const seen = recordEvents(informer);
    informer.start();
    try {
      await eventually(() => (informer.stats.lists >= 3 ? true : undefined), 10_000, 'three lists');
      assert.deepEqual(seen.map((e) => `${e.type} ${e.name}`), ['add steady']);
      assert.equal(informer.stats.failures, 0);
    } finally {
      await informer.stop();
    }
  });

  it('an informer whose watch stalls without closing re-watches on a new connection (watchdog)', async () => {
    const proxy = await StallingProxy.start(server.url);
    const informer = new SharedInformer<KubeObject>(withServer(kc, proxy.url), {
      path: CONFIGMAPS,
      labelSelector: 'suite=stall',
      stallTimeoutMs: 1_500,
      initialBackoffMs: 100,
      maxBackoffMs: 400,
    });
    const seen = recordEvents(informer);
    informer.start();
    try {
      assert.equal(await informer.waitForSync(), true);
      await eventually(() => (informer.stats.watches >= 1 && proxy.forwarding >= 1 ? true : undefined), 5_000, 'the watch connection');
      // Prove the watch stream itself flows through the proxy before cutting it: on a loaded
      // machine the watch request may otherwise still be on its way when the stall begins.
      await core.createNamespacedConfigMap({ namespace: NS, body: configMap('before-stall', { suite: 'stall' }) });
      await eventually(() => informer.lister.get(NS, 'before-stall'), 10_000, 'an event through the live watch');
      const connectionsBefore = proxy.connections;
      const stallsBefore = informer.stats.stalls;
      proxy.stall();

      const createdAt = performance.now();
      await core.createNamespacedConfigMap({ namespace: NS, body: configMap('during-stall', { suite: 'stall' }) });
      await eventually(() => informer.lister.get(NS, 'during-stall'), 10_000, 'the object created during the stall to reach the cache');
      const tookMs = performance.now() - createdAt;

      assert.ok(informer.stats.stalls > stallsBefore, 'the watchdog fired');
      assert.ok(proxy.connections > connectionsBefore, 'the informer reconnected');
      // Watchdog threshold + backoff, with room for a loaded CI machine.
      assert.ok(tookMs < 1_500 + 400 + 6_000, `recovered in ${tookMs.toFixed(0)} ms`);
      assert.deepEqual(seen.map((s) => `${s.type} ${s.name}`), ['add before-stall', 'add during-stall']);
    } finally {
      await informer.stop();
      await proxy.close();
    }
  });

  // ---- leader election ---------------------------------------------------------------------

  /** An elector with short timings whose leadership is observable as promises. */
  function candidate(identity: string, lease: string): { elector: LeaderElector; started: Promise<number>; stopped: Promise<void> } {
    const options: LeaderElectionOptions = { namespace: NS, name: lease, identity, leaseDurationSeconds: 3, renewDeadlineMs: 2_000, retryPeriodMs: 500 };
    const elector = new LeaderElector(kc, options);
    let onStarted!: (at: number) => void;
    let onStopped!: () => void;
    const started = new Promise<number>((resolve) => (onStarted = resolve));
    const stopped = new Promise<void>((resolve) => (onStopped = resolve));
    void elector.run({ onStartedLeading: () => onStarted(performance.now()), onStoppedLeading: () => onStopped() });
    return { elector, started, stopped };
  }

  const readLease = (name: string): Promise<Lease> => requestJson<Lease>(kc, { path: `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/${name}` });
  const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

  it('leader election: one of two leads; when the leader dies the other takes over after the lease expires', async () => {
    const a = candidate('candidate-a', 'failover');
    const b = candidate('candidate-b', 'failover');
    try {
      const first = await within(Promise.race([a.started.then(() => a), b.started.then(() => b)]), 5_000, 'a leader');
      const second = first === a ? b : a;
      await new Promise((r) => setTimeout(r, 1_200)); // a few retry periods: the other must stay a follower
      assert.equal(first.elector.isLeader(), true);
      assert.equal(second.elector.isLeader(), false);

      const held = await readLease('failover');
      assert.equal(held.spec?.holderIdentity, first === a ? 'candidate-a' : 'candidate-b');
      assert.equal(held.spec?.leaseDurationSeconds, 3);
      assert.match(held.spec?.renewTime ?? '', MICRO_TIME);
      assert.match(held.spec?.acquireTime ?? '', MICRO_TIME);
      const transitions = held.spec?.leaseTransitions ?? 0;

      const killedAt = performance.now();
      await first.elector.stop(); // no release: the lease has to run out
      await first.stopped;
      const tookOverAfter = (await within(second.started, 10_000, 'the takeover')) - killedAt;
      assert.ok(tookOverAfter >= 2_000, `took over after ${tookOverAfter.toFixed(0)} ms, before the lease could expire`);
      assert.ok(tookOverAfter <= 3_000 + 500 + 300, `took over after ${tookOverAfter.toFixed(0)} ms (lease 3 s + retry 0.5 s)`);

      const taken = await readLease('failover');
      assert.equal(taken.spec?.holderIdentity, first === a ? 'candidate-b' : 'candidate-a');
      assert.equal(taken.spec?.leaseTransitions, transitions + 1);
    } finally {
      await Promise.all([a.elector.release(), b.elector.release()]);
    }
  });

  it('leader election: release() hands the lease over at once', async () => {
    const a = candidate('leader', 'handover');
    await within(a.started, 5_000, 'the first leader');
    const b = candidate('standby', 'handover');
    try {
      await new Promise((r) => setTimeout(r, 600)); // the standby has seen the lease held
      assert.equal(b.elector.isLeader(), false);
      const releasedAt = performance.now();
      await a.elector.release();
      await a.stopped;
      assert.equal((await readLease('handover')).spec?.holderIdentity === 'leader', false, 'the released lease names no holder');
      const tookOverAfter = (await within(b.started, 10_000, 'the handover')) - releasedAt;
      assert.ok(tookOverAfter < 1_500, `standby took over after ${tookOverAfter.toFixed(0)} ms, not after the 3 s lease`);
      assert.equal((await readLease('handover')).spec?.holderIdentity, 'standby');
    } finally {
      await Promise.all([a.elector.release(), b.elector.release()]);
    }
  });

  // ---- events ------------------------------------------------------------------------------

  it('EventRecorder aggregates repeats into one Event and never throws', async () => {
    const target = await core.createNamespacedConfigMap({ namespace: NS, body: configMap('event-target', {}) });
    const involved: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: target.metadata! as KubeObject['metadata'] };
    const recorder = new EventRecorder(kc, { component: 'sedna-test', host: 'test-host' });
    await Promise.all([
      recorder.event(involved, 'Warning', 'FailedCreate', 'pod quota exceeded'),
      recorder.event(involved, 'Warning', 'FailedCreate', 'pod quota exceeded'),
      recorder.event(involved, 'Normal', 'Created', 'created pod p'),
    ]);
    const list = await requestJson<{ items: CoreEvent[] }>(kc, {
      path: `/api/v1/namespaces/${NS}/events`,
      query: { fieldSelector: `involvedObject.uid=${target.metadata!.uid!}` },
    });
    const byReason = new Map(list.items.map((e) => [e.reason, e]));
    assert.equal(list.items.length, 2);
    const failed = byReason.get('FailedCreate')!;
    assert.equal(failed.count, 2);
    assert.equal(failed.type, 'Warning');
    assert.equal(failed.message, 'pod quota exceeded');
    assert.deepEqual(failed.source, { component: 'sedna-test', host: 'test-host' });
    assert.equal(failed.reportingComponent, 'sedna-test');
    assert.deepEqual(failed.involvedObject, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: 'event-target',
      namespace: NS,
      uid: target.metadata!.uid,
      resourceVersion: target.metadata!.resourceVersion,
    });
    assert.match(failed.firstTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(failed.lastTimestamp >= failed.firstTimestamp);
    assert.equal(byReason.get('Created')?.count, 1);

    // A fresh recorder (a restarted GM) continues the count instead of starting a second Event.
    await new EventRecorder(kc, { component: 'sedna-test' }).event(involved, 'Warning', 'FailedCreate', 'pod quota exceeded');
    const again = await requestJson<CoreEvent>(kc, { path: `/api/v1/namespaces/${NS}/events/${failed.metadata.name}` });
    assert.equal(again.count, 3);

    // Nowhere to write to: logged, not thrown.
    const unreachable = new EventRecorder(withServer(kc, 'https://127.0.0.1:1'), { component: 'sedna-test' });
    await unreachable.event(involved, 'Normal', 'Lost', 'nobody hears this');
  });
});

// ---- restart -------------------------------------------------------------------------------

describe('an informer across an API server restart', { timeout: TIMEOUT }, () => {
  it('keeps its cache while the killed server is down and catches up when it returns on the same data and port', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sedna-controller-restart-'));
    let server: RunningApiServer | undefined = await startApiServer({ dataDir });
    const kc = server.kubeConfig();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const informer = new SharedInformer<KubeObject>(kc, { path: CONFIGMAPS, labelSelector: 'suite=restart', initialBackoffMs: 100, maxBackoffMs: 500 });
    try {
      await core.createNamespacedConfigMap({ namespace: NS, body: configMap('before', { suite: 'restart' }) });
      informer.start();
      assert.equal(await informer.waitForSync(), true);
      const port = Number(new URL(server.url).port);

      // SIGKILL: the server dies, nothing is closed gracefully.
      await server.kill9();
      server = undefined;
      await eventually(() => (informer.stats.failures > 0 ? true : undefined), 10_000, 'the informer to notice the server is gone');
      assert.ok(informer.lister.get(NS, 'before'), 'the cache survives the outage');

      server = await startApiServer({ dataDir, port });
      await core.createNamespacedConfigMap({ namespace: NS, body: configMap('after', { suite: 'restart' }) });
      await eventually(() => informer.lister.get(NS, 'after'), 15_000, 'the object created after the restart');
      assert.deepEqual(informer.lister.list(NS).map((o) => o.metadata.name).sort(), ['after', 'before']);
    } finally {
      await informer.stop();
      await server?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

// ---- 410 Gone ------------------------------------------------------------------------------

/** The first line a watch from `resourceVersion` sends, or 'closed' if it sends none within a second. */
async function firstWatchEvent(kc: k8s.KubeConfig, path: string, resourceVersion: string): Promise<{ type: string; object: { code?: number } } | 'closed'> {
  let controller: AbortController | undefined;
  const first = new Promise<{ type: string; object: { code?: number } } | 'closed'>((resolve) => {
    void new k8s.Watch(kc)
      .watch(path, { resourceVersion, timeoutSeconds: 1 }, (type: string, object: { code?: number }) => resolve({ type, object }), () => resolve('closed'))
      .then((c) => (controller = c));
  });
  const event = await first;
  controller?.abort();
  return event;
}

describe('an informer whose resourceVersion was compacted away', { timeout: TIMEOUT }, () => {
  it('gets 410 Gone on re-watch and re-lists, reporting what changed meanwhile', async () => {
    const server = await startApiServer({ args: ['--compact-interval', '1', '--compact-retain', '1'] });
    const proxy = await StallingProxy.start(server.url);
    const kc = server.kubeConfig();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const informer = new SharedInformer<KubeObject>(withServer(kc, proxy.url), {
      path: CONFIGMAPS,
      labelSelector: 'suite=gone',
      stallTimeoutMs: 1_000,
      initialBackoffMs: 100,
      maxBackoffMs: 400,
    });
    const seen = recordEvents(informer);
    try {
      await core.createNamespacedConfigMap({ namespace: NS, body: configMap('gone', { suite: 'gone' }) });
      informer.start();
      assert.equal(await informer.waitForSync(), true);
      await eventually(() => (informer.stats.watches >= 1 && proxy.forwarding >= 1 ? true : undefined), 5_000, 'the watch connection');
      // Cut the informer off entirely while its resourceVersion is compacted away.
      proxy.stall({ blackhole: true });
      const staleRv = informer.lastSyncResourceVersion();
      await core.deleteNamespacedConfigMap({ namespace: NS, name: 'gone' });
      await core.createNamespacedConfigMap({ namespace: NS, body: configMap('fresh', { suite: 'gone' }, { v: '0' }) });
      for (let i = 1; i <= 5; i++) {
        await core.patchNamespacedConfigMap({ namespace: NS, name: 'fresh', body: [{ op: 'replace', path: '/data/v', value: String(i) }] });
      }
      await eventually(
        async () => {
          const event = await firstWatchEvent(kc, CONFIGMAPS, staleRv);
          return event !== 'closed' && event.type === 'ERROR' && event.object.code === 410 ? true : undefined;
        },
        30_000,
        `compaction past resourceVersion ${staleRv}`,
      );
      assert.equal(informer.stats.lists, 1);

      proxy.resume();
      await eventually(() => (informer.lister.get(NS, 'fresh') ? true : undefined), 15_000, 'the re-listed cache');
      assert.equal(informer.stats.lists, 2, 're-listed once, on the 410');
      assert.equal(informer.lister.get(NS, 'gone'), undefined);
      assert.deepEqual((informer.lister.get(NS, 'fresh')!.data as Record<string, string>).v, '5');
      assert.deepEqual(
        seen.map((e) => `${e.type} ${e.name}`),
        ['add gone', 'delete gone', 'add fresh'],
        'the re-list reports the deletion it never saw as a watch event',
      );
    } finally {
      await informer.stop();
      await proxy.close();
      await server.stop();
    }
  });
});
