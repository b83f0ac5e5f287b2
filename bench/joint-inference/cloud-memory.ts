// Does the cloud worker's memory keep growing? In the hour-long soak its RSS rose in steps
// (115.6 → 145.7 MB) while the other components stayed flat. This replays the same ONNX model
// through the SDK's loader (src/lib/backends/onnx.ts, what the cloud worker runs) with the batch
// mix concurrent offloads produce (mostly 1–8 images, 1% of batches 8–63) and samples RSS. A leak
// keeps growing; an allocator's high-water mark (ONNX Runtime's arena, malloc) levels off once the
// largest batch has been seen. Ratio: RSS at the end against RSS after the first 30% of runs.
//
//   node --import tsx bench/joint-inference/cloud-memory.ts   (BENCH_CLOUD_RUNS, default 12000)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOnnxModel } from '../../src/lib/backends/onnx.ts';

const RUNS = Number(process.env.BENCH_CLOUD_RUNS ?? 12_000);
const SAMPLES = 10;

const rssMb = (): number => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
let seed = 7;
const random = (): number => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;

const model = await loadOnnxModel(join(import.meta.dirname, '../../examples/joint-inference/models/cloud/model.onnx'));
const baseline = rssMb();
const samples: number[] = [];
for (let run = 1; run <= RUNS; run++) {
  const size = random() < 0.01 ? 8 + Math.floor(random() * 56) : 1 + Math.floor(random() * 8);
  await model.run({ data: new Float32Array(size * 784), shape: [size, 28, 28, 1] });
  if (run % (RUNS / SAMPLES) === 0) samples.push(rssMb());
}
await model.release();
const afterWarmup = samples[Math.round(SAMPLES * 0.3) - 1]!;
console.log(`cloud model (ONNX Runtime), ${RUNS} inferences, RSS after loading ${baseline.toFixed(1)} MB`);
console.log(`RSS every ${RUNS / SAMPLES} runs (MB): ${samples.map((s) => s.toFixed(1)).join(' ')}`);
console.log(`RSS at the end / after 30% of the runs: ${(samples.at(-1)! / afterWarmup).toFixed(3)}x (${afterWarmup.toFixed(1)} → ${samples.at(-1)!.toFixed(1)} MB)`);
