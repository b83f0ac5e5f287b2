// The knowledge-base server over real HTTP on 127.0.0.1 with a real SQLite file: Sedna's routes,
// authentication, committed changes that survive a restart, and refused bad input that loses
// nothing already accepted.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KbIndex, KbQueryResult } from '../../src/api/kb-index.ts';
import { KbDatabase } from '../../src/kb/db.ts';
import { KbFiles } from '../../src/kb/files.ts';
import { kbMetrics } from '../../src/kb/metrics.ts';
import { KbServer } from '../../src/kb/server.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { MetricsServer } from '../../src/lib/net/metrics-server.ts';

const TOKEN = 'kb-test-token';

interface Running { server: KbServer; db: KbDatabase; url: string; metrics: ReturnType<typeof kbMetrics> }

function startKb(dir: string, maxUploadBytes = 1024): Promise<Running> {
  const db = new KbDatabase(join(dir, 'kb.sqlite3'));
  const metrics = kbMetrics(() => db.counts());
  const server = new KbServer({ db, files: new KbFiles(join(dir, 'files')), token: TOKEN, logger: silentLogger(), metrics, port: 0, maxUploadBytes, maxIndexBytes: 64 * 1024 });
  return server.start().then((port) => ({ server, db, metrics, url: `http://127.0.0.1:${port}/knowledgebase` }));
}

async function stopKb(kb: Running): Promise<void> {
  await kb.server.stop();
  kb.db.close();
}

const auth = { authorization: `Bearer ${TOKEN}` };

function index(round: number): KbIndex {
  const group = (entry: string, attr: Record<string, string>, samples: number) => ({
    entry,
    tasks: [{ entry, meta_attr: attr, samples: { sample_num: samples, data_url: `http://kb/samples/train_${entry}-r${round}.sample`, data_type: 'train' } }],
    samples: { sample_num: samples },
    model: { model: `http://kb/models/${entry}-r${round}.model`, result: { accuracy: 0.9 } },
  });
  return {
    seen_task: { extractor: { front_sunny: 0, front_rainy: 1 }, task_groups: [group('front_sunny', { camera: 'front', weather: 'sunny' }, 40), group('front_rainy', { camera: 'front', weather: 'rainy' }, 25)] },
    unseen_task: { extractor: null, task_groups: [] },
    create_time: String(round),
  };
}

async function postIndex(url: string, body: string): Promise<Response> {
  const form = new FormData();
  form.append('task', new Blob([body]), 'index.json');
  return fetch(`${url}/update`, { method: 'POST', headers: auth, body: form });
}

async function upload(url: string, name: string, bytes: Buffer): Promise<Response> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)]), name);
  return fetch(`${url}/file/upload`, { method: 'POST', headers: auth, body: form });
}

async function query(url: string): Promise<KbQueryResult> {
  const res = await fetch(`${url}/query`, { method: 'POST', headers: auth });
  assert.equal(res.status, 200);
  return (await res.json()) as KbQueryResult;
}

