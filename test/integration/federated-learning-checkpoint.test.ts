// The aggregation server's checkpoint and resume, over real WebSockets on 127.0.0.1 with real
// files: a server stopped mid-job and started again on the same port and folder goes on from the
// round the trainers are in (FedAvgM, so the optimiser state must come back too: the final model
// equals an uninterrupted run's); one restarted after the final round is done at once; a
// checkpoint of another job (uid) is never resumed; a damaged one is refused by name. The real
// kill -9 of an aggregator pod is in fl-aggregator-kill.test.ts and the fault suite.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { AggregationServer, type AggregationServerOptions } from '../../src/features/federatedlearning/aggregation-server.ts';
import { CHECKPOINT_FILE, readCheckpoint } from '../../src/features/federatedlearning/checkpoint.ts';
import { FederatedLearning, type FederatedRound } from '../../src/features/federatedlearning/worker.ts';
import type { LocalTrainOptions, TrainableEstimator } from '../../src/lib/estimator.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { cloneWeights, type ModelWeights } from '../../src/lib/weights.ts';
import { until } from '../helpers/wait.ts';

const JOB = 'fl-ckpt';
const UID = '7d3c1f52-0000-4000-8000-000000000001';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** weights [a, b]; each train() steps them a third of the way toward `target`; may pause before a call. */
class StepEstimator implements TrainableEstimator<{ count: number }> {
  weights: ModelWeights = [{ shape: [2], data: Float32Array.from([0, 0]) }];
  calls = 0;
  pauseBefore: ((call: number) => Promise<void>) | undefined;

  constructor(private readonly target: [number, number]) {}

  async train(_data: { count: number }, _options: LocalTrainOptions): Promise<Record<string, number>> {
    this.calls += 1;
    await this.pauseBefore?.(this.calls);
    const w = this.weights[0]!.data;
    for (let i = 0; i < 2; i++) w[i] = w[i]! + (this.target[i]! - w[i]!) / 3;
    return { loss: Math.abs(this.target[0] - w[0]!) };
  }

  getWeights(): ModelWeights {
    return cloneWeights(this.weights);
  }

