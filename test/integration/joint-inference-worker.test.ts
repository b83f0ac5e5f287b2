// The joint-inference worker SDK (spec lib.md §7) over real HTTP on 127.0.0.1: the cloud's
// BigModelService, the edge's CloudClient, the edge's JointInference with its hard-example miner,
// and the periodic report to a stand-in LocalController. Estimators are small hand-written objects.
import assert from 'node:assert/strict';
import { Agent, createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BigModelService, type BigModelServiceOptions } from '../../src/features/jointinference/big-model-service.ts';
import { CloudClient, CloudError } from '../../src/features/jointinference/cloud-client.ts';
import { JointInference, type InferenceResult, type JointInferenceOptions } from '../../src/features/jointinference/worker.ts';
import { workerContext, type Env } from '../../src/lib/context.ts';
import type { Estimator } from '../../src/lib/estimator.ts';
import { CrossEntropy, type HardExampleMining } from '../../src/lib/hem/index.ts';
import { until } from '../helpers/wait.ts';

const JOB = 'sedna';
/** Confident: CrossEntropy confidence ≈ 0.82, not hard at the default threshold 0.5. */
const EASY_PROBS = [0.96, 0.02, 0.02];
/** Near uniform: confidence ≈ 0, hard. */
const HARD_PROBS = [0.34, 0.33, 0.33];
const CLOUD_PROBS = [0.05, 0.9, 0.05];
/** The edge model below answers HARD_PROBS for inputs starting with 1, EASY_PROBS otherwise. */
const EASY_INPUT = [0, 0.25];
const HARD_INPUT = [1, 0.25];

// ---- clean-up -------------------------------------------------------------------------------

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

// ---- estimators -----------------------------------------------------------------------------

/** The edge model: fixed probability vectors, recording what it was asked. */
class EdgeModel implements Estimator<number[], number[]> {
  readonly inputs: number[][] = [];
  predict(data: number[]): number[] {
    this.inputs.push(data);
    return data[0] === 1 ? [...HARD_PROBS] : [...EASY_PROBS];
  }
}

/**
 * The cloud model: `answer` per input, recording batch sizes and inputs; `delayMs` makes it slow,
 * and `held` (until resolved) holds every batch back.
 */
class CloudModel<I = unknown, O = unknown> implements Estimator<I, O> {
  readonly batchSizes: number[] = [];
  readonly inputs: I[] = [];
  /** Batches finished, answered or not (a caller may have given up waiting). */
  finished = 0;
  delayMs = 0;
  held: Promise<void> | undefined;
  constructor(private readonly answer: (input: I) => O) {}

  async predict(data: I): Promise<O> {
    const [result] = await this.predictBatch([data]);
    return result!;
  }

  async predictBatch(data: I[]): Promise<O[]> {
    this.batchSizes.push(data.length);
    this.inputs.push(...data);
    if (this.delayMs > 0) await sleep(this.delayMs);
    await this.held;
    this.finished++;
    return data.map((input) => this.answer(input));
  }
}

const fixedCloud = (): CloudModel => new CloudModel(() => [...CLOUD_PROBS]);

// ---- servers and requests -------------------------------------------------------------------

async function startService<I, O>(options: Partial<BigModelServiceOptions<I, O>> & { estimator: Estimator<I, O> }): Promise<BigModelService<I, O>> {
  const service = new BigModelService<I, O>({ context: workerContext({ JOB_NAME: JOB }), port: 0, ...options });
  await service.start();
  cleanups.push(() => service.stop());
  return service;
}

async function listen(server: Server, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as AddressInfo).port;
}

/** A port nothing listens on (bound once, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function cloudClient(port: number, extra: { token?: string; timeoutMs?: number } = {}): CloudClient {
  const client = new CloudClient({ host: '127.0.0.1', port, jobName: JOB, timeoutMs: extra.timeoutMs ?? 2000, token: extra.token });
  cleanups.push(() => client.close());
  return client;
}

interface Reply {
  status: number;
  body: unknown;
}

interface Call {
  method?: string;
  path: string;
  body?: string | Buffer;
  /** Sent in these pieces without a content-length (chunked). */
  chunks?: string[];
  headers?: Record<string, string>;
  host?: string;
  agent?: Agent;
}

/** One HTTP request; the reply's body parsed as JSON when it is. Rejects on a socket error. */
function call(port: number, { method = 'POST', path, body, chunks, headers = {}, host = '127.0.0.1', agent }: Call): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const sized = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const req = request({ host, port, path, method, agent: agent ?? false, headers: { 'content-type': 'application/json', ...sized, ...headers } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON: kept as text
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    for (const piece of chunks ?? []) req.write(piece);
    req.end(body);
  });
}

