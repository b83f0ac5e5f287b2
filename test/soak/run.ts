// The soak run (`npm run soak`, not in CI): `sedna up` with the joint-inference scenario kept
// streaming, watch churn against the API server (batches of watches opened and closed every few
// seconds), and the GM restarted every --gm-restart minutes (SIGTERM; the supervisor starts it
// again). Every minute it prints the RSS of every component and worker; at the end, the growth per
// hour of each after the warm-up (least-squares slope over the samples after --warmup minutes).
//
//   npm run soak [-- --duration 60 --gm-restart 10 --warmup 5 --churn 50]
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { runJointInferenceScenario } from '../../examples/joint-inference/run.ts';
import { kubeConfigFor } from '../../examples/shared/system.ts';
import { sedna } from '../helpers/cluster.ts';
import { readState } from '../faults/probes.ts';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '60' }, 'gm-restart': { type: 'string', default: '10' }, warmup: { type: 'string', default: '5' }, churn: { type: 'string', default: '50' } } });
const durationMs = Number(values.duration) * 60_000;
const gmRestartMs = Number(values['gm-restart']) * 60_000;
const warmupMs = Number(values.warmup) * 60_000;
const churn = Number(values.churn);
const log = (line: string): void => void process.stdout.write(`${line}\n`);

/**
 * Resident set size of a pid in bytes (VmRSS) and its anonymous part (RssAnon: heap, malloc arenas),
 * or undefined when it is gone. The rest is file-backed, mostly the pages of the node binary a
 * process has executed so far: shared, reclaimable, and bounded by the binary's size.
 */
function rssOf(pid: number): { rss: number; anon: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number | undefined => {
      const value = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1];
      return value === undefined ? undefined : Number(value) * 1024;
    };
    const rss = kb('VmRSS');
    return rss === undefined ? undefined : { rss, anon: kb('RssAnon') ?? rss };
  } catch {
    return undefined;
  }
}

/** Least-squares slope of (t, y) in y-units per hour. */
export function slopePerHour(samples: readonly { t: number; y: number }[]): number {
  const n = samples.length;
  if (n < 2) return Number.NaN;
  const mt = samples.reduce((a, s) => a + s.t, 0) / n;
  const my = samples.reduce((a, s) => a + s.y, 0) / n;
  const num = samples.reduce((a, s) => a + (s.t - mt) * (s.y - my), 0);
  const den = samples.reduce((a, s) => a + (s.t - mt) ** 2, 0);
  return den === 0 ? Number.NaN : (num / den) * 3_600_000;
}

/** Opens `count` watches on pods and ConfigMaps, each closed after 1–5 s. */
function watchChurn(kc: k8s.KubeConfig, count: number): Promise<void> {
  const cluster = kc.getCurrentCluster()!;
  const user = kc.getCurrentUser()!;
  const url = new URL(cluster.server);
  const ca = Buffer.from(cluster.caData!, 'base64').toString('utf8');
  return Promise.all(Array.from({ length: count }, (_, i) => new Promise<void>((resolve) => {
    const path = i % 2 === 0 ? '/api/v1/pods?watch=1' : '/api/v1/namespaces/default/configmaps?watch=1';
    const req = httpsRequest({ host: url.hostname, port: url.port, path, ca, headers: { authorization: `Bearer ${user.token}` }, agent: false }, (res) => {
      res.resume();
      setTimeout(() => req.destroy(), 1_000 + Math.random() * 4_000);
    });
    req.on('close', () => resolve());
    req.on('error', () => resolve());
    req.end();
  }))).then(() => undefined);
}

const mb = (b: number): string => (b / 1024 / 1024).toFixed(1);

/** The API server's own view of its memory, from its /metrics: V8 heap in use, Buffers, and the watch replay ring. */
const API_SERVER_GAUGES = { 'apiserver heap used': 'nodejs_heap_size_used_bytes', 'apiserver external': 'nodejs_external_memory_bytes', 'apiserver watch cache': 'apiserver_watch_cache_bytes' } as const;

