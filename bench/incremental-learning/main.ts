// Benchmark of the incremental-learning inference worker's hot update, against a baseline run in
// the same process:
// - inference requests per second through IncrementalLearning.inference while a deployed model is
//   pushed and hot-swapped, against the same load with no swap. Windows of WINDOW_MS alternate
//   (no swap, swap, no swap, …) so drift hits both alike; in each swap window one push of the
//   other model lands at its start. Target: ratio ≥ 0.95.
// - swap time: from the LC's push (src/lib/hot-update: endpoint file, loopback POST with Sedna's
//   config JSON) to the worker answering it once the new model serves, p50 and p99 over every swap.
// The models are the joint-inference example's real edge model (TensorFlow.js 784-8-10 MLP) and a
// copy of it in another folder, so each swap really loads a model from disk.
//
//   npm run bench:incremental-learning        (BENCH_IL_WINDOWS, BENCH_IL_WINDOW_MS, BENCH_IL_CONCURRENCY)
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { IncrementalLearning } from '../../src/features/incrementallearning/sdk.ts';
import { ModelEstimator } from '../../src/lib/estimator.ts';
import { pushHotUpdate, writeHotUpdateConfig } from '../../src/lib/hot-update/index.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { median, ms, percentile, ratio, verdict } from '../apiserver/stats.ts';

const EDGE_MODEL = resolve(import.meta.dirname, '../../examples/joint-inference/models/edge');
const WINDOWS = Number(process.env.BENCH_IL_WINDOWS ?? 20);
const WINDOW_MS = Number(process.env.BENCH_IL_WINDOW_MS ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_IL_CONCURRENCY ?? 8);
const TARGET_RATIO = 0.95;

const log = (line: string): void => void process.stdout.write(`  ${line}\n`);

/** Deterministic inputs: 784 values in [0, 1). */
function inputs(count: number): number[][] {
  let state = 12345;
  const next = (): number => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: count }, () => Array.from({ length: 784 }, next));
}

async function main(): Promise<void> {
  process.stdout.write('bench/incremental-learning\n');
  const manifest = JSON.parse(readFileSync(join(dirname(EDGE_MODEL), 'manifest.json'), 'utf8')) as { edge: { inputShape: (number | null)[] } };
  const inputShape = manifest.edge.inputShape.slice(1) as number[];
  const dir = mkdtempSync(join(tmpdir(), 'bench-il-'));
  const hot = join(dir, 'model-hot-update');
  // Two folders holding the model: each swap loads the other one from disk.
  for (const name of ['a', 'b']) cpSync(EDGE_MODEL, join(hot, name), { recursive: true });
  const config = join(hot, 'model_config.json');
  const il = new IncrementalLearning<number[], number[]>({
    env: { MODEL_URL: join(hot, 'a'), MODEL_HOT_UPDATE: 'true', MODEL_HOT_UPDATE_CONFIG: config, MODEL_POLL_PERIOD_SECONDS: '3600' },
    load: (path) => ModelEstimator.load(path, inputShape),
    report: false,
    logger: silentLogger(),
  });
  await il.start();
  const data = inputs(256);
  let failed = 0;
  let cursor = 0;

  /** Closed-loop load for `durationMs` with CONCURRENCY requests in flight; answers per second. */
  const load = async (durationMs: number): Promise<number> => {
    const end = performance.now() + durationMs;
    let done = 0;
    const client = async (): Promise<void> => {
      while (performance.now() < end) {
        try {
          await il.inference(data[cursor++ % data.length]!);
          done++;
        } catch {
          failed++;
        }
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, client));
    return done / ((performance.now() - started) / 1000);
  };

  await load(WINDOW_MS); // warm-up: TF.js kernels, JIT
  const base: number[] = [];
  const during: number[] = [];
  const swapMs: number[] = [];
  let version = 0;
  const swapTo = async (): Promise<void> => {
    version++;
    const update = { modelPath: `/model-hot-update/${version % 2 === 1 ? 'b' : 'a'}`, updateTime: `v${version}` };
    // As the LC does: the config first (the poll's contract), then the push.
    await writeHotUpdateConfig(config, update);
    const started = performance.now();
    const result = await pushHotUpdate(hot, update);
    swapMs.push(performance.now() - started);
    if (!result.pushed) throw new Error(`swap ${version} failed: ${result.reason}`);
  };
  for (let w = 0; w < WINDOWS; w++) {
    if (w % 2 === 0) base.push(await load(WINDOW_MS));
    else {
      const [rps] = await Promise.all([load(WINDOW_MS), swapTo()]);
      during.push(rps);
    }
  }
  // More swaps for the latency distribution, under the same load.
  const extra = Math.max(0, 50 - swapMs.length);
  const loadDuring = load(extra * 60);
  for (let i = 0; i < extra; i++) await swapTo();
  await loadDuring;
  const served = il.modelVersion;
  await il.close();
  rmSync(dir, { recursive: true, force: true });

  // Each swap window against the no-swap window just before it: machine-load drift cancels out.
  const r = median(during.map((d, i) => d / base[i]!));
  log(`${CONCURRENCY} concurrent clients, ${WINDOWS} alternating windows of ${WINDOW_MS} ms; swap windows each hot-swap the 784-8-10 TF.js model once`);
  log(`without a swap: median ${median(base).toFixed(0)} inferences/s (windows: ${base.map((x) => x.toFixed(0)).join(', ')})`);
  log(`during a swap:  median ${median(during).toFixed(0)} inferences/s (windows: ${during.map((x) => x.toFixed(0)).join(', ')})`);
  log(`${swapMs.length} swaps, serving ${served} at the end; failed inferences: ${failed}`);
  process.stdout.write('\n');
  process.stdout.write(`il inference throughput during a hot swap / without: ${ratio(r)} (median of ${during.length} window pairs; ${median(during).toFixed(0)} vs ${median(base).toFixed(0)} inferences/s; target ≥ ${TARGET_RATIO}: ${verdict(r >= TARGET_RATIO)}); failed inferences: ${failed}\n`);
  process.stdout.write(`il hot swap, push to new model serving: p50 ${ms(percentile(swapMs, 50))} ms, p99 ${ms(percentile(swapMs, 99))} ms over ${swapMs.length} swaps (target p99 ≤ 100 ms: ${verdict(percentile(swapMs, 99) <= 100)})\n`);
}

await main();
