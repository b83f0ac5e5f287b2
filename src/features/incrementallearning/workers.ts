// The workers of an IncrementalLearningJob (spec §2.4.4, §2.3.5, §2.3.7): a train pod and an eval
// pod per attempt of those stages, built from the latest condition's `data`, and the inference
// Deployment serving the deploy Model. Names, env and mounts are Sedna's; the differences: the
// inference worker is a Deployment (recreated when deleted, rolled when a model is deployed without
// hot update) and each stage pod carries the round, stage and attempt it runs, so the controller
// finds it by annotation instead of by splitting its name. Pure functions: the controller reads the
// Models, Dataset and Secrets and creates what they return.
import type { KubeObject } from '../../api/meta.ts';
import type { Dataset } from '../../api/sedna/dataset.ts';
import { SEDNA_API_VERSION } from '../../api/sedna/index.ts';
import { type IncrementalLearningJob, incrementalLearningJobKind, type Stage } from '../../api/sedna/incremental-learning-job.ts';
import type { Model } from '../../api/sedna/model.ts';
import type { GroupVersionKind } from '../../controller/owner.ts';
import {
  buildDeployment,
  buildPod,
  type CoreSecret,
  type Deployment,
  type EnvVar,
  labelPrefix,
  liveWorkerName,
  type MountUrl,
  type PodTemplateSpec,
  type WorkerMount,
  workerName,
  type WorkerPod,
  WorkerSpecError,
} from '../../gm/workers/index.ts';
import { HOT_UPDATE_CONFIG_FILE, HOT_UPDATE_MOUNT } from '../../lib/hot-update/index.ts';
import { inputModelUrls, type StageData } from './data.ts';

export { HOT_UPDATE_CONFIG_FILE, HOT_UPDATE_MOUNT } from '../../lib/hot-update/index.ts';

export const IL_KIND = incrementalLearningJobKind.kind;
export const IL_PLURAL = incrementalLearningJobKind.plural;
export const IL_GVK: GroupVersionKind = { apiVersion: SEDNA_API_VERSION, kind: IL_KIND };

/** Worker types as Sedna spells them (the eval one is capitalised; labels lower-case it). */
export const TRAIN_WORKER = 'train';
export const EVAL_WORKER = 'Eval';
export const INFERENCE_WORKER = 'inference';

/** `<round>/<stage>/<attempt>`: which run of a stage a pod belongs to. */
export const STAGE_RUN_ANNOTATION = 'sedna.io/il-stage-run';
/** On the inference pod template when hot update is off: a new deployed model rolls the worker. */
export const DEPLOYED_MODEL_ANNOTATION = 'sedna.io/deployed-model';

export const HOT_UPDATE_HOST_PREFIX = '/var/lib/sedna/model-hot-update';
export const HOT_UPDATE_VOLUME = 'sedna-model-hot-update-volume';
export const HOT_UPDATE_ANNOTATION = 'sedna.io/model-hot-update-config';

/** A Model or Dataset with its credential Secret, when it names one. */
export interface WithSecret<T> {
  object: T;
  secret?: CoreSecret;
}

/** What a stage pod is built from besides the job. */
export interface StageInputs {
  data: StageData;
  initialModel: WithSecret<Model>;
  dataset: WithSecret<Dataset>;
  /** The job's `credentialName` Secret. */
  jobSecret?: CoreSecret;
  lcServer: string;
}

export function workerTypeOf(stage: Stage): string {
  if (stage === 'Train') return TRAIN_WORKER;
  if (stage === 'Eval') return EVAL_WORKER;
  return INFERENCE_WORKER;
}

export function stageRun(round: number, stage: Stage, attempt: number): string {
  return `${round}/${stage}/${attempt}`;
}

/** The label selector of the job's pods of one worker type. */
export function workerTypeSelector(job: KubeObject, workerType: string): string {
  const prefix = labelPrefix(IL_KIND);
  return `${prefix}uid=${job.metadata.uid},${prefix}worker-type=${workerType.toLowerCase()}`;
}

