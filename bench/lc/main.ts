// Benchmark of the LocalController: the compiled `sedna lc` as a child process, connected to an
// EdgeHub in this process standing in for the GM. Two figures, each with a baseline measured in
// the same run (ratios, never timed assertions); the figures are the last lines printed:
// - idle RSS of the connected LC, against a bare `node -e 'setInterval(()=>{},1000)'`;
// - worker reports relayed end to end (HTTP POST to the LC's worker API → durable outbox →
//   WebSocket → the hub's handler) per second, with the latency from send to hub arrival, against
//   the same POSTs to a trivial node:http server. Every report must arrive exactly once.
//
//   npm run bench:lc            (BENCH_LC_MESSAGES, BENCH_LC_CONCURRENCY to change the sizes)
//   BENCH_LC_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/lc-prof" npm run bench:lc   (profile the LC)
import { availableParallelism } from 'node:os';
import { Registry } from 'prom-client';
import { EdgeHub, StaticNodeTokens } from '../../src/edgelink/index.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { machineBusyMs, processCpuMs } from '../apiserver/server-process.ts';
import { max, mb, ms, now, percentile, ratio, us, verdict } from '../apiserver/stats.ts';
import { runLoad, type LoadResult } from './load.ts';
import { procStatusKb, startIdleNode, startLc, startTrivialServer, stop, stopLc, type LcProcess } from './processes.ts';
import { until } from '../../test/helpers/wait.ts';

const NODE = 'bench-edge-node';
const TOKEN = `bench-token-${Math.random().toString(36).slice(2)}`;
const MESSAGES = Number(process.env.BENCH_LC_MESSAGES ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_LC_CONCURRENCY ?? 16);
const MIN_MS = 3_000;
const WARMUP_MESSAGES = 2_000;
const IDLE_SETTLE_MS = 3_000;
const ARRIVAL_TIMEOUT_MS = 60_000;

const TARGET_IDLE_RSS_MB = 60;
const TARGET_RELAY_PER_SEC = 5_000;
const TARGET_P99_MS = 50;