function apiServerGauges(kc: k8s.KubeConfig): Promise<Map<string, number>> {
  const cluster = kc.getCurrentCluster()!;
  const url = new URL('/metrics', cluster.server);
  const ca = Buffer.from(cluster.caData!, 'base64').toString('utf8');
  return new Promise((resolve) => {
    const req = httpsRequest(url, { ca, headers: { authorization: `Bearer ${kc.getCurrentUser()!.token}` }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const found = new Map<string, number>();
        for (const [name, metric] of Object.entries(API_SERVER_GAUGES)) {
          const value = new RegExp(`^${metric} (\\S+)$`, 'm').exec(text)?.[1];
          if (value !== undefined) found.set(name, Number(value));
        }
        resolve(found);
      });
    });
    // A restart of the API server in the soak only costs this minute's gauges; a hung one, too.
    req.setTimeout(10_000, () => req.destroy(new Error('/metrics timed out')));
    req.on('error', () => resolve(new Map()));
    req.end();
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sedna-soak-'));
  const samples = new Map<string, { t: number; y: number }[]>();
  let gmRestarts = 0;
  try {
    const up = await sedna(['up', '--detach', '--data-dir', dir, '--nodes', 'cloud,edge-1', '--port', '0', '--timeout', '120'], 180_000);
    if (up.code !== 0) throw new Error(`sedna up failed:\n${up.stdout}\n${up.stderr}`);
    const kc = kubeConfigFor(dir);
    log('starting the joint-inference stream…');
    await runJointInferenceScenario({ dataDir: dir, keepStreaming: true, log: () => {} });
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const start = Date.now();
    let nextGmRestart = start + gmRestartMs;
    let nextSample = start;
    let churned = 0;
    log(`soak for ${values.duration} min: watch churn ${churn} every 5 s, GM restart every ${values['gm-restart']} min`);
    while (Date.now() - start < durationMs) {
      const now = Date.now();
      if (now >= nextSample) {
        nextSample += 60_000;
        const state = readState(dir);
        const pids: [string, number][] = [['apiserver', state.apiserver.pid], ['gm', state.gm!.pid], ...state.lcs.map((l): [string, number] => [l.name, l.pid])];
        for (const p of (await core.listNamespacedPod({ namespace: 'default' })).items) {
          const id = p.status?.containerStatuses?.[0]?.containerID;
          if (id) pids.push([`pod/${p.metadata!.name!.replace(/-[a-z0-9]+-[a-z0-9]+$/, '')}`, Number(id.replace('process://', ''))]);
        }
        const parts: string[] = [];
        // Growth is fitted only after the warm-up.
        const record = (name: string, bytes: number): void => {
          if (now - start < warmupMs) return;
          if (!samples.has(name)) samples.set(name, []);
          samples.get(name)!.push({ t: now - start, y: bytes });
        };
        for (const [name, pid] of pids) {
          const memory = rssOf(pid);
          if (memory === undefined) continue;
          parts.push(`${name}=${mb(memory.rss)}MB`);
          record(name, memory.rss);
          record(`${name} (anonymous)`, memory.anon);
        }
        for (const [name, bytes] of await apiServerGauges(kc)) {
          parts.push(`${name.replace(/ /g, '_')}=${mb(bytes)}MB`);
          record(name, bytes);
        }
        log(`t=${((now - start) / 60_000).toFixed(0)}min ${parts.join(' ')} watches=${churned} gmRestarts=${gmRestarts}`);
      }
      if (now >= nextGmRestart) {
        nextGmRestart += gmRestartMs;
        process.kill(readState(dir).gm!.pid, 'SIGTERM');
        gmRestarts++;
        // One series per GM lifetime: a restart resets its memory.
        for (const series of ['gm', 'gm (anonymous)']) {
          const lifetime = samples.get(series);
          samples.delete(series);
          if (lifetime && lifetime.length >= 2) samples.set(`${series} lifetime ${gmRestarts}`, lifetime);
        }
      }
      await watchChurn(kc, churn);
      churned += churn;
    }
    log('');
    log(`growth per hour after the ${values.warmup}-minute warm-up (least-squares slope; the GM per lifetime between restarts):`);
    for (const [name, s] of samples) {
      const first = s[0]!.y;
      const last = s.at(-1)!.y;
      log(`  ${name.padEnd(48)} ${(slopePerHour(s) / 1024 / 1024).toFixed(1).padStart(7)} MB/h  (${mb(first)} → ${mb(last)} MB over ${s.length} samples)`);
    }
    log(`watches opened and closed: ${churned}; GM restarts: ${gmRestarts}; restarts recorded by the supervisor: ${JSON.stringify(Object.fromEntries([readState(dir).gm!, ...readState(dir).lcs, readState(dir).apiserver].map((c) => [c.name, c.restarts ?? 0])))}`);
  } finally {
    const down = await sedna(['down', '--data-dir', dir, '--timeout', '10'], 120_000);
    log(down.stdout.trim().split('\n').at(-1) ?? '');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`soak failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