/** Sedna's env of every incremental- and lifelong-learning worker. */
export function stageWorkerEnv(job: KubeObject, worker: string, lcServer: string): EnvVar[] {
  return [
    { name: 'NAMESPACE', value: job.metadata.namespace ?? '' },
    { name: 'JOB_NAME', value: job.metadata.name ?? '' },
    { name: 'WORKER_NAME', value: worker },
    { name: 'LC_SERVER', value: lcServer },
  ];
}

/** The Secret of a model URL: the initial Model's when the URL is its URL, else the job's (Sedna's rule). */
function modelUrl(url: string, inputs: StageInputs): MountUrl {
  const secret = url === inputs.initialModel.object.spec.url ? inputs.initialModel.secret : inputs.jobSecret;
  return { url, downloadByInitializer: true, ...(secret ? { secret } : {}) };
}

/** ORIGINAL_DATASET_URL: the data index when the LC wrote one, else the Dataset's URL. */
export function originalDatasetMount(data: StageData, dataset: WithSecret<Dataset>): WorkerMount {
  const datasetUrl = dataset.object.spec.url;
  const url = data.input?.dataIndexURL || datasetUrl;
  const secret = dataset.secret;
  return { envName: 'ORIGINAL_DATASET_URL', urls: [{ url, downloadByInitializer: true, indirect: url !== datasetUrl, ...(secret ? { secret } : {}) }] };
}

/** A field of a stage's input the worker cannot run without. */
export function requiredInput(value: string | undefined, field: string, stage: Stage): string {
  if (!value) throw new WorkerSpecError(`the ${stage} stage's input has no ${field}`);
  return value;
}

function trainMounts(inputs: StageInputs): WorkerMount[] {
  const [baseModel] = inputModelUrls(inputs.data);
  const input = inputs.data.input ?? {};
  const job = inputs.jobSecret;
  return [
    { envName: 'BASE_MODEL_URL', urls: [modelUrl(requiredInput(baseModel, 'model', 'Train'), inputs)] },
    { envName: 'MODEL_URL', urls: [{ url: requiredInput(input.outputDir, 'outputDir', 'Train'), ...(job ? { secret: job } : {}) }] },
    { envName: 'TRAIN_DATASET_URL', urls: [{ url: requiredInput(input.dataURL, 'dataURL', 'Train'), downloadByInitializer: true, ...(job ? { secret: job } : {}) }] },
    originalDatasetMount(inputs.data, inputs.dataset),
  ];
}

function evalMounts(inputs: StageInputs): WorkerMount[] {
  const models = inputModelUrls(inputs.data);
  if (models.length === 0) throw new WorkerSpecError('the Eval stage\'s input has no models');
  const secret = inputs.dataset.secret;
  return [
    { envName: 'MODEL_URLS', urls: models.map((url) => modelUrl(url, inputs)) },
    { envName: 'TEST_DATASET_URL', urls: [{ url: requiredInput(inputs.data.input?.dataURL, 'dataURL', 'Eval'), downloadByInitializer: true, ...(secret ? { secret } : {}) }] },
    originalDatasetMount(inputs.data, inputs.dataset),
  ];
}

/** The pod of one run of the Train or Eval stage. */
export function stagePod(job: IncrementalLearningJob, stage: 'Train' | 'Eval', run: string, inputs: StageInputs): WorkerPod {
  const train = stage === 'Train';
  const pod = buildPod(job, IL_GVK, {
    workerType: workerTypeOf(stage),
    template: train ? job.spec.trainSpec.template : job.spec.evalSpec.template,
    env: stageWorkerEnv(job, workerName(train ? 'train-worker' : 'eval-worker'), inputs.lcServer),
    mounts: train ? trainMounts(inputs) : evalMounts(inputs),
    hostNetwork: true,
    restartPolicy: 'OnFailure',
  });
  pod.metadata.annotations = { ...pod.metadata.annotations, [STAGE_RUN_ANNOTATION]: run };
  return pod;
}

