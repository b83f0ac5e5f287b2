// The LocalController end to end over real sockets, with an EdgeHub in the test as the GM: worker
// reports posted to the LC's HTTP API reach the hub as Sedna's upstream messages; downstream
// objects land in the LC; the worker API's answers for bad requests; and the durable outbox —
// 1,000 reports posted while the hub is down, with the LC process killed and restarted on the same
// data directory in between, all reach the hub exactly once after it returns, in order per resource.
import { loadEdgeFeatures } from '../../src/features/registry.ts';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, type TestContext } from 'node:test';
import { Registry } from 'prom-client';
import type { EdgeMessage } from '../../src/api/edge-protocol.ts';
import { EdgeHub, StaticNodeTokens } from '../../src/edgelink/index.ts';
import { LcDatabase } from '../../src/lc/db.ts';
import { LocalController, type LocalControllerOptions } from '../../src/lc/lc.ts';
import { SqliteOutbox } from '../../src/lc/outbox.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { until } from '../helpers/wait.ts';

const NODE = 'edge-1';
const TOKEN = 'token-of-edge-1';
const WORKER_TOKEN = 'worker-secret';
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// ---------------------------------------------------------------------------------------------
// helpers

type Defer = (cleanup: () => unknown) => void;

function cleanups(t: TestContext): Defer {
  const stack: (() => unknown)[] = [];
  t.after(async () => {
    for (const cleanup of stack.reverse()) await cleanup();
  });
  return (cleanup) => void stack.push(cleanup);
}

function tempDir(defer: Defer): string {
  const dir = mkdtempSync(join(tmpdir(), 'lc-relay-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Received {
  node: string;
  message: EdgeMessage;
}

/** A hub as the GM, recording what reaches its handlers. */
async function startHub(defer: Defer, port = 0, onMessage?: (r: Received) => Promise<void> | void): Promise<{ hub: EdgeHub; received: Received[] }> {
  const hub = new EdgeHub({ tokens: new StaticNodeTokens({ [NODE]: TOKEN }), port, registry: new Registry(), logger: silentLogger(), heartbeat: { intervalMs: 500, timeoutMs: 5_000 } });
  const received: Received[] = [];
  for (const kind of ['federatedlearningjob', 'jointinferenceservice', 'incrementallearningjob', 'dataset']) {
    hub.onMessage(kind, async (node, message) => {
      received.push({ node, message });
      await onMessage?.({ node, message });
    });
  }
  await hub.start();
  let stopped = false;
  const stop = hub.stop.bind(hub);
  hub.stop = async () => {
    if (stopped) return;
    stopped = true;
    await stop();
  };
  defer(() => hub.stop());
  return { hub, received };
}

async function startLc(defer: Defer, hubPort: number, dataDir: string, options: Partial<LocalControllerOptions> = {}): Promise<LocalController> {
  const lc = new LocalController({
    nodeName: NODE,
    features: await loadEdgeFeatures(),
    gmUrl: `ws://127.0.0.1:${hubPort}/`,
    token: TOKEN,
    dataDir,
    port: 0,
    reconnect: { initialDelayMs: 10, maxDelayMs: 100 },
    heartbeat: { intervalMs: 500, timeoutMs: 5_000 },
    datasetPollMs: 100,
    logger: silentLogger(),
    ...options,
  });
  await lc.start();
  defer(() => lc.stop());
  return lc;
}


interface Reply {
  status: number;
  body: { Status: number; Message: string };
}

async function post(port: number, worker: string, body: unknown, init: { headers?: Record<string, string>; raw?: string; host?: string } = {}): Promise<Reply> {
  const res = await fetch(`http://${init.host ?? '127.0.0.1'}:${port}/sedna/workers/${encodeURIComponent(worker)}/info`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...init.headers },
    body: init.raw ?? JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Reply['body'] };
}

function report(seq: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'trainworker-abcde',
    namespace: 'default',
    ownerName: `job-${seq % 4}`,
    ownerKind: 'federatedlearningjob',
    ownerInfo: { seq, currentRound: seq, updateTime: '2024-01-01T00:00:00Z' },
    kind: 'train',
    status: 'running',
    results: [{ format: 'pb', url: `/output/${seq}/model.pb`, metrics: {} }],
    ...overrides,
  };
}

