// The desired objects of a FederatedLearningJob (spec §2.4.3): the aggregation pod and the Service
// in front of it, one training pod per trainingWorkers[i], and the Secret holding the token the
// trainers present to the aggregator (our addition: Sedna's aggregation server had none). Pure
// functions: the controller reads what they need (Models, Datasets, Secrets) and creates what they
// return. Every pod carries the job generation it was built from and its slot (the aggregator, or
// a trainer's index), so the controller can tell stale pods from missing ones.
import { createHash } from 'node:crypto';
import type { KubeObject } from '../../api/meta.ts';
import type { Dataset } from '../../api/sedna/dataset.ts';
import { type FederatedLearningJob, federatedLearningJobKind } from '../../api/sedna/federated-learning-job.ts';
import { SEDNA_API_VERSION } from '../../api/sedna/index.ts';
import type { Model } from '../../api/sedna/model.ts';
import type { GroupVersionKind } from '../../controller/owner.ts';
import {
  buildPod,
  buildService,
  buildTokenSecret,
  type CoreSecret,
  type EnvVar,
  RAND_ALPHABET,
  randomToken,
  type Service,
  serviceName,
  tokenSecretEnv,
  type WorkerContainer,
  type WorkerMount,
  type WorkerPod,
} from '../../gm/workers/index.ts';

export const FL_KIND = federatedLearningJobKind.kind;
export const FL_PLURAL = federatedLearningJobKind.plural;
export const FL_GVK: GroupVersionKind = { apiVersion: SEDNA_API_VERSION, kind: FL_KIND };
export const AGGREGATION = 'Aggregation';
export const TRAIN = 'train';
export const AGG_PORT = 7363;
/** The trainer's index in spec.trainingWorkers (absent on the aggregator). */
export const WORKER_INDEX_ANNOTATION = 'sedna.io/worker-index';
/** The job's metadata.generation the pod was built from. */
export const JOB_GENERATION_ANNOTATION = 'sedna.io/job-generation';
/** The slot of the aggregation pod; trainers' slots are `train-<index>`. */
export const AGGREGATION_SLOT = 'aggregation';

/** A model and its credential Secret, when it names one. */
export interface ResolvedModel {
  model: Model;
  secret?: CoreSecret;
}

export interface ResolvedDataset {
  dataset: Dataset;
  secret?: CoreSecret;
}

/** Everything a job's pods are built from besides the job itself. */
export interface JobInputs {
  aggregationModel: ResolvedModel;
  pretrainedModel?: ResolvedModel;
  /** The transmitter's credential Secret (s3 only). */
  transmitterSecret?: CoreSecret;
  /** By training worker index. */
  datasets: ResolvedDataset[];
  /** LC_SERVER for every worker. */
  lcServer: string;
}

export function trainSlot(index: number): string {
  return `train-${index}`;
}

/** The slots a job's spec asks for: the aggregator, then one per training worker. */
export function desiredSlots(job: FederatedLearningJob): string[] {
  return [AGGREGATION_SLOT, ...job.spec.trainingWorkers.map((_, i) => trainSlot(i))];
}

/** The slot a pod fills, from its worker-type label and index annotation; undefined if it is none of ours. */
export function slotOf(pod: KubeObject): string | undefined {
  const type = pod.metadata.labels?.[`${FL_KIND.toLowerCase()}.sedna.io/worker-type`];
  if (type === AGGREGATION.toLowerCase()) return AGGREGATION_SLOT;
  const index = pod.metadata.annotations?.[WORKER_INDEX_ANNOTATION];
  if (type !== TRAIN || index === undefined || !/^\d+$/.test(index)) return undefined;
  return trainSlot(Number(index));
}

