// Availability of the embedded API server under load it creates itself (issue 12 part 3):
//  1. /healthz round trips while a 20,000-replica Deployment is created and then deleted (the
//     in-process ReplicaSet controller and garbage collector write 40,000 pods), against /healthz
//     on the idle server measured first in the same run; and how long SIGTERM takes mid-burst.
//  2. Time to serve after a restart with 200,000 pods stored, against a restart with none.
// The figures are the last lines printed.
//
//   npm run build && nice -n 19 node --import tsx bench/apiserver/availability.ts
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeObject } from '../../src/api/meta.ts';
import { builtinResources } from '../../src/apiserver/registry/builtins.ts';
import { GenericStore } from '../../src/apiserver/registry/generic-store.ts';
import { ResourceRegistry } from '../../src/apiserver/registry/registry.ts';
import { SqliteStore } from '../../src/apiserver/storage/sqlite-store.ts';
import { waitForApiServerUrl } from '../../test/helpers/apiserver.ts';
import { endpointFromKubeconfig, HttpsClient } from './http-client.ts';
import { max, ms, percentile, ratio, verdict } from './stats.ts';

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js');
const REPLICAS = Number(process.env.BENCH_REPLICAS ?? 20_000);
const STORED_PODS = Number(process.env.BENCH_STORED_PODS ?? 200_000);
const PROBE_INTERVAL_MS = 10;
const TARGET_HEALTHZ_P99_MS = 50;
const TARGET_RESTART_MS = 10_000;

function log(line: string): void {
  process.stdout.write(`  ${line}\n`);
}

interface Server {
  client: HttpsClient;
  pid: number;
  /** From spawn to the URL printed in the log (the port is open). */
  listeningMs: number;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

async function startServer(dataDir: string): Promise<Server> {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, 'apiserver', '--data-dir', dataDir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SEDNA_LOG_LEVEL: 'warn' },
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-64 * 1024)));
  await waitForApiServerUrl(child, () => stderr);
  const listeningMs = performance.now() - started;
  const client = new HttpsClient(endpointFromKubeconfig(join(dataDir, 'kubeconfig')), { maxSockets: 4 });
  return {
    client,
    pid: child.pid!,
    listeningMs,
    async stop(signal = 'SIGTERM') {
      client.destroy();
      const t0 = performance.now();
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.kill(signal);
      await exited;
      clearTimeout(killer);
      return performance.now() - t0;
    },
  };
}

/** Round trips of GET /healthz every PROBE_INTERVAL_MS until `done` resolves. */
async function probeHealthz(client: HttpsClient, done: Promise<unknown>): Promise<number[]> {
  const rtts: number[] = [];
  let finished = false;
  void done.finally(() => (finished = true));
  while (!finished) {
    const t0 = performance.now();
    const res = await client.request('GET', '/healthz');
    if (res.status !== 200) throw new Error(`/healthz answered ${res.status}`);
    rtts.push(performance.now() - t0);
    await sleep(PROBE_INTERVAL_MS);
  }
  return rtts;
}

/**
 * The server's own event-loop delay over the time since the last call: prom-client's
 * monitorEventLoopDelay histogram, which each /metrics scrape reads and resets.
 */
