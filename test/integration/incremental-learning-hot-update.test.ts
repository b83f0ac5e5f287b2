// Incremental learning with model hot update, end to end on `sedna up` (API server, GM, LCs with
// the embedded kubelet, all real processes), with workers built on the SDK (test/fixtures/il-worker):
// the job trains on new samples, evaluates, deploys, and the LC pushes the deployed model to the
// running inference worker, which swaps it in without a failed inference and reports the deploy.
// Then the faults, on the same system one after another, each in the middle of a stage (the fixture
// worker holds its stage while a hold file exists, so a kill lands inside it): the inference worker
// killed (it comes back on the deployed model, not MODEL_URL); the LC killed during training and the
// GM during evaluation; the train worker killed mid-training and the GM during training; the eval
// worker killed mid-evaluation and the LC during evaluation; the GM killed during a deploy; the LC
// killed during a deploy. Every round completes with every sample counted once and each stage
// completed once, and the inference worker always comes back on the newest deployed model.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

  let index: string;
  let output: string;
  let holdDir: string;
  let nextSample = 0;
  const addSamples = (count: number): void => {
    appendFileSync(index, Array.from({ length: count }, () => `images/${nextSample++}.jpg\n`).join(''));
  };
  const latestCondition = async (): Promise<string> => {
    const c = (await job()).status?.conditions?.at(-1);
    return c ? `${c.stage}/${c.type}` : '';
  };
  const untilLatest = (want: (latest: string) => boolean, timeoutMs: number, what: string): Promise<true> =>
    eventually(async () => (want(await latestCondition()) ? true : undefined), timeoutMs, what);
  /** Makes the worker of `role` hold its stage (train, eval, or infer: the load of a deployed model). */
  const hold = (role: string): void => {
    rmSync(join(holdDir, `${role}.pid`), { force: true });
    writeFileSync(join(holdDir, `${role}.hold`), '');
  };
  const release = (role: string): void => rmSync(join(holdDir, `${role}.hold`), { force: true });
  /** The pid of the worker of `role` holding its stage now (read once, then forgotten, so the next is a new holder). */
  const holder = async (role: string, what: string): Promise<number> => {
    const file = join(holdDir, `${role}.pid`);
    // Only a whole positive pid: process.kill(0) would signal this test's own process group.
    const pid = await pollFast(() => {
      const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
      return /^[1-9]\d*$/.test(text) ? Number(text) : undefined;
    }, 180_000, what);
    rmSync(file, { force: true });
    return pid;
  };
  const killLc = async (): Promise<void> => {
    const lcPid = upState().lcs.find((l) => l.node === 'edge-node')!.pid;
    process.kill(lcPid, 'SIGKILL');
    await eventually(() => (upState().lcs.find((l) => l.node === 'edge-node')!.pid !== lcPid ? true : undefined), 60_000, 'the LC restarted');
  };
  const killGm = async (): Promise<void> => {
    const gmPid = upState().gm.pid;
    process.kill(gmPid, 'SIGKILL');
    await eventually(() => (upState().gm.pid !== gmPid ? true : undefined), 60_000, 'the GM restarted');
  };
  const trainLines = (round: number): number => readFileSync(join(output, 'data', 'train', String(round), 'data.txt'), 'utf8').split('\n').filter(Boolean).length;
  /** Each of rounds 1..`rounds` completed each stage exactly once (a retried stage completes once too). */
  const assertStagesOnce = (j: IncrementalLearningJob, rounds: number): void => {
    const conditions = j.status!.conditions!;
    for (const [stage, type] of [['Train', 'Completed'], ['Eval', 'Completed'], ['Deploy', 'Completed'], ['Deploy', 'Ready']] as const) {
      assert.equal(conditions.filter((c) => c.stage === stage && c.type === type).length, rounds, `${stage}/${type} once per round: ${trace(j)}`);
    }
  };

  before(async () => {
    cluster = await startCluster({ nodes: 'cloud,edge-node', prefix: 'sedna-il-hot-' });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('deploys by push without a failed inference; a killed inference worker returns on the deployed model', async () => {
    const models = join(cluster.dir, 'models');
    for (const name of ['initial', 'deploy']) {
      mkdirSync(join(models, name), { recursive: true });
      writeFileSync(join(models, name, 'model.json'), '{"bias": 1}');
    }
    index = join(cluster.dir, 'index.txt');
    writeFileSync(index, '');
    addSamples(10);
    output = join(cluster.dir, 'output');
    holdDir = join(cluster.dir, 'hold');
    mkdirSync(holdDir);
    statusFile = join(cluster.dir, 'infer-status.json');
    for (const [name, kind] of [['initial-model', 'initial'], ['deploy-model', 'deploy']]) {
      await cluster.apply({ apiVersion: 'sedna.io/v1alpha1', kind: 'Model', metadata: { name, namespace: 'default' }, spec: { url: join(models, kind!, 'model.json'), format: 'json' } });
    }
    await cluster.apply({ apiVersion: 'sedna.io/v1alpha1', kind: 'Dataset', metadata: { name: 'hot-dataset', namespace: 'default' }, spec: { url: index, format: 'txt', nodeName: 'edge-node' } });
    const worker = (role: string): unknown => ({
      spec: {
        nodeName: 'edge-node',
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'main', image: 'node', command: ['node', '--import', 'tsx', 'test/fixtures/il-worker/worker.ts', role], workingDir: '/app', env: [{ name: 'STATUS_FILE', value: statusFile }, { name: 'HOLD_DIR', value: holdDir }], volumeMounts: [{ name: 'app', mountPath: '/app' }] }],
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
  });

  it('round 2: the LC killed during training and the GM during evaluation', async () => {
    // 20 new samples, 16 to train.
    addSamples(20);
    await untilLatest((l) => l.startsWith('Train/') && l !== 'Train/Waiting', 120_000, 'round 2 training');
    await killLc();
    await untilLatest((l) => l.startsWith('Eval/'), 180_000, 'round 2 evaluating');
    await killGm();

    const round3 = await untilRound(3, 300_000);
    assertStagesOnce(round3, 2);
    assert.equal(trainLines(2), 16, 'every new sample counted once');
    const final = await eventually(() => (status()?.answer === 17 ? status() : undefined), 30_000, 'the round-2 model answering');
    assert.equal(final.failed, 0, 'the worker never failed an inference');
    // The LC is the node's kubelet: its restart restarted the worker, which came back on the deployed
    // model; round 2's model then arrived by push, as round 1's did.
    const pushes = readFileSync(join(cluster.dir, 'logs', 'lc-edge-node.log'), 'utf8').match(/serves the deployed model \(pushed\)/g) ?? [];
    assert.equal(pushes.length, 2, 'both deploys pushed');
  });

  it('round 3: the train worker killed mid-training, the GM during training, the eval worker mid-evaluation, the LC during evaluation, the GM during the deploy', async () => {
    // 25 new samples, 20 to train: the round's model answers 21.
    hold('train');
    addSamples(25);
    const trainer = await holder('train', 'round 3 training');
    process.kill(trainer, 'SIGKILL');
    // Its pod restarts it (OnFailure) and the GM says so on the stage's condition.
    const noted = await eventually(async () => {
      const c = (await job()).status?.conditions?.at(-1);
      return c?.stage === 'Train' && c.reason === 'WorkerRestarted' ? c : undefined;
    }, 120_000, 'the train worker\'s restart named on the condition');
    assert.match(noted.message ?? '', /exit code 137/);
    await holder('train', 'the restarted train worker training');
    await killGm();
    hold('eval');
    release('train');

    const evaluator = await holder('eval', 'round 3 evaluating');
    process.kill(evaluator, 'SIGKILL');
    await eventually(async () => {
      const c = (await job()).status?.conditions?.at(-1);
      return c?.stage === 'Eval' && c.reason === 'WorkerRestarted' ? true : undefined;
    }, 120_000, 'the eval worker\'s restart named on the condition');
    await holder('eval', 'the restarted eval worker evaluating');
    const beforeLcKill = status()!.pid;
    await killLc();
    // The LC's restart restarted the node's workers: the inference worker is back on round 2's model.
    const back = await eventually(() => {
      const s = status();
      return s && s.pid !== beforeLcKill && s.answer === 17 && s.inferences > 0 ? s : undefined;
    }, 60_000, 'the inference worker serving round 2\'s model after the LC restart');
    assert.equal(back.failed, 0);
    hold('infer');
    release('eval');

    // The deploy: the LC has pushed round 3's model and the worker is loading it when the GM dies.
    const loader = await holder('infer', 'round 3\'s model loading in the inference worker');
    assert.equal(loader, back.pid, 'the deployed model loads in the serving worker');
    await untilLatest((l) => l.startsWith('Deploy/'), 30_000, 'round 3 deploying');
    await killGm();
    assert.equal(status()?.answer, 17, 'the old model serves while the new one loads');
    release('infer');
    const round4 = await untilRound(4, 300_000);
    assertStagesOnce(round4, 3);
    assert.equal(trainLines(3), 20, 'every new sample counted once');
    const swapped = await eventually(() => (status()?.answer === 21 ? status() : undefined), 30_000, 'round 3\'s model answering');
    assert.equal(swapped.pid, back.pid, 'hot-swapped in the same worker');
    assert.equal(swapped.failed, 0);
  });

  it('round 4: the LC killed during the deploy', async () => {
    // 30 new samples, 24 to train: the round's model answers 25.
    hold('infer');
    addSamples(30);
    const loading = await holder('infer', 'round 4\'s model loading in the inference worker');
    await untilLatest((l) => l.startsWith('Deploy/'), 30_000, 'round 4 deploying');
    await killLc();
    // The LC's restart restarted the inference worker, which starts on the deployed model (the LC
    // wrote its config before the push) and reports the deploy: the round completes.
    const round5 = await untilRound(5, 300_000);
    release('infer');
    assertStagesOnce(round5, 4);
    assert.equal(trainLines(4), 24, 'every new sample counted once');
    const final = await eventually(() => (status()?.answer === 25 && status()!.pid !== loading ? status() : undefined), 60_000, 'round 4\'s model answering');
    assert.equal(final.failed, 0);
    assert.match(round5.status?.deployedModel ?? '', /\/train\/4\//, 'the job names round 4\'s model as deployed');
  });
});