/** `/var/lib/sedna/model-hot-update/<ns>/incrementallearningjob/<name>/model_config.json`, lower-cased. */
export function hotUpdateConfigPath(job: KubeObject): string {
  return `${HOT_UPDATE_HOST_PREFIX}/${job.metadata.namespace}/${IL_KIND}/${job.metadata.name}/${HOT_UPDATE_CONFIG_FILE}`.toLowerCase();
}

function hotUpdateEnabled(job: IncrementalLearningJob): boolean {
  return job.spec.deploySpec.model.hotUpdateEnabled === true;
}

/** HEM parameters as Sedna passes them: a JSON array of {key, value}, or `null` when none. */
export function hemParameters(job: IncrementalLearningJob): string {
  const parameters = job.spec.deploySpec.hardExampleMining.parameters;
  return JSON.stringify(parameters ? parameters.map(({ key, value }) => ({ key, value })) : null);
}

/** The hot-update volume and mount in every container (spec §2.3.7). */
function withHotUpdate(template: PodTemplateSpec, job: IncrementalLearningJob): PodTemplateSpec {
  const spec = template.spec;
  const dir = hotUpdateConfigPath(job).slice(0, -HOT_UPDATE_CONFIG_FILE.length - 1);
  const containers = spec.containers.map((c) => ({ ...c, volumeMounts: [...(c.volumeMounts ?? []), { name: HOT_UPDATE_VOLUME, mountPath: HOT_UPDATE_MOUNT }] }));
  const volumes = [...(spec.volumes ?? []), { name: HOT_UPDATE_VOLUME, hostPath: { path: dir, type: 'DirectoryOrCreate' } }];
  return { ...template, spec: { ...spec, containers, volumes } };
}

export interface InferenceInputs {
  deployModel: WithSecret<Model>;
  /** The model last deployed (status.deployedModel); rolls the worker when hot update is off. */
  deployedModel?: string;
  lcServer: string;
}

/** The inference worker: `<name>-deployment-inference`, one replica, on the deploy Model. */
export function inferenceDeployment(job: IncrementalLearningJob, inputs: InferenceInputs, live: Deployment | undefined): Deployment {
  const hot = hotUpdateEnabled(job);
  const { object: model, secret } = inputs.deployModel;
  const env: EnvVar[] = [
    ...stageWorkerEnv(job, liveWorkerName(live) ?? workerName('inferworker'), inputs.lcServer).filter((e) => e.name !== 'LC_SERVER'),
    { name: 'HEM_NAME', value: job.spec.deploySpec.hardExampleMining.name },
    { name: 'HEM_PARAMETERS', value: hemParameters(job) },
    { name: 'LC_SERVER', value: inputs.lcServer },
  ];
  if (hot) {
    env.push(
      { name: 'MODEL_HOT_UPDATE', value: 'true' },
      { name: 'MODEL_POLL_PERIOD_SECONDS', value: String(job.spec.deploySpec.model.pollPeriodSeconds ?? 60) },
      { name: 'MODEL_HOT_UPDATE_CONFIG', value: `${HOT_UPDATE_MOUNT}/${HOT_UPDATE_CONFIG_FILE}` },
    );
  }
  const mounts: WorkerMount[] = [{ envName: 'MODEL_URL', urls: [{ url: model.spec.url, downloadByInitializer: true, ...(secret ? { secret } : {}) }] }];
  const deployment = buildDeployment(job, IL_GVK, { workerType: INFERENCE_WORKER, template: job.spec.deploySpec.template, env, mounts, replicas: 1 });
  let template = deployment.spec.template;
  if (hot) template = withHotUpdate(template, job);
  else if (inputs.deployedModel) template = { ...template, metadata: { ...template.metadata, annotations: { ...template.metadata?.annotations, [DEPLOYED_MODEL_ANNOTATION]: inputs.deployedModel } } };
  return { ...deployment, spec: { ...deployment.spec, template } };
}