async function eventLoopLag(client: HttpsClient): Promise<{ p99: number; max: number }> {
  const text = (await client.request('GET', '/metrics')).body.toString('utf8');
  const read = (name: string): number => Number(new RegExp(`^${name}\\s+(\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN) * 1000;
  return { p99: read('nodejs_eventloop_lag_p99_seconds'), max: read('nodejs_eventloop_lag_max_seconds') };
}

async function podCount(client: HttpsClient): Promise<number> {
  const list = await client.json<{ items: unknown[]; metadata: { remainingItemCount?: number } }>('GET', '/api/v1/namespaces/default/pods?limit=1');
  return list.items.length + (list.metadata.remainingItemCount ?? 0);
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(1_000);
  }
}

const deployment = (replicas: number): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'big' },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'big' } },
    template: { metadata: { labels: { app: 'big' } }, spec: { containers: [{ name: 'c', image: 'registry.example/app:1' }] } },
  },
});

async function healthzUnderDeployment(): Promise<string[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sedna-availability-'));
  const server = await startServer(dataDir);
  try {
    const { client } = server;
    const idle = await probeHealthz(client, sleep(2_000));
    log(`idle /healthz p99 ${ms(percentile(idle, 99))} ms over ${idle.length} probes`);
    await eventLoopLag(client);
    const created = performance.now();
    await client.json('POST', '/apis/apps/v1/namespaces/default/deployments', deployment(REPLICAS));
    const filled = until(async () => (await podCount(client)) >= REPLICAS, 30 * 60_000, `${REPLICAS} pods`);
    const during = await probeHealthz(client, filled);
    const createMs = performance.now() - created;
    const createLag = await eventLoopLag(client);
    log(`${REPLICAS} pods created in ${(createMs / 1000).toFixed(1)} s; /healthz p99 ${ms(percentile(during, 99))} ms, max ${ms(max(during))} ms`);
    const deleted = performance.now();
    await client.request('DELETE', '/apis/apps/v1/namespaces/default/deployments/big', JSON.stringify({ propagationPolicy: 'Background' }));
    const drained = until(async () => (await podCount(client)) === 0, 30 * 60_000, 'every pod deleted');
    const draining = await probeHealthz(client, drained);
    const deleteMs = performance.now() - deleted;
    const deleteLag = await eventLoopLag(client);
    log(`${REPLICAS} pods deleted in ${(deleteMs / 1000).toFixed(1)} s; /healthz p99 ${ms(percentile(draining, 99))} ms, max ${ms(max(draining))} ms`);
    // SIGTERM while the controllers are busy again: how long until the process is gone.
    await client.json('POST', '/apis/apps/v1/namespaces/default/deployments', deployment(REPLICAS));
    await until(async () => (await podCount(client)) >= 1_000, 10 * 60_000, '1,000 pods');
    const sigtermMs = await server.stop('SIGTERM');
    const all = [...during, ...draining];
    const p99 = percentile(all, 99);
    return [
      `healthz p99 during a ${REPLICAS}-replica Deployment create+delete: ${ms(p99)} ms (create ${ms(percentile(during, 99))} ms, delete ${ms(percentile(draining, 99))} ms, max ${ms(max(all))} ms over ${all.length} probes; idle baseline p99 ${ms(percentile(idle, 99))} ms, ratio ${ratio(p99 / percentile(idle, 99))}; target ≤ ${TARGET_HEALTHZ_P99_MS} ms: ${verdict(p99 <= TARGET_HEALTHZ_P99_MS)})`,
      `server event-loop delay (its own monitorEventLoopDelay, so not the client's scheduling): create p99 ${ms(createLag.p99)} ms, max ${ms(createLag.max)} ms; delete p99 ${ms(deleteLag.p99)} ms, max ${ms(deleteLag.max)} ms`,
      `pods written: ${REPLICAS} created in ${(createMs / 1000).toFixed(1)} s, deleted in ${(deleteMs / 1000).toFixed(1)} s; SIGTERM mid-burst to exit: ${ms(sigtermMs)} ms`,
    ];
  } finally {
    await server.stop('SIGKILL').catch(() => 0);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Writes pods straight into a data dir's SQLite file (as the server would store them), in one process. */
function fillPods(dataDir: string, count: number): void {
  const store = new GenericStore(new SqliteStore({ path: join(dataDir, 'state.db') }), new ResourceRegistry(builtinResources));
  try {
    const podDef = store.registry.lookup('', 'v1', 'pods')!;
    for (let i = 0; i < count; i++) {
      store.create(podDef, 'default', { metadata: { name: `pod-${i}`, labels: { app: 'stored' } }, spec: { containers: [{ name: 'c', image: 'x' }] } });
    }
  } finally {
    store.storage.close();
  }
}

async function timeToServe(dataDir: string): Promise<{ listeningMs: number; servingMs: number }> {
  const started = performance.now();
  const server = await startServer(dataDir);
  try {
    const res = await server.client.request('GET', '/api/v1/namespaces/default/pods?limit=1');
    if (res.status !== 200) throw new Error(`list answered ${res.status}`);
    return { listeningMs: server.listeningMs, servingMs: performance.now() - started };
  } finally {
    await server.stop();
  }
}

async function restartWithStoredPods(): Promise<string[]> {
  const empty = mkdtempSync(join(tmpdir(), 'sedna-availability-empty-'));
  const full = mkdtempSync(join(tmpdir(), 'sedna-availability-full-'));
  try {
    await (await startServer(empty)).stop(); // the first start writes credentials and namespaces
    const first = await startServer(full);
    await first.stop();
    const t0 = performance.now();
    fillPods(full, STORED_PODS);
    log(`stored ${STORED_PODS} pods in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const baseline = await timeToServe(empty);
    const loaded = await timeToServe(full);
    log(`restart: empty ${ms(baseline.servingMs)} ms, with ${STORED_PODS} pods ${ms(loaded.servingMs)} ms (port open after ${ms(loaded.listeningMs)} ms)`);
    return [
      `restart with ${STORED_PODS} pods stored: serving a list after ${ms(loaded.servingMs)} ms (port open after ${ms(loaded.listeningMs)} ms; empty data dir baseline ${ms(baseline.servingMs)} ms, ratio ${ratio(loaded.servingMs / baseline.servingMs)}; target ≤ ${TARGET_RESTART_MS} ms: ${verdict(loaded.servingMs <= TARGET_RESTART_MS)})`,
    ];
  } finally {
    rmSync(empty, { recursive: true, force: true });
    rmSync(full, { recursive: true, force: true });
  }
}

const lines = [...(await healthzUnderDeployment()), ...(await restartWithStoredPods())];
process.stdout.write('\n');
for (const line of lines) process.stdout.write(`${line}\n`);
