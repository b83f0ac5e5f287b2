// The dashboard in a real browser: Debian's chromium driven by playwright-core against `sedna up`
// (API server, GM, two LCs with kubelets, the dashboard). Status updates are driven through kubectl
// against the embedded API server (`kubectl patch --subresource=status`), as the workers' reports
// would write them, so the test needs no ML run (the learning jobs name a Dataset that does not
// exist, so no LC acts on them, and their statuses end in a Waiting, on which the GM waits).
// Screenshots of the main pages go to a temporary folder, or to docs/screenshots/ with
// SEDNA_SCREENSHOTS=docs (`npm run screenshots`), so a test run never leaves the committed
// pictures modified.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadYaml } from '@kubernetes/client-node';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type LocalCluster, startCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/wait.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = process.env.SEDNA_SCREENSHOTS === 'docs'
  ? resolve(import.meta.dirname, '../../docs/screenshots')
  : mkdtempSync(join(tmpdir(), 'sedna-screenshots-'));
const ROUTES = ['overview', 'joint-inference', 'federated-learning', 'incremental-learning', 'lifelong-learning', 'data', 'events', 'logs'];

let minute = 0;
/** A condition as the controllers and LCs write them (spec §2.4.4). */
function condition(stage: string, type: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  minute++;
  const time = `2026-12-07T0${Math.floor(minute / 60)}:${String(minute % 60).padStart(2, '0')}:00Z`;
  return { type, stage, status: 'True', lastTransitionTime: time, lastHeartbeatTime: time, ...extra };
}

/** One train → eval → deploy cycle up to Deploy/Waiting; the Eval report carries [trained, deployed] metrics. */
function cycleUntilDeploy(trained: number, deployed: number): Record<string, unknown>[] {
  const models = [{ format: 'pb', url: '/out/train/model.pb', metrics: { precision: [trained] } }, { format: 'pb', url: '/models/deploy.pb', metrics: { precision: [deployed] } }];
  return [
    condition('Train', 'Waiting'), condition('Train', 'Ready'), condition('Train', 'Starting'), condition('Train', 'Running'),
    condition('Train', 'Completed', { data: JSON.stringify({ output: { models: [models[0]] } }) }),
    condition('Eval', 'Waiting'), condition('Eval', 'Ready'), condition('Eval', 'Starting'), condition('Eval', 'Running'),
    condition('Eval', 'Completed', { data: JSON.stringify({ input: { models }, output: { models } }) }),
    condition('Deploy', 'Waiting'),
  ];
}

