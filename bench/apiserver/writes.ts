// Write throughput from one client: POST (create) and PUT (update with resourceVersion) of
// ConfigMaps with a fixed number of requests in flight over keep-alive sockets, against a
// baseline of GET /version round-trips (HTTPS + auth + JSON, no storage) in the same run.
import { HttpError, runConcurrent, runFor, type HttpsClient } from './http-client.ts';
import type { CpuMeter, CpuSample } from './server-process.ts';

export interface WriteFigures {
  concurrency: number;
  count: number;
  updateCount: number;
  createsPerSec: number;
  updatesPerSec: number;
  baselinePerSec: number;
  /** CPU per request (µs), server and client, for each of the three loops. */
  createCpu: CpuSample;
  updateCpu: CpuSample;
  baselineCpu: CpuSample;
}

function perRequestUs(cpu: CpuSample, count: number): CpuSample {
  return { serverMs: (cpu.serverMs / count) * 1000, clientMs: (cpu.clientMs / count) * 1000 };
}

interface ConfigMapBody {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: { name: string; namespace: string; labels: Record<string, string>; resourceVersion?: string };
  data: Record<string, string>;
}

function configMap(namespace: string, name: string, i: number, generation: number): ConfigMapBody {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, labels: { app: 'bench', shard: `s${i % 10}` } },
    data: { index: String(i), generation: String(generation), 'settings.yaml': `replicas: ${i % 7}\nmode: bench\nlevel: ${generation}\n` },
  };
}

/** Unmeasured requests of each kind before the measured ones (JIT, TLS sessions, SQLite cache). */
export const WRITE_WARMUP = 500;

const RV = /"resourceVersion":"(\d+)"/;

async function post(client: HttpsClient, namespace: string, name: string, i: number): Promise<string> {
  const path = `/api/v1/namespaces/${namespace}/configmaps`;
  const res = await client.request('POST', path, JSON.stringify(configMap(namespace, name, i, 0)));
  if (res.status !== 201) throw new HttpError('POST', path, res.status, res.body.toString('utf8'));
  return RV.exec(res.body.toString('latin1'))![1]!;
}

async function put(client: HttpsClient, namespace: string, name: string, i: number, generation: number, rv: string): Promise<string> {
  const path = `/api/v1/namespaces/${namespace}/configmaps/${name}`;
  const body = configMap(namespace, name, i, generation + 1);
  body.metadata.resourceVersion = rv;
  const res = await client.request('PUT', path, JSON.stringify(body));
  if (res.status !== 200) throw new HttpError('PUT', path, res.status, res.body.toString('utf8'));
  return RV.exec(res.body.toString('latin1'))![1]!;
}

async function getVersion(client: HttpsClient): Promise<void> {
  const res = await client.request('GET', '/version');
  if (res.status !== 200) throw new HttpError('GET', '/version', res.status, res.body.toString('utf8'));
  JSON.parse(res.body.toString('utf8'));
}

export async function measureWrites(
  client: HttpsClient,
  namespace: string,
  options: { concurrency: number; minMs: number; minCount: number; cpu: CpuMeter; log: (line: string) => void },
): Promise<WriteFigures> {
  const { concurrency, cpu, log } = options;
  // Warm-up: JIT, TLS sessions, SQLite page cache.
  await runConcurrent(WRITE_WARMUP, concurrency, () => getVersion(client));
  await runConcurrent(WRITE_WARMUP, concurrency, (i) => post(client, namespace, `warm-${i}`, i).then(() => undefined));

  const rvs: string[] = [];
  let mark = cpu.sample();
  const creates = await runFor(options.minMs, options.minCount, concurrency, async (i) => {
    rvs[i] = await post(client, namespace, `cm-${i}`, i);
  });
  const count = creates.count;
  const createsPerSec = (count / creates.elapsedMs) * 1000;
  const createCpu = perRequestUs(cpu.since(mark), count);
  log(`created ${count} configmaps in ${creates.elapsedMs.toFixed(0)} ms (${createsPerSec.toFixed(0)}/s, ${concurrency} in flight); ${cpuText(createCpu)}`);

  mark = cpu.sample();
  const baselineMs = await runConcurrent(count, concurrency, () => getVersion(client));
  const baselinePerSec = (count / baselineMs) * 1000;
  const baselineCpu = perRequestUs(cpu.since(mark), count);
  log(`baseline: ${count} GET /version in ${baselineMs.toFixed(0)} ms (${baselinePerSec.toFixed(0)}/s); ${cpuText(baselineCpu)}`);

  // Each round PUTs every object once more with the resourceVersion the last PUT returned; with
  // thousands of objects and 8 in flight no two concurrent PUTs touch the same object.
  mark = cpu.sample();
  const updates = await runFor(options.minMs, count, concurrency, async (i) => {
    const index = i % count;
    rvs[index] = await put(client, namespace, `cm-${index}`, index, i, rvs[index]!);
  });
  const updatesPerSec = (updates.count / updates.elapsedMs) * 1000;
  const updateCpu = perRequestUs(cpu.since(mark), updates.count);
  log(`updated configmaps ${updates.count} times (PUT with resourceVersion) in ${updates.elapsedMs.toFixed(0)} ms (${updatesPerSec.toFixed(0)}/s); ${cpuText(updateCpu)}`);

  return { concurrency, count, updateCount: updates.count, createsPerSec, updatesPerSec, baselinePerSec, createCpu, updateCpu, baselineCpu };
}

export function cpuText(perRequest: CpuSample): string {
  return `CPU per request: server ${perRequest.serverMs.toFixed(0)} µs, client ${perRequest.clientMs.toFixed(0)} µs`;
}
