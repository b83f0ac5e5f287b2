// Benchmark of federated learning's hot path: FedAvg over 10 clients × 1,000,000 float32
// parameters (4 layers of mixed sizes, fixed seeds and sample counts) in this process, against
// numpy's weighted average of the same arrays in a python3 subprocess (load time excluded; the
// faster of `np.average` and the broadcast multiply-sum is the baseline; a BLAS `@` is printed for
// information). Both results must agree to 1e-5 relative. Also the binary weights codec's speed.
// The figures are the last lines printed.
//
//   npm run bench:federated-learning        (BENCH_FL_RUNS to change the number of timed runs)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FedAvg, type ClientUpdate } from '../../src/lib/aggregation/index.ts';
import { decodeWeights, encodeWeights, type ModelWeights } from '../../src/lib/weights.ts';
import { median, ms, now, ratio, verdict } from '../apiserver/stats.ts';
import { CLIENT_SAMPLE_COUNTS, generateClients, LAYER_SHAPES, readFloat32Npy, writeCountsNpy, writeStackedNpy } from './data.ts';
import { variants } from './variants.ts';

const RUNS = Number(process.env.BENCH_FL_RUNS ?? 21);
const PHASES = Number(process.env.BENCH_FL_PHASES ?? 3);
// Enough for V8's optimising tier to compile the loops (3 left FedAvg twice as slow as it is).
const WARMUP_RUNS = 10;
const CODEC_RUNS = 31;
const AGREEMENT = 1e-5;
const HERE = dirname(fileURLToPath(import.meta.url));

function log(line: string): void {
  process.stdout.write(`  ${line}\n`);
}

/** Median milliseconds of `runs` calls after a warm-up (the JIT compiles the loops first). */
function timeMedian(runs: number, run: () => unknown): number {
  for (let i = 0; i < WARMUP_RUNS; i++) run();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = now();
    run();
    samples.push(now() - started);
  }
  return median(samples);
}

function flatten(weights: ModelWeights | Float32Array[]): Float32Array {
  const layers = weights.map((layer) => (layer instanceof Float32Array ? layer : layer.data));
  const out = new Float32Array(layers.reduce((sum, data) => sum + data.length, 0));
  let offset = 0;
  for (const data of layers) {
    out.set(data, offset);
    offset += data.length;
  }
  return out;
}

/** max |a − b| / max |b|: relative to the largest value, so values near zero do not blow it up. */
function relativeDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`results differ in length: ${a.length} vs ${b.length}`);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return worst / (scale || 1);
}

interface NumpyResult {
  numpy: string;
  fastest: string;
  timings_ms: Record<string, number>;
  result: Float32Array;
}

function writeNumpyInputs(dir: string, updates: readonly ClientUpdate[]): void {
  writeStackedNpy(join(dir, 'stacked.npy'), updates);
  writeCountsNpy(join(dir, 'counts.npy'), CLIENT_SAMPLE_COUNTS);
}

function runNumpy(dir: string): NumpyResult {
  const [stacked, counts, out] = ['stacked.npy', 'counts.npy', 'result.npy'].map((name) => join(dir, name)) as [string, string, string];
  const child = spawnSync('python3', [join(HERE, 'numpy_average.py'), stacked, counts, out, String(RUNS)], { encoding: 'utf8', timeout: 5 * 60_000 });
  if (child.status !== 0) throw new Error(`python3 numpy_average.py failed (${child.status ?? child.signal}): ${child.stderr || child.error?.message}`);
  const lines = child.stdout.trim().split('\n');
  const parsed = JSON.parse(lines[lines.length - 1]!) as Omit<NumpyResult, 'result'>;
  return { ...parsed, result: readFloat32Npy(out) };
}

function measureCodec(weights: ModelWeights): { encodeMBs: number; decodeAlignedMBs: number; decodeUnalignedMBs: number; bytes: number } {
  const encoded = encodeWeights(weights);
  const unaligned = new Uint8Array(encoded.length + 1).subarray(1);
  unaligned.set(encoded);
  const mbPerSec = (millis: number): number => encoded.length / (1024 * 1024) / (millis / 1000);
  return {
    bytes: encoded.length,
    encodeMBs: mbPerSec(timeMedian(CODEC_RUNS, () => encodeWeights(weights))),
    decodeAlignedMBs: mbPerSec(timeMedian(CODEC_RUNS, () => decodeWeights(encoded))),
    decodeUnalignedMBs: mbPerSec(timeMedian(CODEC_RUNS, () => decodeWeights(unaligned))),
  };
}

