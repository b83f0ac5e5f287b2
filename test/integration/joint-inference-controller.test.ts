// The JointInferenceService controller end to end: `sedna up` (API server, GM, LCs whose kubelets
// run pods as processes), driven with the real kubectl. A service with a tiny HTTP "big model" in
// the cloud and an idle edge worker gets its Secret, Deployments and Service; reaches Running; a
// HEM change rolls the edge worker only; a deleted Deployment comes back; a crashing cloud worker
// makes it Failed and its recovery Running again; deleting it removes everything.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../src/api/meta.ts';
import type { JointInferenceService } from '../../src/api/sedna/joint-inference-service.ts';
import type { Deployment, EnvVar, Service } from '../../src/gm/workers/index.ts';
import type { Pod } from '../../src/lc/kubelet/index.ts';
import { type LocalCluster, startCluster } from '../helpers/cluster.ts';
import { eventually as pollFast } from '../helpers/wait.ts';

const NAME = 'helmet-ji';
const CLOUD_DEPLOYMENT = `${NAME}-deployment-cloud`;
const EDGE_DEPLOYMENT = `${NAME}-deployment-edge`;
const LABEL = 'jointinferenceservice.sedna.io';

// The cloud worker: reports what it was given, serves on its host port for 5000, and exits 3 as
// soon as the test's fail file exists (the hook that makes it crash).
const CLOUD_SCRIPT = `
const fs = require('node:fs');
const fail = process.env.FAIL_FILE;
console.log(JSON.stringify({ worker: 'cloud', modelUrl: process.env.MODEL_URL, modelFound: fs.existsSync(process.env.MODEL_URL + '/weights.txt'), token: process.env.BIG_MODEL_TOKEN, name: process.env.WORKER_NAME }));
const check = () => { if (fs.existsSync(fail)) process.exit(3); };
check();
setInterval(check, 100);
require('node:http').createServer((q, s) => s.end('big model')).listen(Number(process.env.PORT_5000 || 5000), '127.0.0.1');
`;
const EDGE_SCRIPT = `
const fs = require('node:fs');
console.log(JSON.stringify({ worker: 'edge', modelUrl: process.env.MODEL_URL, modelFound: fs.existsSync(process.env.MODEL_URL + '/weights.txt'), token: process.env.BIG_MODEL_TOKEN, hem: process.env.HEM_PARAMETERS }));
setInterval(() => {}, 1000);
`;

interface WorkerReport {
  worker: string;
  modelUrl: string;
  modelFound: boolean;
  token: string;
  hem?: string;
}

/** eventually(), but pausing between checks: each one spawns kubectl, and the machine is shared. */
function eventually<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  return pollFast(async () => {
    await new Promise((r) => setTimeout(r, 250));
    return check();
  }, timeoutMs, what);
}

function envOf(d: Deployment): Record<string, EnvVar> {
  return Object.fromEntries((d.spec.template.spec.containers[0]!.env ?? []).map((e) => [e.name, e]));
}

