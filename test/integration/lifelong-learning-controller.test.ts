// The LifelongLearningJob controller, LC manager and knowledge base end to end: `sedna up` (API
// server, knowledge base, GM, an LC with its embedded kubelet on Sedna's `edge-node`), driven with
// the real kubectl. The seed's sample (crd-samples/lifelonglearningjobv1alpha1.yaml) is applied
// unchanged: it validates, starts in Train/Waiting, and has no inference worker before a deploy.
// (Its trigger is not driven: its outputDir, /output, would be written on this machine.) A second
// job runs with node-script workers that talk to the LC and the knowledge base exactly as Sedna's
// Python library does — plain HTTP, its JSON reports, its /knowledgebase routes with multipart
// uploads — plus the bearer token the GM hands them: train, eval and deploy, so the controller, the
// LC and the KB are proven apart from our SDK.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KbQueryResult } from '../../src/api/kb-index.ts';
import type { LifelongLearningJob } from '../../src/api/sedna/lifelong-learning-job.ts';
import type { Deployment, EnvVar } from '../../src/gm/workers/index.ts';
import { type LocalCluster, startCluster } from '../helpers/cluster.ts';
import { parseTable } from '../helpers/kubectl-table.ts';
import { eventually as pollFast } from '../helpers/wait.ts';

const SAMPLE = join(import.meta.dirname, '../fixtures/sedna-crd-samples/lifelonglearningjobv1alpha1.yaml');
const CITYSCAPES = join(import.meta.dirname, '../fixtures/sedna-examples/lifelong_learning/cityscapes/yaml');
const NAME = 'atcii-classifier-demo';

/** kubectl-backed checks: polled every 250 ms. */
function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  return pollFast(check, timeoutMs, what, 250);
}

const envOf = (containers: { env?: EnvVar[] }[]): Record<string, string> => Object.fromEntries((containers[0]?.env ?? []).map((e) => [e.name, e.value ?? '']));

// Sedna's library: the LC report (lib.md §2) and KBClient (lib.md §11) over plain HTTP.
const SEDNA_CLIENT = `
const fs = require('node:fs');
const kb = process.env.KB_SERVER + '/knowledgebase';
const auth = { authorization: 'Bearer ' + process.env.KB_TOKEN };
const report = async (kind, results) => {
  const res = await fetch(process.env.LC_SERVER + '/sedna/workers/' + process.env.WORKER_NAME + '/info', { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: process.env.WORKER_NAME, namespace: process.env.NAMESPACE, ownerName: process.env.JOB_NAME, ownerKind: 'lifelonglearningjob', kind, status: 'completed', results }) });
  if (res.status !== 200) throw new Error('LC answered ' + res.status);
};
const upload = async (field, name, body, route) => {
  const form = new FormData();
  form.append(field, new Blob([body]), name);
  const res = await fetch(kb + route, { method: 'POST', headers: auth, body: form });
  if (res.status !== 200) throw new Error(route + ' answered ' + res.status + ' ' + await res.text());
  return kb + '/' + (await res.json()).replace(/^\\//, '');
};
const fail = (e) => { console.error(e); process.exit(1); };
// A fault test holds a worker mid-stage until it creates the file GATE names.
const gate = () => new Promise((go) => { if (!process.env.GATE) return go(); const t = setInterval(() => { if (fs.existsSync(process.env.GATE)) { clearInterval(t); go(); } }, 100); });
`;
const TRAIN_SCRIPT = `${SEDNA_CLIENT}
(async () => {
  await gate();
  const rows = fs.readFileSync(process.env.TRAIN_DATASET_URL, 'utf8').trim().split('\\n').slice(1);
  const bySeason = {};
  for (const row of rows) (bySeason[row.split(',')[0]] ??= []).push(row);
  const groups = [];
  for (const [season, list] of Object.entries(bySeason)) {
    const model = await upload('file', season + '.model', 'model of ' + list.length + ' rows', '/file/upload');
    groups.push({ entry: season, tasks: [{ entry: season, meta_attr: { Season: season }, samples: { sample_num: list.length, data_type: 'train' } }], samples: { sample_num: list.length }, model: { model, classes: ['0', '1', '2'] } });
  }
  const index = JSON.stringify({ seen_task: { extractor: Object.fromEntries(groups.map((g, i) => [g.entry, i])), task_groups: groups }, unseen_task: { extractor: null, task_groups: [] }, create_time: String(Date.now()) });
  await upload('task', 'index.json', index, '/update');
  fs.mkdirSync(process.env.OUTPUT_URL, { recursive: true });
  fs.writeFileSync(process.env.OUTPUT_URL + '/index.json', index);
  await report('train', [{ format: 'pkl', url: process.env.OUTPUT_URL + '/index.json', metrics: null }]);
})().then(() => process.exit(0), fail);
`;
const EVAL_SCRIPT = `${SEDNA_CLIENT}
(async () => {
  await gate();
  const res = await fetch(kb + '/update/status', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ status: 1, tasks: process.env.KB_TASKS || 'Summer,Winter' }) });
  if (res.status !== 200) throw new Error('update/status answered ' + res.status);
  const index = await (await fetch(kb + '/' + (await res.json()).replace(/^\\//, ''), { headers: auth })).text();
  fs.mkdirSync(process.env.OUTPUT_URL, { recursive: true });
  fs.writeFileSync(process.env.OUTPUT_URL + '/index.json', index);
  await report('eval', [{ format: 'pkl', url: process.env.OUTPUT_URL + '/index.json', metrics: { precision_score: 0.8 } }]);
})().then(() => process.exit(0), fail);
`;

