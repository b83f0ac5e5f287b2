// Benchmark of the GlobalManager: the real API server and GM processes, N simulated
// LocalControllers (EdgeClients) over 10 nodes. 1,000 Datasets are created through the API
// (concurrently); every LC answers each Dataset it receives with a sample count; we measure the
// time until all 1,000 have reached their node and carry status.numberOfSamples, and the GM's
// peak RSS (VmHWM from /proc). The figures and the targets are the last lines printed.
//
//   npm run bench:gm            (BENCH_GM_DATASETS, BENCH_GM_NODES to change the sizes)
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { requestJson } from '../../src/controller/index.ts';
import { EdgeClient } from '../../src/edgelink/index.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { CLI, eventually, kubectlOk, startApiServer } from '../../test/helpers/apiserver.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DATASETS = Number(process.env.BENCH_GM_DATASETS ?? 1_000);
const NODES = Number(process.env.BENCH_GM_NODES ?? 10);
const CREATE_CONCURRENCY = 32;
const TARGET_SECONDS = 20;
const TARGET_RSS_MB = 250;
const NAMESPACE = 'default';

function log(line: string): void {
  process.stdout.write(`  ${line}\n`);
}

function samplesFor(name: string): number {
  return 100 + Number(name.slice(name.lastIndexOf('-') + 1));
}

/** kB figures from /proc/PID/status (VmHWM: peak resident set; VmRSS: now). */
function procStatusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : 0;
}

async function main(): Promise<string[]> {
  const api = await startApiServer();
  const dir = mkdtempSync(join(tmpdir(), 'sedna-bench-gm-'));
  let gm: ChildProcessWithoutNullStreams | undefined;
  const clients: EdgeClient[] = [];
  try {
    await kubectlOk(api.kubeconfig, ['apply', '-f', join(ROOT, 'deploy/crds/all.yaml')]);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(api.kubeconfig);
    const datasetsPath = `/apis/sedna.io/v1alpha1/namespaces/${NAMESPACE}/datasets`;
    await eventually(() => requestJson(kc, { path: datasetsPath }).then(() => true), 10_000, 'the Dataset CRD to be served');

    const tokens = Object.fromEntries(Array.from({ length: NODES }, (_, i) => [`node-${i}`, `token-${i}-${Math.random().toString(36).slice(2)}`]));
    const tokensFile = join(dir, 'node-tokens.yaml');
    writeFileSync(tokensFile, Object.entries(tokens).map(([node, token]) => `${node}: ${token}\n`).join(''));

    const child = spawn(process.execPath, [CLI, 'gm', '--kubeconfig', api.kubeconfig, '--edge-port', '0', '--metrics-port', '0', '--node-tokens', tokensFile, '--identity', 'bench-gm'], {
      env: { ...process.env, SEDNA_LOG_LEVEL: 'warn' },
    });
    gm = child;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const port = Number((await eventually(() => /edge hub listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(stdout) ?? undefined, 30_000, `the GM to lead\n${stderr}`))[1]);
    log(`API server ${api.url}; GM pid ${child.pid}, edge hub port ${port}; ${DATASETS} Datasets over ${NODES} nodes`);
    const rssIdleKb = procStatusKb(child.pid!, 'VmRSS');

    const received = new Set<string>();
    for (const [node, token] of Object.entries(tokens)) {
      const client = new EdgeClient({ url: `ws://127.0.0.1:${port}/`, nodeName: node, token, logger: silentLogger() });
      client.onMessage('dataset', (message) => {
        if (message.header.operation !== 'insert') return;
        received.add(message.header.resourceName);
        client.send({ header: { ...message.header, resourceKind: 'Dataset', operation: 'status' }, content: { numberOfSamples: samplesFor(message.header.resourceName) } });
      });
      client.start();
      clients.push(client);
    }
    await eventually(() => (clients.every((client) => client.connected) ? true : undefined), 10_000, 'every LC to connect');

    let peakRssKb = 0;
    const sampler = setInterval(() => (peakRssKb = Math.max(peakRssKb, procStatusKb(child.pid!, 'VmRSS'))), 100);
    const started = performance.now();
    let next = 0;
    const createOne = async (): Promise<void> => {
      while (next < DATASETS) {
        const i = next++;
        const name = `ds-${i}`;
        const body = {
          apiVersion: 'sedna.io/v1alpha1',
          kind: 'Dataset',
          metadata: { name, namespace: NAMESPACE },
          spec: { url: `/data/${name}/index.txt`, format: 'txt', nodeName: `node-${i % NODES}` },
        };
        await requestJson(kc, { method: 'POST', path: datasetsPath, body });
      }
    };
    await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, createOne));
    const createdMs = performance.now() - started;
    log(`created ${DATASETS} Datasets in ${(createdMs / 1000).toFixed(2)} s`);

    let done = 0;
    await eventually(
      async () => {
        const list = await requestJson<{ items: { metadata: { name: string }; status?: { numberOfSamples?: number } }[] }>(kc, { path: datasetsPath });
        done = list.items.filter((ds) => ds.status?.numberOfSamples === samplesFor(ds.metadata.name)).length;
        return done === DATASETS && received.size === DATASETS ? true : undefined;
      },
      120_000,
      `every Dataset synced and its status updated (${done}/${DATASETS} statuses, ${received.size} received)`,
    );
    const totalMs = performance.now() - started;
    clearInterval(sampler);
    const hwmKb = procStatusKb(child.pid!, 'VmHWM');
    log(`all ${DATASETS} received by their nodes and their statuses written after ${(totalMs / 1000).toFixed(2)} s`);
    log(`GM RSS idle ${(rssIdleKb / 1024).toFixed(1)} MB, sampled peak ${(peakRssKb / 1024).toFixed(1)} MB, VmHWM ${(hwmKb / 1024).toFixed(1)} MB`);

    const seconds = totalMs / 1000;
    const peakMb = Math.max(hwmKb, peakRssKb) / 1024;
    const verdict = (met: boolean): string => (met ? 'met' : 'NOT met');
    return [
      `gm sync: ${DATASETS} Datasets applied -> all on their nodes with status from the edge in ${seconds.toFixed(2)} s (target <= ${TARGET_SECONDS} s: ${verdict(seconds <= TARGET_SECONDS)})`,
      `gm peak RSS: ${peakMb.toFixed(1)} MB (target < ${TARGET_RSS_MB} MB: ${verdict(peakMb < TARGET_RSS_MB)})`,
    ];
  } finally {
    await Promise.all(clients.map((client) => client.stop(200)));
    if (gm && gm.exitCode === null) {
      const exited = new Promise((r) => gm!.once('exit', r));
      gm.kill('SIGTERM');
      await exited;
    }
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const lines = await main();
process.stdout.write(`${lines.join('\n')}\n`);
