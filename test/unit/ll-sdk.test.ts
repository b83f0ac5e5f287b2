// The LifelongLearning SDK against a real knowledge-base server (HTTP on 127.0.0.1, SQLite file,
// token): train records tasks, models and sample URLs in the KB; inference on the edge saves
// unseen samples to UT_SAVED_URL; update learns the new task; evaluate scores and filters; the
// edge takes the new KB by hot update. The task model is a real, tiny nearest-centroid classifier
// (so the test runs in seconds); the scenario uses TensorFlow.js.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KbClient, KbError } from '../../src/features/lifelonglearning/kb-client.ts';
import { readSamplesCsv } from '../../src/features/lifelonglearning/samples-csv.ts';
import type { Samples } from '../../src/features/lifelonglearning/samples.ts';
import { LifelongLearning, type TaskEstimator, type TaskEstimatorFactory } from '../../src/features/lifelonglearning/sdk.ts';
import { KbDatabase } from '../../src/kb/db.ts';
import { KbFiles } from '../../src/kb/files.ts';
import { KbServer } from '../../src/kb/server.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { seededRandom } from '../../src/lib/random.ts';

/** Class means; predicts the nearest (scores = −distance). */
class NearestCentroid implements TaskEstimator {
  constructor(private centroids: number[][] = []) {}
  train(samples: Samples): Promise<Record<string, number>> {
    const classes = [...new Set(samples.y)].sort((a, b) => a - b);
    const width = samples.columns.length;
    const next = this.centroids.map((c) => [...c]);
    for (const label of classes) {
      const members = samples.x.filter((_, i) => samples.y![i] === label);
      next[label] = Array.from({ length: width }, (_, j) => members.reduce((s, r) => s + r[j]!, 0) / members.length);
    }
    this.centroids = next;
    return Promise.resolve({ classes: classes.length });
  }
  predict(samples: Samples): Promise<number[][]> {
    return Promise.resolve(samples.x.map((row) => this.centroids.map((c) => (c ? -c.reduce((s, v, j) => s + (v - row[j]!) ** 2, 0) : -Infinity))));
  }
  async save(path: string): Promise<void> {
    await writeFile(path, JSON.stringify(this.centroids));
  }
}

const estimator: TaskEstimatorFactory = {
  create: () => Promise.resolve(new NearestCentroid()),
  load: async (path) => new NearestCentroid(JSON.parse(await readFile(path, 'utf8')) as number[][]),
};

/** Camera c shifts both features by offset[c]; class k sits at (k, −k) before the shift. */
const offsets: Record<string, number> = { studio: 0, dusk: 20, night: 60 };
function cameraRows(camera: string, perClass: number, seed: number, withCamera = true): Samples {
  const random = seededRandom(seed);
  const x: Float32Array[] = [];
  const y: number[] = [];
  for (let k = 0; k < 3; k++) for (let i = 0; i < perClass; i++) {
    x.push(Float32Array.of(k * 4 + offsets[camera]! + random() - 0.5, -k * 4 + offsets[camera]! + random() - 0.5));
    y.push(k);
  }
  return { columns: ['f1', 'f2'], x, y, meta: x.map((_, i): Record<string, string> => (withCamera ? { camera, id: `${camera}-${seed}-${i}` } : { id: `${camera}-${seed}-${i}` })), dataType: 'train' };
}
const join2 = (...parts: Samples[]): Samples => ({ columns: parts[0]!.columns, x: parts.flatMap((p) => p.x), y: parts.flatMap((p) => p.y!), meta: parts.flatMap((p) => p.meta), dataType: 'train' });

