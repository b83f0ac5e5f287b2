// Watch delivery latency: many watch streams on one namespace, writes at a steady pace, each write
// stamped with its send time (an annotation, in this process's monotonic clock); every watcher
// records arrival - send for each event, and must see every write exactly once.
import { HttpError, HttpsClient, type Endpoint } from './http-client.ts';
import type { CpuMeter } from './server-process.ts';
import { max, now, percentile } from './stats.ts';

export interface WatchFigures {
  watchers: number;
  writes: number;
  /** Unmeasured writes before the measured ones. */
  warmupWrites: number;
  intervalMs: number;
  delivered: number;
  expected: number;
  /** Watchers that did not get every write exactly once. */
  incomplete: number;
  p50: number;
  p99: number;
  max: number;
  /** Round trip of the writes themselves (POST). */
  writeP50: number;
  /** GET /version round trip, sequential, with the watchers open. */
  rttP50: number;
  /** Server CPU per write (µs) while the watchers were open: commit plus fan-out to every watcher. */
  serverCpuPerWriteUs: number;
}

const SENT = 'bench.sedna.io/sent';
const SEQ = 'bench.sedna.io/seq';
/** Writes before the measured ones, at the same pace, so that the fan-out path is compiled. */
const WARMUP_WRITES = 50;

interface WatchEvent {
  type: string;
  object: { metadata?: { annotations?: Record<string, string> } };
}

class Watcher {
  readonly seen: Uint8Array;
  count = 0;
  duplicates = 0;
  error: Error | undefined;
  private rest = '';
  private pending: (Buffer | number)[] = [];

  constructor(
    writes: number,
    private readonly latencies: number[],
  ) {
    this.seen = new Uint8Array(writes);
  }

  /**
   * Only notes the chunk and its arrival time: parsing waits until every socket that became
   * readable in this turn of the event loop has been stamped, so that one watcher's parsing does
   * not count as the next one's delivery latency.
   */
  onData(chunk: Buffer, at: number): void {
    this.pending.push(chunk, at);
    if (this.pending.length === 2) setImmediate(() => this.drain());
  }

  private drain(): void {
    const pending = this.pending;
    this.pending = [];
    for (let i = 0; i < pending.length; i += 2) {
      try {
        this.parse(pending[i] as Buffer, pending[i + 1] as number);
      } catch (err) {
        this.error ??= err as Error;
      }
    }
  }

  private parse(chunk: Buffer, at: number): void {
    const text = this.rest + chunk.toString('utf8');
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const line = text.slice(start, nl);
      start = nl + 1;
      if (line.length > 0) this.onEvent(JSON.parse(line) as WatchEvent, at);
    }
    this.rest = text.slice(start);
  }

  private onEvent(event: WatchEvent, at: number): void {
    if (event.type !== 'ADDED') throw new Error(`unexpected watch event ${event.type}: ${JSON.stringify(event.object).slice(0, 300)}`);
    const annotations = event.object.metadata?.annotations ?? {};
    if (annotations[SEQ] === undefined) return; // a warm-up write
    const seq = Number(annotations[SEQ]);
    const sent = Number(annotations[SENT]);
    if (this.seen[seq]) this.duplicates++;
    this.seen[seq] = 1;
    this.count++;
    this.latencies.push(at - sent);
  }
}

function sleepUntil(t: number): Promise<void> {
  const wait = t - now();
  return wait > 0 ? new Promise((r) => setTimeout(r, wait)) : Promise.resolve();
}

