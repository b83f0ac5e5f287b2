// Federated learning over real WebSockets on 127.0.0.1: a real AggregationServer and real
// FederatedLearning training workers in this process, with small hand-written estimators whose
// weights are [[a, b]] and whose train() moves them halfway toward a per-client target. Raw `ws`
// clients play broken or hostile peers.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { AggregationServer, type AggregationServerOptions } from '../../src/features/federatedlearning/aggregation-server.ts';
import { decodeFrame, encodeControl, encodeWeightsFrame, type Frame, type UpdateWeightHeader } from '../../src/features/federatedlearning/protocol.ts';
import { FederatedLearning, type FederatedLearningOptions } from '../../src/features/federatedlearning/worker.ts';
import type { LocalTrainOptions, TrainableEstimator } from '../../src/lib/estimator.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { cloneWeights, decodeWeights, type ModelWeights } from '../../src/lib/weights.ts';
import { until } from '../helpers/wait.ts';

const JOB = 'fl-job';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

// ---- estimators and data ------------------------------------------------------------------

interface ToyData {
  count: number;
}

/** weights [[a, b]]; train() moves them halfway toward `target`, records what it sent and got. */
class ToyEstimator implements TrainableEstimator<ToyData> {
  weights: ModelWeights = [{ shape: [1, 2], data: Float32Array.from([0, 0]) }];
  readonly sent: ModelWeights[] = [];
  readonly received: ModelWeights[] = [];
  readonly trainOptions: LocalTrainOptions[] = [];
  /** Called at the start of each train(); may delay or throw. */
  beforeTrain: (call: number) => Promise<void> | void = () => undefined;

  constructor(private readonly target: [number, number]) {}

  async train(_data: ToyData, options: LocalTrainOptions): Promise<Record<string, number>> {
    this.trainOptions.push(options);
    await this.beforeTrain(this.trainOptions.length);
    const w = this.weights[0]!.data;
    w[0] = w[0]! + 0.5 * (this.target[0] - w[0]!);
    w[1] = w[1]! + 0.5 * (this.target[1] - w[1]!);
    this.sent.push(cloneWeights(this.weights));
    return { loss: Math.abs(this.target[0] - w[0]) };
  }

  getWeights(): ModelWeights {
    return cloneWeights(this.weights);
  }

  setWeights(weights: ModelWeights): void {
    this.weights = cloneWeights(weights);
    this.received.push(cloneWeights(weights));
  }
}

function fedAvg(updates: { weights: ModelWeights; n: number }[]): number[] {
  const total = updates.reduce((sum, u) => sum + u.n, 0);
  return [0, 1].map((i) => updates.reduce((sum, u) => sum + (u.weights[0]!.data[i]! * u.n) / total, 0));
}

function values(weights: ModelWeights): number[] {
  return Array.from(weights[0]!.data);
}

function assertClose(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-5, `${what}: ${actual.join(',')} vs ${expected.join(',')}`));
}

// ---- servers and clients ------------------------------------------------------------------

async function startServer(options: AggregationServerOptions): Promise<{ server: AggregationServer; port: number }> {
  const server = new AggregationServer({ host: '127.0.0.1', port: 0, jobName: JOB, log: () => undefined, env: {}, ...options });
  const port = await server.start();
  cleanups.push(() => server.stop());
  return { server, port };
}

function trainer(port: number, id: string, estimator: ToyEstimator, extra: Partial<FederatedLearningOptions<ToyData>> = {}, env: Record<string, string> = {}): FederatedLearning<ToyData> {
  return new FederatedLearning<ToyData>({
    estimator,
    aggregation: 'FedAvg',
    env: { WORKER_NAME: id, JOB_NAME: JOB, NAMESPACE: 'default', AGG_IP: '127.0.0.1', AGG_PORT: String(port), CONNECT_TIMEOUT: '5', ...env },
    report: false,
    logger: silentLogger(),
    ...extra,
  });
}