const predictBody = (data: unknown, callback: string | null = null): string => JSON.stringify({ data, callback });

function errorOf(reply: Reply): string {
  return String((reply.body as { error?: unknown }).error);
}

// ---- BigModelService ------------------------------------------------------------------------

describe('BigModelService', () => {
  it('lists its routes on GET /{job}', async () => {
    const service = await startService({ estimator: fixedCloud() });
    const reply = await call(service.port, { method: 'GET', path: `/${JOB}` });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, { infos: [{ path: `/${JOB}`, name: 'routes' }, { path: `/${JOB}/predict`, name: 'predict' }] });
  });

  it('answers POST /{job}/predict with {"result": ...}', async () => {
    const model = fixedCloud();
    const service = await startService({ estimator: model });
    const reply = await call(service.port, { path: `/${JOB}/predict`, body: predictBody([1, 2, 3]) });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, { result: CLOUD_PROBS });
    assert.deepEqual(model.inputs, [[1, 2, 3]]);
  });

  it('uses the job name of its context as the route', async () => {
    const service = await startService({ estimator: fixedCloud(), context: workerContext({ JOB_NAME: 'big-model' }) });
    assert.equal((await call(service.port, { path: '/big-model/predict', body: predictBody([1]) })).status, 200);
    assert.equal((await call(service.port, { path: `/${JOB}/predict`, body: predictBody([1]) })).status, 404);
  });

  it('with a token, refuses a request without it or with a wrong one (401) and serves the right one', async () => {
    const model = fixedCloud();
    const service = await startService({ estimator: model, token: 's3cret' });
    const path = `/${JOB}/predict`;
    const missing = await call(service.port, { path, body: predictBody([1]) });
    assert.equal(missing.status, 401);
    assert.match(errorOf(missing), /token/);
    const wrong = await call(service.port, { path, body: predictBody([1]), headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
    assert.equal((await call(service.port, { method: 'GET', path: `/${JOB}` })).status, 401, 'the route list needs the token too');
    assert.deepEqual(model.batchSizes, [], 'a refused request never reaches the model');
    const right = await call(service.port, { path, body: predictBody([1]), headers: { authorization: 'Bearer s3cret' } });
    assert.equal(right.status, 200);
  });

  it('without a token, serves loopback callers', async () => {
    const service = await startService({ estimator: fixedCloud() });
    assert.equal((await call(service.port, { path: `/${JOB}/predict`, body: predictBody([1]) })).status, 200);
  });

  const external = Object.values(networkInterfaces())
    .flat()
    .find((nic) => nic !== undefined && !nic.internal && nic.family === 'IPv4')?.address;
  it('without a token, refuses a caller that is not on loopback', { skip: external ? false : 'no non-loopback IPv4 interface' }, async () => {
    const service = await startService({ estimator: fixedCloud(), host: external });
    const reply = await call(service.port, { host: external, path: `/${JOB}/predict`, body: predictBody([1]) });
    assert.equal(reply.status, 401);
    assert.match(errorOf(reply), /loopback/);
  });

  it('answers malformed JSON with 400 and the reason', async () => {
    const service = await startService({ estimator: fixedCloud() });
    const reply = await call(service.port, { path: `/${JOB}/predict`, body: '{"data": [1, 2' });
    assert.equal(reply.status, 400);
    assert.match(errorOf(reply), /not JSON/);
  });

  it('answers a body without "data" with 400 naming the field', async () => {
    const service = await startService({ estimator: fixedCloud() });
    for (const body of ['{"input": [1]}', '[1, 2]', 'null', '3']) {
      const reply = await call(service.port, { path: `/${JOB}/predict`, body });
      assert.equal(reply.status, 400, body);
      assert.match(errorOf(reply), /"data"/, body);
    }
  });

  it('answers an unknown route with 404 and a wrong method with 405', async () => {
    const service = await startService({ estimator: fixedCloud() });
    const unknown = await call(service.port, { path: '/other/predict', body: predictBody([1]) });
    assert.equal(unknown.status, 404);
    assert.match(errorOf(unknown), /no route \/other\/predict/);
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const reply = await call(service.port, { method, path: `/${JOB}/predict` });
      assert.equal(reply.status, 405, method);
      assert.match(errorOf(reply), /POST/);
    }
    assert.equal((await call(service.port, { method: 'POST', path: `/${JOB}`, body: predictBody([1]) })).status, 404);
  });

  it('answers a body over maxBodyBytes with 413', async () => {
    const model = fixedCloud();
    const service = await startService({ estimator: model, maxBodyBytes: 100 });
    const reply = await call(service.port, { path: `/${JOB}/predict`, body: predictBody('x'.repeat(200)) });
    assert.equal(reply.status, 413);
    assert.match(errorOf(reply), /exceeds 100/);
    assert.deepEqual(model.batchSizes, []);
    assert.equal((await call(service.port, { path: `/${JOB}/predict`, body: predictBody('small') })).status, 200, 'a body within the limit is served');
  });

  it('answers a chunked body (no content-length) over maxBodyBytes with 413', async () => {
    const service = await startService({ estimator: fixedCloud(), maxBodyBytes: 100 });
    const body = predictBody('x'.repeat(200));
    const reply = await call(service.port, { path: `/${JOB}/predict`, chunks: [body.slice(0, 60), body.slice(60)] });
    assert.equal(reply.status, 413);
  });

  it('applies a registered callback to the result, and refuses an unknown one with 400', async () => {
    const callbacks = { argmax: (probs: unknown): unknown => (probs as number[]).indexOf(Math.max(...(probs as number[]))) };
    const service = await startService({ estimator: fixedCloud(), callbacks });
    const path = `/${JOB}/predict`;
    assert.deepEqual((await call(service.port, { path, body: predictBody([1], 'argmax') })).body, { result: 1 });
    assert.deepEqual((await call(service.port, { path, body: predictBody([1], null) })).body, { result: CLOUD_PROBS });
    const unknown = await call(service.port, { path, body: predictBody([1], 'softmax') });
    assert.equal(unknown.status, 400);
    assert.match(errorOf(unknown), /callback "softmax" is not registered/);
    const notAName = await call(service.port, { path, body: JSON.stringify({ data: [1], callback: 7 }) });
    assert.equal(notAName.status, 400);
    assert.match(errorOf(notAName), /callback/);
  });

  it('batches 50 concurrent requests against a slow model, and every caller gets its own answer', async () => {
    const model = new CloudModel<{ id: number }, { echo: { id: number } }>((input) => ({ echo: input }));
    model.delayMs = 40;
    const service = await startService({ estimator: model, maxBatch: 16 });
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    cleanups.push(() => agent.destroy());
    const replies = await Promise.all(Array.from({ length: 50 }, (_, id) => call(service.port, { path: `/${JOB}/predict`, body: predictBody({ id }), agent })));
    replies.forEach((reply, id) => {
      assert.equal(reply.status, 200);
      assert.deepEqual(reply.body, { result: { echo: { id } } });
    });
    const sizes = service.batchSizes;
    assert.ok(sizes.length < 50, `50 requests ran in ${sizes.length} batches`);
    assert.equal(
      sizes.reduce((a, b) => a + b, 0),
      50,
    );
    assert.ok(Math.max(...sizes) <= 16, `batch sizes ${sizes.join(',')} respect maxBatch`);
    assert.deepEqual(model.batchSizes, sizes);
  });

  it('falls back to predict for each input when the estimator has no predictBatch', async () => {
    const seen: unknown[] = [];
    const estimator: Estimator<unknown, unknown> = {
      predict: (data) => {
        seen.push(data);
        return { got: data };
      },
    };
    const service = await startService({ estimator });
    const reply = await call(service.port, { path: `/${JOB}/predict`, body: predictBody('hello') });
    assert.deepEqual(reply.body, { result: { got: 'hello' } });
    assert.deepEqual(seen, ['hello']);
  });

  it('answers 500 with the message when the model fails, and keeps serving', async () => {
    let fail = true;
    const estimator: Estimator<unknown, unknown> = {
      predict: (data) => {
        if (fail) throw new Error('model exploded');
        return data;
      },
    };
    const service = await startService({ estimator });
    const failed = await call(service.port, { path: `/${JOB}/predict`, body: predictBody(1) });
    assert.equal(failed.status, 500);
    assert.match(errorOf(failed), /model exploded/);
    fail = false;
    assert.deepEqual((await call(service.port, { path: `/${JOB}/predict`, body: predictBody(2) })).body, { result: 2 });
  });

  it('stop() closes keep-alive connections and returns promptly', async () => {
    const service = new BigModelService({ estimator: fixedCloud(), context: workerContext({ JOB_NAME: JOB }), port: 0 });
    const port = await service.start();
    cleanups.push(() => service.stop());
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    assert.equal((await call(port, { path: `/${JOB}/predict`, body: predictBody([1]), agent })).status, 200);
    await until(() => Object.values(agent.freeSockets).flat().length === 1, 'the keep-alive socket to be pooled');
    const socket = Object.values(agent.freeSockets).flat()[0]!;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    // The agent unrefs idle sockets; keep this one counted so the loop waits for its close.
    socket.ref();
    const started = Date.now();
    await service.stop();
    assert.ok(Date.now() - started < 2000, `stop() took ${Date.now() - started} ms`);
    await closed;
    assert.equal(service.port, 0);
    await assert.rejects(call(port, { path: `/${JOB}/predict`, body: predictBody([1]) }), /ECONNREFUSED/);
  });
});

