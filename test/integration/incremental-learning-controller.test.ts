// The IncrementalLearningJob controller end to end: `sedna up` (API server, GM, an LC with its
// embedded kubelet on Sedna's `edge-node`), driven with the real kubectl. Sedna's own sample
// (crd-samples/incrementallearningjob_v1alpha1.yaml) is applied unchanged: it validates, the job
// enters Train/Waiting in round 1, its inference Deployment carries Sedna's env, and a deleted
// inference worker comes back. (Its trigger is not driven: its outputDir, /output, would be written
// on this machine.) A second job with node-script workers that post Sedna's JSON reports to the LC
// over plain HTTP goes through two full train → eval → deploy cycles.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { IncrementalLearningJob } from '../../src/api/sedna/incremental-learning-job.ts';
import type { Deployment, EnvVar } from '../../src/gm/workers/index.ts';
import { type LocalCluster, startCluster } from '../helpers/cluster.ts';
import { parseTable } from '../helpers/kubectl-table.ts';
import { eventually as pollFast } from '../helpers/wait.ts';

// Sedna's sample, copied unchanged into the fixtures (test/fixtures/sedna-crd-samples/README.md).
const SAMPLE = join(import.meta.dirname, '../fixtures/sedna-crd-samples/incrementallearningjob_v1alpha1.yaml');
const NAME = 'helmet-detection-demo';
const INFERENCE = `${NAME}-deployment-inference`;

/** eventually(), pausing between checks: each one spawns kubectl on a shared machine. */
function eventually<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  return pollFast(async () => {
    await new Promise((r) => setTimeout(r, 250));
    return check();
  }, timeoutMs, what);
}

function envOf(containers: { env?: EnvVar[] }[]): Record<string, string> {
  return Object.fromEntries((containers[0]?.env ?? []).map((e) => [e.name, e.value ?? '']));
}

describe('IncrementalLearningJob controller (sedna up, kubectl, Sedna sample)', () => {
  let cluster: LocalCluster;
  let datasetIndex: string;

  const job = (): Promise<IncrementalLearningJob> => cluster.getJson<IncrementalLearningJob>(['get', 'il', NAME]);
  const latest = async (): Promise<string> => {
    const c = (await job()).status?.conditions?.at(-1);
    return c ? `${c.stage}/${c.type}` : '';
  };

  before(async () => {
    cluster = await startCluster({ nodes: 'cloud,edge-node', prefix: 'sedna-il-' });
    const models = join(cluster.dir, 'models');
    for (const model of ['initial', 'deploy']) {
      mkdirSync(join(models, model), { recursive: true });
      writeFileSync(join(models, model, 'model.pb'), model);
    }
    datasetIndex = join(cluster.dir, 'dataset', 'index.txt');
    mkdirSync(join(cluster.dir, 'dataset'), { recursive: true });
    writeFileSync(datasetIndex, '');
    await cluster.apply({ apiVersion: 'sedna.io/v1alpha1', kind: 'Model', metadata: { name: 'initial-model', namespace: 'default' }, spec: { url: join(models, 'initial', 'model.pb'), format: 'pb' } });
    await cluster.apply({ apiVersion: 'sedna.io/v1alpha1', kind: 'Model', metadata: { name: 'deploy-model', namespace: 'default' }, spec: { url: join(models, 'deploy', 'model.pb'), format: 'pb' } });
    await cluster.apply({ apiVersion: 'sedna.io/v1alpha1', kind: 'Dataset', metadata: { name: 'incremental-dataset', namespace: 'default' }, spec: { url: datasetIndex, format: 'txt', nodeName: 'edge-node' } });
  });

  after(async () => {
    await cluster?.stop();
  });

  it('applies Sedna\'s sample unchanged; the job starts in Train/Waiting with its inference worker', async () => {
    const applied = await cluster.kc(['apply', '-f', SAMPLE]);
    assert.match(applied, /incrementallearningjob.sedna.io\/helmet-detection-demo created/);
    await eventually(async () => ((await latest()) === 'Train/Waiting' ? true : undefined), 30_000, 'Train/Waiting');
    const started = await job();
    assert.equal(started.status?.round, 1);
    assert.equal(started.status?.observedGeneration, started.metadata.generation);

    const deployment = await eventually(async () => {
      const r = await cluster.kubectl(['get', 'deployment', INFERENCE, '-o', 'json']);
      return r.code === 0 ? (JSON.parse(r.stdout) as Deployment) : undefined;
    }, 30_000, 'the inference Deployment');
    assert.equal(deployment.metadata.ownerReferences?.[0]?.name, NAME);
    const env = envOf(deployment.spec.template.spec.containers);
    assert.equal(env.NAMESPACE, 'default');
    assert.equal(env.JOB_NAME, NAME);
    assert.match(env.WORKER_NAME!, /^inferworker-[a-z0-9]{5}$/);
    assert.equal(env.HEM_NAME, 'IBT');
    assert.equal(env.HEM_PARAMETERS, 'null');
    assert.ok(env.LC_SERVER, 'LC_SERVER is set');
    assert.match(env.MODEL_URL!, /models\/deploy\/model\.pb$/);
    assert.equal(env.video_url, 'file://video/video.mp4', 'the user\'s env is kept');

    const table = parseTable(await cluster.kc(['get', 'il', NAME]));
    assert.deepEqual(table.header, ['NAME', 'STAGE', 'STATUS', 'ROUND', 'DEPLOYED MODEL', 'AGE']);
    assert.deepEqual({ ...table.rows[0], AGE: '' }, { NAME, STAGE: 'Train', STATUS: 'Waiting', ROUND: '1', 'DEPLOYED MODEL': '', AGE: '' });
  });

  it('recreates a deleted inference worker', async () => {
    await cluster.kc(['delete', 'deployment', INFERENCE, '--wait=false']);
    await eventually(async () => {
      const r = await cluster.kubectl(['get', 'deployment', INFERENCE, '-o', 'json']);
      if (r.code !== 0) return undefined;
      const d = JSON.parse(r.stdout) as Deployment;
      return d.metadata.deletionTimestamp ? undefined : d;
    }, 30_000, 'the inference Deployment recreated');
  });
});