/** A raw ws peer: every frame it receives, decoded, in order. */
class RawPeer {
  readonly frames: { frame: Frame; isBinary: boolean; size: number }[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw: Buffer, isBinary: boolean) => this.frames.push({ frame: decodeFrame(raw, isBinary), isBinary, size: raw.length }));
  }

  static async connect(port: number, options: { token?: string; host?: string } = {}): Promise<RawPeer> {
    const ws = new WebSocket(`ws://${options.host ?? '127.0.0.1'}:${port}/FedAvg`, {
      headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
      maxPayload: 256 * 1024 * 1024,
    });
    const peer = new RawPeer(ws);
    cleanups.push(() => ws.terminate());
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return peer;
  }

  subscribe(id: string): void {
    this.ws.send(encodeControl({ type: 'subscribe', client_id: id }));
  }

  sendUpdate(id: string, round: number, numSamples: number, weights: ModelWeights): void {
    const header: UpdateWeightHeader = { type: 'update_weight', client: id, job_name: JOB, data: { num_samples: numSamples, round } };
    this.ws.send(encodeWeightsFrame(header, weights), { binary: true });
  }

  async next(type: string, from = 0): Promise<{ frame: Frame; isBinary: boolean; size: number }> {
    let found: { frame: Frame; isBinary: boolean; size: number } | undefined;
    await until(() => (found = this.frames.slice(from).find((f) => typeOf(f.frame) === type)) !== undefined, `a ${type} frame`, 10_000);
    return found!;
  }
}

function typeOf(frame: Frame): string {
  return frame.kind === 'control' ? frame.message.type : frame.header.type;
}

function layer(a: number, b: number): ModelWeights {
  return [{ shape: [1, 2], data: Float32Array.from([a, b]) }];
}

/** Refused upgrades answer an HTTP status: resolves with it (or 101 when accepted). */
function upgradeStatus(url: string, token?: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      resolve(101);
      ws.terminate();
    });
    ws.once('error', (error) => reject(error));
  }).catch((error: Error): number => {
    // A refusal can also surface as a socket closed mid-handshake: no status to read.
    if (/closed before the connection/.test(error.message)) return 0;
    throw error;
  });
}

// ---- tests ----------------------------------------------------------------------------------