function log(line: string): void {
  process.stdout.write(`  ${line}\n`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


/** What reached the hub's handler, per phase: arrival count per sequence number and latencies. */
class Arrivals {
  readonly counts = new Map<number, number>();
  readonly latencies: number[] = [];
  lastArrival = 0;
  total = 0;
  malformed = 0;

  record(ownerInfo: { seq?: unknown; sentAt?: unknown }, arrivedAt: number): void {
    const { seq, sentAt } = ownerInfo;
    if (typeof seq !== 'number' || typeof sentAt !== 'number') {
      this.malformed++;
      return;
    }
    this.total++;
    this.counts.set(seq, (this.counts.get(seq) ?? 0) + 1);
    this.latencies.push(arrivedAt - sentAt);
    this.lastArrival = arrivedAt;
  }

  /** Sequence numbers in [first, first + count) missing, and those that arrived more than once. */
  check(first: number, count: number): { missing: number; duplicated: number; stray: number } {
    let missing = 0;
    let duplicated = 0;
    for (let seq = first; seq < first + count; seq++) {
      const n = this.counts.get(seq) ?? 0;
      if (n === 0) missing++;
      else if (n > 1) duplicated++;
    }
    let stray = 0;
    for (const seq of this.counts.keys()) if (seq < first || seq >= first + count) stray++;
    return { missing, duplicated, stray };
  }
}

interface Figures {
  idle: { rssKb: number; hwmKb: number; baselineKb: number };
  baseline: LoadResult;
  run: LoadResult;
  relayPerSec: number;
  e2eMs: number;
  latencies: number[];
  check: { missing: number; duplicated: number; stray: number };
  lcCpuUs: number;
  baselineCpuUs: number;
  benchCpuShare: number;
  loadedRssKb: number;
  loadedHwmKb: number;
  others: number;
}

async function main(): Promise<Figures> {
  const arrivals = { warmup: new Arrivals(), run: new Arrivals() };
  const hub = new EdgeHub({ tokens: new StaticNodeTokens({ [NODE]: TOKEN }), port: 0, registry: new Registry(), logger: silentLogger() });
  hub.onMessage('federatedlearningjob', (_node, message) => {
    const arrivedAt = now();
    const ownerInfo = (message.content as { output?: { ownerInfo?: { phase?: unknown; seq?: unknown; sentAt?: unknown } } } | null)?.output?.ownerInfo ?? {};
    (ownerInfo.phase === 'warmup' ? arrivals.warmup : arrivals.run).record(ownerInfo, arrivedAt);
  });
  let lc: LcProcess | undefined;
  try {
    const hubPort = await hub.start();
    const started = now();
    lc = await startLc({ node: NODE, token: TOKEN, hubPort });
    await until(() => hub.connectedNodes().includes(NODE), 'the LC to connect to the hub', 15_000);
    log(`LC pid ${lc.pid}, worker API port ${lc.port}, connected to the hub on port ${hubPort} after ${ms(now() - started)} ms; data dir ${lc.dataDir}`);

    // Idle RSS, the LC and a bare node side by side over the same settling time.
    const bare = startIdleNode();
    await sleep(IDLE_SETTLE_MS);
    const idle = { rssKb: procStatusKb(lc.pid, 'VmRSS'), hwmKb: procStatusKb(lc.pid, 'VmHWM'), baselineKb: procStatusKb(bare.pid, 'VmRSS') };
    await stop(bare);
    log(`idle after ${IDLE_SETTLE_MS / 1000} s: LC VmRSS ${mb(idle.rssKb * 1024)} MB (VmHWM ${mb(idle.hwmKb * 1024)} MB); bare node VmRSS ${mb(idle.baselineKb * 1024)} MB`);

    // Baseline: the same POSTs to a trivial node:http server.
    const trivial = await startTrivialServer();
    await runLoad({ port: trivial.port, phase: 'baseline', concurrency: CONCURRENCY, minCount: WARMUP_MESSAGES, minMs: 0 });
    const trivialCpu0 = processCpuMs(trivial.pid);
    const baseline = await runLoad({ port: trivial.port, phase: 'baseline', concurrency: CONCURRENCY, minCount: MESSAGES, minMs: MIN_MS });
    const baselineCpuUs = ((processCpuMs(trivial.pid) - trivialCpu0) * 1000) / baseline.count;
    await stop(trivial);
    if (baseline.errors > 0) throw new Error(`baseline: ${baseline.errors} failed POSTs, first: ${baseline.firstError}`);
    log(`baseline: ${baseline.count} POSTs to a trivial node:http server in ${ms(baseline.elapsedMs)} ms, ${(baseline.count / (baseline.elapsedMs / 1000)).toFixed(0)}/s; rtt p50 ${ms(percentile(baseline.rtts, 50))} ms, p99 ${ms(percentile(baseline.rtts, 99))} ms`);

    // Warm-up of the relay (JIT, SQLite page cache), not counted.
    const warm = await runLoad({ port: lc.port, phase: 'warmup', concurrency: CONCURRENCY, minCount: WARMUP_MESSAGES, minMs: 0, firstSeq: 0 });
    if (warm.errors > 0) throw new Error(`warm-up: ${warm.errors} failed POSTs, first: ${warm.firstError}`);
    await until(() => arrivals.warmup.total >= warm.count, `the ${warm.count} warm-up reports at the hub (${arrivals.warmup.total} so far)`, ARRIVAL_TIMEOUT_MS);

    // The measured run.
    const lcCpu0 = processCpuMs(lc.pid);
    const benchCpu0 = process.cpuUsage();
    const busy0 = machineBusyMs();
    const run = await runLoad({ port: lc.port, phase: 'run', concurrency: CONCURRENCY, minCount: MESSAGES, minMs: MIN_MS, firstSeq: 0 });
    if (run.errors > 0) log(`WARNING: ${run.errors} POSTs to the LC failed, first: ${run.firstError}`);
    const accepted = run.count - run.errors;
    await until(() => arrivals.run.total >= accepted, `the ${accepted} accepted reports at the hub (${arrivals.run.total} so far)`, ARRIVAL_TIMEOUT_MS);
    await sleep(200); // late duplicates, if any, would show now
    const e2eMs = arrivals.run.lastArrival - run.firstSendAt;
    const lcCpuUs = ((processCpuMs(lc.pid) - lcCpu0) * 1000) / run.count;
    const benchCpu = process.cpuUsage(benchCpu0);
    const benchCpuShare = (benchCpu.user + benchCpu.system) / 1000 / e2eMs;
    const lcBusyMs = (lcCpuUs * run.count) / 1000;
    const others = Math.max(0, (machineBusyMs() - busy0 - lcBusyMs - (benchCpu.user + benchCpu.system) / 1000) / e2eMs);
    const loadedRssKb = procStatusKb(lc.pid, 'VmRSS');
    const loadedHwmKb = procStatusKb(lc.pid, 'VmHWM');
    const check = arrivals.run.check(0, run.count);
    log(`relay: ${run.count} POSTs in ${ms(run.elapsedMs)} ms (${(run.count / (run.elapsedMs / 1000)).toFixed(0)}/s accepted), last at the hub ${ms(e2eMs)} ms after the first send; POST rtt p50 ${ms(percentile(run.rtts, 50))} ms, p99 ${ms(percentile(run.rtts, 99))} ms`);
    log(`after the run: LC VmRSS ${mb(loadedRssKb * 1024)} MB, VmHWM ${mb(loadedHwmKb * 1024)} MB; outbox at the hub: ${arrivals.run.total} arrivals, ${arrivals.run.malformed} malformed`);
    return {
      idle,
      baseline,
      run,
      relayPerSec: run.count / (e2eMs / 1000),
      e2eMs,
      latencies: arrivals.run.latencies,
      check,
      lcCpuUs,
      baselineCpuUs,
      benchCpuShare,
      loadedRssKb,
      loadedHwmKb,
      others,
    };
  } finally {
    if (lc) await stopLc(lc);
    await hub.stop();
  }
}

function report(f: Figures): string[] {
  const idleMb = f.idle.rssKb / 1024;
  const baselinePerSec = f.baseline.count / (f.baseline.elapsedMs / 1000);
  const p50 = percentile(f.latencies, 50);
  const p99 = percentile(f.latencies, 99);
  const exact = f.check.missing === 0 && f.check.duplicated === 0 && f.check.stray === 0 && f.run.errors === 0;
  const rttP99 = percentile(f.baseline.rtts, 99);
  const cores = availableParallelism();
  return [
    `lc idle RSS: ${mb(f.idle.rssKb * 1024)} MB (VmHWM ${mb(f.idle.hwmKb * 1024)} MB; bare node -e 'setInterval(...)' ${mb(f.idle.baselineKb * 1024)} MB, ratio ${ratio(f.idle.rssKb / f.idle.baselineKb)}, LC's own ${mb((f.idle.rssKb - f.idle.baselineKb) * 1024)} MB; target ≤ ${TARGET_IDLE_RSS_MB} MB: ${verdict(idleMb <= TARGET_IDLE_RSS_MB)})`,
    `lc relay throughput: ${f.relayPerSec.toFixed(0)} msgs/s end to end (${f.run.count} FL worker reports, first POST → last hub arrival ${ms(f.e2eMs)} ms, ${CONCURRENCY} in flight over keep-alive; baseline plain POST to a trivial node:http server ${baselinePerSec.toFixed(0)}/s, ratio ${ratio(f.relayPerSec / baselinePerSec)}; ${exact ? 'every report arrived exactly once' : `NOT exactly once: ${f.check.missing} missing, ${f.check.duplicated} duplicated, ${f.check.stray} stray, ${f.run.errors} failed POSTs`}; target ≥ ${TARGET_RELAY_PER_SEC}/s: ${verdict(f.relayPerSec >= TARGET_RELAY_PER_SEC && exact)})`,
    `lc relay latency (send → hub arrival): p50 ${ms(p50)} ms, p99 ${ms(p99)} ms, max ${ms(max(f.latencies))} ms (LC POST rtt p50 ${ms(percentile(f.run.rtts, 50))} ms; baseline POST rtt p50 ${ms(percentile(f.baseline.rtts, 50))} ms, p99 ${ms(rttP99)} ms, p99 ratio ${ratio(p99 / rttP99)}; target p99 ≤ ${TARGET_P99_MS} ms: ${verdict(p99 <= TARGET_P99_MS)})`,
    `lc CPU per relayed report: ${us(f.lcCpuUs)} µs, so at most ${(1e6 / f.lcCpuUs).toFixed(0)}/s on one dedicated core (trivial server per POST ${us(f.baselineCpuUs)} µs, ratio ${ratio(f.lcCpuUs / f.baselineCpuUs)}); LC RSS after the run ${mb(f.loadedRssKb * 1024)} MB, VmHWM ${mb(f.loadedHwmKb * 1024)} MB`,
    `machine during the relay run: bench process (client + hub) ${f.benchCpuShare.toFixed(2)} cores, other processes ${f.others.toFixed(2)} of ${cores} cores${f.others > 0.25 ? ': the machine was shared, figures are pessimistic' : ''}`,
  ];
}

/** However it hangs, the bench ends (and the exit handler still kills the children). */
const WATCHDOG_MS = 5 * 60_000;
const watchdog = setTimeout(() => {
  process.stderr.write(`bench failed: still running after ${WATCHDOG_MS / 1000} s\n`);
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();

try {
  const figures = await main();
  process.stdout.write(`\n${report(figures).join('\n')}\n`);
} catch (err) {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
}