describe('sedna dashboard in Chromium', () => {
  let cluster: LocalCluster;
  let browser: Browser;
  let page: Page;
  let base: string;
  let token: string;
  const consoleErrors: string[] = [];
  const started = Date.now();

  const patchStatus = (kind: string, name: string, status: unknown): Promise<string> =>
    cluster.kc(['patch', kind, name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
  const counter = async (name: string): Promise<string> => (await page.locator(`output[data-counter="${name}"]`).first().textContent()) ?? '';
  const chartPoints = async (title: string): Promise<number> => Number(await page.locator(`figure[data-chart="${title}"]`).first().getAttribute('data-points'));
  const show = async (route: string): Promise<void> => {
    await page.goto(`${base}#/${route}`);
    await page.locator('main h1').waitFor();
  };
  const shot = async (name: string): Promise<void> => {
    await page.screenshot({ path: join(SHOTS, `${name}.png`) });
  };

  before(async () => {
    cluster = await startCluster({ nodes: 'cloud,edge-1', prefix: 'sedna-dashboard-' });
    base = cluster.state.dashboard!.url!;
    token = readFileSync(cluster.state.dashboard!.tokenFile, 'utf8').trim();
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(err.message));
  });

  after(async () => {
    await browser?.close();
    await cluster?.stop();
    if (process.env.SEDNA_SCREENSHOTS !== 'docs') rmSync(SHOTS, { recursive: true, force: true });
    process.stdout.write(`# dashboard browser tests: ${((Date.now() - started) / 1000).toFixed(1)} s including sedna up and down\n`);
  });

  it('refuses a visitor without the token, and a wrong token', async () => {
    const context = await browser.newContext();
    const stranger = await context.newPage();
    const response = await stranger.goto(base);
    assert.equal(response?.status(), 401);
    assert.equal(await stranger.locator('#app').count(), 0, 'no app for a stranger');
    assert.equal((await stranger.goto(`${base}?token=${'0'.repeat(48)}`))?.status(), 401);
    assert.equal((await stranger.goto(`${base}api/state`))?.status(), 401);
    assert.equal((await stranger.goto(`${base}assets/app.js`))?.status(), 401);
    await context.close();
    // /metrics wants the token as a bearer token.
    assert.equal((await fetch(`${base}metrics`)).status, 401);
    const metrics = await fetch(`${base}metrics`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /^sedna_node_ready\{node="edge-1",role="edge"\} 1$/m);
  });

  it('the token link signs in with an HttpOnly SameSite=Strict cookie and drops the token from the address', async () => {
    await page.goto(`${base}?token=${token}`);
    assert.equal(page.url(), base);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'sedna_dashboard_session');
    assert.ok(session, 'session cookie set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    await page.getByRole('cell', { name: 'edge-1' }).first().waitFor();
    assert.equal(await page.locator('.live.on').count(), 1, 'live updates connected');
  });

  it('refuses a POST from another origin or without the CSRF token', async () => {
    const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const post = (headers: Record<string, string>): Promise<Response> => fetch(`${base}api/logout`, { method: 'POST', headers: { Cookie: cookie, ...headers } });
    assert.equal((await post({ Origin: 'http://evil.example' })).status, 403);
    assert.equal((await post({ Origin: base.slice(0, -1) })).status, 403, 'no CSRF header');
    assert.equal((await post({ Origin: base.slice(0, -1), 'x-sedna-csrf': 'wrong' })).status, 403);
    assert.equal((await fetch(`${base}api/logout`)).status, 401, 'GET without a session');
    // The session still works.
    assert.equal((await fetch(`${base}api/state`, { headers: { Cookie: cookie } })).status, 200);
  });

  it('joint inference: the counters and plots move as status.metrics change', async () => {
    const models = join(cluster.dir, 'models');
    mkdirSync(models, { recursive: true });
    writeFileSync(join(models, 'm.txt'), 'model');
    for (const m of ['big', 'little']) await cluster.apply({ apiVersion: 'sedna.io/v1alpha1', kind: 'Model', metadata: { name: `${m}-model`, namespace: 'default' }, spec: { url: join(models, 'm.txt'), format: 'txt' } });
    const worker = (node: string): unknown => ({ spec: { nodeName: node, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'node', command: ['node', '-e', 'console.log("worker up"); setInterval(() => console.log("tick " + Date.now()), 500)'] }] } });
    await cluster.apply({
      apiVersion: 'sedna.io/v1alpha1',
      kind: 'JointInferenceService',
      metadata: { name: 'helmet', namespace: 'default' },
      spec: { edgeWorker: { model: { name: 'little-model' }, hardExampleMining: { name: 'IBT', parameters: [{ key: 'threshold_img', value: '0.9' }] }, template: worker('edge-1') }, cloudWorker: { model: { name: 'big-model' }, template: worker('cloud') } },
    });
    await show('joint-inference');
    await page.getByRole('heading', { name: 'JointInferenceService default/helmet' }).waitFor();
    const steps = [[10, 3, 0], [40, 9, 1], [90, 30, 2]] as const;
    for (const [i, [inferences, hard, failures]] of steps.entries()) {
      const metrics = [
        { key: 'cloudFailureNumber', value: String(failures) },
        { key: 'hardExampleNumber', value: String(hard) },
        { key: 'inferenceNumber', value: String(inferences) },
        { key: 'uploadCloudRatio', value: String(hard / inferences) },
      ];
      await patchStatus('jointinferenceservice', 'helmet', { metrics });
      await eventually(async () => ((await counter('inferences')) === String(inferences) ? true : undefined), 10_000, `inferences ${inferences} on the page`);
      assert.equal(await counter('hardExamples'), String(hard));
      assert.equal(await counter('cloudFailures'), String(failures));
      assert.equal(await chartPoints('Inferences and hard examples'), i + 1);
    }
    assert.equal(await counter('offloadShare'), String(Math.round((30 / 90) * 1000) / 1000));
    await eventually(async () => ((await page.getByText('Running').count()) > 0 ? true : undefined), 30_000, 'service Running');
    await shot('joint-inference');
    // The same series at /metrics.
    const text = await (await fetch(`${base}metrics`, { headers: { Authorization: `Bearer ${token}` } })).text();
    assert.match(text, /^sedna_jointinference_inferences\{namespace="default",name="helmet"\} 90$/m);
    assert.match(text, /^sedna_jointinference_hard_examples\{namespace="default",name="helmet"\} 30$/m);
  });

  it('federated learning: the plot gains a point per round', async () => {
    const data = join(cluster.dir, 'train.txt');
    writeFileSync(data, 'a.png 1\nb.png 0\n');
    await cluster.apply({ apiVersion: 'sedna.io/v1alpha1', kind: 'Dataset', metadata: { name: 'fl-data', namespace: 'default' }, spec: { url: data, format: 'txt', nodeName: 'edge-1' } });
    await cluster.apply({ apiVersion: 'sedna.io/v1alpha1', kind: 'Model', metadata: { name: 'fl-model', namespace: 'default' }, spec: { url: cluster.dir, format: 'txt' } });
    const template = (node: string): unknown => ({ spec: { nodeName: node, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'node', command: ['node', '-e', 'setInterval(() => {}, 1000)'] }] } });
    await cluster.apply({
      apiVersion: 'sedna.io/v1alpha1',
      kind: 'FederatedLearningJob',
      metadata: { name: 'surface', namespace: 'default' },
      spec: { aggregationWorker: { model: { name: 'fl-model' }, template: template('cloud') }, trainingWorkers: [{ dataset: { name: 'fl-data' }, template: template('edge-1') }] },
    });
    await show('federated-learning');
    await page.getByRole('heading', { name: 'FederatedLearningJob default/surface' }).waitFor();
    assert.equal(await chartPoints('Accuracy and loss per round'), 0);
    for (let round = 1; round <= 4; round++) {
      // What the GM writes from a trainer's report: the job's round, then the aggregation Model's metrics.
      await patchStatus('federatedlearningjob', 'surface', { round });
      await eventually(async () => ((await counter('round')) === String(round) ? true : undefined), 10_000, `round ${round} on the page`);
      const metrics = { accuracy: 0.5 + round * 0.1, loss: 1.2 / round, clients: 1, bytesSent: 40_000 + round };
      await patchStatus('model', 'fl-model', { metrics: Object.entries(metrics).map(([key, value]) => ({ key, value: String(value) })) });
      await eventually(async () => ((await chartPoints('Accuracy and loss per round')) === round ? true : undefined), 10_000, `${round} points in the accuracy plot`);
      assert.equal(await chartPoints('Bytes sent per round'), round);
    }
    await shot('federated-learning');
  });

  it('incremental learning: cycles, their stages and the Eval metric per cycle move as conditions are appended', async () => {
    // The job's Dataset does not exist, so no LC acts on it; every status written below ends in a
    // Waiting, on which the GM does nothing (the LC decides), so the page shows what we wrote.
    const job = loadYaml<{ spec: { dataset: { name: string } }; metadata: Record<string, unknown> }>(readFileSync(resolve(import.meta.dirname, '../../examples/incremental-learning-job.yaml'), 'utf8'));
    job.metadata = { name: 'helmet-il', namespace: 'default' };
    job.spec.dataset.name = 'no-such-dataset';
    await cluster.apply(job);
    await show('incremental-learning');
    await page.getByRole('heading', { name: 'IncrementalLearningJob default/helmet-il' }).waitFor();
    const first = cycleUntilDeploy(0.61, 0.5);
    const second = cycleUntilDeploy(0.72, 0.61);
    const steps = [
      { round: 1, conditions: first, cycles: 1, points: 1, deployed: 0 },
      { round: 2, conditions: [...first, condition('Deploy', 'Ready'), condition('Deploy', 'Completed'), ...second], cycles: 2, points: 2, deployed: 1 },
      { round: 3, conditions: [...first, condition('Deploy', 'Ready'), condition('Deploy', 'Completed'), ...second, condition('Deploy', 'Completed', { message: 'not deployed: precision_delta[0] 0.11 is not > 0.2' }), condition('Train', 'Waiting')], cycles: 3, points: 2, deployed: 1 },
    ];
    for (const step of steps) {
      await patchStatus('incrementallearningjob', 'helmet-il', { round: step.round, conditions: step.conditions });
      await eventually(async () => ((await counter('il-cycle')) === String(step.round) ? true : undefined), 10_000, `cycle ${step.round} on the page`);
      await eventually(async () => ((await chartPoints('Eval metric per cycle')) === step.points ? true : undefined), 10_000, `${step.points} points in the metric plot`);
      assert.equal(await counter('il-deployed'), String(step.deployed));
      assert.equal(await page.locator('section[aria-label="IncrementalLearningJob default/helmet-il"] table:has(> caption) > tbody > tr').count(), step.cycles);
    }
    await page.getByText('not deployed: precision_delta[0] 0.11 is not > 0.2').first().waitFor();
    await page.getByRole('cell', { name: '0.72 / 0.61' }).waitFor();
    await page.locator('details summary').first().click();
    await shot('incremental-learning');
    const text = await (await fetch(`${base}metrics`, { headers: { Authorization: `Bearer ${token}` } })).text();
    assert.match(text, /^sedna_incrementallearning_trained_model_metric\{namespace="default",name="helmet-il"\} 0.72$/m);
  });

  it('lifelong learning: the knowledge base\'s task models and unseen samples', async () => {
    await cluster.apply({
      apiVersion: 'sedna.io/v1alpha1',
      kind: 'LifelongLearningJob',
      metadata: { name: 'semantic-ll', namespace: 'default' },
      spec: {
        dataset: { name: 'no-such-dataset', trainProb: 0.8 },
        trainSpec: { template: { spec: { nodeName: 'edge-1', containers: [{ name: 'train', image: 'node' }] } }, trigger: { checkPeriodSeconds: 60, condition: { operator: '>', threshold: 500, metric: 'num_of_samples' } } },
        evalSpec: { template: { spec: { nodeName: 'edge-1', containers: [{ name: 'eval', image: 'node' }] } } },
        deploySpec: { template: { spec: { nodeName: 'edge-1', containers: [{ name: 'infer', image: 'node' }] } } },
        outputDir: '/tmp/ll-output',
      },
    });
    await show('lifelong-learning');
    await page.getByRole('heading', { name: 'LifelongLearningJob default/semantic-ll' }).waitFor();
    const kb = (models: number, unseen: number) => ({
      AIModels: { numberOfAIModels: models, listOfAIModels: Array.from({ length: models }, (_, i) => ({ modelID: `task-${i + 1}`, averagePrecision: 0.6 + i / 20, numberOfTrainSamples: 100 * (i + 1) })) },
      AIClasses: { numberOfAIClasses: 2, listOfAIClasses: ['road', 'sidewalk'] },
      samples: { numberOfUnseenSample: unseen, numberOfLabeledUnseenSample: Math.floor(unseen / 2) },
    });
    for (const [models, unseen] of [[1, 4], [3, 10]] as const) {
      await patchStatus('lifelonglearningjob', 'semantic-ll', { conditions: cycleUntilDeploy(0.7, 0), knowledgeBase: kb(models, unseen) });
      await eventually(async () => ((await counter('kb-models')) === String(models) ? true : undefined), 10_000, `${models} models on the page`);
      assert.equal(await counter('kb-unseen'), String(unseen));
      assert.equal(await counter('kb-labeled'), String(Math.floor(unseen / 2)));
    }
    await page.getByRole('cell', { name: 'task-3' }).waitFor();
    assert.equal(await chartPoints('Knowledge base over time'), 2);
    await shot('lifelong-learning');
  });

  it('datasets, events and the overview render live', async () => {
    await show('data');
    await page.getByRole('cell', { name: 'default/fl-data' }).waitFor();
    await patchStatus('dataset', 'fl-data', { numberOfSamples: 2 });
    await eventually(async () => ((await page.getByRole('cell', { name: '2', exact: true }).count()) > 0 ? true : undefined), 10_000, 'samples shown');
    await shot('datasets-models');
    await show('events');
    await eventually(async () => ((await page.locator('tbody tr').count()) > 1 ? true : undefined), 15_000, 'events listed');
    await shot('events');
    await show('overview');
    await page.getByRole('cell', { name: 'JointInferenceService' }).first().waitFor();
    await shot('overview');
  });

  it('streams the logs of a worker', async () => {
    await show('logs');
    const select = page.getByLabel('Container');
    let values: string[] = [];
    const option = await eventually(async () => {
      values = await select.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
      return values.find((v) => v.startsWith('default/helmet-deployment-edge-'));
    }, 20_000, 'the edge worker among the containers').catch((err: Error) => {
      throw new Error(`${err.message}; the options were ${JSON.stringify(values)}`);
    });
    await select.selectOption(option);
    await eventually(async () => ((await page.locator('pre.log').textContent())?.includes('tick') ? true : undefined), 15_000, 'log lines');
    const before = ((await page.locator('pre.log').textContent()) ?? '').split('\n').length;
    await eventually(async () => (((await page.locator('pre.log').textContent()) ?? '').split('\n').length > before ? true : undefined), 10_000, 'more lines while following');
    await shot('logs');
  });

  it('every page loads with the keyboard and without console errors', async () => {
    for (const route of ROUTES) await show(route);
    await page.goto(base);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    assert.match(page.url(), /#\/joint-inference$/);
    assert.deepEqual(consoleErrors, []);
  });
  it('every component\'s metricsUrl in up.json answers its token only', async () => {
    const { state } = cluster;
    const kubeconfigToken = /token: (\S+)/.exec(readFileSync(cluster.kubeconfig, 'utf8'))?.[1];
    const components = [state.gm!, ...state.lcs, state.dashboard!];
    const expected: Record<string, RegExp> = {
      gm: /^controller_runtime_reconcile_total/m,
      dashboard: /^sedna_resources|^sedna_node_ready/m,
    };
    for (const c of components) {
      assert.ok(c.metricsUrl && c.metricsTokenFile, `${c.name} records metricsUrl and metricsTokenFile`);
      assert.equal((await fetch(c.metricsUrl)).status, 401, `${c.name} without a token`);
      assert.equal((await fetch(c.metricsUrl, { headers: { Authorization: 'Bearer wrong' } })).status, 401, `${c.name} with a wrong token`);
      const scrape = await fetch(c.metricsUrl, { headers: { Authorization: `Bearer ${readFileSync(c.metricsTokenFile, 'utf8').trim()}` } });
      assert.equal(scrape.status, 200, c.name);
      const text = await scrape.text();
      if (c.name.startsWith('lc/')) {
        assert.match(text, new RegExp(`^sedna_lc_gm_connected\\{node="${c.node}"\\} 1$`, 'm'));
        assert.match(text, /^sedna_kubelet_containers\{state="running",node="[^"]+"\} \d+$/m);
        assert.match(text, /^sedna_kubelet_pod_sync_duration_seconds_count\{[^}]*result="ok"[^}]*\} [1-9]\d*$/m);
      } else {
        assert.match(text, expected[c.name]!, c.name);
      }
    }
    assert.equal(state.apiserver.metricsUrl, `${state.apiserver.url}/metrics`);
    assert.ok(kubeconfigToken, 'the kubeconfig carries a bearer token');
  });
});