describe('federated learning protocol', () => {
  it('runs 3 clients for 3 rounds: identical globals, FedAvg of the updates, exit after round 3', async () => {
    const { server, port } = await startServer({ participantsCount: 3, exitRound: 3 });
    const spec = [
      { id: 'edge-a', target: [1, 2] as [number, number], n: 10 },
      { id: 'edge-b', target: [-3, 0] as [number, number], n: 20 },
      { id: 'edge-c', target: [5, 10] as [number, number], n: 30 },
    ];
    const estimators = spec.map((s) => new ToyEstimator(s.target));
    const histories = await Promise.all(spec.map((s, i) => trainer(port, s.id, estimators[i]!).train({ count: s.n })));
    const summaries = await server.done;
    assert.equal(summaries.length, 3);
    for (let round = 0; round < 3; round++) {
      const expected = fedAvg(spec.map((s, i) => ({ weights: estimators[i]!.sent[round]!, n: s.n })));
      for (const estimator of estimators) assertClose(values(estimator.received[round]!), expected, `round ${round + 1} global`);
      // The next round trains from the global: it is passed as globalWeights.
      if (round < 2) for (const estimator of estimators) assertClose(values(estimator.trainOptions[round + 1]!.globalWeights!), expected, 'globalWeights');
      const summary = summaries[round]!;
      assert.equal(summary.round, round + 1);
      assert.deepEqual(summary.clients, ['edge-a', 'edge-b', 'edge-c']);
      assert.equal(summary.samples, 60);
      assert.equal(summary.exitFlag, round === 2 ? 'ok' : 'continue');
      assert.ok(summary.bytesIn > 0 && summary.bytesOut > 0);
      if (round === 0) assert.equal(summary.weightChange, null);
      else assert.ok(summary.weightChange! > 0);
    }
    for (const history of histories) {
      assert.deepEqual(history.map((r) => [r.round, r.exitFlag, r.totalSample]), [[1, 'continue', 60], [2, 'continue', 60], [3, 'ok', 60]]);
      assert.ok(history.every((r) => r.bytesSent > 0));
    }
    assert.deepEqual(server.rounds, summaries);
  });

  it('sends weights as binary frames and carries a 20 MB model', async () => {
    const { server, port } = await startServer({ participantsCount: 1, exitRound: 1 });
    const peer = await RawPeer.connect(port);
    peer.subscribe('big');
    const ack = await peer.next('subscribe_ack');
    assert.equal(ack.isBinary, false);
    const floats = 5 * 1024 * 1024; // 20 MiB of float32
    const big: ModelWeights = [{ shape: [floats], data: new Float32Array(floats).map((_, i) => i % 1000) }, ...layer(1, 2)];
    peer.sendUpdate('big', 1, 7, big);
    const recv = await peer.next('recv_weight');
    assert.equal(recv.isBinary, true);
    assert.ok(recv.size > 20 * 1024 * 1024);
    assert.ok(recv.frame.kind === 'weights');
    assert.equal(recv.frame.header.type === 'recv_weight' && recv.frame.header.data.exit_flag, 'ok');
    // The weights part is plain SDW1: decodeWeights reads it.
    const raw = encodeWeightsFrame(recv.frame.header, recv.frame.weights);
    const weights = decodeWeights(raw.subarray(4 + raw.readUInt32LE(0)));
    assert.equal(weights[0]!.data.length, floats);
    assert.equal(weights[0]!.data[1234], 234);
    assert.deepEqual(values([weights[1]!]), [1, 2]);
    const [summary] = await server.done;
    assert.ok(summary!.bytesIn > 20 * 1024 * 1024);
  });

  it('a client killed mid-round does not hang the round: the other two close it', async () => {
    const { server, port } = await startServer({ participantsCount: 3, exitRound: 2, roundDeadlineSeconds: 1, minClients: 2 });
    const doomed = await RawPeer.connect(port);
    doomed.subscribe('edge-c');
    await doomed.next('subscribe_ack');
    const a = new ToyEstimator([1, 1]);
    const b = new ToyEstimator([3, 3]);
    a.beforeTrain = (call) => {
      if (call === 1) doomed.ws.terminate();
    };
    const histories = await Promise.all([trainer(port, 'edge-a', a).train({ count: 1 }), trainer(port, 'edge-b', b).train({ count: 3 })]);
    const summaries = await server.done;
    assert.deepEqual(summaries.map((s) => s.clients), [['edge-a', 'edge-b'], ['edge-a', 'edge-b']]);
    assertClose(values(a.received[0]!), fedAvg([{ weights: a.sent[0]!, n: 1 }, { weights: b.sent[0]!, n: 3 }]), 'round 1');
    assert.equal(histories[0].at(-1)!.exitFlag, 'ok');
  });

  it('a silent client: the round closes at the deadline with a quorum', async () => {
    const { server, port } = await startServer({ participantsCount: 3, exitRound: 1, roundDeadlineSeconds: 1, minClients: 2 });
    const silent = await RawPeer.connect(port);
    silent.subscribe('edge-c');
    await silent.next('subscribe_ack');
    const started = Date.now();
    await Promise.all([trainer(port, 'edge-a', new ToyEstimator([1, 1])).train({ count: 1 }), trainer(port, 'edge-b', new ToyEstimator([2, 2])).train({ count: 1 })]);
    const [summary] = await server.done;
    assert.equal(summary!.closedBy, 'deadline');
    assert.deepEqual(summary!.clients, ['edge-a', 'edge-b']);
    assert.ok(Date.now() - started >= 900);
    // The silent client got the aggregate too.
    await silent.next('recv_weight');
  });

  it('without a quorum the round waits', async () => {
    const { server, port } = await startServer({ participantsCount: 3, exitRound: 1, roundDeadlineSeconds: 0.3, minClients: 3 });
    const peers = await Promise.all(['a', 'b', 'c'].map(() => RawPeer.connect(port)));
    peers.forEach((peer, i) => peer.subscribe(`edge-${i}`));
    await Promise.all(peers.map((peer) => peer.next('subscribe_ack')));
    peers[0]!.sendUpdate('edge-0', 1, 1, layer(1, 1));
    peers[1]!.sendUpdate('edge-1', 1, 1, layer(3, 3));
    peers[2]!.ws.terminate();
    await sleep(800);
    assert.equal(server.currentRound, 0, 'two of a quorum of three: still waiting');
    assert.equal(server.rounds.length, 0);
    // The third one comes back (same id) and completes the round; the earlier updates were kept.
    const back = await RawPeer.connect(port);
    back.subscribe('edge-2');
    await back.next('subscribe_ack');
    back.sendUpdate('edge-2', 1, 2, layer(5, 5));
    const [summary] = await server.done;
    assert.deepEqual(summary!.clients, ['edge-0', 'edge-1', 'edge-2']);
    assertClose(values(server.weights!), [3.5, 3.5], 'mean of 1, 3 and 5×2 weighted');
  });

  it('a restarted client (same WORKER_NAME) gets the current global and round, and the job completes', async () => {
    const { server, port } = await startServer({ participantsCount: 3, exitRound: 3, minClients: 3 });
    const a = new ToyEstimator([1, 0]);
    const b = new ToyEstimator([0, 1]);
    const crashing = new ToyEstimator([4, 4]);
    crashing.beforeTrain = (call) => {
      if (call === 2) throw new Error('worker crashed');
    };
    const others = Promise.all([trainer(port, 'edge-a', a).train({ count: 5 }), trainer(port, 'edge-b', b).train({ count: 5 })]);
    await assert.rejects(trainer(port, 'edge-c', crashing).train({ count: 5 }), /worker crashed/);
    await until(() => !server.connectedClients.includes('edge-c'), 'the crashed worker to disconnect');
    assert.equal(server.currentRound, 1);
    const round1 = values(server.weights!);
    const restarted = new ToyEstimator([4, 4]);
    const history = await trainer(port, 'edge-c', restarted).train({ count: 5 });
    await others;
    assertClose(values(restarted.received[0]!), round1, 'the rejoining worker starts from the round-1 global');
    assertClose(values(restarted.trainOptions[0]!.globalWeights!), round1, 'and trains from it');
    assert.deepEqual(history.map((r) => r.round), [2, 3]);
    const summaries = await server.done;
    assert.deepEqual(summaries.map((s) => s.clients.length), [3, 3, 3]);
  });

  it('a dropped socket reconnects, resubscribes and resends its update', async () => {
    const { server, port } = await startServer({ participantsCount: 2, exitRound: 3, minClients: 2 });
    const a = new ToyEstimator([1, 1]);
    const b = new ToyEstimator([2, 2]);
    b.beforeTrain = (call) => {
      if (call !== 2) return;
      // Cut b's connection from the server side while b trains round 2.
      const connection = (server as unknown as { clients: Map<string, { socket: WebSocket }> }).clients.get('edge-b');
      connection?.socket.terminate();
    };
    const histories = await Promise.all([trainer(port, 'edge-a', a).train({ count: 1 }), trainer(port, 'edge-b', b).train({ count: 1 })]);
    assert.deepEqual(histories[1].map((r) => r.round), [1, 2, 3]);
    const summaries = await server.done;
    assert.deepEqual(summaries.map((s) => s.clients), [['edge-a', 'edge-b'], ['edge-a', 'edge-b'], ['edge-a', 'edge-b']]);
  });

  it('AGG_TOKEN: a missing or wrong token is refused at the upgrade with 401', async () => {
    const { server, port } = await startServer({ participantsCount: 1, exitRound: 1, token: 's3cret' });
    const url = `ws://127.0.0.1:${port}/FedAvg`;
    assert.equal(await upgradeStatus(url), 401);
    assert.equal(await upgradeStatus(url, 'wrong'), 401);
    assert.equal(await upgradeStatus(`ws://127.0.0.1:${port}/FedYogi`, 's3cret'), 404);
    await assert.rejects(trainer(port, 'edge-a', new ToyEstimator([1, 1])).train({ count: 1 }), /refused the connection: HTTP 401/);
    const history = await trainer(port, 'edge-a', new ToyEstimator([1, 1]), {}, { AGG_TOKEN: 's3cret' }).train({ count: 1 });
    assert.equal(history.length, 1);
    await server.done;
  });

  it('without a token, a non-loopback caller is refused', async (t) => {
    const address = Object.values(networkInterfaces())
      .flat()
      .find((info) => info && info.family === 'IPv4' && !info.internal)?.address;
    if (!address) return t.skip('no non-loopback IPv4 address on this machine');
    const { port } = await startServer({ participantsCount: 1, exitRound: 1, host: '0.0.0.0' });
    assert.equal(await upgradeStatus(`ws://${address}:${port}/FedAvg`), 401);
    assert.equal(await upgradeStatus(`ws://127.0.0.1:${port}/FedAvg`), 101);
  });

  it("reports each round to the LC with Sedna's body", async () => {
    const bodies: { path: string; body: Record<string, unknown> }[] = [];
    const lc: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        bodies.push({ path: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => lc.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => lc.close(resolve)));
    const lcServer = `http://127.0.0.1:${(lc.address() as AddressInfo).port}`;
    const { port } = await startServer({ participantsCount: 2, exitRound: 2 });
    await Promise.all([
      trainer(port, 'edge-a', new ToyEstimator([1, 1]), { report: true }, { LC_SERVER: lcServer }).train({ count: 10 }),
      trainer(port, 'edge-b', new ToyEstimator([2, 2])).train({ count: 20 }),
    ]);
    assert.equal(bodies.length, 2);
    const time = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;
    bodies.forEach(({ path, body }, i) => {
      assert.equal(path, '/sedna/workers/edge-a/info');
      assert.equal(body.name, 'edge-a');
      assert.equal(body.namespace, 'default');
      assert.equal(body.ownerName, JOB);
      assert.equal(body.ownerKind, 'federatedlearningjob');
      assert.equal(body.kind, 'train');
      assert.equal(body.status, i === 0 ? 'running' : 'completed');
      const info = body.ownerInfo as Record<string, unknown>;
      assert.equal(info.currentRound, i + 1);
      assert.equal(info.sampleCount, 30);
      assert.match(info.startTime as string, time);
      assert.match(info.updateTime as string, time);
      const [result] = body.results as { metrics: Record<string, number> }[];
      assert.equal(typeof result!.metrics.loss, 'number');
    });
  });

  it('bad frames get an error back and do not crash the server or lose updates', async () => {
    const { server, port } = await startServer({ participantsCount: 2, exitRound: 1 });
    const good = await RawPeer.connect(port);
    good.subscribe('edge-a');
    await good.next('subscribe_ack');
    good.sendUpdate('edge-a', 1, 1, layer(2, 4));
    const bad = await RawPeer.connect(port);
    bad.ws.send(encodeWeightsFrame({ type: 'update_weight', client: 'x', job_name: JOB, data: { num_samples: 1, round: 1 } }, layer(0, 0)), { binary: true });
    assert.match(await errorText(bad, 0), /subscribe first/);
    bad.subscribe('edge-x');
    await bad.next('subscribe_ack');
    const valid = encodeWeightsFrame({ type: 'update_weight', client: 'edge-x', job_name: JOB, data: { num_samples: 1, round: 1 } }, layer(9, 9));
    const cases: [Buffer | string, RegExp][] = [
      [valid.subarray(0, valid.length - 2), /truncated/],
      [Buffer.concat([valid.subarray(0, 4 + valid.readUInt32LE(0)), Buffer.from('XXXX'), valid.subarray(8 + valid.readUInt32LE(0))]), /bad magic/],
      [encodeWeightsFrame({ type: 'update_weight', client: 'edge-x', job_name: JOB, data: { num_samples: 1, round: 1 } }, [{ shape: [3], data: new Float32Array(3) }]), /shapes \[\[3\]\] differ from the global model's \[\[1,2\]\]/],
      [encodeWeightsFrame({ type: 'update_weight', client: 'edge-x', job_name: JOB, data: { num_samples: 1, round: 7 } }, layer(9, 9)), /round 7 refused: the current round is 1/],
      ['{"type":"update_weight","data":{"weights":[[1,2]]}}', /must be a binary frame/],
      ['garbage', /not JSON/],
    ];
    for (const [frame, pattern] of cases) {
      const before = bad.frames.length;
      bad.ws.send(frame, { binary: typeof frame !== 'string' });
      assert.match(await errorText(bad, before), pattern);
    }
    assert.equal(server.currentRound, 0);
    const other = await RawPeer.connect(port);
    other.subscribe('edge-b');
    await other.next('subscribe_ack');
    other.sendUpdate('edge-b', 1, 3, layer(6, 8));
    const [summary] = await server.done;
    assert.deepEqual(summary!.clients, ['edge-a', 'edge-b']);
    assertClose(values(server.weights!), [5, 7], 'edge-a (2,4)×1 and edge-b (6,8)×3');
  });
});

async function errorText(peer: RawPeer, from: number): Promise<string> {
  const { frame } = await peer.next('error', from);
  return frame.kind === 'control' && frame.message.type === 'error' ? frame.message.data.message : '';
}
