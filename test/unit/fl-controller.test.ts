// The FederatedLearningJob controller's pure parts: the pods, Service and Secret it builds, the
// status rules, the edge-report parsing and the creation expectations.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Dataset } from '../../src/api/sedna/dataset.ts';
import type { FederatedLearningJob } from '../../src/api/sedna/federated-learning-job.ts';
import type { Model } from '../../src/api/sedna/model.ts';
import { RejectedMessage } from '../../src/gm/feature.ts';
import { PodExpectations } from '../../src/features/federatedlearning/expectations.ts';
import { resolveInputs } from '../../src/features/federatedlearning/inputs.ts';
import { isFinished, nextStatus, type PodView, withRound } from '../../src/features/federatedlearning/status.ts';
import { handleFederatedLearningUpstream, parseFlReport } from '../../src/features/federatedlearning/upstream.ts';
import { fakeFeatureContext } from '../helpers/feature-context.ts';
import {
  aggregationPod,
  aggregationService,
  CHECKPOINT_MOUNT_PATH,
  CHECKPOINT_VOLUME,
  desiredSlots,
  generationOf,
  type JobInputs,
  slotOf,
  tokenSecret,
  trainerNodes,
  trainingPod,
} from '../../src/features/federatedlearning/workers.ts';
import type { CoreSecret, EnvVar, WorkerPod } from '../../src/gm/workers/index.ts';

const NOW = new Date('2024-05-01T10:00:00Z');

function job(generation = 1, status?: FederatedLearningJob['status']): FederatedLearningJob {
  const template = (node: string, env: EnvVar[] = []): FederatedLearningJob['spec']['aggregationWorker']['template'] => ({
    spec: { nodeName: node, containers: [{ name: 'main', image: 'node', env }] },
  });
  return {
    apiVersion: 'sedna.io/v1alpha1',
    kind: 'FederatedLearningJob',
    metadata: { name: 'surface', namespace: 'ns1', uid: 'uid-1', generation },
    spec: {
      aggregationWorker: { model: { name: 'agg-model' }, template: template('cloud') },
      trainingWorkers: [
        { dataset: { name: 'd1' }, template: template('edge-1', [{ name: 'batch_size', value: '32' }]) },
        { dataset: { name: 'd2' }, template: template('edge-2') },
        { dataset: { name: 'd3' }, template: template('edge-1') },
      ],
    },
    ...(status ? { status } : {}),
  };
}

function model(name: string, url: string, credentialName?: string): Model {
  return { apiVersion: 'sedna.io/v1alpha1', kind: 'Model', metadata: { name, namespace: 'ns1' }, spec: { url, format: 'pb', ...(credentialName ? { credentialName } : {}) } };
}

function dataset(name: string, url: string, nodeName: string): Dataset {
  return { apiVersion: 'sedna.io/v1alpha1', kind: 'Dataset', metadata: { name, namespace: 'ns1' }, spec: { url, format: 'txt', nodeName } };
}

function inputs(): JobInputs {
  return {
    aggregationModel: { model: model('agg-model', '/models/agg/') },
    datasets: [{ dataset: dataset('d1', '/data/1/train.txt', 'edge-1') }, { dataset: dataset('d2', '/data/2/train.txt', 'edge-2') }, { dataset: dataset('d3', '/data/3/train.txt', 'edge-1') }],
    lcServer: 'http://localhost:9100',
  };
}

function envOf(pod: WorkerPod): Record<string, EnvVar> {
  return Object.fromEntries((pod.spec.containers[0]!.env ?? []).map((e) => [e.name, e]));
}

function values(pod: WorkerPod, names: string[]): (string | undefined)[] {
  const env = envOf(pod);
  return names.map((n) => env[n]?.value);
}