// ---- CloudClient ----------------------------------------------------------------------------

interface Recorded {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A raw HTTP server that records requests and answers with `answer` (or never, when it returns undefined). */
async function rawServer(answer: (recorded: Recorded) => { status: number; body: string } | undefined): Promise<{ port: number; received: Recorded[] }> {
  const received: Recorded[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const recorded = { url: req.url ?? '', headers: req.headers, body: Buffer.concat(parts).toString('utf8') };
      received.push(recorded);
      const reply = answer(recorded);
      if (reply) res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
    });
  });
  return { port: await listen(server), received };
}

async function cloudFailure(promise: Promise<unknown>): Promise<CloudError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CloudError, `expected a CloudError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the request to fail');
}

describe('CloudClient', () => {
  it('posts typed arrays as JSON lists to /{job}/predict and returns the result', async () => {
    const server = await rawServer(() => ({ status: 200, body: '{"result": [0.5, 0.5]}' }));
    const client = cloudClient(server.port, { token: 'tok' });
    assert.deepEqual(await client.predict(new Float32Array([0.5, 1.5, -2])), [0.5, 0.5]);
    assert.deepEqual(await client.predict([[1, 2], [3, 4]]), [0.5, 0.5]);
    const [typed, nested] = server.received;
    assert.equal(typed?.url, `/${JOB}/predict`);
    assert.equal(typed?.headers['content-type'], 'application/json');
    assert.equal(typed?.headers.authorization, 'Bearer tok');
    assert.deepEqual(JSON.parse(typed?.body ?? ''), { data: [0.5, 1.5, -2], post_process: null });
    assert.deepEqual(JSON.parse(nested?.body ?? ''), { data: [[1, 2], [3, 4]], post_process: null });
    assert.equal(client.url, `http://127.0.0.1:${server.port}/${JOB}/predict`);
  });

  it('reaches a real BigModelService that takes a token', async () => {
    const model = fixedCloud();
    const service = await startService({ estimator: model, token: 'tok' });
    assert.deepEqual(await cloudClient(service.port, { token: 'tok' }).predict(new Float64Array([1, 2])), CLOUD_PROBS);
    assert.deepEqual(model.inputs, [[1, 2]]);
  });

  it("fails with 'timeout' when the server is slower than timeoutMs", async () => {
    const server = await rawServer(() => undefined);
    const started = Date.now();
    const error = await cloudFailure(cloudClient(server.port, { timeoutMs: 150 }).predict([1]));
    assert.equal(error.failure, 'timeout');
    assert.match(error.message, /did not answer within 150 ms/);
    // It gave up rather than waiting for an answer that never comes (a loose bound: a loaded
    // machine can fire a 150 ms timer a second late).
    assert.ok(Date.now() - started < 10_000, `gave up after ${Date.now() - started} ms`);
    assert.equal(server.received.length, 1);
  });

  it("fails with 'timeout' when the server sends headers and then stalls", async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"result": [');
    });
    const port = await listen(server);
    const error = await cloudFailure(cloudClient(port, { timeoutMs: 150 }).predict([1]));
    assert.equal(error.failure, 'timeout');
  });

  it("fails with 'unreachable' when nothing listens", async () => {
    const port = await closedPort();
    const error = await cloudFailure(cloudClient(port).predict([1]));
    assert.equal(error.failure, 'unreachable');
    assert.match(error.message, /ECONNREFUSED/);
  });

  it("fails with 'rejected' on a non-200 answer, quoting it", async () => {
    const server = await rawServer(() => ({ status: 503, body: '{"error": "overloaded"}' }));
    const error = await cloudFailure(cloudClient(server.port).predict([1]));
    assert.equal(error.failure, 'rejected');
    assert.match(error.message, /503/);
    assert.match(error.message, /overloaded/);
    const service = await startService({ estimator: fixedCloud(), token: 'tok' });
    assert.equal((await cloudFailure(cloudClient(service.port, { token: 'wrong' }).predict([1]))).failure, 'rejected');
  });

  it("fails with 'rejected' when a 200 answer is not JSON", async () => {
    const server = await rawServer(() => ({ status: 200, body: '<html>' }));
    const error = await cloudFailure(cloudClient(server.port).predict([1]));
    assert.equal(error.failure, 'rejected');
    assert.match(error.message, /not JSON/);
  });

  it('retries on a fresh connection when a restarted service closed the pooled keep-alive one', async () => {
    const first = new BigModelService({ estimator: fixedCloud(), context: workerContext({ JOB_NAME: JOB }), port: 0 });
    const port = await first.start();
    cleanups.push(() => first.stop());
    const client = cloudClient(port);
    assert.deepEqual(await client.predict([1]), CLOUD_PROBS);
    await first.stop();
    await startService({ estimator: fixedCloud(), port });
    assert.deepEqual(await client.predict([1]), CLOUD_PROBS);
  });
});