const seqOf = (r: Received): number => ((r.message.content as { output: { ownerInfo: { seq: number } } }).output.ownerInfo.seq);

/** `sedna lc` as a child process; resolves with the worker API port once it prints it. */
async function spawnLc(defer: Defer, hubPort: number, dataDir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'lc', '--node', NODE, '--gm', `127.0.0.1:${hubPort}`, '--token', TOKEN, '--port', '0', '--data-dir', dataDir, '--reconnect-max', '100'],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SEDNA_LOG_LEVEL: 'warn' } },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  defer(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /worker API listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`sedna lc exited with ${code}: ${stderr}`)));
  });
  return { child, port };
}

async function killed(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await exited;
}

// ---------------------------------------------------------------------------------------------

describe('LocalController relay', () => {
  it('relays worker reports upstream as Sedna does, and keeps downstream objects', async (t) => {
    const defer = cleanups(t);
    const dir = tempDir(defer);
    const { hub, received } = await startHub(defer);
    const lc = await startLc(defer, hub.port, join(dir, 'lc'));
    await until(() => hub.connectedNodes().includes(NODE), 'the LC to connect');

    // FL: results become output.models.
    const fl = await post(lc.port, 'trainworker-abcde', report(7));
    assert.deepEqual(fl, { status: 200, body: { Status: 200, Message: 'OK' } });
    await until(() => received.length === 1, 'the FL report');
    assert.equal(received[0]?.node, NODE);
    assert.deepEqual(received[0]?.message, {
      header: { namespace: 'default', resourceKind: 'federatedlearningjob', resourceName: 'job-3', operation: 'status' },
      content: { phase: 'train', status: 'running', output: { models: [{ format: 'pb', url: '/output/7/model.pb', metrics: {} }], ownerInfo: { seq: 7, currentRound: 7, updateTime: '2024-01-01T00:00:00Z' } } },
    });

    // JI: models null, ownerInfo relayed.
    const ownerInfo = { inferenceNumber: 10, hardExampleNumber: 2, uploadCloudRatio: 0.2 };
    assert.equal((await post(lc.port, 'edgeworker-x', { name: 'edgeworker-x', namespace: 'ns', ownerName: 'ji', ownerKind: 'jointinferenceservice', ownerInfo, kind: 'inference', status: 'running', results: [] })).status, 200);
    await until(() => received.length === 2, 'the JI report');
    assert.deepEqual(received[1]?.message.content, { phase: 'inference', status: 'running', output: { models: null, ownerInfo } });

    // IL: dropped while the job is unknown here; relayed under the job's kind once the GM sent it.
    const il = { name: 'train-worker-q', namespace: 'default', ownerName: 'il', ownerKind: 'incrementallearningjob', kind: 'train', status: 'completed', results: [{ format: 'pb', url: '/m.pb' }] };
    assert.equal((await post(lc.port, 'train-worker-q', il)).status, 200);
    await hub.send(NODE, { header: { namespace: 'default', resourceKind: 'incrementallearningjob', resourceName: 'il', operation: 'insert' }, content: { kind: 'IncrementalLearningJob', metadata: { name: 'il', namespace: 'default' }, spec: { dataset: { name: 'ds' } } } });
    await until(() => lc.database?.getResource('default/incrementallearningjob/il') !== undefined, 'the job to be stored');
    assert.equal((await post(lc.port, 'train-worker-q', il)).status, 200);
    await until(() => received.length === 3, 'the IL report');
    assert.deepEqual(received[2]?.message, {
      header: { namespace: 'default', resourceKind: 'IncrementalLearningJob', resourceName: 'il', operation: 'status' },
      content: { phase: 'train', status: 'completed', output: { models: [{ format: 'pb', url: '/m.pb' }], ownerInfo: null } },
    });

    // Dataset: the GM sends it, the LC counts the index and reports; appended samples are reported.
    const index = join(dir, 'train.txt');
    writeFileSync(index, 'a.jpg 1\nb.jpg 0\nc.jpg 1\n');
    await hub.send(NODE, { header: { namespace: 'default', resourceKind: 'dataset', resourceName: 'ds', operation: 'insert' }, content: { kind: 'Dataset', metadata: { name: 'ds', namespace: 'default' }, spec: { url: index, format: 'txt', nodeName: NODE } } });
    await until(() => received.length === 4, 'the dataset report');
    assert.deepEqual(received[3]?.message, { header: { namespace: 'default', resourceKind: 'Dataset', resourceName: 'ds', operation: 'status' }, content: { numberOfSamples: 3 } });
    writeFileSync(index, 'a.jpg 1\nb.jpg 0\nc.jpg 1\nd.jpg 0\n');
    await until(() => received.length === 5, 'the report of the appended sample');
    assert.deepEqual(received[4]?.message.content, { numberOfSamples: 4 });

    // Delete: the dataset and the job leave the database.
    await hub.send(NODE, { header: { namespace: 'default', resourceKind: 'dataset', resourceName: 'ds', operation: 'delete' }, content: { kind: 'Dataset', metadata: { name: 'ds', namespace: 'default' } } });
    await until(() => lc.database?.getResource('default/dataset/ds') === undefined, 'the dataset to be deleted');
    await until(() => lc.pending === 0, 'every report to be acknowledged');
  });

  it('refuses (409) a report naming the uid of a deleted job once it holds the new job of that name, and relays the new job\'s', async (t) => {
    const defer = cleanups(t);
    const dir = tempDir(defer);
    const { hub, received } = await startHub(defer);
    const lc = await startLc(defer, hub.port, join(dir, 'lc'));
    await until(() => hub.connectedNodes().includes(NODE), 'the LC to connect');
    const job = (uid: string) => ({ kind: 'FederatedLearningJob', metadata: { name: 'job-1', namespace: 'default', uid }, spec: {} });
    await hub.send(NODE, { header: { namespace: 'default', resourceKind: 'federatedlearningjob', resourceName: 'job-1', operation: 'insert' }, content: job('uid-new') });
    await until(() => lc.database?.getResource('default/federatedlearningjob/job-1')?.objectMeta.uid === 'uid-new', 'the new job to be stored');
    const stale = await post(lc.port, 'trainworker-abcde', report(5, { ownerUid: 'uid-old' }));
    assert.equal(stale.status, 409);
    assert.match(stale.body.Message, /federatedlearningjob default\/job-1 uid uid-old no longer exists \(the job of that name is uid uid-new\)/);
    assert.equal((await post(lc.port, 'trainworker-abcde', report(9, { ownerUid: 'uid-new' }))).status, 200);
    await until(() => received.length === 1, 'the new job\'s report');
    assert.equal(seqOf(received[0]!), 9, 'only the new job\'s report went up');
    assert.equal((received[0]!.message.content as { ownerUid?: string }).ownerUid, 'uid-new', 'with its uid, for the GM to check');
  });

  it('answers bad requests with the reason', async (t) => {
    const defer = cleanups(t);
    const dir = tempDir(defer);
    const { hub, received } = await startHub(defer);
    const lc = await startLc(defer, hub.port, join(dir, 'lc'));

    const malformed = await post(lc.port, 'w', undefined, { raw: '{"name": "w",' });
    assert.equal(malformed.status, 400);
    assert.match(malformed.body.Message, /^read worker\(name=w\) message body failed, error: /);
    assert.equal(malformed.body.Status, 400);

    const mismatch = await post(lc.port, 'w', report(1, { name: 'other' }));
    assert.deepEqual(mismatch, { status: 400, body: { Status: 400, Message: 'worker name(name=w) in the api is different from that(name=other) in the message body' } });

    const wrongType = await post(lc.port, 'trainworker-abcde', report(1, { ownerInfo: [1] }));
    assert.equal(wrongType.status, 400);
    assert.match(wrongType.body.Message, /ownerInfo must be an object/);

    const notObject = await post(lc.port, 'w', [1, 2]);
    assert.equal(notObject.status, 400);

    const huge = await post(lc.port, 'trainworker-abcde', report(1, { ownerInfo: { blob: 'x'.repeat(5 * 1024 * 1024) } }));
    assert.equal(huge.status, 413);
    assert.match(huge.body.Message, /exceeds the limit of 4194304 bytes/);

    const text = await post(lc.port, 'trainworker-abcde', report(1), { headers: { 'Content-Type': 'text/plain' } });
    assert.equal(text.status, 415);

    const xmlOnly = await post(lc.port, 'trainworker-abcde', report(1), { headers: { Accept: 'application/xml' } });
    assert.equal(xmlOnly.status, 406);

    const res404 = await fetch(`http://127.0.0.1:${lc.port}/sedna/workers/w/status`, { method: 'POST' });
    assert.equal(res404.status, 404);
    assert.equal(((await res404.json()) as { Status: number }).Status, 404);
    const res405 = await fetch(`http://127.0.0.1:${lc.port}/sedna/workers/w/info`);
    assert.equal(res405.status, 405);
    await res405.body?.cancel();

    // The server still works, and nothing bad went upstream.
    assert.equal((await post(lc.port, 'trainworker-abcde', report(2))).status, 200);
    await until(() => received.length === 1, 'the good report');
    assert.equal(seqOf(received[0] as Received), 2);
  });

  it('refuses reports with 503 while too many wait for the GM, and accepts them again once it catches up', async (t) => {
    const defer = cleanups(t);
    const dir = tempDir(defer);
    const { hub, received } = await startHub(defer);
    const hubPort = hub.port;
    await hub.stop();
    const lc = await startLc(defer, hubPort, join(dir, 'lc'), { maxPendingMessages: 3 });
    for (let seq = 1; seq <= 3; seq++) assert.equal((await post(lc.port, 'trainworker-abcde', report(seq))).status, 200);
    const refused = await post(lc.port, 'trainworker-abcde', report(4));
    assert.equal(refused.status, 503);
    assert.match(refused.body.Message, /3 messages are waiting for the GM/);
    const back = await startHub(defer, hubPort);
    await until(() => back.received.length === 3 && lc.pending === 0, 'the backlog to drain');
    assert.equal((await post(lc.port, 'trainworker-abcde', report(4))).status, 200);
    await until(() => back.received.length === 4, 'the report after the backlog');
    assert.deepEqual(back.received.map(seqOf), [1, 2, 3, 4]);
    assert.equal(received.length, 0);
  });

  it('serves callers without the worker token only on loopback', async (t) => {
    const defer = cleanups(t);
    const dir = tempDir(defer);
    const { hub } = await startHub(defer);

    // Token required from every caller (loopback included).
    const strict = await startLc(defer, hub.port, join(dir, 'strict'), { workerToken: WORKER_TOKEN, requireWorkerToken: true });
    const none = await post(strict.port, 'trainworker-abcde', report(1));
    assert.equal(none.status, 401);
    assert.equal(none.body.Status, 401);
    assert.equal((await post(strict.port, 'trainworker-abcde', report(1), { headers: { Authorization: 'Bearer wrong' } })).status, 401);
    assert.equal((await post(strict.port, 'trainworker-abcde', report(1), { headers: { Authorization: WORKER_TOKEN } })).status, 401);
    assert.equal((await post(strict.port, 'trainworker-abcde', report(1), { headers: { Authorization: `Bearer ${WORKER_TOKEN}` } })).status, 200);
  });

  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i?.family === 'IPv4' && !i.internal)?.address;
  it('refuses a non-loopback caller without the token', { skip: external === undefined ? 'no non-loopback IPv4 address on this machine' : false }, async (t) => {
    const defer = cleanups(t);
    const dir = tempDir(defer);
    const { hub } = await startHub(defer);
    const lc = await startLc(defer, hub.port, join(dir, 'lc'), { address: external, workerToken: WORKER_TOKEN });
    const host = external as string;
    assert.equal((await post(lc.port, 'trainworker-abcde', report(1), { host })).status, 401);
    assert.equal((await post(lc.port, 'trainworker-abcde', report(1), { host, headers: { Authorization: 'Bearer nope' } })).status, 401);
    assert.equal((await post(lc.port, 'trainworker-abcde', report(1), { host, headers: { Authorization: `Bearer ${WORKER_TOKEN}` } })).status, 200);
  });

  it('resumes monitoring stored datasets after a restart, before the GM sends them again', async (t) => {
    const defer = cleanups(t);
    const dir = tempDir(defer);
    const { hub, received } = await startHub(defer);
    const dataDir = join(dir, 'lc');
    const index = join(dir, 'train.txt');
    writeFileSync(index, '1\n2\n');
    const first = await startLc(defer, hub.port, dataDir);
    await hub.send(NODE, { header: { namespace: 'default', resourceKind: 'dataset', resourceName: 'ds', operation: 'insert' }, content: { kind: 'Dataset', metadata: { name: 'ds', namespace: 'default' }, spec: { url: index, format: 'txt', nodeName: NODE } } });
    await until(() => received.length === 1 && first.pending === 0, 'the first count');
    await first.stop();
    writeFileSync(index, '1\n2\n3\n4\n5\n');
    await startLc(defer, hub.port, dataDir);
    await until(() => received.length === 2, 'the count after the restart');
    assert.deepEqual(received[1]?.message, { header: { namespace: 'default', resourceKind: 'Dataset', resourceName: 'ds', operation: 'status' }, content: { numberOfSamples: 5 } });
  });

  it('does not process a report twice when its acknowledgement was lost across an LC restart', async (t) => {
    const defer = cleanups(t);
    const dir = tempDir(defer);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { hub, received } = await startHub(defer, 0, async () => gate);
    const dataDir = join(dir, 'lc');
    const first = await startLc(defer, hub.port, dataDir);
    assert.equal((await post(first.port, 'trainworker-abcde', report(1))).status, 200);
    await until(() => received.length === 1, 'the hub to start processing');
    // The LC goes away before the hub acknowledges; the report stays in its outbox.
    await first.stop();
    release();
    const db = new LcDatabase(join(dataDir, 'database.db'));
    assert.equal(new SqliteOutbox(db).depth(), 1);
    db.close();
    const second = await startLc(defer, hub.port, dataDir);
    await until(() => second.pending === 0, 'the resent report to be acknowledged');
    assert.equal(received.length, 1, 'the hub recognised the resent report as a duplicate');
  });

  it('delivers 1,000 reports posted while the hub was down, across an LC process restart, exactly once and in order', { timeout: 120_000 }, async (t) => {
    const defer = cleanups(t);
    const dir = tempDir(defer);
    const dataDir = join(dir, 'lc');
    const first = await startHub(defer);
    const hubPort = first.hub.port;

    const lc1 = await spawnLc(defer, hubPort, dataDir);
    assert.equal((await post(lc1.port, 'trainworker-abcde', report(0))).status, 200);
    await until(() => first.received.length === 1, 'the report while the hub is up', 20_000);

    await first.hub.stop();
    for (let seq = 1; seq <= 500; seq++) assert.equal((await post(lc1.port, 'trainworker-abcde', report(seq))).status, 200);
    // A crash, not a shutdown: what was answered 200 must already be on disk.
    await killed(lc1.child, 'SIGKILL');

    const lc2 = await spawnLc(defer, hubPort, dataDir);
    for (let seq = 501; seq <= 1000; seq++) assert.equal((await post(lc2.port, 'trainworker-abcde', report(seq))).status, 200);

    const second = await startHub(defer, hubPort);
    await until(() => second.received.length >= 1000, '1,000 reports at the returned hub', 60_000);
    // Let any stray resend land before counting.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const seqs = second.received.map(seqOf);
    assert.equal(seqs.length, 1000, 'each report processed once');
    assert.deepEqual([...seqs].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i + 1));
    for (let owner = 0; owner < 4; owner++) {
      const ofOwner = second.received.filter((r) => r.message.header.resourceName === `job-${owner}`).map(seqOf);
      assert.deepEqual(ofOwner, [...ofOwner].sort((a, b) => a - b), `reports of job-${owner} in order`);
    }
    assert.deepEqual(seqs, Array.from({ length: 1000 }, (_, i) => i + 1), 'in posting order overall');

    await killed(lc2.child, 'SIGTERM');
    const db = new LcDatabase(join(dataDir, 'database.db'));
    try {
      assert.equal(new SqliteOutbox(db).depth(), 0, 'the outbox is empty once everything is acknowledged');
    } finally {
      db.close();
    }
  });
});