describe('FL desired objects', () => {
  it('the aggregation pod: name, labels, owner, env, restart policy and port 7363', () => {
    const pod = aggregationPod(job(), inputs());
    assert.equal(pod.metadata.generateName, 'surface-aggregation-');
    assert.equal(pod.metadata.labels?.['federatedlearningjob.sedna.io/worker-type'], 'aggregation');
    assert.deepEqual(pod.metadata.ownerReferences, [{ apiVersion: 'sedna.io/v1alpha1', kind: 'FederatedLearningJob', name: 'surface', uid: 'uid-1', controller: true, blockOwnerDeletion: true }]);
    assert.equal(pod.spec.restartPolicy, 'OnFailure');
    assert.equal(pod.spec.hostNetwork, undefined);
    assert.deepEqual(pod.spec.containers[0]!.ports, [{ name: 'tcp-0', containerPort: 7363, protocol: 'TCP' }]);
    assert.deepEqual(values(pod, ['NAMESPACE', 'JOB_NAME', 'AGG_BIND_PORT', 'PARTICIPANTS_COUNT', 'TRANSMITTER', 'MODEL_URL', 'LC_SERVER']), [
      'ns1',
      'surface',
      '7363',
      '3',
      'ws',
      '/home/data/models/agg',
      'http://localhost:9100',
    ]);
    const env = envOf(pod);
    assert.match(env.WORKER_NAME!.value!, /^aggworker-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.deepEqual(env.AGG_BIND_IP!.valueFrom, { fieldRef: { fieldPath: 'status.podIP' } });
    assert.deepEqual(env.AGG_TOKEN!.valueFrom, { secretKeyRef: { name: 'surface-agg-token', key: 'token' } });
    assert.equal(env.PRETRAINED_MODEL_URL, undefined);
    assert.equal(env.AGG_DATA_PATH, undefined);
    assert.equal(slotOf(pod), 'aggregation');
    assert.equal(generationOf(pod), 1);
  });

  it('the aggregator checkpoints into an emptyDir under JOB_UID, unless its template names a folder', () => {
    const pod = aggregationPod(job(), inputs());
    const env = envOf(pod);
    assert.equal(env.JOB_UID!.value, 'uid-1');
    assert.equal(env.AGG_CHECKPOINT_DIR!.value, CHECKPOINT_MOUNT_PATH);
    assert.deepEqual(pod.spec.volumes?.find((v) => v.name === CHECKPOINT_VOLUME), { name: CHECKPOINT_VOLUME, emptyDir: {} });
    assert.deepEqual(pod.spec.containers[0]!.volumeMounts?.find((m) => m.name === CHECKPOINT_VOLUME), { name: CHECKPOINT_VOLUME, mountPath: CHECKPOINT_MOUNT_PATH });
    const own = job();
    own.spec.aggregationWorker.template.spec.containers[0]!.env = [{ name: 'AGG_CHECKPOINT_DIR', value: '/results/ckpt' }];
    const kept = aggregationPod(own, inputs());
    assert.deepEqual(kept.spec.containers[0]!.env!.filter((e) => e.name === 'AGG_CHECKPOINT_DIR'), [{ name: 'AGG_CHECKPOINT_DIR', value: '/results/ckpt' }]);
    assert.equal(kept.spec.volumes?.some((v) => v.name === CHECKPOINT_VOLUME) ?? false, false);
    assert.equal(envOf(trainingPod(job(), 0, inputs())).JOB_UID!.value, 'uid-1', 'trainers send it with their reports');
  });

  it('keeps a declared 7363 port and a template restart policy', () => {
    const j = job();
    j.spec.aggregationWorker.template.spec.containers[0]!.ports = [{ containerPort: 7363, name: 'agg' }];
    j.spec.aggregationWorker.template.spec.restartPolicy = 'Never';
    const pod = aggregationPod(j, inputs());
    assert.deepEqual(pod.spec.containers[0]!.ports, [{ containerPort: 7363, name: 'agg' }]);
    assert.equal(pod.spec.restartPolicy, 'Never');
  });

  it('a training pod per worker: host network, its dataset, the aggregator host, its index', () => {
    const pods = [0, 1, 2].map((i) => trainingPod(job(), i, inputs()));
    for (const [i, pod] of pods.entries()) {
      assert.equal(pod.metadata.generateName, 'surface-train-');
      assert.equal(pod.spec.hostNetwork, true);
      assert.equal(pod.spec.restartPolicy, 'OnFailure');
      assert.equal(pod.metadata.annotations?.['sedna.io/worker-index'], String(i));
      assert.equal(slotOf(pod), `train-${i}`);
      assert.deepEqual(values(pod, ['AGG_IP', 'AGG_PORT', 'JOB_NAME', 'PARTICIPANTS_COUNT', 'NAMESPACE', 'MODEL_NAME', 'DATASET_NAME', 'TRANSMITTER', 'TRAIN_DATASET_URL', 'MODEL_URL']), [
        'surface-aggregation.ns1',
        '7363',
        'surface',
        '3',
        'ns1',
        'agg-model',
        `d${i + 1}`,
        'ws',
        `/home/data/data/${i + 1}/train.txt`,
        '/home/data/models/agg',
      ]);
      assert.match(envOf(pod).WORKER_NAME!.value!, /^trainworker-[a-z0-9]{5}$/);
    }
    assert.equal(envOf(pods[0]!).batch_size!.value, '32');
    assert.equal(new Set(pods.map((p) => envOf(p).WORKER_NAME!.value)).size, 3);
    assert.deepEqual(pods[0]!.spec.containers[0]!.ports, undefined);
  });

  it('WORKER_NAME is stable for a slot within a generation and changes with the spec', () => {
    const name = (generation: number, i: number): string | undefined => envOf(trainingPod(job(generation), i, inputs())).WORKER_NAME!.value;
    assert.equal(name(1, 0), name(1, 0));
    assert.notEqual(name(1, 0), name(2, 0));
    assert.equal(envOf(aggregationPod(job(4), inputs())).WORKER_NAME!.value, envOf(aggregationPod(job(4), inputs())).WORKER_NAME!.value);
    assert.equal(generationOf(trainingPod(job(7), 1, inputs())), 7);
  });

  it('s3 transmitter and pretrained model add AGG_DATA_PATH, credentials and PRETRAINED_MODEL_URL', () => {
    const j = job();
    j.spec.transmitter = { s3: { aggDataPath: 's3://bucket/fl/', credentialName: 's3-cred' } };
    j.spec.pretrainedModel = { name: 'pre' };
    const secret: CoreSecret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's3-cred', namespace: 'ns1', annotations: { 's3-endpoint': 'minio:9000' } }, data: { ACCESS_KEY_ID: Buffer.from('AK').toString('base64') } };
    const withS3: JobInputs = { ...inputs(), transmitterSecret: secret, pretrainedModel: { model: model('pre', 's3://models/pre/weights.bin') } };
    const pod = trainingPod(j, 0, withS3);
    assert.deepEqual(values(pod, ['TRANSMITTER', 'AGG_DATA_PATH', 'PRETRAINED_MODEL_URL', 'ACCESS_KEY_ID']), ['s3', 's3://bucket/fl/', '/downloads/models/pre/weights.bin', 'AK']);
    assert.equal(values(aggregationPod(j, withS3), ['TRANSMITTER'])[0], 's3');
  });

  it('the Service, the token Secret, the slots and the trainer nodes', () => {
    const svc = aggregationService(job());
    assert.equal(svc.metadata.name, 'surface-aggregation');
    assert.deepEqual(svc.spec.ports, [{ name: 'tcp-0', protocol: 'TCP', port: 7363, targetPort: 7363 }]);
    assert.equal(svc.spec.selector?.['federatedlearningjob.sedna.io/worker-type'], 'aggregation');
    const secret = tokenSecret(job());
    assert.equal(secret.metadata.name, 'surface-agg-token');
    assert.match(Buffer.from(secret.data!.token!, 'base64').toString(), /^[0-9a-f]{64}$/);
    assert.notEqual(tokenSecret(job()).data!.token, secret.data!.token);
    assert.deepEqual(desiredSlots(job()), ['aggregation', 'train-0', 'train-1', 'train-2']);
    assert.deepEqual(trainerNodes(job()), ['edge-1', 'edge-2']);
  });

  it('resolveInputs names the missing Model or Dataset by field', () => {
    const lister = <T>(items: T[]): { lister: { get: (ns: string | undefined, name: string) => T | undefined; list: () => T[] } } => ({
      lister: { get: (_ns, name) => items.find((i) => (i as { metadata: { name: string } }).metadata.name === name), list: () => items },
    });
    const noModel = resolveInputs(job(), { models: lister<Model>([]), datasets: lister<Dataset>([]), secrets: lister<CoreSecret>([]) }, 'lc');
    assert.ok('problem' in noModel);
    assert.deepEqual(noModel.problem, { reason: 'ModelNotFound', message: 'model ns1/agg-model (spec.aggregationWorker.model.name) not found' });
    const noData = resolveInputs(job(), { models: lister([model('agg-model', '/m')]), datasets: lister([dataset('d2', '/x', 'edge-2')]), secrets: lister<CoreSecret>([]) }, 'lc');
    assert.ok('problem' in noData);
    assert.equal(noData.problem.reason, 'DatasetNotFound');
    assert.match(noData.problem.message, /spec\.trainingWorkers\[0\]\.dataset\.name.*spec\.trainingWorkers\[2\]\.dataset\.name/);
    const ok = resolveInputs(job(), { models: lister([model('agg-model', '/m')]), datasets: lister([dataset('d1', '/a', 'edge-1'), dataset('d2', '/b', 'edge-2'), dataset('d3', '/c', 'edge-1')]), secrets: lister<CoreSecret>([]) }, 'lc');
    assert.ok(!('problem' in ok));
    assert.deepEqual(ok.datasets.map((d) => d.dataset.metadata.name), ['d1', 'd2', 'd3']);
  });
});

