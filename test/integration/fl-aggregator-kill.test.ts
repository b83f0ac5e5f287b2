// kill -9 of a federated-learning aggregator, for real: `sedna up` with a cloud and an edge node, a
// FederatedLearningJob whose aggregator is the SDK's AggregationServer and whose two trainers are
// the SDK's FederatedLearning with a two-number model (so the test is about the system, not the
// maths). The aggregator process is killed with SIGKILL once after round 2 (the trainers hold
// round 3 until the test lets them go) and once after the final round 4 (the aggregator holds its
// exit until the test lets it go). The kubelet restarts it in the same pod; it resumes from the
// checkpoint the GM gave it a folder for: the trainers go on from round 3, no round runs twice,
// and the job completes with its four rounds reported.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FederatedLearningJob } from '../../src/api/sedna/federated-learning-job.ts';
import type { Pod } from '../../src/lc/kubelet/index.ts';
import { type LocalCluster, startCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/wait.ts';

const JOB = 'fl-kill';
const ROUNDS = 4;
const WORKER = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'worker.js')).href;

// Holds its exit after the last round until RELEASE exists, so the test can kill it there.
const AGGREGATOR = `
import { existsSync } from 'node:fs';
const { AggregationServer } = await import(${JSON.stringify(WORKER)});
const server = new AggregationServer({ exitRound: ${ROUNDS}, minClients: 2, roundDeadlineSeconds: 600, log: (line) => console.log(line) });
await server.start();
console.log('aggregator listening, resumed round ' + server.resumedRound);
await server.done;
console.log('all ' + server.currentRound + ' rounds done');
while (!existsSync(process.env.RELEASE)) await new Promise((r) => setTimeout(r, 100));
await server.finish(5000);
process.exit(0);
`;

// Train call 3 (round 3) waits for GO, so the aggregator is killed between rounds 2 and 3.
const TRAINER = `
import { existsSync } from 'node:fs';
const { FederatedLearning } = await import(${JSON.stringify(WORKER)});
const target = Number(process.env.TARGET);
let calls = 0;
const estimator = {
  weights: [{ shape: [2], data: Float32Array.from([0, 0]) }],
  async train() {
    calls += 1;
    while (calls === 3 && !existsSync(process.env.GO)) await new Promise((r) => setTimeout(r, 100));
    const w = this.weights[0].data;
    w[0] += (target - w[0]) / 2;
    w[1] += (1 - w[1]) / 2;
    return { loss: Math.abs(target - w[0]) };
  },
  getWeights() { return this.weights.map((l) => ({ shape: [...l.shape], data: l.data.slice() })); },
  setWeights(weights) { this.weights = weights.map((l) => ({ shape: [...l.shape], data: l.data.slice() })); },
};
const history = await new FederatedLearning({ estimator }).train({ count: 10 });
console.log('trainer rounds ' + history.map((r) => r.round).join(','));
process.exit(0);
`;

