// Is the API server's RSS growth after many watches a leak? (One probe saw 88 MB → 389 MB after
// 5,000 watches were opened and closed.) The real ApiServer runs in a child process with
// --expose-gc; this process opens and closes watches against it over HTTPS in rounds of 5,000
// (--concurrency at a time, 100 by default; each waits for its headers and an event, then aborts), and after each
// round asks the server for its memory before and after a forced full GC. A leak shows as heap
// that a GC does not return and that grows round after round; RSS alone also holds memory the
// allocator keeps for reuse. Figures are ratios against the baseline taken in the same server.
// Heap snapshots at the baseline and after the last round (each after a full GC) are compared by
// constructor: a leak of ours shows as a kind of object whose live count grows with the rounds.
// The allocator's part is measured by running the same probe with another malloc configuration
// (the environment is passed to the server): MALLOC_ARENA_MAX=2, or LD_PRELOAD=libjemalloc.so.2.
//
//   [MALLOC_ARENA_MAX=2] npm run bench:watch-memory [-- --rounds 3 --watches 5000 --concurrency 100]
import { fork } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { endpointFromKubeconfig, type Endpoint } from './http-client.ts';
import type { MemoryFigures } from './watch-memory-server.ts';
import { grownKinds, heapCensus, type Census } from './heap-census.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, watches: { type: 'string', default: '5000' }, concurrency: { type: 'string', default: '100' } } });
const rounds = Number(values.rounds);
const watches = Number(values.watches);
const concurrency = Number(values.concurrency);

const dataDir = mkdtempSync(join(tmpdir(), 'sedna-watch-memory-'));
const server = fork(join(import.meta.dirname, 'watch-memory-server.ts'), [dataDir], { execArgv: ['--import', 'tsx', '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const messages: { type: string; kubeconfig?: string; figures?: MemoryFigures; file?: string }[] = [];
const waiters: (() => void)[] = [];
server.on('message', (m: { type: string }) => {
  messages.push(m);
  for (const w of waiters.splice(0)) w();
});
async function next(type: string): Promise<{ kubeconfig?: string; figures?: MemoryFigures; file?: string }> {
  for (;;) {
    const i = messages.findIndex((m) => m.type === type);
    if (i >= 0) return messages.splice(i, 1)[0]!;
    await new Promise<void>((r) => waiters.push(r));
  }
}
async function memory(collect: boolean): Promise<MemoryFigures> {
  server.send({ type: 'memory', collect });
  return (await next('memory')).figures!;
}

/** A heap snapshot of the server after a full GC, counted by constructor (the file is removed). */
async function census(): Promise<Census> {
  server.send({ type: 'snapshot', file: join(dataDir, `heap-${Date.now()}.heapsnapshot`) });
  const { file } = await next('snapshot');
  const result = heapCensus(file!);
  rmSync(file!, { force: true });
  return result;
}

/** One watch: open, wait for the headers and the first event (an ADDED of the seeded ConfigMap), abort. */
function openAndClose(endpoint: Endpoint): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: endpoint.url.hostname,
        port: endpoint.url.port,
        path: `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=0&labelSelector=probe%3Dyes`,
        ca: endpoint.ca,
        headers: { authorization: `Bearer ${endpoint.token}` },
        agent: false,
      },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`watch: HTTP ${res.statusCode}`));
          return;
        }
        res.once('data', () => {
          req.destroy();
          resolve();
        });
        res.once('error', () => resolve());
      },
    );
    req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(err)));
    req.end();
  });
}

async function seed(endpoint: Endpoint): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const body = JSON.stringify({ metadata: { name: 'probe', labels: { probe: 'yes' } }, data: { a: 'b' } });
    const req = httpsRequest({ host: endpoint.url.hostname, port: endpoint.url.port, method: 'POST', path: '/api/v1/namespaces/default/configmaps', ca: endpoint.ca, headers: { authorization: `Bearer ${endpoint.token}`, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.once('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`seed: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const ratio = (x: number, base: number): string => `${(x / base).toFixed(2)}×`;

try {
  const { kubeconfig } = await next('ready');
  const endpoint = endpointFromKubeconfig(kubeconfig!);
  await seed(endpoint);
  // Warm-up: the code paths of a watch compiled and their pools allocated, as in a running system.
  for (let i = 0; i < 200; i += 100) await Promise.all(Array.from({ length: 100 }, () => openAndClose(endpoint)));
  // The first census comes before the baseline: writing a snapshot leaves native memory behind,
  // which must not be counted as the watches' growth.
  const first = await census();
  const base = await memory(true);
  const allocator = process.env.LD_PRELOAD ? `LD_PRELOAD=${process.env.LD_PRELOAD}` : `glibc malloc, MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX ?? 'unset (8 per core)'}`;
  console.log(`allocator: ${allocator}`);
  console.log(`baseline after warm-up and GC: rss ${mb(base.rss)}, heapUsed ${mb(base.heapUsed)}, external ${mb(base.external)}`);
  const rows: string[] = [];
  let last: Census | undefined;
  for (let round = 1; round <= rounds; round++) {
    const started = Date.now();
    for (let i = 0; i < watches; i += concurrency) await Promise.all(Array.from({ length: Math.min(concurrency, watches - i) }, () => openAndClose(endpoint)));
    const before = await memory(false);
    const after = await memory(true);
    rows.push(
      `round ${round}: ${watches} watches opened and closed in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        `before GC rss ${mb(before.rss)} (${ratio(before.rss, base.rss)}) heap ${mb(before.heapUsed)}; ` +
        `after GC rss ${mb(after.rss)} (${ratio(after.rss, base.rss)}) heap ${mb(after.heapUsed)} (${ratio(after.heapUsed, base.heapUsed)}) external ${mb(after.external)}`,
    );
    console.log(rows.at(-1));
    if (round === rounds) last = await census();
  }
  if (last) {
    const grown = grownKinds(first, last);
    const objects = (c: Census): number => [...c.values()].reduce((a, e) => a + e.count, 0);
    console.log(`heap census, baseline → after round ${rounds} (after GC): ${objects(first)} → ${objects(last)} live objects; most grown kinds: ${grown.map((g) => `${g.kind} ${g.countDelta >= 0 ? '+' : ''}${g.countDelta} (${(g.bytesDelta / 1024).toFixed(1)} KiB)`).join(', ')}`);
  }
} finally {
  server.send({ type: 'stop' });
  await new Promise((r) => server.once('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
}
