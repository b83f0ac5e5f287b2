// Benchmark of the embedded API server, against the real server process over HTTPS with the
// bearer token: write throughput from one client, listing 10,000 pods, and watch delivery
// latency to 100 watchers. Every figure comes with a baseline measured in the same run (the
// project's rule: ratios, never timed assertions); the figures are the last lines printed.
//
//   npm run bench
//   BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench   (profile the server)
import { availableParallelism } from 'node:os';
import { endpointFromKubeconfig, HttpsClient } from './http-client.ts';
import { measureList } from './list.ts';
import { CpuMeter, directorySize, machineBusyMs, serverRss, startServer, stopServer } from './server-process.ts';
import { mb, ms, ratio, us, verdict } from './stats.ts';
import { measureWatch } from './watch.ts';
import { measureWrites, WRITE_WARMUP } from './writes.ts';

/** Requests in flight from the one client: one per keep-alive socket (HTTP/1.1, no pipelining). */
const CONCURRENCY = 8;
const WRITE_MIN_MS = 3_000;
const WRITE_MIN_COUNT = 3_000;
const PODS = 10_000;
const LIST_RUNS = 5;
const WATCHERS = 100;
const WATCH_WRITES = 300;
const WATCH_INTERVAL_MS = 10;

const TARGET_CREATES_PER_SEC = 2_000;
const TARGET_LIST_MS = 200;
const TARGET_WATCH_P99_MS = 20;

function log(line: string): void {
  process.stdout.write(`  ${line}\n`);
}

async function main(): Promise<string[]> {
  const benchStarted = performance.now();
  const server = await startServer();
  const endpoint = endpointFromKubeconfig(server.kubeconfig);
  const client = new HttpsClient(endpoint, { maxSockets: CONCURRENCY });
  const cpu = new CpuMeter(server.process.pid!);
  const benchCpu = cpu.sample();
  const busyAtStart = machineBusyMs();
  try {
    log(`server ${server.url}, data dir ${server.dataDir}`);
    for (const name of ['bench', 'bench-watch']) {
      await client.json('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }

    const writes = await measureWrites(client, 'bench', { concurrency: CONCURRENCY, minMs: WRITE_MIN_MS, minCount: WRITE_MIN_COUNT, cpu, log });
    const list = await measureList(client, 'bench', { pods: PODS, runs: LIST_RUNS, concurrency: CONCURRENCY, cpu, log });
    const rss = await serverRss(client);
    const watch = await measureWatch(endpoint, client, 'bench-watch', { watchers: WATCHERS, writes: WATCH_WRITES, intervalMs: WATCH_INTERVAL_MS, cpu, log });
    const dataBytes = directorySize(server.dataDir);
    const elapsedMs = performance.now() - benchStarted;
    log(`bench took ${(elapsedMs / 1000).toFixed(1)} s`);
    const ours = cpu.since(benchCpu);
    // Cores' worth of CPU that other processes used while the bench ran (the machine is shared).
    const others = Math.max(0, (machineBusyMs() - busyAtStart - ours.serverMs - ours.clientMs) / elapsedMs);
    const cores = availableParallelism();

    const createsMet = writes.createsPerSec >= TARGET_CREATES_PER_SEC;
    const listMet = list.listMs <= TARGET_LIST_MS;
    const watchMet = watch.p99 <= TARGET_WATCH_P99_MS && watch.incomplete === 0;
    return [
      `creates/s: ${writes.createsPerSec.toFixed(0)} (${writes.count} ConfigMap POSTs, ${writes.concurrency} in flight over ${writes.concurrency} keep-alive sockets; baseline GET /version ${writes.baselinePerSec.toFixed(0)}/s, ratio ${ratio(writes.createsPerSec / writes.baselinePerSec)}; target ≥ ${TARGET_CREATES_PER_SEC}/s: ${verdict(createsMet)})`,
      `updates/s: ${writes.updatesPerSec.toFixed(0)} (${writes.updateCount} PUTs with resourceVersion over the ${writes.count} ConfigMaps, ${writes.concurrency} in flight; ratio to baseline ${ratio(writes.updatesPerSec / writes.baselinePerSec)})`,
      `list ${list.pods} pods: ${ms(list.listMs)} ms median of ${LIST_RUNS} (${mb(list.listBytes)} MB; labelSelector app=bench (all): ${ms(list.allSelectorMs)} ms, shard=s3 (${list.shardSelectorItems}): ${ms(list.shardSelectorMs)} ms; client JSON.parse ${ms(list.parseMs)} ms, ratio ${ratio(list.listMs / list.parseMs)}; target ≤ ${TARGET_LIST_MS} ms: ${verdict(listMet)})`,
      `watch latency ${watch.watchers} watchers: p50 ${ms(watch.p50)} ms, p99 ${ms(watch.p99)} ms, max ${ms(watch.max)} ms (${watch.delivered}/${watch.expected} delivered, ${watch.incomplete} watchers incomplete; ${watch.writes} writes every ${watch.intervalMs} ms, write rtt p50 ${ms(watch.writeP50)} ms; GET rtt p50 ${ms(watch.rttP50)} ms, p99/rtt ratio ${ratio(watch.p99 / watch.rttP50)}; target p99 ≤ ${TARGET_WATCH_P99_MS} ms: ${verdict(watchMet)})`,
      `server CPU per request: create ${us(writes.createCpu.serverMs)} µs, update ${us(writes.updateCpu.serverMs)} µs, GET /version ${us(writes.baselineCpu.serverMs)} µs (ratio create/GET ${ratio(writes.createCpu.serverMs / writes.baselineCpu.serverMs)}); list ${ms(list.listServerCpuMs)} ms; watch write with ${watch.watchers} watchers ${us(watch.serverCpuPerWriteUs)} µs`,
      `server RSS after list: ${mb(rss)} MB`,
      `data dir size: ${mb(dataBytes)} MB (${writes.count + WRITE_WARMUP} ConfigMaps created and ${writes.updateCount} updates, ${list.pods} pods, ${watch.writes + watch.warmupWrites} watched ConfigMaps; the log still holds every revision: compaction keeps the newest 100,000)`,
      `other processes' CPU during the bench: ${others.toFixed(2)} of ${cores} cores (server ${(ours.serverMs / elapsedMs).toFixed(2)}, bench client ${(ours.clientMs / elapsedMs).toFixed(2)})${others > 0.25 ? ': the machine was shared, figures are pessimistic' : ''}`,
    ];
  } finally {
    client.destroy();
    await stopServer();
  }
}

/** However it hangs, the bench ends (and the exit handler still stops the server). */
const WATCHDOG_MS = 5 * 60_000;

const watchdog = setTimeout(() => {
  process.stderr.write(`bench failed: still running after ${WATCHDOG_MS / 1000} s\n`);
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();

try {
  const figures = await main();
  process.stdout.write(`\n${figures.join('\n')}\n`);
} catch (err) {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
}