function main(): string[] {
  const updates = generateClients();
  const parameters = updates[0]!.weights.reduce((sum, layer) => sum + layer.data.length, 0);
  log(`${updates.length} clients × ${parameters.toLocaleString('en-US')} float32 in layers ${LAYER_SHAPES.map((s) => `[${s.join('×')}]`).join(' ')}; samples ${CLIENT_SAMPLE_COUNTS.join(', ')}`);

  // Ours and numpy take turns, PHASES times, so both see the same machine load; each side's figure
  // is the median of its phases' medians.
  const fedavg = new FedAvg();
  let ours: ModelWeights = [];
  const dir = mkdtempSync(join(tmpdir(), 'sedna-bench-fl-'));
  const oursPhases: number[] = [];
  const numpyPhases: NumpyResult[] = [];
  try {
    writeNumpyInputs(dir, updates);
    for (let phase = 0; phase < PHASES; phase++) {
      oursPhases.push(timeMedian(RUNS, () => (ours = fedavg.aggregate(undefined, updates))));
      numpyPhases.push(runNumpy(dir));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const oursMs = median(oursPhases);
  log(`FedAvg (src/lib/aggregation): ${ms(oursMs)} ms, median of ${PHASES} phases × ${RUNS} runs (phases: ${oursPhases.map((x) => ms(x)).join(', ')} ms)`);
  const variantMs: [string, number][] = Object.entries(variants).map(([name, run]) => [name, timeMedian(RUNS, () => run(updates))]);
  for (const [name, millis] of variantMs) log(`  loop variant, ${name}: ${ms(millis)} ms`);
  const numpy = numpyPhases.at(-1)!;
  const numpyMedian = (idiom: string): number => median(numpyPhases.map((p) => p.timings_ms[idiom]!));
  for (const idiom of Object.keys(numpy.timings_ms)) {
    log(`numpy ${numpy.numpy} ${idiom}: ${ms(numpyMedian(idiom))} ms (phases: ${numpyPhases.map((p) => ms(p.timings_ms[idiom]!)).join(', ')} ms)`);
  }
  const numpyMs = numpyMedian(numpy.fastest);
  const blasIdiom = Object.keys(numpy.timings_ms).find((idiom) => idiom.includes('BLAS'));
  const blas: [string, number] | undefined = blasIdiom ? [blasIdiom, numpyMedian(blasIdiom)] : undefined;

  const difference = relativeDifference(flatten(ours), numpy.result);
  if (!(difference <= AGREEMENT)) throw new Error(`FedAvg and numpy disagree: max |ours − numpy| / max |numpy| = ${difference.toExponential(2)} > ${AGREEMENT}`);
  const codec = measureCodec(updates[0]!.weights);

  const met = oursMs <= numpyMs;
  return [
    `FedAvg ${updates.length} clients × ${parameters.toLocaleString('en-US')} float32: ours ${ms(oursMs)} ms per aggregation, numpy ${ms(numpyMs)} ms (${numpy.fastest}, the faster of the two idioms), ratio numpy/ours ${ratio(numpyMs / oursMs)}; target at least as fast as numpy: ${verdict(met)}`,
    `for information, numpy through BLAS sgemv (weights @ stacked): ${blas ? `${ms(blas[1])} ms, ratio ${ratio(blas[1] / oursMs)}` : 'not measured'}`,
    `accumulators: ${variantMs.map(([name, millis]) => `${name} ${ms(millis)} ms`).join('; ')}`,
    `results agree: max |ours − numpy| / max |numpy| = ${difference.toExponential(2)} (≤ ${AGREEMENT})`,
    `weights codec (${(codec.bytes / (1024 * 1024)).toFixed(1)} MB, 1M parameters): encodeWeights ${codec.encodeMBs.toFixed(0)} MB/s, decodeWeights ${codec.decodeAlignedMBs.toFixed(0)} MB/s aligned (zero-copy views), ${codec.decodeUnalignedMBs.toFixed(0)} MB/s unaligned (copied)`,
  ];
}

try {
  const figures = main();
  process.stdout.write(`\n${figures.join('\n')}\n`);
} catch (err) {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}