// ---- JointInference -------------------------------------------------------------------------

interface Edge {
  ji: JointInference<number[], number[]>;
  edge: EdgeModel;
}

function jointInference(cloud: CloudClient, env: Env = {}, extra: Partial<JointInferenceOptions<number[], number[]>> = {}): Edge {
  const edge = new EdgeModel();
  const ji = new JointInference<number[], number[]>({
    estimator: edge,
    hardExampleMining: new CrossEntropy(),
    env,
    context: workerContext(env),
    cloud,
    report: false,
    ...extra,
  });
  cleanups.push(() => ji.close());
  return { ji, edge };
}

/** A HEM filter that records what it was shown and answers with `inner`. */
class RecordingMiner implements HardExampleMining {
  readonly name = 'Recording';
  readonly seen: unknown[] = [];
  constructor(private readonly inner: HardExampleMining) {}
  isHard(result: unknown): boolean {
    this.seen.push(result);
    return this.inner.isHard(result);
  }
}

/**
 * A hard example the cloud did not answer: flagged hard, answered by the edge. cloudResult must be
 * empty; that it is null exactly (not undefined) is checked by a test of its own below.
 */
function assertEdgeFallback(tuple: InferenceResult<number[]>, final: unknown, edgeResult: number[]): void {
  assert.deepEqual(tuple.slice(0, 3), [true, final, edgeResult]);
  assert.ok(tuple[3] === null || tuple[3] === undefined, `cloudResult ${JSON.stringify(tuple[3])}`);
}