describe('kill -9 of the FL aggregator (sedna up, kubectl)', { timeout: 300_000 }, () => {
  let cluster: LocalCluster;
  let release: string;
  let go: string;

  before(async () => {
    cluster = await startCluster({ nodes: 'cloud,edge-1', prefix: 'sedna-fl-kill-' });
    release = join(cluster.dir, 'release');
    go = join(cluster.dir, 'go');
    writeFileSync(join(cluster.dir, 'aggregator.mjs'), AGGREGATOR);
    writeFileSync(join(cluster.dir, 'trainer.mjs'), TRAINER);
    writeFileSync(join(cluster.dir, 'train.txt'), 'a.png 1\n');
  });

  after(async () => {
    await cluster?.stop();
  });

  const aggregatorPod = async (): Promise<Pod> => {
    const pods = await cluster.getJson<{ items: Pod[] }>(['get', 'pods', '-l', `federatedlearningjob.sedna.io/name=${JOB},federatedlearningjob.sedna.io/worker-type=aggregation`]);
    assert.equal(pods.items.length, 1, 'one aggregator pod, never replaced');
    return pods.items[0]!;
  };
  /** The pid of the aggregator's running process after `restarts` restarts, once it listens again. */
  const runningAggregator = (restarts: number): Promise<{ pid: number; pod: string }> =>
    eventually(async () => {
      const pod = await aggregatorPod();
      const cs = pod.status?.containerStatuses?.[0];
      if (!cs?.state.running || cs.restartCount !== restarts) return undefined;
      const log = await cluster.kc(['logs', pod.metadata.name!]);
      return /aggregator listening/.test(log) ? { pid: Number(cs.containerID!.replace('process://', '')), pod: pod.metadata.name! } : undefined;
    }, 60_000, `the aggregator running after ${restarts} restarts`);
  const logOf = (pod: string, previous = false): Promise<string> => cluster.kc(['logs', pod, ...(previous ? ['--previous'] : [])]);
  const waitLog = (pod: string, pattern: RegExp, what: string): Promise<string> =>
    eventually(async () => {
      const log = await logOf(pod);
      return pattern.test(log) ? log : undefined;
    }, 60_000, what);

  it('resumes mid-job and after the last round; the job completes with its four rounds, none run twice', async () => {
    const worker = (node: string, script: string, env: { name: string; value: string }[]): unknown => ({
      spec: { nodeName: node, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'node', command: ['node', join(cluster.dir, script)], env }] },
    });
    await cluster.apply({ apiVersion: 'sedna.io/v1alpha1', kind: 'Model', metadata: { name: 'kill-model', namespace: 'default' }, spec: { url: join(cluster.dir, 'model'), format: 'txt' } });
    await cluster.apply({ apiVersion: 'sedna.io/v1alpha1', kind: 'Dataset', metadata: { name: 'kill-data', namespace: 'default' }, spec: { url: join(cluster.dir, 'train.txt'), format: 'txt', nodeName: 'edge-1' } });
    const trainer = (target: string): unknown => ({ dataset: { name: 'kill-data' }, template: worker('edge-1', 'trainer.mjs', [{ name: 'TARGET', value: target }, { name: 'GO', value: go }]) });
    await cluster.apply({
      apiVersion: 'sedna.io/v1alpha1',
      kind: 'FederatedLearningJob',
      metadata: { name: JOB, namespace: 'default' },
      spec: { aggregationWorker: { model: { name: 'kill-model' }, template: worker('cloud', 'aggregator.mjs', [{ name: 'RELEASE', value: release }]) }, trainingWorkers: [trainer('2'), trainer('4')] },
    });

    // Mid-job: after round 2, while the trainers hold round 3.
    const first = await runningAggregator(0);
    const firstLog = await waitLog(first.pod, /^round 2: /m, 'round 2 closed');
    assert.deepEqual([...firstLog.matchAll(/^round (\d+): /gm)].map((m) => Number(m[1])), [1, 2]);
    process.kill(first.pid, 'SIGKILL');
    const second = await runningAggregator(1);
    assert.notEqual(second.pid, first.pid);
    assert.match(await logOf(second.pod), /resumed from the checkpoint after round 2\b/);
    assert.match(await logOf(second.pod), /aggregator listening, resumed round 2/);
    writeFileSync(go, 'go');

    // After the last round: the trainers are done; the aggregator holds its exit.
    await waitLog(second.pod, new RegExp(`all ${ROUNDS} rounds done`), 'the last round');
    process.kill(second.pid, 'SIGKILL');
    const third = await runningAggregator(2);
    assert.match(await logOf(third.pod), new RegExp(`resumed from the checkpoint after round ${ROUNDS} \\(training was over\\)`));
    assert.match(await logOf(third.pod), new RegExp(`all ${ROUNDS} rounds done`));
    // Each round closed once: rounds 1–2 by the first run, 3–4 by the second, none by the third.
    const closedBySecond = [...(await logOf(third.pod, true)).matchAll(/^round (\d+): /gm)].map((m) => Number(m[1]));
    assert.deepEqual(closedBySecond, [3, 4]);
    assert.deepEqual([...(await logOf(third.pod)).matchAll(/^round (\d+): /gm)], []);
    const trainers = (await cluster.getJson<{ items: Pod[] }>(['get', 'pods', '-l', `federatedlearningjob.sedna.io/name=${JOB},federatedlearningjob.sedna.io/worker-type=train`])).items;
    assert.equal(trainers.length, 2);
    for (const pod of trainers) {
      await waitLog(pod.metadata.name!, /^trainer rounds 1,2,3,4$/m, `${pod.metadata.name} trained rounds 1–4 once each`);
      assert.equal(pod.status?.containerStatuses?.[0]?.restartCount, 0, `${pod.metadata.name} went on through both kills`);
    }
    writeFileSync(release, 'go');

    const job = await eventually(async () => {
      const j = await cluster.getJson<FederatedLearningJob>(['get', 'fl', JOB]);
      return j.status?.phase === 'Succeeded' ? j : undefined;
    }, 60_000, 'the job Succeeded');
    assert.equal(job.status?.conditions?.find((c) => c.type === 'Complete')?.status, 'True');
    assert.equal(job.status?.round, ROUNDS, 'every round reported, the last one included');
  });
});