describe('knowledge-base server', () => {
  let dir: string;
  let kb: Running;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sedna-kb-'));
    kb = await startKb(dir);
  });
  after(async () => {
    await stopKb(kb);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses every route without the token', async () => {
    for (const [method, path] of [['POST', '/update'], ['POST', '/query'], ['GET', '/file/download?files=index.json'], ['POST', '/file/upload']] as const) {
      const res = await fetch(`${kb.url}${path}`, { method, headers: { authorization: 'Bearer wrong' } });
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.match(((await res.json()) as { detail: string }).detail, /KB_TOKEN/);
    }
  });

  it('records an index and answers query with tasks, attributes, models, sample counts and sample URLs', async () => {
    const res = await postIndex(kb.url, JSON.stringify(index(1)));
    assert.equal(res.status, 200);
    assert.equal(await res.json(), '/file/download?files=index.json&name=index.json');
    const result = await query(kb.url);
    assert.deepEqual(result.tasks.map((t) => [t.name, t.attributes, t.sampleNum, t.samples[0]!.dataUrl]), [
      ['front_sunny', { camera: 'front', weather: 'sunny' }, 40, 'http://kb/samples/train_front_sunny-r1.sample'],
      ['front_rainy', { camera: 'front', weather: 'rainy' }, 25, 'http://kb/samples/train_front_rainy-r1.sample'],
    ]);
    assert.deepEqual(result.groups.map((g) => [g.name, g.taskNum, g.sampleNum, g.models.map((m) => [m.modelUrl, m.isCurrent])]), [
      ['front_sunny', 1, 40, [['http://kb/models/front_sunny-r1.model', true]]],
      ['front_rainy', 1, 25, [['http://kb/models/front_rainy-r1.model', true]]],
    ]);
    const download = await fetch(`${kb.url}/file/download?files=index.json&name=index.json`, { headers: auth });
    assert.equal(download.status, 200);
    assert.deepEqual(await download.json(), index(1));
  });

  it('a second update keeps the old model as history, counts tasks once and adds the samples', async () => {
    assert.equal((await postIndex(kb.url, JSON.stringify(index(2)))).status, 200);
    const result = await query(kb.url);
    const sunny = result.groups.find((g) => g.name === 'front_sunny')!;
    assert.equal(sunny.taskNum, 1);
    assert.equal(sunny.sampleNum, 80);
    assert.deepEqual(sunny.models.map((m) => [m.modelUrl, m.isCurrent]), [['http://kb/models/front_sunny-r1.model', false], ['http://kb/models/front_sunny-r2.model', true]]);
    assert.equal(result.tasks.find((t) => t.name === 'front_sunny')!.sampleNum, 80);
  });

  it('counts a sample set once: an update sent again, or a group carried unchanged into the next round, adds nothing', async () => {
    const ownDir = mkdtempSync(join(tmpdir(), 'kb-counts-'));
    const own = await startKb(ownDir);
    try {
      for (const round of [1, 2, 2]) assert.equal((await postIndex(own.url, JSON.stringify(index(round)))).status, 200, `round ${round} (the second 2: a retry after a crash)`);
      // Round 3 trains front_rainy on 7 new samples; front_sunny is carried as round 2 left it.
      const round3 = index(3);
      const rainy = round3.seen_task.task_groups[1]!;
      round3.seen_task.task_groups = [index(2).seen_task.task_groups[0]!, { ...rainy, tasks: [{ ...rainy.tasks[0]!, samples: { ...rainy.tasks[0]!.samples, sample_num: 7 } }], samples: { sample_num: 57 } }];
      assert.equal((await postIndex(own.url, JSON.stringify(round3))).status, 200);
      const result = await query(own.url);
      // What the SDK's index says (the groups' running totals) and what the KB counts agree.
      assert.deepEqual(result.groups.map((g) => [g.name, g.sampleNum]), [['front_sunny', 80], ['front_rainy', 57]]);
      assert.deepEqual(result.tasks.map((t) => [t.name, t.sampleNum, t.samples.length]), [['front_sunny', 80, 2], ['front_rainy', 57, 3]]);
      assert.equal(own.db.counts().samples, 137);
    } finally {
      await stopKb(own);
      rmSync(ownDir, { recursive: true, force: true });
    }
  });

  it('refuses a malformed index with the field named, and keeps the accepted one', async () => {
    const broken = index(3) as unknown as { seen_task: { task_groups: Array<{ tasks: Array<{ samples: unknown }> }> } };
    broken.seen_task.task_groups[1]!.tasks[0]!.samples = { sample_num: -1 };
    for (const [body, field] of [
      ['\x80\x04\x95pickle', /not JSON.*not a Python pickle/],
      [JSON.stringify(broken), /seen_task\.task_groups\[1\]\.tasks\[0\]\.samples\.sample_num/],
      [JSON.stringify({ seen_task: { task_groups: [] } }), /unseen_task/],
    ] as const) {
      const res = await postIndex(kb.url, body);
      assert.equal(res.status, 400);
      assert.match(((await res.json()) as { detail: string }).detail, field);
    }
    const multipartWithoutTask = new FormData();
    multipartWithoutTask.append('other', 'x');
    const res = await fetch(`${kb.url}/update`, { method: 'POST', headers: auth, body: multipartWithoutTask });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { detail: string }).detail, /no field "task"/);
    const download = await fetch(`${kb.url}/file/download?files=index.json`, { headers: auth });
    assert.deepEqual(await download.json(), index(2));
  });

  it('update/status sets deploy flags, rewrites the index, refuses unknown groups and survives a restart', async () => {
    const bad = await fetch(`${kb.url}/update/status`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ status: 0, tasks: 'front_rainy,nowhere' }) });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { detail: string }).detail, /unknown task group\(s\) "nowhere"/);
    const badStatus = await fetch(`${kb.url}/update/status`, { method: 'POST', headers: auth, body: JSON.stringify({ status: 'no' }) });
    assert.equal(badStatus.status, 400);
    assert.match(((await badStatus.json()) as { detail: string }).detail, /^status:/);
    const ok = await fetch(`${kb.url}/update/status`, { method: 'POST', headers: auth, body: JSON.stringify({ status: 1, tasks: 'front_rainy' }) });
    assert.equal(ok.status, 200);
    await stopKb(kb);
    kb = await startKb(dir);
    const groups = (await query(kb.url)).groups;
    assert.deepEqual(groups.map((g) => [g.name, g.deploy]), [['front_sunny', false], ['front_rainy', true]]);
    const rewritten = (await (await fetch(`${kb.url}/file/download?files=index.json`, { headers: auth })).json()) as KbIndex;
    // Status 1 for front_rainy: the unlisted front_sunny keeps its name but serves the first group's model.
    assert.deepEqual(rewritten.seen_task.task_groups.map((g) => [g.entry, g.model.model]), [
      ['front_sunny', 'http://kb/models/front_sunny-r2.model'],
      ['front_rainy', 'http://kb/models/front_rainy-r2.model'],
    ]);
  });

  it('uploads and downloads files by plain name only', async () => {
    const res = await upload(kb.url, 'front_sunny.model', Buffer.from('weights-1'));
    assert.equal(res.status, 200);
    assert.equal(await res.json(), '/file/download?files=front_sunny.model&name=front_sunny.model');
    const got = await fetch(`${kb.url}/file/download?files=front_sunny.model&name=m.bin`, { headers: auth });
    assert.equal(got.status, 200);
    assert.equal(await got.text(), 'weights-1');
    assert.match(got.headers.get('content-disposition') ?? '', /m\.bin/);
    for (const name of ['../escape.model', '..', 'a/b.model', 'a\\b']) {
      const refused = await upload(kb.url, name, Buffer.from('x'));
      assert.equal(refused.status, 400, name);
      assert.match(((await refused.json()) as { detail: string }).detail, /^file: /);
    }
    assert.equal((await upload(kb.url, 'index.json', Buffer.from('{}'))).status, 400);
    for (const files of ['../kb.sqlite3', '/etc/passwd', '..', 'sub/../../kb.sqlite3']) {
      const refused = await fetch(`${kb.url}/file/download?files=${encodeURIComponent(files)}`, { headers: auth });
      assert.equal(refused.status, 400, files);
      assert.match(((await refused.json()) as { detail: string }).detail, /^files: .*leave the knowledge base's folder/);
    }
    const missing = await fetch(`${kb.url}/file/download?files=none.model`, { headers: auth });
    assert.equal(missing.status, 404);
    assert.deepEqual(readdirSync(join(dir, 'files')), ['front_sunny.model']);
    assert.ok(!readdirSync(dir).includes('escape.model'));
  });

  it('refuses an upload over the limit with 413 and keeps the earlier file of that name', async () => {
    const res = await upload(kb.url, 'front_sunny.model', Buffer.alloc(4096, 1));
    assert.equal(res.status, 413);
    assert.match(((await res.json()) as { detail: string }).detail, /limit of 1024 bytes/);
    const kept = await fetch(`${kb.url}/file/download?files=front_sunny.model`, { headers: auth });
    assert.equal(await kept.text(), 'weights-1');
    assert.deepEqual(readdirSync(join(dir, 'files')), ['front_sunny.model']);
  });

  it('serves sedna_kb_* metrics behind their own token', async () => {
    const metricsServer = new MetricsServer(kb.metrics.registry, 'metrics-token');
    const port = await metricsServer.start(0, '127.0.0.1');
    try {
      assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`)).status, 401);
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: 'Bearer metrics-token' } })).text();
      assert.match(text, /^sedna_kb_tasks 2$/m);
      assert.match(text, /^sedna_kb_task_groups 2$/m);
      assert.match(text, /^sedna_kb_models 4$/m);
      assert.match(text, /^sedna_kb_samples 130$/m);
      assert.match(text, /sedna_kb_requests_total\{route="\/query",code="200"\} \d+/);
    } finally {
      await metricsServer.stop();
    }
  });
});
