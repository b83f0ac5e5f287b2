// Incremental learning with model hot update, end to end on `sedna up` (API server, GM, LCs with
// the embedded kubelet, all real processes), with workers built on the SDK (test/fixtures/il-worker):
// the job trains on new samples, evaluates, deploys, and the LC pushes the deployed model to the
// running inference worker, which swaps it in without a failed inference and reports the deploy.
// Then the faults: the inference worker killed (it comes back on the deployed model, not MODEL_URL),
// the LC and the GM killed mid-cycle (the supervisor restarts them): the next cycle completes with
// every sample counted once, and the inference worker never stops answering.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { IncrementalLearningJob } from '../../src/api/sedna/incremental-learning-job.ts';
import { type LocalCluster, startCluster } from '../helpers/cluster.ts';
import { eventually as pollFast } from '../helpers/wait.ts';

const REPO = resolve(import.meta.dirname, '../..');

interface WorkerStatus {
  version: string;
  answer: number;
  inferences: number;
  failed: number;
  pid: number;
}

/** kubectl-backed checks: polled every 250 ms. */
function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  return pollFast(check, timeoutMs, what, 250);
}

describe('IncrementalLearningJob with hot update: SDK workers, the LC\'s push, and faults', () => {
  let cluster: LocalCluster;
  let statusFile: string;
  const status = (): WorkerStatus | undefined => (existsSync(statusFile) ? (JSON.parse(readFileSync(statusFile, 'utf8')) as WorkerStatus) : undefined);
  const job = (): Promise<IncrementalLearningJob> => cluster.getJson<IncrementalLearningJob>(['get', 'il', 'hot']);
  const trace = (j: IncrementalLearningJob | undefined): string => (j?.status?.conditions ?? []).map((c) => `${c.stage}/${c.type}${c.reason ? `(${c.reason}: ${c.message})` : ''}`).join(' → ');
  const upState = (): { gm: { pid: number }; lcs: { node: string; pid: number }[] } => JSON.parse(readFileSync(join(cluster.dir, 'up.json'), 'utf8')) as { gm: { pid: number }; lcs: { node: string; pid: number }[] };
  const untilRound = async (round: number, timeoutMs: number): Promise<IncrementalLearningJob> => {
    let seen: IncrementalLearningJob | undefined;
    return eventually(async () => {
      seen = await job().catch(() => seen);
      return (seen?.status?.round ?? 0) >= round ? seen : undefined;
    }, timeoutMs, `round ${round}`).catch(async (err: Error) => {
      const pods = await cluster.kubectl(['get', 'pods', '-o', 'wide']);
      const logs = await Promise.all(['train', 'eval'].map((type) => cluster.kubectl(['logs', '-l', `incrementallearningjob.sedna.io/worker-type=${type}`, '--tail', '15'])));
      throw new Error(`${err.message}\nconditions: ${trace(seen)}\nworker: ${JSON.stringify(status())}\n${pods.stdout}\n${logs.map((l) => l.stdout + l.stderr).join('\n')}`);
    });
  };

  before(async () => {
    cluster = await startCluster({ nodes: 'cloud,edge-node', prefix: 'sedna-il-hot-' });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('deploys by push without a failed inference, survives killing the worker, the LC and the GM', async () => {
    const models = join(cluster.dir, 'models');
    for (const name of ['initial', 'deploy']) {
      mkdirSync(join(models, name), { recursive: true });
      writeFileSync(join(models, name, 'model.json'), '{"bias": 1}');
    }
    const index = join(cluster.dir, 'index.txt');
    writeFileSync(index, Array.from({ length: 10 }, (_, i) => `images/${i}.jpg\n`).join(''));
    const output = join(cluster.dir, 'output');
    statusFile = join(cluster.dir, 'infer-status.json');
    for (const [name, kind] of [['initial-model', 'initial'], ['deploy-model', 'deploy']]) {
      await cluster.apply({ apiVersion: 'sedna.io/v1alpha1', kind: 'Model', metadata: { name, namespace: 'default' }, spec: { url: join(models, kind!, 'model.json'), format: 'json' } });
    }
    await cluster.apply({ apiVersion: 'sedna.io/v1alpha1', kind: 'Dataset', metadata: { name: 'hot-dataset', namespace: 'default' }, spec: { url: index, format: 'txt', nodeName: 'edge-node' } });
    const worker = (role: string): unknown => ({
      spec: {
        nodeName: 'edge-node',
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'main', image: 'node', command: ['node', '--import', 'tsx', 'test/fixtures/il-worker/worker.ts', role], workingDir: '/app', env: [{ name: 'STATUS_FILE', value: statusFile }], volumeMounts: [{ name: 'app', mountPath: '/app' }] }],
        volumes: [{ name: 'app', hostPath: { path: REPO, type: 'Directory' } }],
      },
    });
    await cluster.apply({
      apiVersion: 'sedna.io/v1alpha1',
      kind: 'IncrementalLearningJob',
      metadata: { name: 'hot', namespace: 'default' },
      spec: {
        initialModel: { name: 'initial-model' },
        dataset: { name: 'hot-dataset', trainProb: 0.8 },
        trainSpec: { template: worker('train'), trigger: { checkPeriodSeconds: 1, condition: { operator: '>', threshold: 3, metric: 'num_of_samples' } } },
        evalSpec: { template: worker('eval') },
        deploySpec: {
          // An hour between polls: a deploy that arrives within the test arrived by the LC's push.
          model: { name: 'deploy-model', hotUpdateEnabled: true, pollPeriodSeconds: 3600 },
          trigger: { condition: { operator: '>', threshold: 0.1, metric: 'precision_delta[0]' } },
          hardExampleMining: { name: 'IBT' },
          template: worker('infer'),
        },
        outputDir: output,
      },
    });

    const first = await eventually(() => status(), 120_000, 'the inference worker serving').catch(async (err: Error) => {
      const pods = await cluster.kubectl(['get', 'pods', '-o', 'wide']);
      const logs = await cluster.kubectl(['logs', 'deployment/hot-deployment-inference', '--tail', '30']);
      throw new Error(`${err.message}\n${pods.stdout}\n${logs.stdout}${logs.stderr}`);
    });
    assert.equal(first.version, 'initial');
    assert.equal(first.answer, 2, 'MODEL_URL (bias 1) serves first');

    // Round 1: 8 train samples → bias 8; pushed to the worker, which swaps and reports the deploy.
    const round2 = await untilRound(2, 240_000);
    assert.ok(trace(round2).includes('Deploy/Running → Deploy/Completed'), trace(round2));
    const swapped = await eventually(() => (status()?.answer === 9 ? status() : undefined), 30_000, 'the trained model answering');
    assert.notEqual(swapped.version, 'initial');
    assert.equal(swapped.failed, 0, 'no inference failed across the swap');
    assert.equal(swapped.pid, first.pid, 'the same worker process: hot-swapped, not restarted');
    assert.match(readFileSync(join(cluster.dir, 'logs', 'lc-edge-node.log'), 'utf8'), /serves the deployed model \(pushed\)/);

    // The inference worker killed: it comes back serving the deployed model, not MODEL_URL.
    process.kill(swapped.pid, 'SIGKILL');
    const restarted = await eventually(() => {
      const s = status();
      return s && s.pid !== swapped.pid && s.inferences > 0 ? s : undefined;
    }, 60_000, 'the inference worker restarted');
    assert.equal(restarted.answer, 9, 'the restarted worker serves the deployed model');
    assert.equal(restarted.failed, 0);

    // Round 2 with the LC and the GM killed mid-cycle: 20 new samples, 16 to train.
    appendFileSync(index, Array.from({ length: 20 }, (_, i) => `images/${10 + i}.jpg\n`).join(''));
    await eventually(async () => {
      const c = (await job()).status?.conditions?.at(-1);
      return c && c.stage === 'Train' && c.type !== 'Waiting' ? true : undefined;
    }, 120_000, 'round 2 training');
    const lcPid = upState().lcs.find((l) => l.node === 'edge-node')!.pid;
    process.kill(lcPid, 'SIGKILL');
    await eventually(() => (upState().lcs.find((l) => l.node === 'edge-node')!.pid !== lcPid ? true : undefined), 60_000, 'the LC restarted');
    await eventually(async () => ((await job()).status?.conditions?.at(-1)?.stage === 'Eval' ? true : undefined), 180_000, 'round 2 evaluating');
    const gmPid = upState().gm.pid;
    process.kill(gmPid, 'SIGKILL');
    await eventually(() => (upState().gm.pid !== gmPid ? true : undefined), 60_000, 'the GM restarted');

    const round3 = await untilRound(3, 300_000);
    const conditions = round3.status!.conditions!;
    assert.equal(conditions.filter((c) => c.stage === 'Train' && c.type === 'Completed').length, 2, `one completed training per round: ${trace(round3)}`);
    assert.equal(readFileSync(join(output, 'data', 'train', '2', 'data.txt'), 'utf8').split('\n').filter(Boolean).length, 16, 'every new sample counted once');
    const final = await eventually(() => (status()?.answer === 17 ? status() : undefined), 30_000, 'the round-2 model answering');
    assert.equal(final.failed, 0, 'the worker never failed an inference');
    // The LC is the node's kubelet: its restart restarted the worker, which came back on the deployed
    // model; round 2's model then arrived by push, as round 1's did.
    const pushes = readFileSync(join(cluster.dir, 'logs', 'lc-edge-node.log'), 'utf8').match(/serves the deployed model \(pushed\)/g) ?? [];
    assert.equal(pushes.length, 2, 'both deploys pushed');
  });
});
