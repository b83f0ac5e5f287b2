// Benchmark of the joint-inference worker SDK, each figure against a baseline run in this process:
// - framework overhead per image: JointInference.inference (CrossEntropy mining, nothing
//   offloaded) against calling the same edge model directly, on the example's real edge model and
//   real Fashion-MNIST test images; the two run interleaved in rounds so drift hits both alike.
//   Target: 5% or less.
// - offload round trip on loopback without model time: CloudClient → BigModelService whose model
//   answers at once, against the same JSON POST to a trivial node:http server. Target: p50 ≤ 2 ms.
//
//   npm run bench:joint-inference        (BENCH_JI_IMAGES, BENCH_JI_ROUNDS, BENCH_JI_REQUESTS)
import { createServer, request, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ModelEstimator } from '../../src/lib/estimator.ts';
import { CrossEntropy } from '../../src/lib/hem/index.ts';
import { JointInference } from '../../src/features/jointinference/worker.ts';
import { BigModelService } from '../../src/features/jointinference/big-model-service.ts';
import { CloudClient } from '../../src/features/jointinference/cloud-client.ts';
import { workerContext } from '../../src/lib/context.ts';
import { loadFashionMnist } from '../../examples/joint-inference/fashion-mnist.ts';
import { median, ms, now, percentile, ratio, verdict } from '../apiserver/stats.ts';

/** Microseconds with two decimals: a small model's per-image times are tens of µs. */
const micros = (milliseconds: number): string => `${(milliseconds * 1000).toFixed(2)} µs`;

const EXAMPLE_DIR = resolve(import.meta.dirname, '../../examples/joint-inference');
const IMAGES = Number(process.env.BENCH_JI_IMAGES ?? 2000);
const ROUNDS = Number(process.env.BENCH_JI_ROUNDS ?? 5);
const REQUESTS = Number(process.env.BENCH_JI_REQUESTS ?? 3000);
const TARGET_OVERHEAD = 0.05;
const TARGET_RTT_P50_MS = 2;

const log = (line: string): void => void process.stdout.write(`  ${line}\n`);

async function overheadFigures(): Promise<{ direct: number; framework: number; overhead: number }> {
  const manifest = JSON.parse(readFileSync(join(EXAMPLE_DIR, 'models/manifest.json'), 'utf8')) as { edge: { inputShape: (number | null)[] } };
  const estimator = await ModelEstimator.load(join(EXAMPLE_DIR, 'models/edge'), manifest.edge.inputShape.slice(1) as number[]);
  const test = await loadFashionMnist('test');
  const images = Array.from({ length: Math.min(IMAGES, test.count) }, (_, i) => Array.from(test.images.subarray(i * 784, (i + 1) * 784)));
  // Threshold 0: the miner computes the entropy of every answer and finds nothing hard, so the
  // difference to the direct call is the framework's own work (mining, counters, the tuple).
  const ji = new JointInference<number[], number[]>({
    estimator,
    hardExampleMining: new CrossEntropy(0),
    context: workerContext({ BIG_MODEL_IP: '127.0.0.1' }),
    report: false,
  });
  const timeDirect = async (): Promise<number> => {
    const start = now();
    for (const x of images) await estimator.predict(x);
    return (now() - start) / images.length;
  };
  const timeFramework = async (): Promise<number> => {
    const start = now();
    for (const x of images) await ji.inference(x);
    return (now() - start) / images.length;
  };
  await timeDirect();
  await timeFramework();
  const direct: number[] = [];
  const framework: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    direct.push(await timeDirect());
    framework.push(await timeFramework());
  }
  ji.close();
  const d = median(direct);
  const f = median(framework);
  log(`per image over ${images.length} images × ${ROUNDS} rounds (median of rounds): direct ${micros(d)}, JointInference ${micros(f)}`);
  return { direct: d, framework: f, overhead: (f - d) / d };
}

async function roundTrips(send: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 200; i++) await send();
  const samples: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const start = now();
    await send();
    samples.push(now() - start);
  }
  return samples;
}

async function offloadFigures(): Promise<{ p50: number; p99: number; baseP50: number; baseP99: number }> {
  const image = Array.from({ length: 784 }, (_, i) => Math.round(((i * 37) % 255) / 255 * 1e4) / 1e4);
  const answer = Array.from({ length: 10 }, (_, i) => (i === 3 ? 0.91 : 0.01));
  const service = new BigModelService<number[], number[]>({
    estimator: { predict: () => answer },
    context: workerContext({ SERVICE_NAME: 'bench' }),
    token: 'bench-token',
    port: 0,
  });
  const port = await service.start();
  const cloud = new CloudClient({ host: '127.0.0.1', port, jobName: 'sedna', token: 'bench-token', timeoutMs: 5000 });
  const sedna = await roundTrips(() => cloud.predict(image));

  const body = JSON.stringify({ data: image, post_process: null });
  const reply = JSON.stringify({ result: answer });
  const trivial = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(reply));
  });
  await new Promise<void>((r) => trivial.listen(0, '127.0.0.1', r));
  const agent = new Agent({ keepAlive: true });
  const trivialPort = (trivial.address() as AddressInfo).port;
  const post = (): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: trivialPort, method: 'POST', path: '/', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
      });
      req.on('error', reject);
      req.end(body);
    });
  const baseline = await roundTrips(post);
  cloud.close();
  agent.destroy();
  await service.stop();
  await new Promise<void>((r) => trivial.close(() => r()));
  log(`offload round trip, ${REQUESTS} sequential requests of one 784-pixel image: p50 ${ms(percentile(sedna, 50))} ms, p99 ${ms(percentile(sedna, 99))} ms`);
  log(`baseline JSON POST to a trivial node:http server: p50 ${ms(percentile(baseline, 50))} ms, p99 ${ms(percentile(baseline, 99))} ms`);
  return { p50: percentile(sedna, 50), p99: percentile(sedna, 99), baseP50: percentile(baseline, 50), baseP99: percentile(baseline, 99) };
}

async function main(): Promise<void> {
  process.stdout.write('bench/joint-inference\n');
  const o = await overheadFigures();
  const r = await offloadFigures();
  process.stdout.write('\n');
  process.stdout.write(
    `ji framework overhead per image: ${(o.overhead * 100).toFixed(2)}% (JointInference ${micros(o.framework)} vs the same edge model called directly ${micros(o.direct)}, ratio ${ratio(o.framework / o.direct)}; target ≤ ${TARGET_OVERHEAD * 100}%: ${verdict(o.overhead <= TARGET_OVERHEAD)})\n`,
  );
  process.stdout.write(
    `ji offload round trip on loopback, no model time: p50 ${ms(r.p50)} ms, p99 ${ms(r.p99)} ms (trivial node:http JSON POST p50 ${ms(r.baseP50)} ms, ratio ${ratio(r.p50 / r.baseP50)}; target p50 ≤ ${TARGET_RTT_P50_MS} ms: ${verdict(r.p50 <= TARGET_RTT_P50_MS)})\n`,
  );
}

await main();