describe('JointInference (inference-then-mining)', () => {
  it('answers an easy example on the edge without calling the cloud', async () => {
    const model = fixedCloud();
    const service = await startService({ estimator: model });
    const { ji, edge } = jointInference(cloudClient(service.port));
    assert.deepEqual(await ji.inference(EASY_INPUT), [false, EASY_PROBS, EASY_PROBS, null]);
    assert.deepEqual(edge.inputs, [EASY_INPUT]);
    assert.deepEqual(model.batchSizes, [], 'the cloud was not called');
    assert.deepEqual(ji.counters, { inferences: 1, hardExamples: 0, cloudAnswers: 0, cloudFailures: { timeout: 0, unreachable: 0, rejected: 0 }, cloudSkipped: 0 });
  });

  it('sends a hard example to the cloud and returns [true, cloud, edge, cloud]', async () => {
    const model = fixedCloud();
    const service = await startService({ estimator: model });
    const { ji } = jointInference(cloudClient(service.port));
    assert.deepEqual(await ji.inference(HARD_INPUT), [true, CLOUD_PROBS, HARD_PROBS, CLOUD_PROBS]);
    assert.deepEqual(model.inputs, [HARD_INPUT], 'the cloud received the raw input');
    assert.equal(ji.counters.hardExamples, 1);
    assert.equal(ji.counters.cloudAnswers, 1);
  });

  it('sends a typed-array input to the cloud as a JSON list', async () => {
    const model = fixedCloud();
    const service = await startService({ estimator: model });
    const edge = new EdgeModel();
    const ji = new JointInference<Float32Array, number[]>({
      estimator: { predict: (data) => edge.predict(Array.from(data)) },
      hardExampleMining: new CrossEntropy(),
      context: workerContext({}),
      cloud: cloudClient(service.port),
      report: false,
    });
    cleanups.push(() => ji.close());
    const [isHard, final] = await ji.inference(new Float32Array(HARD_INPUT));
    assert.equal(isHard, true);
    assert.deepEqual(final, CLOUD_PROBS);
    assert.deepEqual(model.inputs, [HARD_INPUT]);
  });

  it('never offloads without a miner', async () => {
    const model = fixedCloud();
    const service = await startService({ estimator: model });
    assert.equal(process.env.HEM_NAME, undefined, 'precondition: no HEM_NAME in the test environment');
    const { ji } = jointInference(cloudClient(service.port), {}, { hardExampleMining: undefined });
    assert.deepEqual(await ji.inference(HARD_INPUT), [false, HARD_PROBS, HARD_PROBS, null]);
    assert.deepEqual(model.batchSizes, []);
  });

  it('returns the edge result while the cloud is down, pauses offloading for cloudRetryMs, and resumes when it is back', async () => {
    const model = fixedCloud();
    const first = new BigModelService({ estimator: model, context: workerContext({ JOB_NAME: JOB }), port: 0 });
    const port = await first.start();
    cleanups.push(() => first.stop());
    await first.stop();
    let clock = 1_000_000;
    const { ji } = jointInference(cloudClient(port), {}, { cloudRetryMs: 5000, now: () => clock });

    assertEdgeFallback(await ji.inference(HARD_INPUT), HARD_PROBS, HARD_PROBS);
    assert.equal(ji.counters.cloudFailures.unreachable, 1);
    assert.equal(ji.counters.cloudSkipped, 0);

    // Paused: the cloud is not even asked, even once it is back.
    clock += 1000;
    assertEdgeFallback(await ji.inference(HARD_INPUT), HARD_PROBS, HARD_PROBS);
    await startService({ estimator: model, port });
    clock += 3999;
    assertEdgeFallback(await ji.inference(HARD_INPUT), HARD_PROBS, HARD_PROBS);
    assert.equal(ji.counters.cloudSkipped, 2);
    assert.equal(ji.counters.cloudFailures.unreachable, 1);
    assert.deepEqual(model.batchSizes, []);
    // Easy examples are unaffected.
    assert.deepEqual(await ji.inference(EASY_INPUT), [false, EASY_PROBS, EASY_PROBS, null]);

    // The pause is over: offloading resumes by itself.
    clock += 1;
    assert.deepEqual(await ji.inference(HARD_INPUT), [true, CLOUD_PROBS, HARD_PROBS, CLOUD_PROBS]);
    assert.deepEqual(ji.counters, { inferences: 5, hardExamples: 4, cloudAnswers: 1, cloudFailures: { timeout: 0, unreachable: 1, rejected: 0 }, cloudSkipped: 2 });
  });

  it('pauses for cloudRetryMs in real time (default clock)', async () => {
    const model = fixedCloud();
    const port = await closedPort();
    const { ji } = jointInference(cloudClient(port), {}, { cloudRetryMs: 600 });
    await ji.inference(HARD_INPUT);
    await ji.inference(HARD_INPUT);
    assert.equal(ji.counters.cloudFailures.unreachable, 1);
    assert.equal(ji.counters.cloudSkipped, 1);
    await startService({ estimator: model, port });
    await sleep(650);
    assert.deepEqual(await ji.inference(HARD_INPUT), [true, CLOUD_PROBS, HARD_PROBS, CLOUD_PROBS]);
  });

  it('returns the edge result when the cloud is slower than the timeout, counts it, and does not pause', async () => {
    const model = fixedCloud();
    // The cloud holds its answer until the edge has answered: no wall-clock bound (under load a
    // 100 ms timer can fire hundreds of ms late, so 'answered within 400 ms' raced the machine).
    let release = (): void => undefined;
    model.held = new Promise((resolve) => (release = resolve));
    const service = await startService({ estimator: model });
    const { ji } = jointInference(cloudClient(service.port, { timeoutMs: 100 }));
    assertEdgeFallback(await ji.inference(HARD_INPUT), HARD_PROBS, HARD_PROBS);
    assert.equal(model.finished, 0, 'the edge answered while the cloud still held its answer');
    assert.equal(ji.counters.cloudFailures.timeout, 1);
    assert.equal(ji.counters.cloudAnswers, 0);
    release();
    // The service still runs the abandoned request; the next one would queue behind it.
    await until(() => model.finished === 1, 'the held batch to finish');
    assert.deepEqual(await ji.inference(HARD_INPUT), [true, CLOUD_PROBS, HARD_PROBS, CLOUD_PROBS], 'a timeout does not pause offloading');
    assert.equal(ji.counters.cloudSkipped, 0);
  });

  it('returns the edge result when the cloud refuses the request, counting it as rejected', async () => {
    const service = await startService({ estimator: fixedCloud(), token: 'right' });
    const { ji } = jointInference(cloudClient(service.port, { token: 'wrong' }));
    assertEdgeFallback(await ji.inference(HARD_INPUT), HARD_PROBS, HARD_PROBS);
    assert.equal(ji.counters.cloudFailures.rejected, 1);
  });

  it('returns cloudResult null, as Sedna, when the offload failed or was skipped', async () => {
    const { ji } = jointInference(cloudClient(await closedPort()), {}, { cloudRetryMs: 60_000 });
    assert.deepEqual(await ji.inference(HARD_INPUT), [true, HARD_PROBS, HARD_PROBS, null], 'unreachable');
    assert.deepEqual(await ji.inference(HARD_INPUT), [true, HARD_PROBS, HARD_PROBS, null], 'skipped');
  });

  it('applies postProcess, shows the miner the post-processed result, and keeps the raw edge result', async () => {
    const service = await startService({ estimator: fixedCloud() });
    const miner = new RecordingMiner(new CrossEntropy());
    const { ji } = jointInference(cloudClient(service.port), {}, { hardExampleMining: miner });
    // Sharpening makes the uncertain edge result confident: not hard any more.
    const sharpen = (probs: number[]): number[] => probs.map((p) => (p === Math.max(...probs) ? 1 : 0));
    assert.deepEqual(await ji.inference(HARD_INPUT, sharpen), [false, [1, 0, 0], HARD_PROBS, null]);
    assert.deepEqual(miner.seen, [[1, 0, 0]]);
    // A hard post-processed result is answered by the cloud.
    const label = (probs: number[]): unknown => ({ probs, label: probs.indexOf(Math.max(...probs)) });
    const alwaysHard = new RecordingMiner({ name: 'Always', isHard: () => true });
    const other = jointInference(cloudClient(service.port), {}, { hardExampleMining: alwaysHard });
    assert.deepEqual(await other.ji.inference(EASY_INPUT, label), [true, CLOUD_PROBS, EASY_PROBS, CLOUD_PROBS]);
    assert.deepEqual(alwaysHard.seen, [{ probs: EASY_PROBS, label: 0 }]);
  });

  it('returns the post-processed edge result when the cloud fails', async () => {
    const { ji } = jointInference(cloudClient(await closedPort()));
    const label = (probs: number[]): unknown => ({ label: probs.indexOf(Math.max(...probs)) });
    const withMiner = jointInference(cloudClient(await closedPort()), {}, { hardExampleMining: { name: 'Always', isHard: () => true } });
    assertEdgeFallback(await withMiner.ji.inference(HARD_INPUT, label), { label: 0 }, HARD_PROBS);
    assert.deepEqual(await ji.inference(EASY_INPUT, label), [false, { label: 0 }, EASY_PROBS, null]);
  });
});

