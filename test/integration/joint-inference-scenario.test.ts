// The joint-inference scenario that `npm start` runs, end to end on the embedded system: real
// Fashion-MNIST test images, the example's real edge (TensorFlow.js) and cloud (ONNX Runtime)
// models, the workers run by the kubelet, the cloud reached through the Service. Then the cloud
// worker is killed mid-stream: the edge keeps answering on its own, the service's status records
// the failure, and offloading resumes when the cloud worker is back.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runJointInferenceScenario } from '../../examples/joint-inference/run.ts';
import { meetsTarget, type ScenarioResults } from '../../examples/joint-inference/results.ts';
import { startCluster, type LocalCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/wait.ts';

const SERVICE = 'fashion-mnist-ji';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  lastTransitionTime?: string;
}

interface Progress {
  answered: number;
  offloaded: number;
  cloudAnswers: number;
  cloudFailures: number;
  skipped: number;
}

describe('joint inference on Fashion-MNIST, end to end (the scenario of npm start)', { timeout: 300_000 }, () => {
  let cluster: LocalCluster;
  let results: ScenarioResults;

  before(async () => {
    cluster = await startCluster({ nodes: 'cloud,edge-1', prefix: 'sedna-ji-scenario-' });
    results = await runJointInferenceScenario({ dataDir: cluster.dir, keepStreaming: true, log: () => {} });
  });

  after(async () => {
    await cluster?.stop();
  });

  it('recovers at least 70% of the edge→cloud accuracy gap while offloading at most 30% of the images', () => {
    const { met, gapRecovered } = meetsTarget(results);
    assert.equal(results.images, 10_000);
    assert.ok(results.cloudAccuracy > results.edgeAccuracy + 0.03, `a real gap: edge ${results.edgeAccuracy}, cloud ${results.cloudAccuracy}`);
    assert.equal(results.thresholdSelectedOn, 'validation');
    assert.ok(met, `gap recovered ${gapRecovered}, offloaded ${results.offloadShare}`);
    assert.equal(results.cloudFailures, 0);
  });

  it('writes the figures to DATA_DIR/results/joint-inference.json', () => {
    const file = join(cluster.dir, 'results/joint-inference.json');
    assert.ok(existsSync(file));
    const saved = JSON.parse(readFileSync(file, 'utf8')) as ScenarioResults;
    for (const key of ['edgeAccuracy', 'cloudAccuracy', 'jointAccuracy', 'offloadShare', 'gapRecovered'] as const) assert.equal(typeof saved[key], 'number', key);
    assert.equal(saved.thresholdSelectedOn, 'validation');
    assert.equal(saved.gapRecovered, (saved.jointAccuracy - saved.edgeAccuracy) / (saved.cloudAccuracy - saved.edgeAccuracy));
    for (const path of ['edge', 'cloud', 'joint'] as const) {
      const { p50, p99 } = saved.latencyMs[path];
      assert.ok(p50 > 0 && p99 >= p50, `${path} latency p50 ${p50} p99 ${p99}`);
    }
  });

  it('the Dataset counts the 10,000 test images on edge-1, and the edge reports reach the service status', async () => {
    await eventually(async () => {
      const dataset = await cluster.getJson<{ status?: { numberOfSamples?: number } }>(['get', 'dataset', 'fashion-mnist-test']);
      return dataset.status?.numberOfSamples === 10_000 ? true : undefined;
    }, 30_000, 'the Dataset sample count');
    const metrics = await eventually(async () => {
      const ji = await cluster.getJson<{ status?: { metrics?: { key: string; value: string }[] } }>(['get', 'ji', SERVICE]);
      const m = new Map((ji.status?.metrics ?? []).map(({ key, value }) => [key, Number(value)]));
      return (m.get('inferenceNumber') ?? 0) > 0 ? m : undefined;
    }, 30_000, 'inference counters in status.metrics');
    assert.ok((metrics.get('hardExampleNumber') ?? 0) > 0);
  });

  it('killing the cloud worker mid-stream: the edge answers alone, the status records the failure, offloading resumes', async () => {
    const before = await progressAfter(0);
    const killedAt = new Date();
    const pod = await cloudPod();
    const pid = Number(pod.status.containerStatuses[0]!.containerID.replace('process://', ''));
    process.kill(pid, 'SIGKILL');

    // The edge keeps answering and counts the offloads the cloud could not take.
    const during = await eventually(async () => {
      const p = await progressAfter(before.answered);
      return p.cloudFailures + p.skipped > before.cloudFailures + before.skipped ? p : undefined;
    }, 30_000, 'edge answers with counted cloud failures');
    assert.ok(during.answered > before.answered);

    // The Deployment brings the cloud worker back, offloads are answered again, and the service's
    // conditions show Failed (workerFailed) after the kill, then Running.
    await eventually(async () => {
      const p = await progressAfter(during.answered);
      return p.cloudAnswers > during.cloudAnswers ? p : undefined;
    }, 60_000, 'offloading resumed');
    const conditions = await eventually(async () => {
      const ji = await cluster.getJson<{ status?: { conditions?: Condition[] } }>(['get', 'ji', SERVICE]);
      const list = ji.status?.conditions ?? [];
      const failed = list.find((c) => c.type === 'Failed' && c.reason === 'workerFailed' && Date.parse(c.lastTransitionTime ?? '') >= killedAt.getTime() - 1000);
      return failed && list.at(-1)?.type === 'Running' ? list : undefined;
    }, 60_000, 'a Failed condition after the kill, then Running');
    assert.equal(conditions.at(-1)?.status, 'True');
  });

  async function cloudPod(): Promise<{ metadata: { name: string }; status: { containerStatuses: { containerID: string }[] } }> {
    return eventually(async () => {
      const list = await cluster.getJson<{ items: { metadata: { name: string }; status: { phase?: string; containerStatuses?: { containerID?: string; ready?: boolean }[] } }[] }>([
        'get', 'pods', '-l', 'jointinferenceservice.sedna.io/worker-type=cloud',
      ]);
      const running = list.items.find((p) => p.status.phase === 'Running' && p.status.containerStatuses?.[0]?.ready && p.status.containerStatuses[0].containerID);
      return running as { metadata: { name: string }; status: { containerStatuses: { containerID: string }[] } } | undefined;
    }, 30_000, 'a running cloud pod');
  }

  /** The edge worker's latest progress line whose answered count is beyond `answered`. */
  async function progressAfter(answered: number): Promise<Progress> {
    return eventually(async () => {
      const log = await cluster.kubectl(['logs', `deployment/${SERVICE}-deployment-edge`, '--tail', '5']);
      const lines = log.stdout.split('\n').filter((l) => l.startsWith('progress '));
      const last = lines.at(-1);
      if (!last) return undefined;
      const p = Object.fromEntries(last.slice('progress '.length).split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)])) as unknown as Progress;
      return p.answered > answered ? p : undefined;
    }, 30_000, `edge progress beyond ${answered} answers`);
  }
});
