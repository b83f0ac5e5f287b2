// The FederatedLearningJob controller end to end: `sedna up` with a cloud and two edge nodes,
// driven with the real kubectl. Workers are tiny node programs: the aggregator listens on its host
// port for 7363 and exits 0 once the test's done file exists; trainers print their env and idle
// (one reports a round to its LC, one exits 1 under restartPolicy Never once its fail file exists).
// Two jobs run side by side, so every step also checks the other job is left alone.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../src/api/meta.ts';
import type { FederatedLearningJob } from '../../src/api/sedna/federated-learning-job.ts';
import type { Model } from '../../src/api/sedna/model.ts';
import type { EnvVar, Service, WorkerPod } from '../../src/gm/workers/index.ts';
import { type LocalCluster, startCluster } from '../helpers/cluster.ts';
import { eventually as pollFast } from '../helpers/wait.ts';

type Pod = WorkerPod & { status?: { phase?: string; containerStatuses?: { state: { running?: unknown } }[] } };

const LABEL = 'federatedlearningjob.sedna.io';
const A = 'fl-a';
const B = 'fl-b';

const AGG_SCRIPT = `
const fs = require('node:fs');
require('node:http').createServer((q, s) => s.end('agg')).listen(Number(process.env.PORT_7363), '127.0.0.1');
setInterval(() => { if (fs.existsSync(process.env.DONE_FILE)) process.exit(0); }, 100);
`;
// Reports round 2 with metrics when REPORT is set; exits 1 once FAIL_FILE exists, when set.
const TRAIN_SCRIPT = `
const fs = require('node:fs');
console.log(JSON.stringify({ worker: process.env.WORKER_NAME, batch: process.env.batch_size, token: process.env.AGG_TOKEN }));
if (process.env.REPORT) {
  const body = JSON.stringify({ name: process.env.WORKER_NAME, namespace: process.env.NAMESPACE, ownerName: process.env.JOB_NAME, ownerKind: 'federatedlearningjob', kind: 'train', status: 'running',
    results: [{ format: 'txt', url: '/tmp/m', metrics: { accuracy: 0.75 } }], ownerInfo: { currentRound: 2, updateTime: '2024-01-02T03:04:05Z' } });
  fetch(process.env.LC_SERVER + '/sedna/workers/' + process.env.WORKER_NAME + '/info', { method: 'POST', headers: { 'content-type': 'application/json' }, body }).catch((e) => console.error(e));
}
setInterval(() => { if (process.env.FAIL_FILE && fs.existsSync(process.env.FAIL_FILE)) process.exit(1); }, 100);
`;

/** eventually(), pausing between checks: each one spawns kubectl, and the machine is shared. */
function eventually<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  return pollFast(async () => {
    await new Promise((r) => setTimeout(r, 200));
    return check();
  }, timeoutMs, what);
}

function envOf(pod: Pod): Record<string, EnvVar> {
  return Object.fromEntries((pod.spec.containers[0]!.env ?? []).map((e) => [e.name, e]));
}

function worker(node: string, script: string, env: EnvVar[], extra: Record<string, unknown> = {}): unknown {
  return { spec: { nodeName: node, terminationGracePeriodSeconds: 1, ...extra, containers: [{ name: 'main', image: 'node', command: ['node', '-e', script], env }] } };
}