describe('FL status rules', () => {
  const pod = (slot: string, phase?: string, terminating = false): PodView => ({ slot, name: `p-${slot}`, ...(phase ? { phase } : {}), terminating });

  it('Pending while no pod runs, Running once one does, with counts and a Training condition', () => {
    const pending = nextStatus(job(), { pods: [pod('aggregation', 'Pending'), pod('train-0', 'Pending')] }, NOW);
    assert.equal(pending.phase, 'Pending');
    assert.equal(pending.startTime, '2024-05-01T10:00:00Z');
    assert.equal(pending.observedGeneration, 1);
    assert.deepEqual(pending.conditions?.map((c) => [c.type, c.status, c.reason]), [['Training', 'True', 'WorkersCreated']]);
    const running = nextStatus(job(1, pending), { pods: [pod('aggregation', 'Running'), pod('train-0', 'Running'), pod('train-1', 'Running', true)] }, NOW);
    assert.equal(running.phase, 'Running');
    assert.deepEqual([running.active, running.succeeded, running.failed], [2, 0, 0]);
    assert.deepEqual(running.conditions, pending.conditions);
  });

  it('the aggregator succeeding completes the job, with completionTime; it stays finished', () => {
    const done = nextStatus(job(), { pods: [pod('aggregation', 'Succeeded'), pod('train-0', 'Running')] }, NOW);
    assert.equal(done.phase, 'Succeeded');
    assert.equal(done.completionTime, '2024-05-01T10:00:00Z');
    assert.deepEqual(done.conditions?.find((c) => c.type === 'Complete')?.status, 'True');
    assert.ok(isFinished(done));
    const later = nextStatus(job(1, done), { pods: [pod('aggregation', 'Succeeded'), pod('train-0', 'Failed')] }, new Date('2024-05-01T11:00:00Z'));
    assert.equal(later.phase, 'Succeeded');
    assert.equal(later.completionTime, done.completionTime);
    assert.deepEqual(later.conditions, done.conditions);
    assert.equal(later.failed, 1, 'counters keep following the pods');
  });

  it('a trainer succeeding alone does not complete the job', () => {
    const status = nextStatus(job(), { pods: [pod('aggregation', 'Running'), pod('train-0', 'Succeeded')] }, NOW);
    assert.equal(status.phase, 'Running');
    assert.ok(!isFinished(status));
  });

  it('a failed pod fails the job, naming the worker; Failed wins over Complete', () => {
    const status = nextStatus(job(), { pods: [pod('aggregation', 'Succeeded'), pod('train-2', 'Failed')] }, NOW);
    assert.equal(status.phase, 'Failed');
    const failed = status.conditions?.find((c) => c.type === 'Failed');
    assert.equal(failed?.reason, 'workerFailed');
    assert.match(failed?.message ?? '', /training worker 2 \(pod p-train-2\)/);
    assert.equal(status.conditions?.find((c) => c.type === 'Complete'), undefined);
    assert.equal(status.completionTime, undefined);
  });

  it('a missing input is Training=False and Pending; its resolution sets Training True', () => {
    const problem = { reason: 'ModelNotFound', message: 'model ns1/agg-model (spec.aggregationWorker.model.name) not found' };
    const waiting = nextStatus(job(), { pods: [], problem }, NOW);
    assert.equal(waiting.phase, 'Pending');
    assert.deepEqual(waiting.conditions?.map((c) => [c.type, c.status, c.reason, c.message]), [['Training', 'False', problem.reason, problem.message]]);
    const resolved = nextStatus(job(1, waiting), { pods: [pod('aggregation', 'Pending')] }, NOW);
    assert.deepEqual(resolved.conditions?.map((c) => [c.type, c.status, c.reason]), [['Training', 'True', 'WorkersCreated']]);
  });

  it('a worker whose node is not ready is reported unavailable, not active; its return is reported too', () => {
    const start = nextStatus(job(), { pods: [pod('aggregation', 'Running'), pod('train-0', 'Running')] }, NOW);
    const cut = nextStatus(job(1, start), { pods: [pod('aggregation', 'Running'), { ...pod('train-0', 'Running'), nodeNotReady: true }] }, NOW);
    assert.equal(cut.active, 1);
    assert.equal(cut.phase, 'Running');
    const training = cut.conditions?.find((c) => c.type === 'Training');
    assert.deepEqual([training?.status, training?.reason], ['True', 'WorkerUnavailable']);
    assert.match(training?.message ?? '', /training worker 0 \(pod p-train-0\)/);
    const back = nextStatus(job(1, cut), { pods: [pod('aggregation', 'Running'), pod('train-0', 'Running')] }, NOW);
    assert.equal(back.active, 2);
    assert.equal(back.conditions?.find((c) => c.type === 'Training')?.reason, 'WorkersAvailable');
  });

  it('a round report updates the Training condition in place; a spec edit resets the round', () => {
    const start = nextStatus(job(), { pods: [pod('aggregation', 'Running')] }, NOW);
    let status = withRound(job(1, start), 1, '2024-05-01T10:01:00Z', NOW);
    status = withRound(job(1, status), 2, '2024-05-01T10:02:00Z', NOW);
    assert.equal(status.round, 2);
    assert.equal(status.conditions?.length, 1);
    assert.deepEqual([status.conditions?.[0]?.reason, status.conditions?.[0]?.message], ['DoTraining', 'Round 2 reaches at 2024-05-01T10:02:00Z']);
    assert.deepEqual(withRound(job(1, status), 1, 'late', NOW), status, 'an earlier round does not move it back');
    const rolled = nextStatus(job(2, status), { pods: [pod('aggregation', 'Pending')] }, NOW);
    assert.equal(rolled.round, undefined);
    assert.equal(rolled.observedGeneration, 2);
    assert.deepEqual([rolled.conditions?.[0]?.reason, rolled.conditions?.[0]?.observedGeneration], ['SpecUpdated', 2]);
  });
});

