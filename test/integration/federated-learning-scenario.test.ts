// The federated-learning example end to end on the embedded system (`sedna up` with a cloud and
// three edge nodes): real Fashion-MNIST images split non-IID across ten clients on the edges (a
// 10,000-image subset of the training split here, to keep the test short), the example's
// aggregation and training workers run by the kubelets, weights over the aggregation Service.
// Then the controller behaviours that need real workers: a training pod deleted mid-job is
// recreated, rejoins and the job completes; deleting a job removes its pods and Service.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLIENTS, JOB_NAME, NEEDED_NODES, runFederatedLearningScenario, SPLIT_SEED, startFederatedJob, waitForJob } from '../../examples/federated-learning/run.ts';
import { kubeConfigFor } from '../../examples/shared/system.ts';
import type { FederatedResults } from '../../examples/federated-learning/results.ts';
import { startCluster, type LocalCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/wait.ts';

interface Pod {
  metadata: { name: string; uid: string; ownerReferences?: { kind: string; name: string }[] };
  status: { phase?: string };
}

const REJOIN_JOB = 'fl-rejoin';
/** Long enough that the deletion after round 1 lands mid-job; min_clients makes the rounds wait for the rejoin. */
const REJOIN_ROUNDS = 12;
const TEST_TRAIN_IMAGES = 10_000;

describe('federated learning on Fashion-MNIST, end to end (npm run example:federated-learning)', { timeout: 480_000 }, () => {
  let cluster: LocalCluster;
  let results: FederatedResults;

  before(async () => {
    cluster = await startCluster({ nodes: NEEDED_NODES.join(','), prefix: 'sedna-fl-scenario-' });
    results = await runFederatedLearningScenario({ dataDir: cluster.dir, trainImages: TEST_TRAIN_IMAGES, timeoutMs: 400_000, log: () => {} });
  });

  after(async () => {
    await cluster?.stop();
  });

  it('records the split, the ten clients on three nodes and the gap to centralized training on the union', () => {
    assert.equal(results.trainImages, TEST_TRAIN_IMAGES);
    assert.equal(results.validationImages, 10_000);
    assert.equal(results.clients, CLIENTS);
    assert.deepEqual(new Set(Object.values(results.clientNodes)), new Set(['edge-1', 'edge-2', 'edge-3']));
    assert.equal(results.splitSeed, SPLIT_SEED);
    assert.match(results.split.scheme, /per-class Dirichlet/);
    assert.equal(results.gap, results.centralizedAccuracy - results.finalAccuracy);
    assert.ok(results.centralizedAccuracy > 0.75, `a real baseline: ${results.centralizedAccuracy}`);
    // A sanity bound for this small run, not the study's target (that is measured by the study).
    assert.ok(results.finalAccuracy > 0.6 && results.gap < 0.15, `federated ${results.finalAccuracy}, centralized ${results.centralizedAccuracy}`);
  });

  it('writes rounds, accuracies and bytes to DATA_DIR/results/federated-learning.json', () => {
    const file = join(cluster.dir, 'results/federated-learning.json');
    assert.ok(existsSync(file));
    const saved = JSON.parse(readFileSync(file, 'utf8')) as FederatedResults;
    assert.ok(saved.rounds.length >= 3);
    saved.rounds.forEach((r, i) => {
      assert.equal(r.round, i + 1);
      assert.ok(r.accuracy > 0.1 && r.accuracy <= 1, `round ${r.round} accuracy ${r.accuracy}`);
      // Each trainer's 784-128-10 weights in binary: ~407 kB, not JSON number arrays.
      const perClient = r.bytesSent / saved.clientsPerRound[i]!;
      assert.ok(perClient > 300_000 && perClient < 500_000, `round ${r.round}: ${r.bytesSent} bytes from ${saved.clientsPerRound[i]} clients`);
    });
    assert.equal(saved.finalAccuracy, saved.rounds.at(-1)!.accuracy);
    assert.equal(typeof saved.centralizedAccuracy, 'number');
  });

  it('a training pod deleted mid-job is recreated, rejoins, and the job completes', async () => {
    // min_clients = every client: no round closes without the deleted trainer, so the job cannot
    // run ahead of its rejoin however fast the rounds are (a round takes ~2 s at this scale).
    await startFederatedJob(cluster.dir, { jobName: REJOIN_JOB, exitRound: REJOIN_ROUNDS, minClients: CLIENTS });
    const aggregator = await podOf(REJOIN_JOB, 'aggregation');
    await eventually(async () => ((await logs(aggregator.metadata.name)).includes('round 1:') ? true : undefined), 90_000, 'round 1 of the rejoin job');
    const victim = await podOf(REJOIN_JOB, 'train');
    const uidsBefore = new Set((await jobPods(REJOIN_JOB)).map((p) => p.metadata.uid));
    await cluster.kc(['delete', 'pod', victim.metadata.name, '--wait=false']);
    const recreated = await eventually(async () => {
      const pods = await jobPods(REJOIN_JOB);
      // Same name (Sedna's copy of the pod) or the slot's next pod: either way a new training pod.
      return pods.find((p) => p.metadata.name.startsWith(`${REJOIN_JOB}-train-`) && !uidsBefore.has(p.metadata.uid));
    }, 30_000, 'the deleted training pod recreated');
    await waitForJob(kubeConfigFor(cluster.dir), REJOIN_JOB, 150_000);
    const trainerLog = await logs(recreated.metadata.name);
    assert.match(trainerLog, new RegExp(`finished after round ${REJOIN_ROUNDS}`));
    const workerName = /trainer (trainworker-\w+):/.exec(trainerLog)?.[1];
    assert.ok(workerName, trainerLog);
    const lastRound = (await logs(aggregator.metadata.name)).split('\n').find((l) => l.startsWith(`round ${REJOIN_ROUNDS}: clients`));
    assert.ok(lastRound?.includes(workerName), `the rejoined ${workerName} is in the last round: ${lastRound}`);
  });

  it('kubectl delete fl removes every pod and the Service of the job', async () => {
    assert.ok((await jobPods(JOB_NAME)).length > 0);
    await cluster.kc(['delete', 'fl', JOB_NAME]);
    await eventually(async () => ((await jobPods(JOB_NAME)).length === 0 ? true : undefined), 60_000, `the pods of ${JOB_NAME} gone`);
    await eventually(async () => {
      const services = await cluster.getJson<{ items: { metadata: { name: string } }[] }>(['get', 'services']);
      return services.items.some((s) => s.metadata.name.startsWith(`${JOB_NAME}-`)) ? undefined : true;
    }, 60_000, `the Service of ${JOB_NAME} gone`);
  });

  async function jobPods(job: string): Promise<Pod[]> {
    const list = await cluster.getJson<{ items: Pod[] }>(['get', 'pods']);
    return list.items.filter((p) => p.metadata.ownerReferences?.some((o) => o.kind === 'FederatedLearningJob' && o.name === job));
  }

  async function podOf(job: string, type: 'aggregation' | 'train'): Promise<Pod> {
    return eventually(async () => (await jobPods(job)).find((p) => p.metadata.name.startsWith(`${job}-${type}-`) && p.status.phase === 'Running'), 60_000, `a running ${type} pod of ${job}`);
  }

  async function logs(pod: string): Promise<string> {
    return (await cluster.kubectl(['logs', pod])).stdout;
  }
});