// Workers that speak to the LC exactly as Sedna's Python library does: plain HTTP POST of its JSON
// report to $LC_SERVER/sedna/workers/$WORKER_NAME/info (lib.md §2, §9).
const REPORT = `
const post = (kind, results) => new Promise((resolve, reject) => {
  const body = JSON.stringify({ name: process.env.WORKER_NAME, namespace: process.env.NAMESPACE, ownerName: process.env.JOB_NAME, ownerKind: 'incrementallearningjob', kind, status: 'completed', results });
  const req = require('node:http').request(process.env.LC_SERVER + '/sedna/workers/' + process.env.WORKER_NAME + '/info', { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => { res.resume(); res.on('end', () => res.statusCode === 200 ? resolve() : reject(new Error('LC answered ' + res.statusCode))); });
  req.on('error', reject);
  req.end(body);
});
`;
const TRAIN_SCRIPT = `${REPORT}
const fs = require('node:fs');
fs.mkdirSync(process.env.MODEL_URL, { recursive: true });
const model = process.env.MODEL_URL + '/model.pb';
fs.writeFileSync(model, 'trained on ' + fs.readFileSync(process.env.TRAIN_DATASET_URL, 'utf8').split('\\n').filter(Boolean).length + ' samples');
post('train', [{ format: 'pb', url: model, metrics: {} }]).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
`;
const EVAL_SCRIPT = `${REPORT}
const [trained, deployed] = process.env.MODEL_URLS.split(';');
post('eval', [{ format: 'pb', url: trained, metrics: { precision: [0.9], recall: [0.8] } }, { format: 'pb', url: deployed, metrics: { precision: [0.6], recall: [0.8] } }]).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
`;