describe('JointInferenceService controller (sedna up, kubectl)', () => {
  let cluster: LocalCluster;
  let modelsDir: string;
  let failFile: string;

  const deployment = (name: string): Promise<Deployment> => cluster.getJson<Deployment>(['get', 'deployment', name]);
  const service = (): Promise<JointInferenceService> => cluster.getJson<JointInferenceService>(['get', 'ji', NAME]);
  const runningPods = async (worker: string): Promise<Pod[]> => {
    const list = await cluster.getJson<{ items: Pod[] }>(['get', 'pods', '-l', `${LABEL}/worker-type=${worker}`]);
    return list.items.filter((p) => !p.metadata.deletionTimestamp && p.status?.containerStatuses?.[0]?.state.running);
  };
  const onePod = (worker: string): Promise<Pod> =>
    eventually(async () => {
      const pods = await runningPods(worker);
      return pods.length === 1 ? pods[0] : undefined;
    }, 30_000, `one running ${worker} pod`);
  const report = (pod: Pod): Promise<WorkerReport> =>
    eventually(async () => {
      const r = await cluster.kubectl(['logs', pod.metadata.name!]);
      const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
      return r.code === 0 && line ? (JSON.parse(line) as WorkerReport) : undefined;
    }, 20_000, `logs of ${pod.metadata.name}`);
  const lastCondition = async (): Promise<{ type: string; reason?: string; message?: string } | undefined> => (await service()).status?.conditions?.at(-1);
  const waitForCondition = (type: string, timeoutMs = 30_000): Promise<JointInferenceService> =>
    eventually(async () => {
      const ji = await service();
      return ji.status?.conditions?.at(-1)?.type === type ? ji : undefined;
    }, timeoutMs, `service ${type}`);

  before(async () => {
    cluster = await startCluster({ nodes: 'cloud,edge-1', prefix: 'sedna-ji-' });
    modelsDir = join(cluster.dir, 'models');
    failFile = join(cluster.dir, 'cloud-fail');
    for (const model of ['big', 'little']) {
      mkdirSync(join(modelsDir, model), { recursive: true });
      writeFileSync(join(modelsDir, model, 'weights.txt'), model);
    }
  });

  after(async () => {
    await cluster?.stop();
  });

  it('creates the Secret, both Deployments and the Service, and reaches Running with 2 active', async () => {
    for (const model of ['big', 'little']) {
      await cluster.apply({ apiVersion: 'sedna.io/v1alpha1', kind: 'Model', metadata: { name: `${model}-model`, namespace: 'default' }, spec: { url: join(modelsDir, model), format: 'txt' } });
    }
    const worker = (node: string, script: string, env: EnvVar[] = []): unknown => ({
      spec: { nodeName: node, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'node', command: ['node', '-e', script], env }] },
    });
    await cluster.apply({
      apiVersion: 'sedna.io/v1alpha1',
      kind: 'JointInferenceService',
      metadata: { name: NAME, namespace: 'default' },
      spec: {
        edgeWorker: { model: { name: 'little-model' }, hardExampleMining: { name: 'IBT', parameters: [{ key: 'threshold_img', value: '0.9' }] }, template: worker('edge-1', EDGE_SCRIPT) },
        cloudWorker: { model: { name: 'big-model' }, template: worker('cloud', CLOUD_SCRIPT, [{ name: 'FAIL_FILE', value: failFile }]) },
      },
    });
    const running = await waitForCondition('Running', 60_000);
    assert.deepEqual([running.status?.active, running.status?.failed], [2, 0]);
    assert.deepEqual(running.status?.conditions?.map((c) => c.type), ['Pending', 'Running']);
    assert.ok(running.status?.startTime);
    assert.equal(running.status?.conditions?.at(-1)?.observedGeneration, running.metadata.generation);

    const uid = running.metadata.uid!;
    const isOwned = (obj: KubeObject): void =>
      assert.deepEqual(obj.metadata.ownerReferences, [{ apiVersion: 'sedna.io/v1alpha1', kind: 'JointInferenceService', name: NAME, uid, controller: true, blockOwnerDeletion: true }]);
    const cloud = await deployment(CLOUD_DEPLOYMENT);
    const edge = await deployment(EDGE_DEPLOYMENT);
    for (const [d, type, app] of [[cloud, 'cloud', 'Cloud'], [edge, 'edge', 'Edge']] as const) {
      isOwned(d);
      const labels = { [`${LABEL}/name`]: NAME, [`${LABEL}/uid`]: uid, [`${LABEL}/worker-type`]: type, 'app.sedna.io': `${NAME}-${app}-svc` };
      assert.deepEqual(d.spec.selector.matchLabels, labels);
      for (const [k, v] of Object.entries(labels)) assert.equal(d.metadata.labels?.[k], v);
    }
    const svc = await cluster.getJson<Service>(['get', 'service', `${NAME}-cloud`]);
    isOwned(svc);
    assert.deepEqual(svc.spec.ports.map((p) => [p.name, p.port, p.targetPort]), [['tcp-0', 5000, 5000]]);
    assert.equal(svc.spec.selector?.[`${LABEL}/worker-type`], 'cloud');
    const secret = await cluster.getJson<KubeObject & { data: Record<string, string> }>(['get', 'secret', `${NAME}-cloud-token`]);
    isOwned(secret);
    const token = Buffer.from(secret.data.token!, 'base64').toString();
    assert.match(token, /^[0-9a-f]{64}$/);

    const cloudEnv = envOf(cloud);
    const edgeEnv = envOf(edge);
    assert.equal(cloudEnv.MODEL_URL!.value, `/home/data${join(modelsDir, 'big')}`);
    assert.equal(cloudEnv.BIG_MODEL_BIND_PORT!.value, '5000');
    assert.deepEqual(cloudEnv.BIG_MODEL_BIND_IP!.valueFrom, { fieldRef: { fieldPath: 'status.podIP' } });
    assert.match(cloudEnv.WORKER_NAME!.value!, /^cloudworker-[a-z0-9]{5}$/);
    assert.equal(edgeEnv.BIG_MODEL_IP!.value, `${NAME}-cloud.default`);
    assert.equal(edgeEnv.HEM_NAME!.value, 'IBT');
    assert.equal(edgeEnv.HEM_PARAMETERS!.value, '[{"key":"threshold_img","value":"0.9"}]');
    assert.match(edgeEnv.WORKER_NAME!.value!, /^edgeworker-[a-z0-9]{5}$/);
    for (const env of [cloudEnv, edgeEnv]) assert.deepEqual(env.BIG_MODEL_TOKEN!.valueFrom, { secretKeyRef: { name: `${NAME}-cloud-token`, key: 'token' } });

    // What the processes saw: the model folder through the kubelet's host-path mapping, the token.
    const cloudReport = await report(await onePod('cloud'));
    const edgeReport = await report(await onePod('edge'));
    assert.equal(resolve(cloudReport.modelUrl), join(modelsDir, 'big'));
    assert.equal(resolve(edgeReport.modelUrl), join(modelsDir, 'little'));
    assert.ok(cloudReport.modelFound && edgeReport.modelFound);
    assert.equal(cloudReport.token, token);
    assert.equal(edgeReport.token, token);
  });

  it('a HEM change rolls the edge worker only', async () => {
    const cloudBefore = await deployment(CLOUD_DEPLOYMENT);
    const edgeBefore = await deployment(EDGE_DEPLOYMENT);
    const cloudPod = await onePod('cloud');
    const edgePod = await onePod('edge');
    await cluster.kc(['patch', 'ji', NAME, '--type=merge', '-p', JSON.stringify({ spec: { edgeWorker: { hardExampleMining: { name: 'IBT', parameters: [{ key: 'threshold_img', value: '0.5' }] } } } })]);
    const edgeAfter = await eventually(async () => {
      const d = await deployment(EDGE_DEPLOYMENT);
      return envOf(d).HEM_PARAMETERS?.value === '[{"key":"threshold_img","value":"0.5"}]' ? d : undefined;
    }, 20_000, 'the edge Deployment updated');
    assert.equal(edgeAfter.metadata.generation, (edgeBefore.metadata.generation ?? 0) + 1);
    assert.equal(envOf(edgeAfter).WORKER_NAME!.value, envOf(edgeBefore).WORKER_NAME!.value);
    const newEdge = await eventually(async () => {
      const pods = await runningPods('edge');
      return pods.length === 1 && pods[0]!.metadata.uid !== edgePod.metadata.uid ? pods[0] : undefined;
    }, 30_000, 'a new edge pod');
    assert.equal((await report(newEdge)).hem, '[{"key":"threshold_img","value":"0.5"}]');
    await waitForCondition('Running');
    const cloudAfter = await deployment(CLOUD_DEPLOYMENT);
    assert.equal(cloudAfter.metadata.generation, cloudBefore.metadata.generation);
    assert.deepEqual(cloudAfter.spec.template, cloudBefore.spec.template);
    assert.deepEqual((await runningPods('cloud')).map((p) => p.metadata.uid), [cloudPod.metadata.uid]);
  });

  it('a deleted Deployment comes back', async () => {
    const before = await deployment(EDGE_DEPLOYMENT);
    await cluster.kc(['delete', 'deployment', EDGE_DEPLOYMENT]);
    const again = await eventually(async () => {
      const r = await cluster.kubectl(['get', 'deployment', EDGE_DEPLOYMENT, '-o', 'json']);
      const d = r.code === 0 ? (JSON.parse(r.stdout) as Deployment) : undefined;
      return d && d.metadata.uid !== before.metadata.uid ? d : undefined;
    }, 20_000, 'the edge Deployment recreated');
    assert.equal(envOf(again).HEM_PARAMETERS!.value, '[{"key":"threshold_img","value":"0.5"}]');
    await onePod('edge');
    await waitForCondition('Running');
  });

  it('an HPA is created when the cloud worker asks for one and deleted when it no longer does', async () => {
    const hpa = `hpa-${CLOUD_DEPLOYMENT}`;
    const generation = (await deployment(CLOUD_DEPLOYMENT)).metadata.generation;
    await cluster.kc(['patch', 'ji', NAME, '--type=merge', '-p', JSON.stringify({ spec: { cloudWorker: { hpa: { minReplicas: 1, maxReplicas: 2 } } } })]);
    const created = await eventually(async () => {
      const r = await cluster.kubectl(['get', 'hpa', hpa, '-o', 'json']);
      return r.code === 0 ? (JSON.parse(r.stdout) as KubeObject & { spec: { scaleTargetRef: { name: string }; maxReplicas: number } }) : undefined;
    }, 20_000, 'the HPA');
    assert.deepEqual([created.spec.scaleTargetRef.name, created.spec.maxReplicas], [CLOUD_DEPLOYMENT, 2]);
    await cluster.kc(['patch', 'ji', NAME, '--type=merge', '-p', JSON.stringify({ spec: { cloudWorker: { hpa: null } } })]);
    await eventually(async () => ((await cluster.kubectl(['get', 'hpa', hpa])).code !== 0 ? true : undefined), 20_000, 'the HPA deleted');
    assert.equal((await deployment(CLOUD_DEPLOYMENT)).metadata.generation, generation, 'the cloud Deployment was not touched');
  });

  it('a crashing cloud worker makes the service Failed, and its recovery Running again', async () => {
    const cloudPod = await onePod('cloud');
    writeFileSync(failFile, 'crash');
    const failed = await waitForCondition('Failed');
    const condition = failed.status!.conditions!.at(-1)!;
    assert.equal(condition.reason, 'workerFailed');
    assert.match(condition.message!, /cloud worker/);
    assert.doesNotMatch(condition.message!, /edge/);
    assert.deepEqual([failed.status?.active, failed.status?.failed], [1, 1]);
    rmSync(failFile);
    await cluster.kc(['delete', 'pod', cloudPod.metadata.name!, '--wait=false']);
    const running = await waitForCondition('Running');
    assert.deepEqual(running.status?.conditions?.slice(-3).map((c) => c.type), ['Running', 'Failed', 'Running']);
    assert.deepEqual([running.status?.active, running.status?.failed], [2, 0]);
    const events = await cluster.getJson<{ items: { type: string; reason: string }[] }>(['get', 'events', '--field-selector', `involvedObject.name=${NAME}`]);
    const seen = events.items.map((e) => `${e.type}/${e.reason}`);
    assert.ok(seen.includes('Warning/workerFailed'), seen.join(', '));
    assert.ok(seen.includes('Normal/WorkerRecovered'), seen.join(', '));
    assert.equal((await lastCondition())?.type, 'Running');
  });

  it('kubectl delete ji removes the Deployments, the Service, the Secret and the pods', async () => {
    await cluster.kc(['delete', 'ji', NAME]);
    await eventually(async () => {
      const left = await cluster.kc(['get', 'deployments,services,secrets,pods', '-l', `${LABEL}/name=${NAME}`, '-o', 'name']);
      const secret = await cluster.kubectl(['get', 'secret', `${NAME}-cloud-token`]);
      return left.trim() === '' && secret.code !== 0 ? true : undefined;
    }, 30_000, 'everything of the service gone');
  });
});
