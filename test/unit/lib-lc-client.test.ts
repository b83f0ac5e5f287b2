// The worker's LC client (lib.md §2): a real HTTP server on 127.0.0.1 stands in for the LC (and the
// LC's own worker server is used once), checking the route, body, retries and the JI reporter.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { WorkerServer } from '../../src/lc/server.ts';
import type { WorkerMessage as LcWorkerMessage } from '../../src/lc/workers.ts';
import { workerContext } from '../../src/lib/context.ts';
import { FakeClock } from '../../src/lib/fake-clock.ts';
import { InferenceReporter } from '../../src/features/jointinference/inference-reporter.ts';
import { formatLocalTime, LcClient } from '../../src/lib/lc-client.ts';
import { silentLogger } from '../../src/lib/logger.ts';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

let server: Server;
let base = '';
let received: Received[] = [];
/** Status codes to answer in turn; 200 once exhausted. */
let answers: number[] = [];

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
      const status = answers.shift() ?? 200;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ Status: status, Message: status === 200 ? 'OK' : 'no' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received = [];
  answers = [];
});

const client = (extra: Partial<ConstructorParameters<typeof LcClient>[0]> = {}): LcClient =>
  new LcClient({ server: base, workerName: 'trainworker-abcde', retryDelayMs: 10, logger: silentLogger(), ...extra });

const message = { name: 'trainworker-abcde', namespace: 'ns', ownerName: 'fl', ownerKind: 'federatedlearningjob', kind: 'train', status: 'running' };

describe('LcClient.report', () => {
  it('posts the JSON message to /sedna/workers/{name}/info', async () => {
    assert.equal(await client().report(message), true);
    assert.equal(received.length, 1);
    const [request] = received;
    assert.equal(request?.method, 'POST');
    assert.equal(request?.url, '/sedna/workers/trainworker-abcde/info');
    assert.equal(request?.headers['content-type'], 'application/json');
    assert.equal(request?.headers.authorization, undefined);
    assert.deepEqual(request?.body, message);
  });
  it('sends the worker token as a bearer token', async () => {
    await client({ token: 's3cret' }).report(message);
    assert.equal(received[0]?.headers.authorization, 'Bearer s3cret');
  });
  it('retries a failed report and succeeds', async () => {
    answers = [500, 503];
    assert.equal(await client().report(message), true);
    assert.equal(received.length, 3);
  });
  it('answers false after the last attempt, without throwing', async () => {
    answers = [500, 500, 500, 500, 500];
    assert.equal(await client({ attempts: 3 }).report(message), false);
    assert.equal(received.length, 3);
  });
  it('answers false when nothing listens', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    assert.equal(await client({ server: `http://127.0.0.1:${port}`, attempts: 2 }).report(message), false);
  });
});

describe('LcClient.reportTaskInfo', () => {
  it('builds the message like JobBase.report_task_info, omitting empty results and ownerInfo', async () => {
    const lc = LcClient.fromContext(workerContext({ LC_SERVER: base, WORKER_NAME: 'w1', NAMESPACE: 'ns', JOB_NAME: 'il' }), { logger: silentLogger() });
    await lc.reportTaskInfo({ ownerKind: 'incrementallearningjob', status: 'completed', results: [], ownerInfo: {} });
    assert.equal(received[0]?.url, '/sedna/workers/w1/info');
    assert.deepEqual(received[0]?.body, { name: 'w1', namespace: 'ns', ownerName: 'il', ownerKind: 'incrementallearningjob', kind: 'train', status: 'completed' });
    const results = [{ format: 'pb', url: '/models/m.pb', metrics: { acc: 0.9 } }];
    await lc.reportTaskInfo({ ownerKind: 'incrementallearningjob', status: 'completed', kind: 'eval', results, ownerInfo: { a: 1 } });
    assert.deepEqual(received[1]?.body, { name: 'w1', namespace: 'ns', ownerName: 'il', ownerKind: 'incrementallearningjob', kind: 'eval', status: 'completed', ownerInfo: { a: 1 }, results });
  });
});

describe('against the LC worker server', () => {
  it('is accepted with the worker token when the LC requires it, refused without', async () => {
    const accepted: LcWorkerMessage[] = [];
    const lc = new WorkerServer({ port: 0, workerToken: 'node-token', requireToken: true, accept: (m) => accepted.push(m), logger: silentLogger() });
    const port = await lc.start();
    try {
      const server = `http://127.0.0.1:${port}`;
      assert.equal(await client({ server, attempts: 1 }).report(message), false);
      assert.equal(await client({ server, token: 'node-token' }).report(message), true);
      assert.equal(accepted.length, 1);
      assert.equal(accepted[0]?.status, 'running');
    } finally {
      await lc.stop();
    }
  });
});

const waitFor = async (condition: () => boolean, ms = 3000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('InferenceReporter', () => {
  it('reports counters and ratio each period with new inferences, nothing otherwise', async () => {
    const clock = new FakeClock(new Date(2026, 0, 5, 9, 0, 0));
    const reporter = new InferenceReporter({ client: client({ workerName: 'edgeworker-x' }), namespace: '', ownerName: 'sedna', periodSeconds: 30, clock });
    reporter.countEdgeInference();
    reporter.countEdgeInference();
    reporter.countEdgeInference();
    reporter.countHardExample();
    reporter.start();
    try {
      await clock.advance(29_999);
      assert.equal(received.length, 0, 'not before the period ends');
      await clock.advance(1);
      await waitFor(() => received.length === 1);
      const body = received[0]?.body;
      assert.deepEqual(
        { ...body, ownerInfo: undefined },
        { name: 'edgeworker-x', namespace: '', ownerName: 'sedna', ownerKind: 'jointinferenceservice', kind: 'inference', results: [], ownerInfo: undefined },
      );
      assert.equal('status' in (body ?? {}), false);
      const info = body?.ownerInfo as Record<string, unknown>;
      assert.equal(info.inferenceNumber, 4);
      assert.equal(info.hardExampleNumber, 1);
      assert.equal(info.uploadCloudRatio, 0.25);
      assert.equal(info.startTime, '2026-01-05 09:00:00');
      assert.equal(info.updateTime, '2026-01-05 09:00:30');
      await clock.advance(4 * 30_000); // several idle periods
      assert.equal(received.length, 1, 'a period without new inference sends nothing');
      reporter.countHardExample();
      await clock.advance(30_000);
      await waitFor(() => received.length === 2);
      const second = received[1]?.body.ownerInfo as Record<string, unknown>;
      assert.deepEqual([second.inferenceNumber, second.hardExampleNumber, second.uploadCloudRatio], [5, 2, 0.4]);
    } finally {
      reporter.stop();
    }
    reporter.countEdgeInference();
    assert.equal(clock.pending, 0, 'a stopped reporter has no period running');
    await clock.advance(60_000);
    assert.equal(received.length, 2, 'a stopped reporter sends nothing');
  });
  it('formats times as %Y-%m-%d %H:%M:%S in local time', () => {
    assert.equal(formatLocalTime(new Date(2025, 0, 2, 3, 4, 5)), '2025-01-02 03:04:05');
  });
});