describe('JointInference (mining-then-inference)', () => {
  const MINING = { MINING_MODE: 'mining-then-inference' };
  /** Hard when the raw input starts with 1: this mode mines the input, not a result. */
  const inputMiner = (): RecordingMiner => new RecordingMiner({ name: 'FirstIsOne', isHard: (data) => (data as number[])[0] === 1 });

  it('sends a hard input to the cloud only: the edge result is null and cloudResult is {result}', async () => {
    const model = fixedCloud();
    const service = await startService({ estimator: model });
    const miner = inputMiner();
    const { ji, edge } = jointInference(cloudClient(service.port), MINING, { hardExampleMining: miner });
    assert.deepEqual(await ji.inference(HARD_INPUT), [true, CLOUD_PROBS, null, { result: CLOUD_PROBS }]);
    assert.deepEqual(edge.inputs, [], 'the edge model did not run');
    assert.deepEqual(miner.seen, [HARD_INPUT], 'the miner saw the raw input');
    assert.deepEqual(model.inputs, [HARD_INPUT]);
  });

  it('answers an easy input on the edge only', async () => {
    const model = fixedCloud();
    const service = await startService({ estimator: model });
    const { ji } = jointInference(cloudClient(service.port), MINING, { hardExampleMining: inputMiner() });
    const double = (probs: number[]): number[] => probs.map((p) => p * 2);
    assert.deepEqual(await ji.inference(EASY_INPUT, double), [false, EASY_PROBS.map((p) => p * 2), EASY_PROBS, null]);
    assert.deepEqual(model.batchSizes, []);
  });

  it('falls back to the edge when the cloud is unreachable', async () => {
    const { ji, edge } = jointInference(cloudClient(await closedPort()), MINING, { hardExampleMining: inputMiner() });
    const [, final, edgeResult, cloudResult] = await ji.inference(HARD_INPUT);
    assert.deepEqual([final, edgeResult, cloudResult], [HARD_PROBS, HARD_PROBS, null]);
    assert.deepEqual(edge.inputs, [HARD_INPUT]);
    assert.equal(ji.counters.cloudFailures.unreachable, 1);
  });

  it('refuses an invalid MINING_MODE, naming it', () => {
    const cloud = cloudClient(1);
    assert.throws(() => jointInference(cloud, { MINING_MODE: 'guess-then-hope' }), /Invalid MINING_MODE: guess-then-hope/);
  });

  it('refuses mining-then-inference without a miner', () => {
    assert.equal(process.env.HEM_NAME, undefined, 'precondition: no HEM_NAME in the test environment');
    assert.throws(() => jointInference(cloudClient(1), MINING, { hardExampleMining: undefined }), /Hard example mining algorithm is not set/);
  });

  it('takes HEM_NAME from the environment of its context', () => {
    const { ji } = jointInference(cloudClient(1), { ...MINING, HEM_NAME: 'CloudOnly' }, { hardExampleMining: undefined });
    assert.ok(ji);
  });
});

