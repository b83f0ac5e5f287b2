// Listing a namespace of 10,000 pods: the full JSON body read and parsed by the client, median of
// several runs, plain and with label selectors; the baseline is the client's own JSON.parse of
// the same body.
import { HttpError, runConcurrent, type HttpsClient } from './http-client.ts';
import type { CpuMeter } from './server-process.ts';
import { median, now } from './stats.ts';

export interface ListFigures {
  pods: number;
  createMs: number;
  /** Median ms: request sent to body parsed. */
  listMs: number;
  listBytes: number;
  allSelectorMs: number;
  shardSelectorMs: number;
  shardSelectorItems: number;
  /** Median ms of the client's toString + JSON.parse of the same body. */
  parseMs: number;
  /** Server CPU (ms) per plain list, averaged over the timed runs. */
  listServerCpuMs: number;
}

export const POD_SHARDS = 10;

function pod(namespace: string, i: number): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `pod-${String(i).padStart(5, '0')}`,
      namespace,
      labels: { app: 'bench', shard: `s${i % POD_SHARDS}`, 'app.kubernetes.io/part-of': 'sedna-bench' },
    },
    spec: {
      containers: [
        {
          name: 'worker',
          image: 'registry.example.com/sedna/worker:v0.6.0',
          args: ['--shard', String(i % POD_SHARDS)],
          ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }],
          env: [{ name: 'WORKER_INDEX', value: String(i) }],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
        },
      ],
    },
  };
}

interface PodList {
  metadata: { resourceVersion: string };
  items: unknown[];
}

/** One timed list: request sent to body parsed. */
async function timedList(client: HttpsClient, path: string): Promise<{ ms: number; items: number; body: Buffer }> {
  const started = now();
  const res = await client.request('GET', path);
  if (res.status !== 200) throw new HttpError('GET', path, res.status, res.body.toString('utf8'));
  const list = JSON.parse(res.body.toString('utf8')) as PodList;
  return { ms: now() - started, items: list.items.length, body: res.body };
}

async function medianList(
  client: HttpsClient,
  path: string,
  runs: number,
  expected: number,
  cpu: CpuMeter,
): Promise<{ ms: number; body: Buffer; serverCpuMs: number }> {
  await timedList(client, path); // warm-up
  const mark = cpu.sample();
  const times: number[] = [];
  let body: Buffer = Buffer.alloc(0);
  for (let r = 0; r < runs; r++) {
    const result = await timedList(client, path);
    if (result.items !== expected) throw new Error(`GET ${path} returned ${result.items} items, expected ${expected}`);
    times.push(result.ms);
    body = result.body;
  }
  return { ms: median(times), body, serverCpuMs: cpu.since(mark).serverMs / runs };
}

export async function measureList(
  client: HttpsClient,
  namespace: string,
  options: { pods: number; runs: number; concurrency: number; cpu: CpuMeter; log: (line: string) => void },
): Promise<ListFigures> {
  const { pods, runs, cpu, log } = options;
  const createPath = `/api/v1/namespaces/${namespace}/pods`;
  const mark = cpu.sample();
  const createMs = await runConcurrent(pods, options.concurrency, async (i) => {
    const res = await client.request('POST', createPath, JSON.stringify(pod(namespace, i)));
    if (res.status !== 201) throw new HttpError('POST', createPath, res.status, res.body.toString('utf8'));
  });
  const createCpu = cpu.since(mark);
  log(
    `created ${pods} pods in ${createMs.toFixed(0)} ms (${((pods / createMs) * 1000).toFixed(0)}/s); CPU per request: server ${((createCpu.serverMs / pods) * 1000).toFixed(0)} µs, client ${((createCpu.clientMs / pods) * 1000).toFixed(0)} µs`,
  );

  const plain = await medianList(client, createPath, runs, pods, cpu);
  log(`list ${pods} pods: ${plain.ms.toFixed(1)} ms median of ${runs} (${(plain.body.length / 1e6).toFixed(1)} MB); server CPU ${plain.serverCpuMs.toFixed(1)} ms per list`);
  const all = await medianList(client, `${createPath}?labelSelector=${encodeURIComponent('app=bench')}`, runs, pods, cpu);
  log(`list with labelSelector app=bench (all ${pods}): ${all.ms.toFixed(1)} ms; server CPU ${all.serverCpuMs.toFixed(1)} ms per list`);
  const shardItems = Math.ceil(pods / POD_SHARDS);
  const shard = await medianList(client, `${createPath}?labelSelector=${encodeURIComponent('shard=s3')}`, runs, shardItems, cpu);
  log(`list with labelSelector shard=s3 (${shardItems}): ${shard.ms.toFixed(1)} ms; server CPU ${shard.serverCpuMs.toFixed(1)} ms per list`);

  const parseTimes: number[] = [];
  for (let r = 0; r < runs + 1; r++) {
    const started = now();
    JSON.parse(plain.body.toString('utf8'));
    if (r > 0) parseTimes.push(now() - started);
  }
  const parseMs = median(parseTimes);
  log(`client JSON.parse of the same body: ${parseMs.toFixed(1)} ms`);

  return {
    pods,
    createMs,
    listMs: plain.ms,
    listBytes: plain.body.length,
    allSelectorMs: all.ms,
    shardSelectorMs: shard.ms,
    shardSelectorItems: shardItems,
    parseMs,
    listServerCpuMs: plain.serverCpuMs,
  };
}
