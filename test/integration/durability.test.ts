// What survives a crash: acknowledged writes after kill -9, no lost updates under concurrent
// read-modify-write, watches resuming across a restart without gaps or duplicates, and one
// server per data directory.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { CLI, eventually, startApiServer, type RunningApiServer } from '../helpers/apiserver.ts';

const TEST_TIMEOUT = 180_000;

const rv = (obj: k8s.KubernetesObject): number => Number(obj.metadata!.resourceVersion);

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sedna-durability-'));
}

function isConflict(err: unknown): boolean {
  return err instanceof k8s.ApiException && err.code === 409;
}

interface WatchEvent {
  type: string;
  object: k8s.KubernetesObject;
}

/** A raw watch that records every event; `stop()` aborts it. */
async function rawWatch(kc: k8s.KubeConfig, path: string, params: Record<string, string>) {
  const events: WatchEvent[] = [];
  let ended: unknown = undefined;
  let stopping = false;
  const controller = await new k8s.Watch(kc).watch(
    path,
    params,
    (type: string, object: k8s.KubernetesObject) => events.push({ type, object }),
    (err: unknown) => {
      if (!stopping) ended = err ?? 'closed';
    },
  );
  return {
    events,
    ended: () => ended,
    stop() {
      stopping = true;
      controller.abort();
    },
  };
}