export async function measureWatch(
  endpoint: Endpoint,
  client: HttpsClient,
  namespace: string,
  options: { watchers: number; writes: number; intervalMs: number; cpu: CpuMeter; log: (line: string) => void },
): Promise<WatchFigures> {
  const { watchers: watcherCount, writes, intervalMs, cpu, log } = options;
  // One socket per watch stream; none shared with the writer.
  const watchClient = new HttpsClient(endpoint, { maxSockets: watcherCount + 10, keepAlive: false });
  const streams: { close(): void; ended: Promise<void> }[] = [];
  try {
    const listPath = `/api/v1/namespaces/${namespace}/configmaps`;
    const rv = (await client.json<{ metadata: { resourceVersion: string } }>('GET', `${listPath}?limit=1`)).metadata.resourceVersion;
    const latencies: number[] = [];
    const watchers = Array.from({ length: watcherCount }, () => new Watcher(writes, latencies));
    const watchPath = `${listPath}?watch=true&resourceVersion=${rv}&timeoutSeconds=600`;
    // Open them ten at a time: a hundred simultaneous TLS handshakes on two cores is a test of
    // something else.
    for (let i = 0; i < watcherCount; i += 10) {
      const batch = watchers.slice(i, i + 10).map((w) => watchClient.stream(watchPath, (chunk, at) => w.onData(chunk, at)));
      streams.push(...(await Promise.all(batch)));
    }
    log(`${watcherCount} watches open from resourceVersion ${rv}`);

    // Round-trip time of a plain GET, with the watchers open and idle.
    const rtts: number[] = [];
    for (let i = 0; i < 300; i++) {
      const started = now();
      const res = await client.request('GET', '/version');
      if (res.status !== 200) throw new HttpError('GET', '/version', res.status, res.body.toString('utf8'));
      if (i >= 50) rtts.push(now() - started);
    }

    for (let i = 0; i < WARMUP_WRITES; i++) {
      const started = now();
      const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `warm-${i}`, namespace }, data: { warm: String(i) } };
      const res = await client.request('POST', listPath, JSON.stringify(body));
      if (res.status !== 201) throw new HttpError('POST', listPath, res.status, res.body.toString('utf8'));
      await sleepUntil(started + intervalMs);
    }
    await new Promise((r) => setTimeout(r, 100));

    const writeRtts: number[] = [];
    const pending: Promise<void>[] = [];
    const mark = cpu.sample();
    const started = now();
    for (let seq = 0; seq < writes; seq++) {
      await sleepUntil(started + seq * intervalMs);
      const sent = now();
      const body = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `w-${seq}`, namespace, annotations: { [SEQ]: String(seq), [SENT]: String(sent) } },
        data: { seq: String(seq) },
      };
      pending.push(
        client.request('POST', listPath, JSON.stringify(body)).then((res) => {
          if (res.status !== 201) throw new HttpError('POST', listPath, res.status, res.body.toString('utf8'));
          writeRtts.push(now() - sent);
        }),
      );
    }
    await Promise.all(pending);
    const deadline = now() + 10_000;
    while (watchers.some((w) => w.count < writes) && now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const used = cpu.since(mark);
    const serverCpuPerWriteUs = (used.serverMs / writes) * 1000;
    log(
      `${writes} writes every ${intervalMs} ms took ${(now() - started).toFixed(0)} ms; CPU per write: server ${serverCpuPerWriteUs.toFixed(0)} µs, client ${((used.clientMs / writes) * 1000).toFixed(0)} µs (${watcherCount} watchers)`,
    );
    const failed = watchers.find((w) => w.error);
    if (failed) throw failed.error!;

    const incomplete = watchers.filter((w) => w.count !== writes || w.duplicates > 0 || w.seen.some((s) => s === 0)).length;
    return {
      watchers: watcherCount,
      writes,
      warmupWrites: WARMUP_WRITES,
      intervalMs,
      delivered: watchers.reduce((n, w) => n + w.count, 0),
      expected: watcherCount * writes,
      incomplete,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: max(latencies),
      writeP50: percentile(writeRtts, 50),
      rttP50: percentile(rtts, 50),
      serverCpuPerWriteUs,
    };
  } finally {
    for (const s of streams) s.close();
    watchClient.destroy();
  }
}