// ---- the periodic report to the LocalController ---------------------------------------------

describe('JointInference periodic report', () => {
  it('posts kind "inference" with Sedna-counted ownerInfo to /sedna/workers/{WORKER_NAME}/info', async () => {
    const lc = await rawServer(() => ({ status: 200, body: '{"Status": 200, "Message": "OK"}' }));
    const service = await startService({ estimator: fixedCloud() });
    const env = { LC_PERIOD: '0.2', LC_SERVER: `http://127.0.0.1:${lc.port}`, WORKER_NAME: 'edgeworker-abcde', SERVICE_NAME: 'svc', NAMESPACE: 'default' };
    const { ji } = jointInference(cloudClient(service.port), env, { report: true });
    await ji.inference(EASY_INPUT);
    await ji.inference(EASY_INPUT);
    await ji.inference(HARD_INPUT);
    // 2 edge inferences + 1 offload that also ran on the edge: the offload counts in both numbers.
    const expected = { inferenceNumber: 4, hardExampleNumber: 1, uploadCloudRatio: 0.25, cloudFailureNumber: 0 };
    const reportOf = (r: Recorded): Record<string, unknown> => JSON.parse(r.body) as Record<string, unknown>;
    await until(() => lc.received.some((r) => (reportOf(r).ownerInfo as { inferenceNumber?: number } | undefined)?.inferenceNumber === 4), 'a report with all inferences', 5000);
    const last = lc.received.at(-1)!;
    assert.equal(last.url, '/sedna/workers/edgeworker-abcde/info');
    assert.equal(last.headers['content-type'], 'application/json');
    const report = reportOf(last);
    const { ownerInfo, ...rest } = report as { ownerInfo: Record<string, unknown> };
    assert.deepEqual(rest, { name: 'edgeworker-abcde', namespace: 'default', ownerName: 'svc', ownerKind: 'jointinferenceservice', kind: 'inference', results: [] });
    const { startTime, updateTime, ...counts } = ownerInfo;
    assert.deepEqual(counts, expected);
    assert.match(String(startTime), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.match(String(updateTime), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

    // A period without new inferences sends nothing; the next inference is reported cumulatively.
    const count = lc.received.length;
    await sleep(500);
    assert.equal(lc.received.length, count, 'no report for a period without inferences');
    await ji.inference(EASY_INPUT);
    await until(() => lc.received.length > count, 'the next report', 5000);
    assert.deepEqual((reportOf(lc.received.at(-1)!).ownerInfo as Record<string, unknown>).inferenceNumber, 5);
    assert.equal(ji.counters.inferences, 4);
  });

  it('counts an offload that failed or was skipped as a hard example too', async () => {
    const lc = await rawServer(() => ({ status: 200, body: '{}' }));
    const env = { LC_PERIOD: '0.2', LC_SERVER: `http://127.0.0.1:${lc.port}`, WORKER_NAME: 'edgeworker-abcde', SERVICE_NAME: 'svc', NAMESPACE: 'default' };
    const { ji } = jointInference(cloudClient(await closedPort()), env, { report: true, cloudRetryMs: 60_000 });
    await ji.inference(HARD_INPUT); // unreachable
    await ji.inference(HARD_INPUT); // skipped: paused
    await until(() => lc.received.length > 0 && (JSON.parse(lc.received.at(-1)!.body) as { ownerInfo: { inferenceNumber: number } }).ownerInfo.inferenceNumber === 4, 'a report with both offloads', 5000);
    const { ownerInfo } = JSON.parse(lc.received.at(-1)!.body) as { ownerInfo: Record<string, unknown> };
    assert.equal(ownerInfo.hardExampleNumber, 2);
    assert.equal(ownerInfo.uploadCloudRatio, 0.5);
  });

  it('stops reporting on close()', async () => {
    const lc = await rawServer(() => ({ status: 200, body: '{}' }));
    const env = { LC_PERIOD: '0.1', LC_SERVER: `http://127.0.0.1:${lc.port}`, WORKER_NAME: 'edgeworker-abcde', SERVICE_NAME: 'svc', NAMESPACE: 'default' };
    const { ji } = jointInference(cloudClient(1), env, { report: true });
    await ji.inference(EASY_INPUT);
    ji.close();
    await sleep(300);
    assert.equal(lc.received.length, 0);
  });
});