describe('LifelongLearningJob: the seed\'s sample and a cycle with workers that speak as Sedna\'s library', () => {
  let cluster: LocalCluster;

  before(async () => {
    cluster = await startCluster({ nodes: 'cloud,edge-node', prefix: 'sedna-ll-' });
  });

  after(async () => {
    await cluster?.stop();
  });

  it('runs the knowledge base under sedna up, recorded in up.json and shown by sedna status', () => {
    const kb = (cluster.state.others ?? []).find((c) => c.name === 'kb');
    assert.ok(kb, 'up.json records the knowledge base');
    assert.match(kb.url!, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(kb.metricsUrl, 'its metrics are recorded');
  });

  it('applies the seed\'s sample unchanged: Train/Waiting, no inference worker yet, printer columns', async () => {
    writeFileSync(join(cluster.dir, 'trainData.csv'), 'Season,Temperature,Thermal preference\n');
    await cluster.apply({ apiVersion: 'sedna.io/v1alpha1', kind: 'Dataset', metadata: { name: 'lifelong-dataset', namespace: 'default' }, spec: { url: join(cluster.dir, 'trainData.csv'), format: 'csv', nodeName: 'edge-node' } });
    const applied = await cluster.kc(['apply', '-f', SAMPLE]);
    assert.match(applied, /lifelonglearningjob.sedna.io\/atcii-classifier-demo created/);
    await eventually(async () => ((await cluster.getJson<LifelongLearningJob>(['get', 'll', NAME])).status?.conditions?.at(-1)?.type === 'Waiting' ? true : undefined), 30_000, 'Train/Waiting');
    const table = parseTable(await cluster.kc(['get', 'll', NAME]));
    assert.deepEqual(table.header, ['NAME', 'STAGE', 'STATUS', 'ROUND', 'MODELS', 'AGE']);
    assert.deepEqual({ ...table.rows[0], AGE: '' }, { NAME, STAGE: 'Train', STATUS: 'Waiting', ROUND: '1', MODELS: '', AGE: '' });
    const r = await cluster.kubectl(['get', 'deployment', `${NAME}-deployment-inference`]);
    assert.notEqual(r.code, 0, 'no inference worker before the first deploy');
  });

  it('accepts Sedna\'s cityscapes lifelong-learning example with its $variables filled in as its docs say', async () => {
    const values: Record<string, string> = {
      DATA_NODE: 'edge-node', data_url: join(cluster.dir, 'robo.txt'), job_name: 'robo-dog-delivery', TRAIN_NODE: 'cloud', EVAL_NODE: 'cloud', INFER_NODE: 'edge-node',
      OUTPUT: join(cluster.dir, 'robo-output'), cloud_image: 'node', edge_image: 'node',
    };
    for (const file of ['dataset.yaml', 'robot-dog-delivery.yaml']) {
      const text = readFileSync(join(CITYSCAPES, file), 'utf8').replace(/\$([A-Za-z_]+)/g, (_m, name: string) => values[name] ?? `$${name}`);
      assert.doesNotMatch(text, /\$[A-Za-z_]/, `every variable of ${file} has a value`);
      const applied = await cluster.kc(['apply', '--dry-run=server', '-f', '-'], text);
      assert.match(applied, /created \(server dry run\)/, file);
    }
  });

  it('trains into the knowledge base, evaluates, deploys; status.knowledgeBase holds the KB\'s counts', async () => {
    const data = join(cluster.dir, 'cycle.csv');
    const rows = Array.from({ length: 10 }, (_, i) => `${i % 2 ? 'Summer' : 'Winter'},${20 + i},${i % 3}`);
    writeFileSync(data, `Season,Temperature,Thermal preference\n${rows.join('\n')}\n`);
    const output = join(cluster.dir, 'output');
    mkdirSync(output, { recursive: true });
    await cluster.apply({ apiVersion: 'sedna.io/v1alpha1', kind: 'Dataset', metadata: { name: 'cycle-dataset', namespace: 'default' }, spec: { url: data, format: 'csv', nodeName: 'edge-node' } });
    const worker = (script: string): unknown => ({ spec: { nodeName: 'edge-node', terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'node', command: ['node', '-e', script] }] } });
    await cluster.apply({
      apiVersion: 'sedna.io/v1alpha1',
      kind: 'LifelongLearningJob',
      metadata: { name: 'cycle', namespace: 'default' },
      spec: {
        dataset: { name: 'cycle-dataset', trainProb: 0.8 },
        trainSpec: { template: worker(TRAIN_SCRIPT), trigger: { checkPeriodSeconds: 1, condition: { operator: '>', threshold: 3, metric: 'num_of_samples' } } },
        evalSpec: { template: worker(EVAL_SCRIPT) },
        deploySpec: { template: worker('setInterval(() => {}, 1000)') },
        outputDir: output,
      },
    });
    let seen: LifelongLearningJob | undefined;
    const done = await eventually(async () => {
      seen = await cluster.getJson<LifelongLearningJob>(['get', 'll', 'cycle']);
      return (seen.status?.round ?? 0) >= 2 ? seen : undefined;
    }, 150_000, 'round 2').catch(async (err: Error) => {
      const trace = (seen?.status?.conditions ?? []).map((c) => `${c.stage}/${c.type}${c.reason ? `(${c.reason}: ${c.message})` : ''}`).join(' → ');
      const pods = await cluster.kubectl(['get', 'pods', '-o', 'wide']);
      const lcLog = readFileSync(join(cluster.dir, 'logs', 'lc-edge-node.log'), 'utf8').split('\n').filter((l) => /lifelong|warn|error/i.test(l)).slice(-30).join('\n');
      throw new Error(`${err.message}\nconditions: ${trace}\n${pods.stdout}\nLC log:\n${lcLog}`);
    });
    const trace = done.status!.conditions!.map((c) => `${c.stage}/${c.type}`);
    for (const step of ['Train/Ready', 'Train/Completed', 'Eval/Ready', 'Eval/Completed', 'Deploy/Ready', 'Deploy/Completed']) assert.ok(trace.includes(step), `${step} in ${trace.join(' ')}`);
    assert.ok(!trace.some((s) => s.endsWith('/Failed')), trace.join(' '));
    // The LC wrote the csv with its header, and copied the evaluated index into the deploy folder.
    const trainCsv = readFileSync(join(output, 'data', 'train', '1', 'data.csv'), 'utf8').trim().split('\n');
    assert.equal(trainCsv[0], 'Season,Temperature,Thermal preference');
    assert.equal(trainCsv.length, 1 + 8);
    const deployed = JSON.parse(readFileSync(join(output, 'deploy', 'index.json'), 'utf8')) as { seen_task: { task_groups: { entry: string }[] } };
    assert.deepEqual(deployed.seen_task.task_groups.map((g) => g.entry).sort(), ['Summer', 'Winter']);
    // status.knowledgeBase: the KB's two task models with their training-sample counts, three classes.
    const kbStatus = done.status!.knowledgeBase!;
    assert.equal(kbStatus.AIModels.numberOfAIModels, 2);
    assert.deepEqual(kbStatus.AIModels.listOfAIModels!.map((m) => m.numberOfTrainSamples).reduce((a, b) => a + b, 0), 8);
    assert.deepEqual(kbStatus.AIClasses, { numberOfAIClasses: 3, listOfAIClasses: ['0', '1', '2'] });
    // The KB's query agrees, and refuses a caller without the token.
    const kb = cluster.state.others!.find((c) => c.name === 'kb')!;
    const token = readFileSync(join(cluster.dir, 'kb-token'), 'utf8').trim();
    assert.equal((await fetch(`${kb.url}/knowledgebase/query`, { method: 'POST' })).status, 401);
    const query = (await (await fetch(`${kb.url}/knowledgebase/query`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).json()) as KbQueryResult;
    assert.deepEqual(query.groups.map((g) => [g.name, g.deploy]).sort(), [['Summer', true], ['Winter', true]]);
    // The inference worker runs on the deployed index with the KB's address and token; the token
    // reaches it from the job's Secret, and no one who reads pods or Deployments sees it.
    const deployment = await eventually(async () => {
      const r = await cluster.kubectl(['get', 'deployment', 'cycle-deployment-inference', '-o', 'json']);
      return r.code === 0 ? (JSON.parse(r.stdout) as Deployment) : undefined;
    }, 30_000, 'the inference Deployment');
    const env = envOf(deployment.spec.template.spec.containers);
    assert.match(env.MODEL_URLS!, /output\/deploy\/index\.json$/);
    assert.equal(env.KB_SERVER, kb.url);
    const containers = deployment.spec.template.spec.containers;
    assert.deepEqual(containers[0]?.env?.find((e) => e.name === 'KB_TOKEN')?.valueFrom, { secretKeyRef: { name: 'cycle-kb-token', key: 'token' } });
    const pods = await cluster.kubectl(['get', 'pods', '-l', 'lifelonglearningjob.sedna.io/name=cycle', '-o', 'json']);
    assert.ok(pods.stdout.includes('cycle-kb-token') && !pods.stdout.includes(token), 'the workers\' pods name the Secret, never the token');
    const secret = JSON.parse((await cluster.kubectl(['get', 'secret', 'cycle-kb-token', '-o', 'json'])).stdout) as { data: { token: string }; metadata: { ownerReferences: { name: string }[] } };
    assert.equal(Buffer.from(secret.data.token, 'base64').toString(), token);
    assert.equal(secret.metadata.ownerReferences[0]?.name, 'cycle');
    assert.equal(deployment.metadata.ownerReferences?.[0]?.name, 'cycle');
  });

  it('a knowledge base killed mid-run comes back on its port with every task, model and sample count', async () => {
    const kb = cluster.state.others!.find((c) => c.name === 'kb')!;
    const token = readFileSync(join(cluster.dir, 'kb-token'), 'utf8').trim();
    const ask = async (): Promise<KbQueryResult | undefined> => {
      try {
        const res = await fetch(`${kb.url}/knowledgebase/query`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
        return res.ok ? ((await res.json()) as KbQueryResult) : undefined;
      } catch {
        return undefined;
      }
    };
    const before = (await ask())!;
    process.kill(kb.pid, 'SIGKILL');
    const restarted = await eventually(() => {
      const state = JSON.parse(readFileSync(join(cluster.dir, 'up.json'), 'utf8')) as typeof cluster.state;
      const now = state.others?.find((c) => c.name === 'kb');
      return Promise.resolve(now && now.pid !== kb.pid && (now.restarts ?? 0) >= 1 ? now : undefined);
    }, 60_000, 'the supervisor restarts the knowledge base');
    assert.equal(restarted.url, kb.url, 'same port: the workers\' KB_SERVER stays valid');
    const after = await eventually(ask, 30_000, 'the restarted knowledge base answers');
    assert.deepEqual(after.groups.map((g) => [g.name, g.sampleNum, g.taskNum, g.deploy, g.models.length]), before.groups.map((g) => [g.name, g.sampleNum, g.taskNum, g.deploy, g.models.length]));
    assert.deepEqual(after.tasks.map((t) => [t.name, t.sampleNum]), before.tasks.map((t) => [t.name, t.sampleNum]));
  });

  it('the GM killed mid-training and the LC killed mid-evaluation: the job completes its rounds, no stage repeated, no sample lost or counted twice', async () => {
    const upState = (): typeof cluster.state => JSON.parse(readFileSync(join(cluster.dir, 'up.json'), 'utf8')) as typeof cluster.state;
    const data = join(cluster.dir, 'faults.csv');
    const rows = (from: number, n: number): string => Array.from({ length: n }, (_, i) => `${(from + i) % 2 ? 'Spring' : 'Autumn'},${from + i},${(from + i) % 3}\n`).join('');
    writeFileSync(data, `Season,Temperature,Thermal preference\n${rows(0, 10)}`);
    const output = join(cluster.dir, 'faults-output');
    const gates = join(cluster.dir, 'faults-gates');
    mkdirSync(output, { recursive: true });
    mkdirSync(gates, { recursive: true });
    await cluster.apply({ apiVersion: 'sedna.io/v1alpha1', kind: 'Dataset', metadata: { name: 'faults-dataset', namespace: 'default' }, spec: { url: data, format: 'csv', nodeName: 'edge-node' } });
    const worker = (script: string, gateName?: string): unknown => ({
      spec: { nodeName: 'edge-node', terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'node', command: ['node', '-e', script], env: [{ name: 'KB_TASKS', value: 'Spring,Autumn' }, ...(gateName ? [{ name: 'GATE', value: join(gates, gateName) }] : [])] }] },
    });
    await cluster.apply({
      apiVersion: 'sedna.io/v1alpha1',
      kind: 'LifelongLearningJob',
      metadata: { name: 'faults', namespace: 'default' },
      spec: {
        dataset: { name: 'faults-dataset', trainProb: 0.8 },
        // Round 1 trains behind the gate "train-1", round 2 runs straight through.
        trainSpec: { template: worker(TRAIN_SCRIPT.replace('await gate();', 'if (!process.env.OUTPUT_URL.endsWith("/2")) await gate();'), 'train-1'), trigger: { checkPeriodSeconds: 1, condition: { operator: '>', threshold: 3, metric: 'num_of_samples' } } },
        evalSpec: { template: worker(EVAL_SCRIPT.replace('await gate();', 'if (!process.env.OUTPUT_URL.endsWith("/2")) await gate();'), 'eval-1') },
        deploySpec: { template: worker('setInterval(() => {}, 1000)') },
        outputDir: output,
      },
    });
    const job = (): Promise<LifelongLearningJob> => cluster.getJson<LifelongLearningJob>(['get', 'll', 'faults']);
    const at = (stage: string, type: string) => async (): Promise<true | undefined> => {
      const c = (await job()).status?.conditions?.at(-1);
      return c?.stage === stage && c.type === type ? true : undefined;
    };
    const trace = async (): Promise<string> => ((await job()).status?.conditions ?? []).map((c) => `${c.stage}/${c.type}`).join(' ');

    // The GM killed while the train worker is held mid-stage; the worker goes on (and reports) while the GM restarts.
    await eventually(at('Train', 'Running'), 60_000, 'round 1 training');
    const gmPid = upState().gm!.pid;
    process.kill(gmPid, 'SIGKILL');
    writeFileSync(join(gates, 'train-1'), '');
    await eventually(() => (upState().gm!.pid !== gmPid ? true : undefined), 60_000, 'the GM restarted');

    // The LC killed while the eval worker is held mid-stage; released once the LC is back.
    await eventually(at('Eval', 'Running'), 90_000, 'round 1 evaluating');
    const lcPid = upState().lcs.find((l) => l.node === 'edge-node')!.pid;
    process.kill(lcPid, 'SIGKILL');
    await eventually(() => (upState().lcs.find((l) => l.node === 'edge-node')!.pid !== lcPid ? true : undefined), 60_000, 'the LC restarted');
    writeFileSync(join(gates, 'eval-1'), '');
    await eventually(async () => ((await job()).status?.round ?? 0) >= 2 ? true : undefined, 120_000, 'round 1 deployed').catch(async (err: Error) => {
      throw new Error(`${err.message}: ${await trace()}`);
    });

    // Round 2 after the faults: 5 new samples, 4 to train.
    appendFileSync(data, rows(10, 5));
    const done = await eventually(async () => {
      const j = await job();
      return (j.status?.round ?? 0) >= 3 ? j : undefined;
    }, 120_000, 'round 2 deployed').catch(async (err: Error) => {
      throw new Error(`${err.message}: ${await trace()}`);
    });
    const steps = done.status!.conditions!.map((c) => `${c.stage}/${c.type}`);
    for (const step of ['Train/Completed', 'Eval/Completed', 'Deploy/Completed']) assert.equal(steps.filter((s) => s === step).length, 2, `${step} once per round: ${steps.join(' ')}`);
    assert.ok(!steps.includes('Train/Failed') && !steps.includes('Eval/Failed'), steps.join(' '));
    const lines = (set: string, round: number): number => readFileSync(join(output, 'data', set, String(round), 'data.csv'), 'utf8').trim().split('\n').length - 1;
    assert.deepEqual([lines('train', 1), lines('train', 2)], [8, 4], 'every sample in one round\'s train file, once');
    // The knowledge base counted each round's training samples once: 8 + 4.
    const token = readFileSync(join(cluster.dir, 'kb-token'), 'utf8').trim();
    const kbUrl = upState().others!.find((c) => c.name === 'kb')!.url!;
    const query = (await (await fetch(`${kbUrl}/knowledgebase/query`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).json()) as KbQueryResult;
    const counted = query.groups.filter((g) => g.name === 'Spring' || g.name === 'Autumn').reduce((n, g) => n + g.sampleNum, 0);
    assert.equal(counted, 12);
    assert.equal(done.status!.knowledgeBase!.AIModels.listOfAIModels!.filter((m) => ['Spring', 'Autumn'].includes(m.modelID)).reduce((n, m) => n + m.numberOfTrainSamples, 0), 12);
  });
});