describe('FL edge reports', () => {
  const content = (output: unknown): unknown => ({ phase: 'train', status: 'running', output });

  it('reads the round, its time and the first model\'s metrics (sorted, stringified)', () => {
    const report = parseFlReport(
      content({ models: [{ format: 'pb', url: '/m', metrics: { loss: 0.2, accuracy: 0.9, note: 'ok' } }, { metrics: { other: 1 } }], ownerInfo: { currentRound: 3, updateTime: '2024-01-01T00:00:00Z', sampleCount: 10 } }),
    );
    assert.deepEqual(report, {
      round: 3,
      updateTime: '2024-01-01T00:00:00Z',
      metrics: [
        { key: 'accuracy', value: '0.9' },
        { key: 'loss', value: '0.2' },
        { key: 'note', value: 'ok' },
      ],
    });
  });

  it('round 0, no ownerInfo and no models carry nothing', () => {
    assert.deepEqual(parseFlReport(content({ models: null, ownerInfo: { currentRound: 0 } })), { metrics: [] });
    assert.deepEqual(parseFlReport(content(null)), { metrics: [] });
    assert.deepEqual(parseFlReport(content({ models: [] })), { metrics: [] });
    assert.deepEqual(parseFlReport(content({ ownerInfo: { currentRound: '4' } })), { round: 4, metrics: [] });
  });

  it('refuses malformed reports, naming the field', () => {
    const refuses = (value: unknown, field: RegExp): void => assert.throws(() => parseFlReport(value), (err: unknown) => err instanceof RejectedMessage && field.test(err.message));
    refuses('text', /content must be a JSON object/);
    refuses(content([1]), /output must be an object/);
    refuses(content({ ownerInfo: [] }), /output\.ownerInfo/);
    refuses(content({ ownerInfo: { currentRound: -1 } }), /currentRound/);
    refuses(content({ ownerInfo: { currentRound: 1.5 } }), /currentRound/);
    refuses(content({ ownerInfo: { updateTime: 5 } }), /updateTime/);
    refuses(content({ models: {} }), /output\.models must be a list/);
    refuses(content({ models: [{ metrics: [1] }] }), /models\[0\]\.metrics/);
    refuses({ ...(content(null) as object), ownerUid: 7 }, /ownerUid must be a non-empty string/);
  });

  it('a late report of a deleted job (its uid) never lands on a new job of the same name; one of this job does', async () => {
    const { ctx, client } = fakeFeatureContext();
    const ref = { apiVersion: 'sedna.io/v1alpha1', plural: 'federatedlearningjobs', namespace: 'ns1', name: 'surface' };
    const { uid: _old, ...metadata } = job().metadata;
    const created = await client.create<FederatedLearningJob>(ref, { ...job(), metadata });
    const uid = created.metadata.uid!;
    const report = (ownerUid: string, round: number) => ({
      header: { namespace: 'ns1', resourceKind: 'federatedlearningjob', resourceName: 'surface', operation: 'status' },
      content: { phase: 'train', status: 'running', output: { models: [{ metrics: { accuracy: 0.5 } }], ownerInfo: { currentRound: round } }, ownerUid },
    });
    await assert.rejects(handleFederatedLearningUpstream(ctx, 'edge-1', report('uid-of-the-deleted-job', 9)), (err: unknown) => err instanceof RejectedMessage && /uid uid-of-the-deleted-job .* no longer exists; the job of that name is uid/.test(err.message));
    assert.equal((await client.get<FederatedLearningJob>(ref)).status?.round, undefined, 'nothing written');
    await client.create({ apiVersion: 'sedna.io/v1alpha1', plural: 'models', namespace: 'ns1' }, { apiVersion: 'sedna.io/v1alpha1', kind: 'Model', metadata: { name: 'agg-model', namespace: 'ns1' }, spec: { url: '/m', format: 'pb' } });
    await handleFederatedLearningUpstream(ctx, 'edge-1', report(uid, 2));
    assert.equal((await client.get<FederatedLearningJob>(ref)).status?.round, 2);
  });
});

describe('FL pod expectations', () => {
  const j = job();
  it('a created pod fills its slot until the cache shows it, or for 30 s at most', () => {
    let now = 0;
    const e = new PodExpectations(() => now);
    e.created(j, 'train-1', 'surface-train-abcde');
    assert.ok(e.isFilled(j, 'train-1'));
    assert.ok(e.pendingFor(j));
    e.observed(j, 'surface-train-abcde');
    assert.ok(!e.isFilled(j, 'train-1'));
    assert.ok(!e.pendingFor(j));
    e.created(j, 'train-2', 'gone');
    now = 31_000;
    assert.ok(!e.isFilled(j, 'train-2'));
  });

  it('a succeeded slot stays filled within its generation only', () => {
    const e = new PodExpectations();
    e.succeeded(j, 'train-0');
    assert.ok(e.isFilled(j, 'train-0'));
    assert.ok(!e.isFilled(job(2), 'train-0'));
    e.forgetJob('ns1', 'surface');
    assert.ok(!e.isFilled(j, 'train-0'));
  });
});