/** The job generation a pod was built from; undefined when unannotated (then it is stale). */
export function generationOf(pod: KubeObject): number | undefined {
  const value = pod.metadata.annotations?.[JOB_GENERATION_ANNOTATION];
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

export function tokenSecretName(job: KubeObject): string {
  return `${job.metadata.name}-agg-token`;
}

/** The generated token Secret; its value is random, so it is only ever created, never updated. */
export function tokenSecret(job: FederatedLearningJob): CoreSecret {
  return buildTokenSecret(job, FL_GVK, tokenSecretName(job), randomToken());
}

/**
 * `<prefix>-<5 chars>` drawn from the job's uid, generation and the slot: the same for a slot as
 * long as the spec is unchanged, so a recreated trainer rejoins the aggregator under the same
 * client id (and a GM restart changes nothing), while a spec edit gives every worker a new name.
 */
export function stableWorkerName(prefix: string, job: KubeObject, slot: string): string {
  const digest = createHash('sha256').update(`${job.metadata.uid}/${job.metadata.generation ?? 0}/${slot}`).digest();
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += RAND_ALPHABET[digest[i]! % RAND_ALPHABET.length];
  return `${prefix}-${suffix}`;
}

/** `<name>-aggregation.<namespace>`: the host trainers dial. */
export function aggregationHost(job: FederatedLearningJob): string {
  return `${serviceName(job, AGGREGATION)}.${job.metadata.namespace}`;
}

export function transmitterName(job: FederatedLearningJob): 's3' | 'ws' {
  return job.spec.transmitter?.s3 ? 's3' : 'ws';
}

function tokenEnv(job: FederatedLearningJob): EnvVar {
  return tokenSecretEnv('AGG_TOKEN', tokenSecretName(job));
}

function modelMount(envName: string, resolved: ResolvedModel): WorkerMount {
  return { envName, urls: [{ url: resolved.model.spec.url, downloadByInitializer: true, ...(resolved.secret ? { secret: resolved.secret } : {}) }] };
}

/** MODEL_URL, PRETRAINED_MODEL_URL and AGG_DATA_PATH (s3): what the aggregator and trainers share. */
function sharedMounts(job: FederatedLearningJob, inputs: JobInputs): WorkerMount[] {
  const mounts: WorkerMount[] = [];
  const s3 = job.spec.transmitter?.s3;
  if (s3) mounts.push({ envName: 'AGG_DATA_PATH', urls: [{ url: s3.aggDataPath, ...(inputs.transmitterSecret ? { secret: inputs.transmitterSecret } : {}) }] });
  mounts.push(modelMount('MODEL_URL', inputs.aggregationModel));
  if (inputs.pretrainedModel) mounts.push(modelMount('PRETRAINED_MODEL_URL', inputs.pretrainedModel));
  return mounts;
}

function withAnnotations(pod: WorkerPod, annotations: Record<string, string>): WorkerPod {
  return { ...pod, metadata: { ...pod.metadata, annotations: { ...pod.metadata.annotations, ...annotations } } };
}

/**
 * The aggregator's first container must declare port 7363: the Service's targetPort resolves
 * through the pod's declared ports, and the embedded kubelet gives a process a host port
 * (PORT_7363) only for a declared port.
 */
export function withAggregationPort(pod: WorkerPod): WorkerPod {
  const containers = pod.spec.containers;
  if (containers.some((c) => c.ports?.some((p) => p.containerPort === AGG_PORT))) return pod;
  const [first, ...rest] = containers as [WorkerContainer, ...WorkerContainer[]];
  const nameTaken = containers.some((c) => c.ports?.some((p) => p.name === 'tcp-0'));
  const port = { ...(nameTaken ? {} : { name: 'tcp-0' }), containerPort: AGG_PORT, protocol: 'TCP' };
  return { ...pod, spec: { ...pod.spec, containers: [{ ...first, ports: [...(first.ports ?? []), port] }, ...rest] } };
}

/** Where the aggregator checkpoints its rounds unless its template names a folder (AGG_CHECKPOINT_DIR). */
export const CHECKPOINT_VOLUME = 'sedna-aggregator-checkpoint';
export const CHECKPOINT_MOUNT_PATH = '/var/lib/sedna/aggregator-checkpoint';

/**
 * The aggregator checkpoints each round (aggregation-server.ts) into an emptyDir, which outlives
 * a container restart (kill -9, OOM: the pod and its uid stay), so a restarted aggregator resumes
 * the round the trainers are in. A template that sets AGG_CHECKPOINT_DIR itself (a hostPath or a
 * claim, to outlive the pod too) keeps its own.
 */
export function withCheckpointDir(pod: WorkerPod): WorkerPod {
  const containers = pod.spec.containers;
  if (containers.some((c) => c.env?.some((e) => e.name === 'AGG_CHECKPOINT_DIR'))) return pod;
  const [first, ...rest] = containers as [WorkerContainer, ...WorkerContainer[]];
  const mount = { name: CHECKPOINT_VOLUME, mountPath: CHECKPOINT_MOUNT_PATH };
  const withMount: WorkerContainer = { ...first, volumeMounts: [...(first.volumeMounts ?? []), mount], env: [...(first.env ?? []), { name: 'AGG_CHECKPOINT_DIR', value: CHECKPOINT_MOUNT_PATH }] };
  return { ...pod, spec: { ...pod.spec, volumes: [...(pod.spec.volumes ?? []), { name: CHECKPOINT_VOLUME, emptyDir: {} }], containers: [withMount, ...rest] } };
}

export function aggregationPod(job: FederatedLearningJob, inputs: JobInputs): WorkerPod {
  const env: EnvVar[] = [
    { name: 'NAMESPACE', value: job.metadata.namespace ?? '' },
    { name: 'WORKER_NAME', value: stableWorkerName('aggworker', job, AGGREGATION_SLOT) },
    { name: 'JOB_NAME', value: job.metadata.name ?? '' },
    // Ties the aggregator's checkpoint to this job: a new job of the same name starts afresh.
    { name: 'JOB_UID', value: job.metadata.uid ?? '' },
    { name: 'AGG_BIND_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    { name: 'AGG_BIND_PORT', value: String(AGG_PORT) },
    { name: 'PARTICIPANTS_COUNT', value: String(job.spec.trainingWorkers.length) },
    { name: 'TRANSMITTER', value: transmitterName(job) },
    { name: 'LC_SERVER', value: inputs.lcServer },
    tokenEnv(job),
  ];
  const pod = buildPod(job, FL_GVK, {
    workerType: AGGREGATION,
    template: job.spec.aggregationWorker.template,
    env,
    mounts: sharedMounts(job, inputs),
    restartPolicy: 'OnFailure',
  });
  return withCheckpointDir(withAggregationPort(withAnnotations(pod, { [JOB_GENERATION_ANNOTATION]: String(job.metadata.generation ?? 0) })));
}

export function trainingPod(job: FederatedLearningJob, index: number, inputs: JobInputs): WorkerPod {
  const worker = job.spec.trainingWorkers[index];
  const dataset = inputs.datasets[index];
  if (!worker || !dataset) throw new Error(`no training worker or dataset at spec.trainingWorkers[${index}]`);
  const env: EnvVar[] = [
    { name: 'AGG_PORT', value: String(AGG_PORT) },
    { name: 'AGG_IP', value: aggregationHost(job) },
    { name: 'WORKER_NAME', value: stableWorkerName('trainworker', job, trainSlot(index)) },
    { name: 'JOB_NAME', value: job.metadata.name ?? '' },
    // Sent with each round report: the LC and the GM refuse one of a deleted job of the same name.
    { name: 'JOB_UID', value: job.metadata.uid ?? '' },
    { name: 'PARTICIPANTS_COUNT', value: String(job.spec.trainingWorkers.length) },
    { name: 'NAMESPACE', value: job.metadata.namespace ?? '' },
    { name: 'MODEL_NAME', value: job.spec.aggregationWorker.model.name },
    { name: 'DATASET_NAME', value: worker.dataset.name },
    { name: 'LC_SERVER', value: inputs.lcServer },
    { name: 'TRANSMITTER', value: transmitterName(job) },
    tokenEnv(job),
  ];
  const datasetMount: WorkerMount = {
    envName: 'TRAIN_DATASET_URL',
    urls: [{ url: dataset.dataset.spec.url, downloadByInitializer: true, ...(dataset.secret ? { secret: dataset.secret } : {}) }],
  };
  const pod = buildPod(job, FL_GVK, {
    workerType: TRAIN,
    template: worker.template,
    env,
    mounts: [...sharedMounts(job, inputs), datasetMount],
    hostNetwork: true,
    restartPolicy: 'OnFailure',
  });
  return withAnnotations(pod, { [JOB_GENERATION_ANNOTATION]: String(job.metadata.generation ?? 0), [WORKER_INDEX_ANNOTATION]: String(index) });
}

/** The pod of a slot (`aggregation` or `train-<i>`). */
export function podForSlot(job: FederatedLearningJob, slot: string, inputs: JobInputs): WorkerPod {
  if (slot === AGGREGATION_SLOT) return aggregationPod(job, inputs);
  const match = /^train-(\d+)$/.exec(slot);
  if (!match) throw new Error(`unknown worker slot ${slot}`);
  return trainingPod(job, Number(match[1]), inputs);
}

/** The aggregator's Service `<name>-aggregation`, port 7363. */
export function aggregationService(job: FederatedLearningJob): Service {
  return buildService(job, FL_GVK, AGGREGATION, AGG_PORT);
}

/** The distinct nodes of the training workers: where the job is sent (not the aggregator's node). */
export function trainerNodes(job: FederatedLearningJob): string[] {
  const nodes = (job.spec?.trainingWorkers ?? []).map((w) => w.template?.spec?.nodeName).filter((n): n is string => typeof n === 'string' && n !== '');
  return [...new Set(nodes)];
}