describe('durability', { timeout: TEST_TIMEOUT }, () => {
  const dirs: string[] = [];
  const servers: RunningApiServer[] = [];
  const start = async (dataDir: string): Promise<RunningApiServer> => {
    const server = await startApiServer({ dataDir });
    servers.push(server);
    return server;
  };

  after(async () => {
    for (const server of servers) await server.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('every acknowledged write survives kill -9', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const first = await start(dataDir);
    const core = first.kubeConfig().makeApiClient(k8s.CoreV1Api);
    const namespace = 'durable';
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const acknowledged: k8s.V1ConfigMap[] = [];
    for (let i = 0; i < 500; i++) {
      acknowledged.push(
        await core.createNamespacedConfigMap({
          namespace,
          body: { metadata: { name: `cm-${i}`, labels: { suite: 'durability' } }, data: { index: String(i), payload: `value-${i}-${'x'.repeat(i % 37)}` } },
        }),
      );
    }
    await first.kill9();
    assert.equal(first.process.signalCode, 'SIGKILL');

    const second = await start(dataDir);
    const core2 = second.kubeConfig().makeApiClient(k8s.CoreV1Api);
    const list = await core2.listNamespacedConfigMap({ namespace, labelSelector: 'suite=durability' });
    const byName = new Map(list.items.map((cm) => [cm.metadata!.name!, cm]));
    assert.equal(byName.size, 500);
    let newest = 0;
    for (const acked of acknowledged) {
      const name = acked.metadata!.name!;
      const stored = byName.get(name);
      assert.ok(stored, `${name} was acknowledged but is gone`);
      assert.deepEqual(stored.data, acked.data, name);
      assert.equal(stored.metadata?.uid, acked.metadata!.uid, name);
      assert.equal(stored.metadata?.resourceVersion, acked.metadata!.resourceVersion, name);
      newest = Math.max(newest, rv(acked));
    }
    assert.ok(Number(list.metadata?.resourceVersion) >= newest);
    const next = await core2.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'after-crash' } } });
    assert.ok(rv(next) > newest, `resourceVersion ${rv(next)} after a crash must exceed ${newest}`);
  });

  it('concurrent read-modify-write loses no update', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const server = await start(dataDir);
    const namespace = 'default';
    const name = 'counter';
    await server.kubeConfig().makeApiClient(k8s.CoreV1Api).createNamespacedConfigMap({ namespace, body: { metadata: { name }, data: { count: '0' } } });
    let conflicts = 0;
    const writer = async (): Promise<void> => {
      // Each writer is its own client, as separate processes would be.
      const core = server.kubeConfig().makeApiClient(k8s.CoreV1Api);
      for (let i = 0; i < 50; i++) {
        for (;;) {
          const current = await core.readNamespacedConfigMap({ namespace, name });
          const count = Number(current.data?.count);
          try {
            await core.replaceNamespacedConfigMap({ namespace, name, body: { ...current, data: { count: String(count + 1) } } });
            break;
          } catch (err) {
            if (!isConflict(err)) throw err;
            conflicts++;
          }
        }
      }
    };
    await Promise.all([writer(), writer(), writer(), writer()]);
    const final = await server.kubeConfig().makeApiClient(k8s.CoreV1Api).readNamespacedConfigMap({ namespace, name });
    assert.equal(final.data?.count, '200', `after ${conflicts} conflicts`);
  });

  it('a watch resumed after a crash replays exactly the events after its resourceVersion', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const first = await start(dataDir);
    const core = first.kubeConfig().makeApiClient(k8s.CoreV1Api);
    const namespace = 'resume';
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const labels = { suite: 'resume' };
    const x1 = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'x1', labels }, data: { v: '1' } } });
    const from = x1.metadata!.resourceVersion!;

    // Everything below happens after `from` and must be replayed, in this order.
    const expected: [string, string, string | undefined][] = [];
    const x2 = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'x2', labels }, data: { v: '2' } } });
    expected.push(['ADDED', 'x2', x2.metadata!.resourceVersion]);
    const x1b = await core.replaceNamespacedConfigMap({ namespace, name: 'x1', body: { ...x1, data: { v: '1b' } } });
    expected.push(['MODIFIED', 'x1', x1b.metadata!.resourceVersion]);
    await core.deleteNamespacedConfigMap({ namespace, name: 'x2' });
    expected.push(['DELETED', 'x2', undefined]);
    const x3 = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'x3', labels }, data: { v: '3' } } });
    expected.push(['ADDED', 'x3', x3.metadata!.resourceVersion]);
    const x3b = await core.patchNamespacedConfigMap({ namespace, name: 'x3', body: [{ op: 'replace', path: '/data/v', value: '3b' }] });
    expected.push(['MODIFIED', 'x3', x3b.metadata!.resourceVersion]);
    // Not matching the watch's selector: must not show up.
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'other' } } });
    await first.kill9();

    const second = await start(dataDir);
    const kc2 = second.kubeConfig();
    const watch = await rawWatch(kc2, `/api/v1/namespaces/${namespace}/configmaps`, { resourceVersion: from, labelSelector: 'suite=resume' });
    try {
      // A write after the restart marks the end of the replay.
      const x4 = await kc2
        .makeApiClient(k8s.CoreV1Api)
        .createNamespacedConfigMap({ namespace, body: { metadata: { name: 'x4', labels }, data: { v: '4' } } });
      expected.push(['ADDED', 'x4', x4.metadata!.resourceVersion]);
      await eventually(
        () => (watch.events.some((e) => e.object.metadata?.name === 'x4') || watch.ended() !== undefined ? true : undefined),
        15_000,
        'the live event after the replay',
      );
      assert.equal(watch.ended(), undefined, 'the watch must stay open');
      const got = watch.events.map((e) => [e.type, e.object.metadata!.name!, e.object.metadata!.resourceVersion!] as const);
      assert.deepEqual(
        got.map(([type, name]) => [type, name]),
        expected.map(([type, name]) => [type, name]),
      );
      let previous = Number(from);
      got.forEach(([type, name, version], i) => {
        const want = expected[i]![2];
        if (want !== undefined) assert.equal(version, want, `${type} ${name}`);
        assert.ok(Number(version) > previous, `${type} ${name} at ${version} after ${previous}`);
        previous = Number(version);
      });
    } finally {
      watch.stop();
    }
  });

  it('a second server on the same data directory refuses to start', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const first = await start(dataDir);
    const kubeconfigBefore = readFileSync(first.kubeconfig, 'utf8');
    const core = first.kubeConfig().makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'before' }, data: { v: '1' } } });

    const second = spawn(process.execPath, [CLI, 'apiserver', '--data-dir', dataDir, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SEDNA_LOG_LEVEL: 'warn' },
    });
    let stdout = '';
    let stderr = '';
    second.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    second.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => second.kill('SIGKILL'), 30_000);
      second.once('close', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    assert.notEqual(code, 0, `the second server must fail (stdout: ${stdout})`);
    assert.equal(second.signalCode, null, 'it must exit on its own, not hang');
    assert.doesNotMatch(stdout, /listening/);
    assert.match(stderr, /database .*state\.db is in use by another API server/);

    // The first one is untouched and keeps serving.
    assert.equal(first.process.exitCode, null);
    assert.equal(readFileSync(first.kubeconfig, 'utf8'), kubeconfigBefore);
    const read = await core.readNamespacedConfigMap({ namespace: 'default', name: 'before' });
    assert.deepEqual(read.data, { v: '1' });
    const written = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'after' } } });
    assert.ok(rv(written) > rv(read));
    const list = await core.listNamespacedConfigMap({ namespace: 'default' });
    assert.deepEqual(
      list.items.map((cm) => cm.metadata!.name).filter((n) => n === 'before' || n === 'after'),
      ['after', 'before'],
    );
  });
});
