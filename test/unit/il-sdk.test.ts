// The incremental-learning worker SDK with real files and real loopback sockets: train and
// evaluate report Sedna's JSON to an LC endpoint; inference mines hard examples into the folder
// the YAML names; a deployed model arrives by Sedna's config poll (FakeClock) or by the LC's push,
// is loaded beside the serving one and swapped without a failed or waiting request; a model that
// fails to load leaves the old one serving and is reported with its cause.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { IncrementalLearning, type ServingModel } from '../../src/features/incrementallearning/sdk.ts';
import { FakeClock } from '../../src/lib/fake-clock.ts';
import { HotSwapSlot, PUSH_ENDPOINT_FILE, pushHotUpdate, readEndpoint, writeHotUpdateConfig } from '../../src/lib/hot-update/index.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { Threshold } from '../../src/lib/hem/index.ts';
import { LcClient } from '../../src/lib/lc-client.ts';
import { until } from '../helpers/wait.ts';

/** A model file: `{"bias": n}`; predict answers [x + bias, score]. A file without bias fails to load. */
interface ToyModel extends ServingModel<number, number[]> {
  disposed: boolean;
}
async function loadToy(path: string): Promise<ToyModel> {
  const { bias } = JSON.parse(await readFile(path, 'utf8')) as { bias?: number };
  if (typeof bias !== 'number') throw new Error(`${path} has no bias`);
  const model: ToyModel = { disposed: false, predict: (x) => [x + bias, x / 10], dispose: () => void (model.disposed = true) };
  return model;
}

interface Report {
  worker: string;
  body: Record<string, unknown>;
}

