// The edge worker of the Fashion-MNIST joint-inference example. It streams the 10,000 test images
// of its Dataset index three times, one image at a time as a camera would:
//   edge only  — the small model on this node answers every image;
//   cloud only — every image goes to the big model (the cloud path's accuracy and latency);
//   joint      — JointInference: the edge answers, hard examples (CrossEntropy) go to the cloud;
// then writes the figures to RESULTS_DIR/joint-inference.json and prints the table. Afterwards it
// idles (or, with KEEP_STREAMING=true, keeps streaming joint inference and prints progress each
// second), so the Deployment does not restart it.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { algorithmFromEnv, CloudClient, JointInference, ModelEstimator, parseTxtIndex, readIdx, workerContext } from 'sedna/worker';
import { formatResults, gapRecovered, summarize, type ScenarioResults } from './results.ts';

interface Sample {
  pixels: number[];
  label: number;
}

const ctx = workerContext();
const manifest = JSON.parse(readFileSync(join(import.meta.dirname, 'models/manifest.json'), 'utf8')) as {
  edge: { inputShape: (number | null)[] };
  hardExampleMining: { thresholdSelectedOn?: string };
};

function argmax(scores: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
  return best;
}

/** The Dataset's txt index: `<IDX file>#<record> <label>` per line. */
async function loadSamples(indexFile: string): Promise<Sample[]> {
  const index = parseTxtIndex([indexFile], { dataType: 'eval' });
  const files = new Map<string, Uint8Array>();
  const samples: Sample[] = [];
  for (let i = 0; i < index.x.length; i++) {
    const [file, record] = String(index.x[i]).split('#') as [string, string];
    if (!files.has(file)) files.set(file, (await readIdx(file)).data);
    const data = files.get(file)!;
    const offset = Number(record) * 784;
    // Pixels as short decimals, so the JSON sent to the cloud is compact and both paths see the same input.
    const pixels = Array.from(data.subarray(offset, offset + 784), (v) => Math.round((v / 255) * 1e4) / 1e4);
    samples.push({ pixels, label: Number(index.y[i]) });
  }
  return samples;
}

/** Runs `answer` over every sample in order; accuracy and per-image latencies. */
async function stream(samples: Sample[], answer: (pixels: number[]) => Promise<number[]>): Promise<{ accuracy: number; latencies: number[] }> {
  let correct = 0;
  const latencies: number[] = [];
  for (const { pixels, label } of samples) {
    const started = performance.now();
    const scores = await answer(pixels);
    latencies.push(performance.now() - started);
    if (argmax(scores) === label) correct++;
  }
  return { accuracy: correct / samples.length, latencies };
}

async function waitForCloud(cloud: CloudClient, probe: number[]): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await cloud.predict(probe);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function main(): Promise<void> {
  if (!ctx.modelUrl) throw new Error('MODEL_URL is not set; this worker runs under a JointInferenceService');
  if (!ctx.testDatasetUrl) throw new Error('TEST_DATASET_URL is not set: the index of the images to stream');
  const estimator = await ModelEstimator.load(ctx.modelUrl, manifest.edge.inputShape.slice(1) as number[]);
  const samples = await loadSamples(ctx.testDatasetUrl);
  console.log(`edge worker ${ctx.workerName}: ${samples.length} images from ${ctx.testDatasetUrl}; cloud at ${ctx.bigModelIp}:${ctx.bigModelPort}`);
  const cloud = new CloudClient({ host: ctx.bigModelIp ?? '127.0.0.1', port: ctx.bigModelPort, jobName: ctx.jobName, token: process.env.BIG_MODEL_TOKEN, timeoutMs: 5000 });
  await waitForCloud(cloud, samples[0]!.pixels);
  const ji = new JointInference<number[], number[]>({ estimator, cloud });

  const edge = await stream(samples, (x) => estimator.predict(x));
  const cloudOnly = await stream(samples, async (x) => (await cloud.predict(x)) as number[]);
  const hardBefore = ji.counters.hardExamples;
  const joint = await stream(samples, async (x) => (await ji.inference(x))[1] as number[]);
  const failures = ji.counters.cloudFailures;
  const results: ScenarioResults = {
    images: samples.length,
    edgeAccuracy: edge.accuracy,
    cloudAccuracy: cloudOnly.accuracy,
    jointAccuracy: joint.accuracy,
    offloadShare: (ji.counters.hardExamples - hardBefore) / samples.length,
    latencyMs: { edge: summarize(edge.latencies), cloud: summarize(cloudOnly.latencies), joint: summarize(joint.latencies) },
    cloudFailures: failures.timeout + failures.unreachable + failures.rejected + ji.counters.cloudSkipped,
    hemThreshold: hemThreshold(),
    thresholdSelectedOn: thresholdSelectedOn(),
    gapRecovered: gapRecovered({ edgeAccuracy: edge.accuracy, cloudAccuracy: cloudOnly.accuracy, jointAccuracy: joint.accuracy }),
    finishedAt: new Date().toISOString(),
  };
  writeResults(results);
  console.log(formatResults(results));
  if (process.env.KEEP_STREAMING === 'true') await keepStreaming(ji, samples);
}

function hemThreshold(): number | null {
  const value = algorithmFromEnv('HEM')?.param['threshold_cross_entropy'];
  return value === undefined ? null : Number(value);
}

function thresholdSelectedOn(): 'validation' {
  const where = manifest.hardExampleMining.thresholdSelectedOn;
  if (where !== 'validation') throw new Error(`models/manifest.json: the threshold was chosen on ${where ?? 'an unrecorded split'}, not validation; rerun train-models.ts`);
  return where;
}

function writeResults(results: ScenarioResults): void {
  const dir = process.env.RESULTS_DIR ?? '.';
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'joint-inference.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(results, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}

/** Joint inference over the test set again and again, with a progress line each second. */
async function keepStreaming(ji: JointInference<number[], number[]>, samples: Sample[]): Promise<void> {
  let answered = 0;
  const progress = setInterval(() => {
    const { hardExamples, cloudAnswers, cloudFailures, cloudSkipped } = ji.counters;
    const failed = cloudFailures.timeout + cloudFailures.unreachable + cloudFailures.rejected;
    console.log(`progress answered=${answered} offloaded=${hardExamples} cloudAnswers=${cloudAnswers} cloudFailures=${failed} skipped=${cloudSkipped}`);
  }, 1000);
  progress.unref();
  for (;;) {
    for (const { pixels } of samples) {
      await ji.inference(pixels);
      answered++;
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}

process.once('SIGTERM', () => process.exit(0));
main().then(
  () => setInterval(() => {}, 60_000),
  (error: unknown) => {
    console.error(`edge worker failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