  setWeights(weights: ModelWeights): void {
    this.weights = cloneWeights(weights);
  }
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sedna-fl-ckpt-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function startServer(options: AggregationServerOptions): Promise<{ server: AggregationServer; port: number }> {
  const server = new AggregationServer({ host: '127.0.0.1', port: 0, jobName: JOB, jobUid: UID, aggregation: 'FedAvgM', participantsCount: 2, minClients: 2, exitRound: 4, log: () => undefined, env: {}, ...options });
  const port = await server.start();
  cleanups.push(() => server.stop());
  return { server, port };
}

function trainer(port: number, id: string, estimator: StepEstimator, onRound?: (r: FederatedRound) => void): Promise<FederatedRound[]> {
  return new FederatedLearning<{ count: number }>({
    estimator,
    aggregation: 'FedAvgM',
    env: { WORKER_NAME: id, JOB_NAME: JOB, NAMESPACE: 'default', AGG_IP: '127.0.0.1', AGG_PORT: String(port), CONNECT_TIMEOUT: '20' },
    report: false,
    logger: silentLogger(),
    ...(onRound ? { onRound } : {}),
  }).train({ count: 10 });
}

const values = (w: ModelWeights | undefined): number[] => Array.from(w![0]!.data);

/** Two trainers, four rounds, no interruption: the reference the resumed runs must match. */
async function uninterrupted(): Promise<number[]> {
  const { server, port } = await startServer({});
  await Promise.all([trainer(port, 'a', new StepEstimator([1, 0])), trainer(port, 'b', new StepEstimator([0, 2]))]);
  await server.done;
  return values(server.weights);
}

describe('federated learning aggregator checkpoint and resume', () => {
  it('a server stopped after round 2 and started again resumes at round 2; the job ends after round 4 with the uninterrupted model', async () => {
    const reference = await uninterrupted();
    const dir = tempDir();
    const first = await startServer({ checkpointDir: dir });
    // Each trainer holds its third training until the first server is gone.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const hold = (call: number): Promise<void> => (call === 3 ? released : Promise.resolve());
    const a = new StepEstimator([1, 0]);
    const b = new StepEstimator([0, 2]);
    a.pauseBefore = hold;
    b.pauseBefore = hold;
    // Every round a trainer sees is already in the checkpoint: it is written before the broadcast.
    const checkpointed: [number, number][] = [];
    const seen = (r: FederatedRound): void => void checkpointed.push([r.round, readCheckpoint(dir)?.round ?? -1]);
    const training = Promise.all([trainer(first.port, 'a', a, seen), trainer(first.port, 'b', b, seen)]);
    await until(() => a.calls === 3 && b.calls === 3, 'both trainers in round 3', 10_000);
    assert.equal(first.server.currentRound, 2);
    await first.server.stop();
    const second = await startServer({ checkpointDir: dir, port: first.port });
    assert.equal(second.server.resumedRound, 2);
    assert.equal(second.server.currentRound, 2);
    release();
    const [historyA, historyB] = await training;
    const rounds = await second.server.done;
    assert.deepEqual(rounds.map((r) => r.round), [1, 2, 3, 4], 'four rounds in all, none run twice');
    assert.deepEqual(historyA.map((r) => r.round), [1, 2, 3, 4]);
    assert.deepEqual(historyB.map((r) => r.round), [1, 2, 3, 4]);
    assert.deepEqual(values(second.server.weights), reference, 'FedAvgM resumed with its velocity: the same model as without the restart');
    for (const [round, inCheckpoint] of checkpointed) assert.ok(inCheckpoint >= round, `round ${round} reached a trainer before its checkpoint (${inCheckpoint})`);
  });

  it('a server restarted after the final round is done at once and tells a late trainer training is over', async () => {
    const dir = tempDir();
    const first = await startServer({ checkpointDir: dir, exitRound: 2 });
    await Promise.all([trainer(first.port, 'a', new StepEstimator([1, 0])), trainer(first.port, 'b', new StepEstimator([0, 2]))]);
    const final = values((await first.server.done, first.server.weights));
    await first.server.stop();
    const second = await startServer({ checkpointDir: dir, exitRound: 2 });
    assert.equal(second.server.resumedRound, 2);
    assert.deepEqual((await second.server.done).map((r) => r.round), [1, 2]);
    const late = new StepEstimator([5, 5]);
    assert.deepEqual(await trainer(second.port, 'a', late), [], 'no round is trained again');
    assert.equal(late.calls, 0);
    assert.deepEqual(values(late.weights), final, 'the late trainer holds the final model');
  });

  it("a checkpoint of another job of the same name (another uid) is never resumed, and is replaced by this job's", async () => {
    const dir = tempDir();
    const old = await startServer({ checkpointDir: dir, exitRound: 2, jobUid: 'uid-of-the-deleted-job' });
    await Promise.all([trainer(old.port, 'a', new StepEstimator([1, 0])), trainer(old.port, 'b', new StepEstimator([0, 2]))]);
    await old.server.stop();
    const lines: string[] = [];
    const fresh = await startServer({ checkpointDir: dir, exitRound: 2, log: (line) => lines.push(line) });
    assert.equal(fresh.server.resumedRound, 0);
    assert.equal(fresh.server.currentRound, 0);
    assert.match(lines.join('\n'), /checkpoint .* ignored \(it is of job uid uid-of-the-deleted-job, this is 7d3c1f52/);
    const histories = await Promise.all([trainer(fresh.port, 'a', new StepEstimator([1, 0])), trainer(fresh.port, 'b', new StepEstimator([0, 2]))]);
    assert.deepEqual(histories.map((h) => h.map((r) => r.round)), [[1, 2], [1, 2]], 'this job trains its own two rounds');
    await fresh.server.done;
    assert.equal(readCheckpoint(dir)?.jobUid, UID);
    assert.equal(readCheckpoint(dir)?.round, 2);
  });

  it('a damaged checkpoint is refused with the file named, not silently restarted from round 0', () => {
    const dir = tempDir();
    const server = (): AggregationServer => new AggregationServer({ checkpointDir: dir, jobName: JOB, env: {}, log: () => undefined });
    writeFileSync(join(dir, CHECKPOINT_FILE), 'SEDNACK1\u0050\u0000\u0000\u0000{"ver');
    assert.throws(server, new RegExp(`${CHECKPOINT_FILE}: truncated header`));
    writeFileSync(join(dir, CHECKPOINT_FILE), 'SEDNACK1\u0005\u0000\u0000\u0000{"ver');
    assert.throws(server, new RegExp(`${CHECKPOINT_FILE}: unreadable header`));
    writeFileSync(join(dir, CHECKPOINT_FILE), 'not a checkpoint');
    assert.throws(server, /bad magic/);
    assert.equal(readFileSync(join(dir, CHECKPOINT_FILE), 'utf8'), 'not a checkpoint', 'left as it was, for a person to look at');
  });
});