describe('IncrementalLearningJob: two full cycles with workers that report as Sedna\'s library', () => {
  let cluster: LocalCluster;

  before(async () => {
    cluster = await startCluster({ nodes: 'cloud,edge-node', prefix: 'sedna-il-cycle-' });
  });

  after(async () => {
    await cluster?.stop();
  });

  it('trains on the new samples, evaluates, deploys the better model, twice', async () => {
    const models = join(cluster.dir, 'models');
    for (const model of ['initial', 'deploy']) {
      mkdirSync(join(models, model), { recursive: true });
      writeFileSync(join(models, model, 'model.pb'), model);
    }
    const index = join(cluster.dir, 'index.txt');
    writeFileSync(index, Array.from({ length: 10 }, (_, i) => `images/${i}.jpg\n`).join(''));
    const output = join(cluster.dir, 'output');
    await cluster.apply({ apiVersion: 'sedna.io/v1alpha1', kind: 'Model', metadata: { name: 'initial-model', namespace: 'default' }, spec: { url: join(models, 'initial', 'model.pb'), format: 'pb' } });
    await cluster.apply({ apiVersion: 'sedna.io/v1alpha1', kind: 'Model', metadata: { name: 'deploy-model', namespace: 'default' }, spec: { url: join(models, 'deploy', 'model.pb'), format: 'pb' } });
    await cluster.apply({ apiVersion: 'sedna.io/v1alpha1', kind: 'Dataset', metadata: { name: 'cycle-dataset', namespace: 'default' }, spec: { url: index, format: 'txt', nodeName: 'edge-node' } });
    const worker = (script: string): unknown => ({ spec: { nodeName: 'edge-node', terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'node', command: ['node', '-e', script] }] } });
    await cluster.apply({
      apiVersion: 'sedna.io/v1alpha1',
      kind: 'IncrementalLearningJob',
      metadata: { name: 'cycle', namespace: 'default' },
      spec: {
        initialModel: { name: 'initial-model' },
        dataset: { name: 'cycle-dataset', trainProb: 0.8 },
        trainSpec: { template: worker(TRAIN_SCRIPT), trigger: { checkPeriodSeconds: 1, condition: { operator: '>', threshold: 3, metric: 'num_of_samples' } } },
        evalSpec: { template: worker(EVAL_SCRIPT) },
        deploySpec: {
          model: { name: 'deploy-model' },
          trigger: { condition: { operator: '>', threshold: 0.1, metric: 'precision_delta[0]' } },
          hardExampleMining: { name: 'IBT' },
          template: worker('setInterval(() => {}, 1000)'),
        },
        outputDir: output,
      },
    });
    const cycle = (): Promise<IncrementalLearningJob> => cluster.getJson<IncrementalLearningJob>(['get', 'il', 'cycle']);
    let seen: IncrementalLearningJob | undefined;
    const done = await eventually(async () => {
      seen = await cycle();
      return (seen.status?.round ?? 0) >= 2 ? seen : undefined;
    }, 150_000, 'round 2').catch(async (err: Error) => {
      // Where the cycle stopped, and what its pods say, for whoever reads the failure.
      const trace = (seen?.status?.conditions ?? []).map((c) => `${c.stage}/${c.type}${c.reason ? `(${c.reason}: ${c.message})` : ''}`).join(' → ');
      const pods = await cluster.kubectl(['get', 'pods', '-o', 'wide']);
      const lcLog = readFileSync(join(cluster.dir, 'logs', 'lc-edge-node.log'), 'utf8').split('\n').filter((l) => /incremental|model|dataset|warn|error/i.test(l)).slice(-30).join('\n');
      throw new Error(`${err.message}\nconditions: ${trace}\n${pods.stdout}\nLC log:\n${lcLog}`);
    });
    const trace = done.status!.conditions!.map((c) => `${c.stage}/${c.type}`);
    for (const step of ['Train/Ready', 'Train/Completed', 'Eval/Ready', 'Eval/Completed', 'Deploy/Ready', 'Deploy/Completed']) assert.ok(trace.includes(step), `${step} in ${trace.join(' ')}`);
    assert.ok(!trace.includes('Train/Failed') && !trace.includes('Eval/Failed'), trace.join(' '));
    const trained = join(output, 'train', '1', 'model.pb');
    // The embedded kubelet maps the mount's host folder with its trailing slash (`train//1`): same file.
    assert.equal(normalize(done.status!.deployedModel!), trained);
    assert.equal(readFileSync(join(models, 'deploy', 'model.pb'), 'utf8'), 'trained on 8 samples', 'the LC copied the trained model onto the deploy model');
    assert.equal(readFileSync(join(output, 'data', 'eval', '1', 'data.txt'), 'utf8'), 'images/8.jpg\nimages/9.jpg\n', 'the eval set is the samples trainProb left out');
    const evalDone = done.status!.conditions!.find((c) => c.stage === 'Eval' && c.type === 'Completed')!;
    const metrics = (JSON.parse(evalDone.data!) as { output: { models: { metrics: unknown }[] } }).output.models.map((m) => m.metrics);
    assert.deepEqual(metrics, [{ precision: [0.9], recall: [0.8] }, { precision: [0.6], recall: [0.8] }]);
    // Without hot update the inference worker rolls onto the deployed model.
    await eventually(async () => {
      const d = await cluster.getJson<Deployment>(['get', 'deployment', 'cycle-deployment-inference']);
      const annotation = d.spec.template.metadata?.annotations?.['sedna.io/deployed-model'];
      return annotation && normalize(annotation) === trained ? true : undefined;
    }, 30_000, 'the inference worker rolled');

    // The second cycle: new samples, training from the model deployed in the first.
    appendFileSync(index, Array.from({ length: 10 }, (_, i) => `images/${10 + i}.jpg\n`).join(''));
    const second = await eventually(async () => {
      const job = await cycle();
      return (job.status?.round ?? 0) >= 3 ? job : undefined;
    }, 150_000, 'round 3');
    const trained2 = join(output, 'train', '2', 'model.pb');
    assert.equal(normalize(second.status!.deployedModel!), trained2);
    const trainReady = second.status!.conditions!.filter((c) => c.stage === 'Train' && c.type === 'Ready').at(-1)!;
    const base = (JSON.parse(trainReady.data!) as { input: { models: { url: string }[] } }).input.models[0]!.url;
    assert.equal(normalize(base), trained, 'round 2 trains from the round-1 model');
    assert.equal(readFileSync(join(output, 'data', 'train', '2', 'data.txt'), 'utf8'), Array.from({ length: 8 }, (_, i) => `images/${10 + i}.jpg\n`).join(''));
    assert.equal(readFileSync(join(models, 'deploy', 'model.pb'), 'utf8'), 'trained on 8 samples');
  });
});