describe('LifelongLearning with a real knowledge base', () => {
  let dir: string;
  let db: KbDatabase;
  let server: KbServer;
  let client: KbClient;
  const token = 'll-sdk-test-token';
  const definition = { method: 'TaskDefinitionByDataAttr', param: { attribute: ['camera'] } };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'll-sdk-'));
    db = new KbDatabase(join(dir, 'kb.sqlite3'));
    server = new KbServer({ db, files: new KbFiles(join(dir, 'files')), token, logger: silentLogger(), port: 0 });
    client = new KbClient({ server: `http://127.0.0.1:${await server.start()}`, token, retryDelayMs: 10 });
  });
  after(async () => {
    await server.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('train → inference (unseen saved) → update → evaluate → hot update', async () => {
    const cloudEnv = { OUTPUT_URL: join(dir, 'cloud') };
    const cloud = new LifelongLearning({ estimator, kb: client, lc: null, env: cloudEnv, taskDefinition: definition });
    const index = await cloud.train(join2(cameraRows('studio', 20, 1), cameraRows('dusk', 20, 2)), join2(cameraRows('studio', 10, 3), cameraRows('dusk', 10, 4)));
    assert.deepEqual(index.seen_task.task_groups.map((g) => g.entry), ['dusk', 'studio']);
    assert.ok(index.unseen_detector && Number.isFinite(index.unseen_detector.threshold));
    assert.ok(index.seen_task.task_groups.every((g) => client.serves(g.model.model) && client.serves(g.tasks[0]!.samples.data_url!)), 'models and samples were uploaded to the KB');
    const stored = await client.query();
    assert.deepEqual(stored.tasks.map((t) => [t.name, t.sampleNum]).sort(), [['dusk', 60], ['studio', 60]]);

    const unseenDir = join(dir, 'unseen');
    const edge = new LifelongLearning({ estimator, kb: client, lc: null, taskDefinition: definition, env: { MODEL_URLS: `${client.base}/file/download?files=index.json&name=index.json`, edge_output_url: join(dir, 'edge'), unseen_save_url: unseenDir, MODEL_POLL_PERIOD_SECONDS: '3600' } });
    const stream = join2(cameraRows('studio', 5, 5, false), cameraRows('night', 5, 6, false));
    const first = await edge.inference(stream);
    assert.deepEqual(first.isUnseen, Array.from({ length: 30 }, (_, i) => i >= 15));
    assert.deepEqual(first.predictions.slice(0, 15), stream.y!.slice(0, 15));
    assert.ok(first.predictions.slice(15).every((p) => p === null));
    const saved = readdirSync(unseenDir);
    assert.equal(saved.length, 1);
    const unseen = readSamplesCsv(join(unseenDir, saved[0]!));
    assert.equal(unseen.x.length, 15);
    const byAttr = await edge.inference(cameraRows('night', 2, 7));
    assert.ok(byAttr.isUnseen.every(Boolean), 'a camera the KB has no task for is unseen by attribute too');

    const labelled: Samples = { ...unseen, y: unseen.meta.map((m) => Number(m.id!.split('-')[2]) >= 10 ? 2 : Number(m.id!.split('-')[2]) >= 5 ? 1 : 0), meta: unseen.meta.map((m) => ({ ...m, camera: 'night' })) };
    const update = new LifelongLearning({ estimator, kb: client, lc: null, env: { ...cloudEnv, HAS_COMPLETED_INITIAL_TRAINING: 'true' }, taskDefinition: definition });
    // The labelled samples include 3 of a known camera (studio goes on training on them).
    const updated = await update.train(join2(labelled, cameraRows('studio', 1, 13)), join2(cameraRows('night', 5, 8), cameraRows('studio', 5, 14)));
    assert.deepEqual(updated.seen_task.task_groups.map((g) => g.entry), ['dusk', 'studio', 'night']);
    assert.equal(updated.round, 2);
    // The SDK's running totals and the KB's counts agree: studio 60 + 3, dusk carried unchanged.
    const totals = updated.seen_task.task_groups.map((g) => [g.entry, g.samples.sample_num]);
    assert.deepEqual(totals, [['dusk', 60], ['studio', 63], ['night', 15]]);
    const counted = await client.query();
    assert.deepEqual(counted.groups.map((g) => [g.name, g.sampleNum]), totals);
    assert.deepEqual(counted.tasks.map((t) => [t.name, t.sampleNum]), totals);
    const evaluation = await update.evaluate(join2(cameraRows('studio', 5, 9), cameraRows('dusk', 5, 10), cameraRows('night', 5, 11)));
    assert.deepEqual(evaluation.tasks.map((t) => [t.entry, t.scores.accuracy]).sort(), [['dusk', 1], ['night', 1], ['studio', 1]]);
    assert.deepEqual(evaluation.dropped, []);
    assert.ok((await client.query()).groups.every((g) => g.deploy), 'the kept task groups are marked deployed in the KB');

    const old = edge.deployedVersion;
    assert.equal(await edge.deployKnowledgeBase(), true);
    assert.notEqual(edge.deployedVersion, old);
    assert.equal(await edge.deployKnowledgeBase(), false, 'the same version is not deployed twice');
    const served = await edge.inference(cameraRows('night', 5, 12, false));
    // The detector flags about 5% of a known task's samples (the 0.95 validation quantile).
    assert.ok(served.isUnseen.filter(Boolean).length <= 3, `after the hot update the new camera is a known task: ${JSON.stringify(served.isUnseen)}`);
    const answered = served.tasks.flatMap((t, i) => (t === null ? [] : [[t, served.predictions[i]!, cameraRows('night', 5, 12).y![i]!] as const]));
    assert.ok(answered.every(([task, predicted, truth]) => task === 'night' && predicted === truth));
    edge.dispose();
  });

  it('evaluation judges a task only on enough held-out rows: a few wrong ones do not drop a known task', async () => {
    const env = { OUTPUT_URL: join(dir, 'cloud') };
    const wrong = cameraRows('dusk', 1, 15);
    wrong.y = wrong.y!.map((y) => (y + 1) % 3);
    const rows = join2(cameraRows('studio', 5, 16), wrong);
    const lenient = await new LifelongLearning({ estimator, kb: client, lc: null, env, taskDefinition: definition }).evaluate(rows);
    assert.deepEqual(lenient.tasks.map((t) => t.entry), ['studio'], 'dusk has 3 rows, fewer than MIN_EVAL_SAMPLE (10): not judged');
    assert.deepEqual(lenient.dropped, []);
    const strict = await new LifelongLearning({ estimator, kb: client, lc: null, env: { ...env, MIN_EVAL_SAMPLE: '3' }, taskDefinition: definition }).evaluate(rows);
    assert.deepEqual(strict.dropped, ['dusk'], 'judged on its 3 rows, all wrong: dropped');
    assert.equal((await client.query()).groups.find((g) => g.name === 'dusk')!.deploy, false);
  });

  it('a wrong token and a KB that is down are clear errors; a missing index is named', async () => {
    const wrong = new KbClient({ server: client.base.replace(/\/knowledgebase$/, ''), token: 'nope' });
    await assert.rejects(wrong.query(), (e: Error) => e instanceof KbError && e.status === 401 && /token/.test(e.message));
    const down = new KbClient({ server: 'http://127.0.0.1:9', attempts: 2, retryDelayMs: 5 });
    await assert.rejects(down.query(), (e: Error) => e instanceof KbError && /unreachable/.test(e.message));
    const edge = new LifelongLearning({ estimator, kb: null, lc: null, env: { MODEL_URLS: join(dir, 'missing', 'index.json'), edge_output_url: join(dir, 'edge2') } });
    await assert.rejects(edge.inference(cameraRows('studio', 1, 1)), /index .*no such file/);
    assert.equal(existsSync(join(dir, 'edge2', 'index.json')), false);
  });
});