describe('IncrementalLearning SDK', () => {
  let dir: string;
  let lc: Server;
  let lcUrl: string;
  const reports: Report[] = [];

  before(async () => {
    lc = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        reports.push({ worker: req.url ?? '', body: JSON.parse(body) as Record<string, unknown> });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"Status":200,"Message":"ok"}');
      });
    });
    await new Promise<void>((r) => lc.listen(0, '127.0.0.1', r));
    lcUrl = `http://127.0.0.1:${(lc.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => lc.close(() => r())));
  beforeEach(() => {
    reports.length = 0;
    dir = mkdtempSync(join(tmpdir(), 'il-sdk-'));
  });

  const client = (worker: string): LcClient => new LcClient({ server: lcUrl, workerName: worker, namespace: 'default', ownerName: 'job', attempts: 1, logger: silentLogger() });
  const envOf = (extra: Record<string, string>): Record<string, string> => ({ LC_SERVER: lcUrl, JOB_NAME: 'job', NAMESPACE: 'default', ...extra });

  it('train saves under MODEL_URL and reports train/completed with the model and metrics as lists', async () => {
    const il = new IncrementalLearning({ env: envOf({ WORKER_NAME: 'train-worker-a', MODEL_URL: join(dir, 'out') }), lcClient: client('train-worker-a'), logger: silentLogger() });
    let saved = '';
    const info = await il.train({ train: (data: number[]) => ({ loss: data.length / 10, accuracy: [0.9, 0.8] }), save: (path) => void (saved = path) }, [1, 2, 3], undefined, { format: 'json' });
    assert.equal(saved, join(dir, 'out', 'model'));
    assert.deepEqual(info, { format: 'json', url: saved, metrics: { loss: [0.3], accuracy: [0.9, 0.8] } });
    assert.equal(reports.length, 1);
    assert.deepEqual(reports[0]!.body, { name: 'train-worker-a', namespace: 'default', ownerName: 'job', ownerKind: 'incrementallearningjob', kind: 'train', status: 'completed', results: [info] });
  });

  it('a metric that is not a number is an error naming it, reported as train/failed', async () => {
    const il = new IncrementalLearning({ env: envOf({ WORKER_NAME: 'train-worker-b', MODEL_URL: dir }), lcClient: client('train-worker-b'), logger: silentLogger() });
    await assert.rejects(il.train({ train: () => ({ accuracy: 'high' as unknown as number }), save: () => undefined }, []), /metric accuracy must be a finite number/);
    assert.equal(reports[0]!.body.status, 'failed');
    assert.match(String((reports[0]!.body.ownerInfo as { message: string }).message), /metric accuracy/);
  });

  it('evaluate scores MODEL_URLS in order (new model first) and reports eval/completed', async () => {
    const il = new IncrementalLearning({ env: envOf({ WORKER_NAME: 'eval-worker-a', MODEL_URLS: '/m/new.pb; ;/m/old.pb' }), lcClient: client('eval-worker-a'), logger: silentLogger() });
    const seen: string[] = [];
    const results = await il.evaluate({ evaluate: (_data: number[], path) => (seen.push(path), { precision: path.includes('new') ? 0.9 : 0.6 }) }, [1]);
    assert.deepEqual(seen, ['/m/new.pb', '/m/old.pb']);
    assert.deepEqual(results, [
      { format: 'pb', url: '/m/new.pb', metrics: { precision: [0.9] } },
      { format: 'pb', url: '/m/old.pb', metrics: { precision: [0.6] } },
    ]);
    assert.deepEqual(reports[0]!.body.results, results);
    // Under the embedded kubelet, each entry of MODEL_URLS is found through the mount table.
    const mounted = new IncrementalLearning({ env: envOf({ MODEL_URLS: '/home/data/m/new.pb;/home/data/m/old.pb', SEDNA_VOLUME_MOUNTS: JSON.stringify({ '/home/data/m': '/srv/models' }) }), report: false, logger: silentLogger() });
    const opened: string[] = [];
    const reported = await mounted.evaluate({ evaluate: (_data: number[], path) => (opened.push(path), { precision: 1 }) }, [1]);
    assert.deepEqual(opened, ['/srv/models/new.pb', '/srv/models/old.pb']);
    assert.deepEqual(reported.map((m) => m.url), ['/m/new.pb', '/m/old.pb'], 'reported as Sedna does: the data path prefix removed');
    assert.equal(reports[0]!.body.kind, 'eval');
  });

  it('inference mines hard examples into HE_SAVED_URL, whole files only', async () => {
    writeFileSync(join(dir, 'm.json'), '{"bias": 1}');
    const he = join(dir, 'he');
    const il = new IncrementalLearning<number, number[]>({
      env: envOf({ WORKER_NAME: 'inferworker-a', MODEL_URL: join(dir, 'm.json'), HE_SAVED_URL: he }),
      load: loadToy,
      hardExampleMining: { name: 'low-score', isHard: (r) => (r as number[])[1]! < 0.5 },
      report: false,
      logger: silentLogger(),
    });
    const answers = await Promise.all([1, 7, 3].map((x) => il.inference(x)));
    assert.deepEqual(answers.map(([raw, , hard]) => [raw[0], hard]), [[2, true], [8, false], [4, true]]);
    await il.flushHardExamples();
    const files = readdirSync(he).sort();
    assert.equal(files.length, 2);
    assert.ok(files.every((f) => f.endsWith('.json')), files.join());
    assert.deepEqual(files.map((f) => (JSON.parse(readFileSync(join(he, f), 'utf8')) as { data: number }).data), [1, 3]);
    assert.equal(il.counters.hardExamples, 2);
    await il.close();
  });

  it('HEM from HEM_NAME/HEM_PARAMETERS as the GM sets them', () => {
    const il = new IncrementalLearning({ env: envOf({ HEM_NAME: 'Threshold', HEM_PARAMETERS: '[{"key":"threshold","value":"0.3"}]' }), report: false, logger: silentLogger() });
    const hem = (il as unknown as { hem: Threshold }).hem;
    assert.ok(hem instanceof Threshold);
    assert.equal(hem.threshold, 0.3);
  });

  it('Sedna\'s poll: a new model_update_time swaps the model and reports deploy/completed', async () => {
    writeFileSync(join(dir, 'm.json'), '{"bias": 1}');
    const hot = join(dir, 'hot');
    const config = join(hot, 'model_config.json');
    const clock = new FakeClock();
    const il = new IncrementalLearning<number, number[]>({
      env: envOf({ WORKER_NAME: 'inferworker-b', MODEL_URL: join(dir, 'm.json'), MODEL_HOT_UPDATE: 'true', MODEL_HOT_UPDATE_CONFIG: config, MODEL_POLL_PERIOD_SECONDS: '5' }),
      load: loadToy,
      lcClient: client('inferworker-b'),
      push: false,
      clock,
      logger: silentLogger(),
    });
    await il.start();
    assert.equal(il.modelVersion, 'initial');
    assert.deepEqual((await il.inference(1))[0], [2, 0.1]);
    mkdirSync(hot, { recursive: true });
    writeFileSync(join(hot, 'v2.json'), '{"bias": 100}');
    await writeHotUpdateConfig(config, { modelPath: '/model-hot-update/v2.json', updateTime: 't2' });
    await clock.advance(4_000);
    assert.equal(il.modelVersion, 'initial', 'not before the poll period');
    await clock.advance(1_000);
    await until(() => il.modelVersion === 't2', 'the polled model serving');
    assert.deepEqual((await il.inference(1))[0], [101, 0.1]);
    await until(() => reports.length === 1, 'the deploy report');
    assert.deepEqual(reports[0]!.body, { name: 'inferworker-b', namespace: 'default', ownerName: 'job', ownerKind: 'incrementallearningjob', kind: 'deploy', status: 'completed' });
    await il.close();
    assert.equal(clock.pending, 0, 'no poll left behind');
  });

  it('the LC\'s push swaps at once; no request fails or waits while the new model loads', async () => {
    writeFileSync(join(dir, 'm.json'), '{"bias": 1}');
    const hot = join(dir, 'hot');
    const config = join(hot, 'model_config.json');
    let releaseLoad: () => void = () => undefined;
    let loading = false;
    const slowLoad = async (path: string): Promise<ToyModel> => {
      if (path.endsWith('v2.json')) {
        loading = true;
        await new Promise<void>((r) => (releaseLoad = r));
      }
      return loadToy(path);
    };
    const il = new IncrementalLearning<number, number[]>({
      env: envOf({ WORKER_NAME: 'inferworker-c', MODEL_URL: join(dir, 'm.json'), MODEL_HOT_UPDATE: 'true', MODEL_HOT_UPDATE_CONFIG: config, MODEL_POLL_PERIOD_SECONDS: '60' }),
      load: slowLoad,
      lcClient: client('inferworker-c'),
      clock: new FakeClock(),
      logger: silentLogger(),
    });
    await il.start();
    assert.equal(statSync(join(hot, PUSH_ENDPOINT_FILE)).mode & 0o777, 0o600, 'the endpoint file is private');
    writeFileSync(join(hot, 'v2.json'), '{"bias": 100}');
    const pushed = pushHotUpdate(hot, { modelPath: '/model-hot-update/v2.json', updateTime: 't2' });
    // While v2 loads, requests are answered by v1 without waiting.
    await until(() => loading, 'the load started');
    for (let i = 0; i < 20; i++) assert.deepEqual((await il.inference(i))[0], [i + 1, i / 10]);
    releaseLoad();
    const result = await pushed;
    assert.equal(result.pushed, true);
    assert.equal(il.modelVersion, 't2');
    assert.deepEqual((await il.inference(1))[0], [101, 0.1]);
    assert.equal(il.swapHistory.at(-1)?.via, 'push');
    await il.close();
    assert.equal(await readEndpoint(hot), undefined, 'the endpoint file is removed on close');
  });

  it('a push without the token is refused; a malformed one names the field', async () => {
    writeFileSync(join(dir, 'm.json'), '{"bias": 1}');
    const hot = join(dir, 'hot');
    const il = new IncrementalLearning<number, number[]>({
      env: envOf({ MODEL_URL: join(dir, 'm.json'), MODEL_HOT_UPDATE: 'true', MODEL_HOT_UPDATE_CONFIG: join(hot, 'model_config.json') }),
      load: loadToy,
      report: false,
      clock: new FakeClock(),
      logger: silentLogger(),
    });
    await il.start();
    const endpoint = (await readEndpoint(hot))!;
    const noToken = await fetch(endpoint.url, { method: 'POST', body: '{}' });
    assert.equal(noToken.status, 401);
    const malformed = await fetch(endpoint.url, { method: 'POST', headers: { authorization: `Bearer ${endpoint.token}` }, body: '{"model_config":{"model_path":"/x"}}' });
    assert.equal(malformed.status, 400);
    assert.match(((await malformed.json()) as { error: string }).error, /model_update_time/);
    assert.equal(il.modelVersion, 'initial');
    await il.close();
  });

  it('a deployed model that fails to load leaves the old one serving and reports deploy/failed with the cause', async () => {
    writeFileSync(join(dir, 'm.json'), '{"bias": 1}');
    const hot = join(dir, 'hot');
    const il = new IncrementalLearning<number, number[]>({
      env: envOf({ WORKER_NAME: 'inferworker-d', MODEL_URL: join(dir, 'm.json'), MODEL_HOT_UPDATE: 'true', MODEL_HOT_UPDATE_CONFIG: join(hot, 'model_config.json') }),
      load: loadToy,
      lcClient: client('inferworker-d'),
      clock: new FakeClock(),
      logger: silentLogger(),
    });
    await il.start();
    writeFileSync(join(hot, 'broken.json'), '{"weights": []}');
    const result = await pushHotUpdate(hot, { modelPath: '/model-hot-update/broken.json', updateTime: 't2' });
    assert.equal(result.pushed, false);
    assert.match((result as { reason: string }).reason, /422.*has no bias/);
    assert.equal(il.modelVersion, 'initial');
    assert.deepEqual((await il.inference(1))[0], [2, 0.1]);
    await until(() => reports.length === 1, 'the deploy report');
    assert.equal(reports[0]!.body.status, 'failed');
    assert.match(String((reports[0]!.body.ownerInfo as { message: string }).message), /has no bias/);
    // Fixed and deployed again (a new update time): it loads.
    writeFileSync(join(hot, 'fixed.json'), '{"bias": 5}');
    assert.equal((await pushHotUpdate(hot, { modelPath: '/model-hot-update/fixed.json', updateTime: 't3' })).pushed, true);
    assert.deepEqual((await il.inference(1))[0], [6, 0.1]);
    await il.close();
  });

  it('a worker restarted after a hot update serves the deployed model, not MODEL_URL', async () => {
    writeFileSync(join(dir, 'm.json'), '{"bias": 1}');
    const hot = join(dir, 'hot');
    const config = join(hot, 'model_config.json');
    writeFileSync(join(dir, 'v2.json'), '{"bias": 100}');
    await writeHotUpdateConfig(config, { modelPath: join(dir, 'v2.json'), updateTime: 't2' });
    const il = new IncrementalLearning<number, number[]>({
      env: envOf({ MODEL_URL: join(dir, 'm.json'), MODEL_HOT_UPDATE: 'true', MODEL_HOT_UPDATE_CONFIG: config }),
      load: loadToy,
      report: false,
      clock: new FakeClock(),
      logger: silentLogger(),
    });
    assert.deepEqual((await il.inference(1))[0], [101, 0.1]);
    assert.equal(il.modelVersion, 't2');
    await il.close();
  });

  it('HotSwapSlot: requests on the old model finish on it; it is disposed only after them', async () => {
    const slot = new HotSwapSlot<ToyModel>();
    writeFileSync(join(dir, 'a.json'), '{"bias": 1}');
    writeFileSync(join(dir, 'b.json'), '{"bias": 2}');
    await slot.swap('a', () => loadToy(join(dir, 'a.json')));
    let finish: () => void = () => undefined;
    let oldModel: ToyModel | undefined;
    const slow = slot.use(async (m) => {
      oldModel = m;
      await new Promise<void>((r) => (finish = r));
      return m.predict(1);
    });
    await slot.swap('b', () => loadToy(join(dir, 'b.json')));
    assert.equal(oldModel?.disposed, false, 'not disposed under a running request');
    assert.deepEqual(await slot.use((m) => m.predict(1)), [3, 0.1]);
    finish();
    assert.deepEqual(await slow, [2, 0.1]);
    assert.equal(oldModel?.disposed, true);
    await assert.rejects(slot.swap('c', () => loadToy(join(dir, 'missing.json'))), /ENOENT/);
    assert.equal(slot.version, 'b');
    await slot.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
