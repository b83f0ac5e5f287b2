// The inference worker of the incremental-learning example: the edge model serving the night
// camera. It plays the camera's recording (CAMERA_URL, an IDX file of night frames) at
// FRAMES_PER_SECOND, frame after frame, looping, and answers each through IncrementalLearning,
// which mines the hard examples (HEM_NAME / HEM_PARAMETERS: CrossEntropy) into HE_SAVED_URL for
// labelling, and swaps in each model the LC deploys (hot update: the LC's push, Sedna's poll as the
// fallback) while the stream goes on. Every second it writes its counters to
// RESULTS_DIR/incremental-learning-stream.json: requests, failures, hard examples, and per swap the
// time from the LC's push to the new model's first answer. It stops streaming (and keeps idling,
// so the Deployment does not restart it) once STOP_FILE exists.
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { IncrementalLearning, ModelEstimator, numberParameter, readIdx, workerContext } from 'sedna/worker';
import { PIXELS } from '../joint-inference/fashion-mnist.ts';
import { type CameraFrame, encodeHardExample } from './hard-example-file.ts';
import type { StreamStats, SwapTiming } from './stream-stats.ts';

const ctx = workerContext();

async function loadRecording(file: string): Promise<Float32Array[]> {
  const { dims, data } = await readIdx(file);
  const [count = 0] = dims;
  if (dims.length !== 3 || dims[1]! * dims[2]! !== PIXELS) throw new Error(`${file}: expected N×28×28 frames, got ${dims.join('×')}`);
  return Array.from({ length: count }, (_, i) => Float32Array.from(data.subarray(i * PIXELS, (i + 1) * PIXELS), (v) => v / 255));
}

async function main(): Promise<void> {
  const camera = process.env.CAMERA_URL;
  if (!camera) throw new Error('CAMERA_URL is not set: the camera recording to stream');
  const fps = numberParameter('FRAMES_PER_SECOND', 100, process.env, { positive: true });
  const statsFile = join(process.env.RESULTS_DIR ?? '.', 'incremental-learning-stream.json');
  const frames = await loadRecording(camera);
  /** When each model finished loading, in order: the initial one, then one per successful swap (a swap is one assignment after its load). */
  const loadedAt: number[] = [];
  const il = new IncrementalLearning<CameraFrame, number[]>({
    load: async (path) => {
      const estimator = await ModelEstimator.load(path, [PIXELS]);
      // Warm-up (as TF Serving does): the first prediction of a fresh model pays for its kernels
      // and weight upload; paid here, beside the serving model, no camera frame waits for it.
      await estimator.predict(new Float32Array(PIXELS));
      loadedAt.push(performance.now());
      return { predict: (frame: CameraFrame) => estimator.predict(frame.pixels), dispose: () => estimator.dispose() };
    },
    encodeHardExample: ({ data, result }) => ({ extension: 'json', content: encodeHardExample(data, result) }),
  });
  await il.start();
  console.log(`inference worker ${ctx.workerName}: ${frames.length} frames from ${camera} at ${fps}/s; serving ${il.modelVersion}; push ${il.pushUrl ?? 'off'}`);

  const stats: StreamStats = { inferenceRequests: 0, failedInferences: 0, hardExamples: 0, modelVersion: il.modelVersion ?? '', swaps: [], coverage: {}, frames: frames.length, updatedAt: '' };
  // The counters as they are now, written once every hard example mined so far is on disk, so the
  // labeller may trust the coverage: a frame it covers without a file was not hard.
  let writing: Promise<void> | undefined;
  const write = (): Promise<void> => {
    const snapshot = JSON.stringify({ ...stats, hardExamples: il.counters.hardExamples, modelVersion: il.modelVersion ?? '', updatedAt: new Date().toISOString() }, null, 2);
    writing ??= il.flushHardExamples().then(() => {
      mkdirSync(process.env.RESULTS_DIR ?? '.', { recursive: true });
      writeFileSync(`${statsFile}.tmp`, `${snapshot}\n`);
      renameSync(`${statsFile}.tmp`, statsFile);
    }).finally(() => (writing = undefined));
    return writing;
  };
  setInterval(() => void write(), 1000).unref();

  // The first answer of each new model: the first request that started on its version.
  let answeredVersion = il.modelVersion;
  const firstAnswers = new Map<string, number>();
  let timedSwaps = 0;
  let okSwaps = 0;
  const interval = 1000 / fps;
  let next = performance.now();
  for (let i = 0; ; i = (i + 1) % frames.length) {
    if (process.env.STOP_FILE && existsSync(process.env.STOP_FILE)) break;
    const version = il.modelVersion;
    stats.inferenceRequests++;
    try {
      // The request pins the model serving as it starts, the one `version` names.
      await il.inference({ frame: i, pixels: frames[i]!, model: version ?? '' });
      const covered = (stats.coverage[version ?? ''] ??= { first: i, count: 0 });
      covered.count++;
    } catch (error) {
      stats.failedInferences++;
      console.error(`inference of frame ${i} failed: ${(error as Error).message}`);
    }
    if (version !== undefined && version !== answeredVersion) {
      firstAnswers.set(version, performance.now());
      answeredVersion = version;
    }
    for (; timedSwaps < il.swapHistory.length; timedSwaps++) {
      const record = il.swapHistory[timedSwaps]!;
      const answered = firstAnswers.get(record.version);
      if (!record.ok) continue;
      if (answered === undefined) break; // not answered yet: timed after a later request
      okSwaps++;
      stats.swaps.push(swapTiming(record, answered - (loadedAt[okSwaps] ?? answered)));
    }
    next += interval;
    const pause = next - performance.now();
    if (pause > 0) await new Promise((r) => setTimeout(r, pause));
    else next = performance.now();
  }
  await write();
  console.log(`inference worker: stopped streaming after ${stats.inferenceRequests} requests (${stats.failedInferences} failed, ${stats.swaps.length} swaps)`);
}

/** The SDK's push-to-serving time plus the wait for the new model's first answer. */
function swapTiming(record: { version: string; via: string; swapMs: number }, firstAnswerMs: number): SwapTiming {
  return { version: record.version, via: record.via, loadToServeMs: record.swapMs, firstAnswerMs, swapMs: record.swapMs + firstAnswerMs, at: new Date().toISOString() };
}

process.once('SIGTERM', () => process.exit(0));
main().then(
  () => setInterval(() => {}, 60_000),
  (error: unknown) => {
    console.error(`inference worker failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