describe('FederatedLearningJob controller (sedna up, kubectl)', () => {
  let cluster: LocalCluster;
  let doneFile: string;
  let failFile: string;

  const job = (name: string): Promise<FederatedLearningJob> => cluster.getJson<FederatedLearningJob>(['get', 'fl', name]);
  const podsOf = async (name: string): Promise<Pod[]> => (await cluster.getJson<{ items: Pod[] }>(['get', 'pods', '-l', `${LABEL}/name=${name}`])).items;
  const live = (pods: Pod[]): Pod[] => pods.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  const running = (pods: Pod[]): boolean => pods.every((p) => p.status?.containerStatuses?.[0]?.state.running);
  const trainers = (pods: Pod[]): Pod[] => pods.filter((p) => p.metadata.labels?.[`${LABEL}/worker-type`] === 'train').sort((x, y) => Number(x.metadata.annotations?.['sedna.io/worker-index']) - Number(y.metadata.annotations?.['sedna.io/worker-index']));
  const waitRunning = (name: string, count: number, timeoutMs = 40_000): Promise<Pod[]> =>
    eventually(async () => {
      const pods = live(await podsOf(name));
      return pods.length === count && running(pods) ? pods : undefined;
    }, timeoutMs, `${count} running pods of ${name}`);
  const uids = (pods: Pod[]): string[] => pods.map((p) => p.metadata.uid!).sort();

  before(async () => {
    cluster = await startCluster({ nodes: 'cloud,edge-1,edge-2', prefix: 'sedna-fl-' });
    doneFile = join(cluster.dir, 'agg-done');
    failFile = join(cluster.dir, 'train-fail');
    mkdirSync(join(cluster.dir, 'model'), { recursive: true });
    for (const node of ['edge-1', 'edge-2']) {
      mkdirSync(join(cluster.dir, node), { recursive: true });
      writeFileSync(join(cluster.dir, node, 'train.txt'), 'a.png 1\nb.png 0\n');
    }
  });

  after(async () => {
    await cluster?.stop();
  });

  it('creates the Secret, the Service, the aggregator and one trainer per worker, with their env and owners', async () => {
    await cluster.apply({ apiVersion: 'sedna.io/v1alpha1', kind: 'Model', metadata: { name: 'fl-model', namespace: 'default' }, spec: { url: join(cluster.dir, 'model'), format: 'txt' } });
    for (const node of ['edge-1', 'edge-2']) {
      await cluster.apply({ apiVersion: 'sedna.io/v1alpha1', kind: 'Dataset', metadata: { name: `data-${node}`, namespace: 'default' }, spec: { url: join(cluster.dir, node, 'train.txt'), format: 'txt', nodeName: node } });
    }
    const trainer = (node: string, env: EnvVar[], extra?: Record<string, unknown>): unknown => ({ dataset: { name: `data-${node}` }, template: worker(node, TRAIN_SCRIPT, env, extra) });
    await cluster.apply({
      apiVersion: 'sedna.io/v1alpha1',
      kind: 'FederatedLearningJob',
      metadata: { name: A, namespace: 'default' },
      spec: {
        aggregationWorker: { model: { name: 'fl-model' }, template: worker('cloud', AGG_SCRIPT, [{ name: 'DONE_FILE', value: doneFile }]) },
        trainingWorkers: [trainer('edge-1', [{ name: 'batch_size', value: '32' }, { name: 'REPORT', value: '1' }]), trainer('edge-2', [{ name: 'batch_size', value: '32' }])],
      },
    });
    await cluster.apply({
      apiVersion: 'sedna.io/v1alpha1',
      kind: 'FederatedLearningJob',
      metadata: { name: B, namespace: 'default' },
      spec: {
        aggregationWorker: { model: { name: 'fl-model' }, template: worker('cloud', AGG_SCRIPT, [{ name: 'DONE_FILE', value: `${doneFile}-b` }]) },
        trainingWorkers: [trainer('edge-1', [{ name: 'batch_size', value: '8' }, { name: 'FAIL_FILE', value: failFile }], { restartPolicy: 'Never' })],
      },
    });
    const pods = await waitRunning(A, 3);
    await waitRunning(B, 2);
    const fl = await eventually(async () => {
      const j = await job(A);
      return j.status?.phase === 'Running' && j.status.active === 3 ? j : undefined;
    }, 20_000, 'job A Running with 3 active');
    assert.ok(fl.status?.startTime);
    assert.equal(fl.status?.observedGeneration, fl.metadata.generation);
    assert.equal(fl.status?.conditions?.find((c) => c.type === 'Training')?.status, 'True');

    const owner = { apiVersion: 'sedna.io/v1alpha1', kind: 'FederatedLearningJob', name: A, uid: fl.metadata.uid!, controller: true, blockOwnerDeletion: true };
    const svc = await cluster.getJson<Service>(['get', 'service', `${A}-aggregation`]);
    const secret = await cluster.getJson<KubeObject & { data: Record<string, string> }>(['get', 'secret', `${A}-agg-token`]);
    for (const child of [svc, secret, ...pods]) assert.deepEqual(child.metadata.ownerReferences, [owner], child.metadata.name);
    assert.deepEqual(svc.spec.ports.map((p) => [p.port, p.targetPort]), [[7363, 7363]]);
    assert.equal(svc.spec.selector?.[`${LABEL}/worker-type`], 'aggregation');

    const agg = pods.find((p) => p.metadata.labels?.[`${LABEL}/worker-type`] === 'aggregation')!;
    assert.match(agg.metadata.name!, new RegExp(`^${A}-aggregation-`));
    assert.equal(agg.spec.restartPolicy, 'OnFailure');
    assert.notEqual(agg.spec.hostNetwork, true);
    assert.equal(agg.spec.containers[0]!.ports?.[0]?.containerPort, 7363);
    const aggEnv = envOf(agg);
    assert.match(aggEnv.WORKER_NAME!.value!, /^aggworker-[a-z0-9]{5}$/);
    assert.deepEqual(
      ['NAMESPACE', 'JOB_NAME', 'AGG_BIND_PORT', 'PARTICIPANTS_COUNT', 'TRANSMITTER', 'MODEL_URL'].map((k) => aggEnv[k]?.value),
      ['default', A, '7363', '2', 'ws', `/home/data${join(cluster.dir, 'model')}`],
    );
    assert.deepEqual(aggEnv.AGG_BIND_IP!.valueFrom, { fieldRef: { fieldPath: 'status.podIP' } });
    assert.ok(aggEnv.LC_SERVER?.value);

    const [t0, t1] = trainers(pods);
    assert.ok(t0 && t1);
    assert.deepEqual([t0.spec.nodeName, t1.spec.nodeName], ['edge-1', 'edge-2']);
    for (const [i, t] of [t0, t1].entries()) {
      const env = envOf(t);
      assert.match(t.metadata.name!, new RegExp(`^${A}-train-`));
      assert.equal(t.spec.hostNetwork, true);
      assert.equal(t.spec.restartPolicy, 'OnFailure');
      assert.equal(t.metadata.annotations?.['sedna.io/worker-index'], String(i));
      assert.match(env.WORKER_NAME!.value!, /^trainworker-[a-z0-9]{5}$/);
      assert.deepEqual(
        ['AGG_IP', 'AGG_PORT', 'JOB_NAME', 'MODEL_NAME', 'DATASET_NAME', 'PARTICIPANTS_COUNT', 'TRAIN_DATASET_URL'].map((k) => env[k]?.value),
        [`${A}-aggregation.default`, '7363', A, 'fl-model', `data-edge-${i + 1}`, '2', `/home/data${join(cluster.dir, `edge-${i + 1}`, 'train.txt')}`],
      );
    }
    assert.notEqual(envOf(t0).WORKER_NAME!.value, envOf(t1).WORKER_NAME!.value);
    for (const p of [agg, t0, t1]) assert.deepEqual(envOf(p).AGG_TOKEN!.valueFrom, { secretKeyRef: { name: `${A}-agg-token`, key: 'token' } });

    // What a trainer process saw: the token from the Secret.
    const token = Buffer.from(secret.data.token!, 'base64').toString();
    const logs = await eventually(async () => {
      const r = await cluster.kubectl(['logs', t1.metadata.name!]);
      return r.code === 0 && r.stdout.includes('{') ? r.stdout : undefined;
    }, 15_000, 'trainer logs');
    assert.equal((JSON.parse(logs.split('\n').find((l) => l.startsWith('{'))!) as { token: string }).token, token);
  });

  it('a trainer report through its LC sets the round, the Training condition and the Model metrics', async () => {
    const fl = await eventually(async () => {
      const j = await job(A);
      return j.status?.round === 2 ? j : undefined;
    }, 20_000, 'round 2 on job A');
    const training = fl.status?.conditions?.find((c) => c.type === 'Training');
    assert.deepEqual([training?.reason, training?.message], ['DoTraining', 'Round 2 reaches at 2024-01-02T03:04:05Z']);
    assert.equal(fl.status?.conditions?.filter((c) => c.type === 'Training').length, 1);
    const model = await eventually(async () => {
      const m = await cluster.getJson<Model>(['get', 'model', 'fl-model']);
      return m.status?.metrics?.length ? m : undefined;
    }, 10_000, 'model metrics');
    assert.deepEqual(model.status?.metrics, [{ key: 'accuracy', value: '0.75' }]);
  });

  it('a deleted trainer is recreated within 5 s with the same WORKER_NAME; the other job is untouched', async () => {
    const bBefore = uids(live(await podsOf(B)));
    const [, t1] = trainers(live(await podsOf(A)));
    const name = envOf(t1!).WORKER_NAME!.value;
    const started = Date.now();
    await cluster.kc(['delete', 'pod', t1!.metadata.name!, '--wait=false']);
    const replacement = await eventually(async () => {
      const fresh = trainers(live(await podsOf(A))).find((p) => p.metadata.annotations?.['sedna.io/worker-index'] === '1' && p.metadata.uid !== t1!.metadata.uid);
      return fresh;
    }, 10_000, 'the trainer recreated');
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 5_000, `recreated after ${elapsed} ms`);
    assert.equal(envOf(replacement).WORKER_NAME!.value, name);
    await waitRunning(A, 3);
    assert.equal(trainers(live(await podsOf(A))).length, 2, 'recreated once');
    assert.deepEqual(uids(live(await podsOf(B))), bBefore);
  });

  it('editing a trainer\'s batch_size recreates every pod of that job from the new spec, and only that job', async () => {
    const before = live(await podsOf(A));
    const bBefore = uids(live(await podsOf(B)));
    const oldNames = trainers(before).map((t) => envOf(t).WORKER_NAME!.value);
    await cluster.kc(['patch', 'fl', A, '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/trainingWorkers/0/template/spec/containers/0/env/0/value', value: '16' }])]);
    const after = await eventually(async () => {
      const pods = live(await podsOf(A));
      const fresh = pods.every((p) => !before.some((b) => b.metadata.uid === p.metadata.uid));
      return pods.length === 3 && fresh && running(pods) ? pods : undefined;
    }, 40_000, 'all pods of job A recreated');
    const [t0, t1] = trainers(after);
    assert.equal(envOf(t0!).batch_size!.value, '16');
    assert.equal(envOf(t1!).batch_size!.value, '32');
    assert.equal(t0!.metadata.annotations?.['sedna.io/job-generation'], '2');
    assert.notDeepEqual(trainers(after).map((t) => envOf(t).WORKER_NAME!.value), oldNames);
    const fl = await eventually(async () => {
      const j = await job(A);
      return j.status?.observedGeneration === 2 && j.status.active === 3 ? j : undefined;
    }, 20_000, 'status of generation 2');
    const training = fl.status?.conditions?.find((c) => c.type === 'Training');
    assert.equal(training?.observedGeneration, 2);
    assert.deepEqual(uids(live(await podsOf(B))), bBefore);
  });

  it('the aggregator exiting 0 completes the job; its pods are not recreated', async () => {
    writeFileSync(doneFile, 'done');
    const fl = await eventually(async () => {
      const j = await job(A);
      return j.status?.phase === 'Succeeded' ? j : undefined;
    }, 20_000, 'job A Succeeded');
    const complete = fl.status?.conditions?.find((c) => c.type === 'Complete');
    assert.equal(complete?.status, 'True');
    assert.ok(fl.status?.completionTime);
    assert.equal(fl.status?.succeeded, 1);
    // The trainers left over are stopped, and nothing comes back.
    await eventually(async () => (live(await podsOf(A)).length === 0 ? true : undefined), 20_000, 'job A trainers stopped');
    await new Promise((r) => setTimeout(r, 2_000));
    assert.equal(live(await podsOf(A)).length, 0);
    assert.equal((await job(A)).status?.phase, 'Succeeded');
    assert.equal((await job(B)).status?.phase, 'Running');
  });

  it('a trainer failing under restartPolicy Never fails the job', async () => {
    writeFileSync(failFile, 'fail');
    const fl = await eventually(async () => {
      const j = await job(B);
      return j.status?.phase === 'Failed' ? j : undefined;
    }, 20_000, 'job B Failed');
    const failed = fl.status?.conditions?.find((c) => c.type === 'Failed');
    assert.equal(failed?.reason, 'workerFailed');
    assert.match(failed?.message ?? '', /training worker 0/);
    assert.equal(fl.status?.failed, 1);
    await eventually(async () => (live(await podsOf(B)).length === 0 ? true : undefined), 20_000, 'job B aggregator stopped');
  });

  it('kubectl delete fl removes every pod, the Services and the Secrets', async () => {
    await cluster.kc(['delete', 'fl', A, B]);
    await eventually(async () => {
      const left = await cluster.kc(['get', 'pods,services,secrets', '-l', LABEL + '/name', '-o', 'name']);
      return left.trim() === '' ? true : undefined;
    }, 30_000, 'everything of both jobs gone');
  });
});
