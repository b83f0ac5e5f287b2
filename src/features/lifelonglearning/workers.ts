// The workers of a LifelongLearningJob (spec §2.4.5): a train pod and an eval pod per attempt of
// those stages, built from the latest Ready condition's `data`, and the inference Deployment on the
// deployed knowledge-base index. Names, env and mounts are Sedna's; added: KB_TOKEN beside
// KB_SERVER (the knowledge base authenticates callers), taken from the Secret `<job>-kb-token` the
// job owns, never written in the pod spec; the KB env on the inference worker too
// (it downloads the task models the index names), and the inference worker as a Deployment that
// is recreated when deleted and rolled when a cycle deploys a new index. Pure functions.
import type { KubeObject } from '../../api/meta.ts';
import type { Dataset } from '../../api/sedna/dataset.ts';
import { SEDNA_API_VERSION } from '../../api/sedna/index.ts';
import type { Stage, StageCondition } from '../../api/sedna/incremental-learning-job.ts';
import { type LifelongLearningJob, lifelongLearningJobKind, LL_DEPLOY_INDEX } from '../../api/sedna/lifelong-learning-job.ts';
import type { GroupVersionKind } from '../../controller/owner.ts';
import {
  buildDeployment,
  buildPod,
  buildTokenSecret,
  type CoreSecret,
  type Deployment,
  type EnvVar,
  labelPrefix,
  liveWorkerName,
  type MountUrl,
  tokenSecretEnv,
  type WorkerMount,
  workerName,
  type WorkerPod,
  WorkerSpecError,
} from '../../gm/workers/index.ts';
import { dataOf, inputModelUrls, type StageData } from '../incrementallearning/data.ts';
import { originalDatasetMount, requiredInput, stageWorkerEnv } from '../incrementallearning/workers.ts';

export const LL_KIND = lifelongLearningJobKind.kind;
export const LL_PLURAL = lifelongLearningJobKind.plural;
export const LL_GVK: GroupVersionKind = { apiVersion: SEDNA_API_VERSION, kind: LL_KIND };

/** Worker types as Sedna spells them (labels lower-case them). */
export const TRAIN_WORKER = 'Train';
export const EVAL_WORKER = 'Eval';
export const INFERENCE_WORKER = 'inference';
/** On the inference pod template: the time of the deploy it serves, so a new deploy rolls it. */
export const DEPLOYED_AT_ANNOTATION = 'sedna.io/deployed-at';
/** The reason of the Deploy/Completed that restarted the inference worker (status.ts). */
const RESTARTED = 'InferenceWorkerRestarted';
/**
 * On a LifelongLearningJob, `"true"`: a deploy while the inference worker is available is delivered
 * in place — the worker re-reads MODEL_URLS (`<outputDir>/deploy/index.json`, which the LC rewrites
 * atomically) every MODEL_POLL_PERIOD_SECONDS and swaps the new knowledge base in (the SDK's
 * `LifelongLearning` does) — instead of restarting it, as Sedna does (its library cannot hot-swap).
 * An annotation, not a spec field, so Sedna's CRD and samples stay as they are.
 */
export const KB_HOT_UPDATE_ANNOTATION = 'sedna.io/knowledge-base-hot-update';
/** The reason of the Deploy/Completed delivered by hot update. */
export const HOT_UPDATED = 'KnowledgeBaseHotUpdate';

export function hotUpdateEnabled(job: LifelongLearningJob): boolean {
  return job.metadata.annotations?.[KB_HOT_UPDATE_ANNOTATION] === 'true';
}

/** Where workers reach the knowledge base. */
export interface KbAccess {
  server: string;
  /** The bearer token, '' when the KB takes none. */
  token: string;
}

export interface LlStageInputs {
  data: StageData;
  dataset: { object: Dataset; secret?: CoreSecret };
  jobSecret?: CoreSecret;
  lcServer: string;
  kb: KbAccess;
}

export function workerTypeOf(stage: Stage): string {
  if (stage === 'Train') return TRAIN_WORKER;
  if (stage === 'Eval') return EVAL_WORKER;
  return INFERENCE_WORKER;
}

export function workerTypeSelector(job: KubeObject, workerType: string): string {
  const prefix = labelPrefix(LL_KIND);
  return `${prefix}uid=${job.metadata.uid},${prefix}worker-type=${workerType.toLowerCase()}`;
}

export function kbTokenSecretName(job: KubeObject): string {
  return `${job.metadata.name}-kb-token`;
}

/** The job's copy of the KB token, for its workers' KB_TOKEN; undefined when the KB takes none. */
export function kbTokenSecret(job: LifelongLearningJob, kb: KbAccess): CoreSecret | undefined {
  return kb.token ? buildTokenSecret(job, LL_GVK, kbTokenSecretName(job), kb.token) : undefined;
}

function kbEnv(job: KubeObject, kb: KbAccess): EnvVar[] {
  return [{ name: 'KB_SERVER', value: kb.server }, ...(kb.token ? [tokenSecretEnv('KB_TOKEN', kbTokenSecretName(job))] : [])];
}

/** Whether a training has completed: then the train worker updates the knowledge base instead of building it. */
export function hasCompletedInitialTraining(conditions: readonly StageCondition[]): boolean {
  return conditions.some((c) => c.stage === 'Train' && c.type === 'Completed');
}

/** The index the latest completed training reported (its first output model), for CLOUD_KB_INDEX. */
export function cloudKbIndex(conditions: readonly StageCondition[]): string | undefined {
  for (const c of [...conditions].reverse()) {
    if (c.stage !== 'Train' || c.type !== 'Completed') continue;
    const url = dataOf(c)?.output?.models?.[0]?.url;
    if (url) return url;
  }
  return undefined;
}

function withSecret(url: string, secret: CoreSecret | undefined, download: boolean): MountUrl {
  return { url, ...(download ? { downloadByInitializer: true } : {}), ...(secret ? { secret } : {}) };
}

function trainMounts(inputs: LlStageInputs): WorkerMount[] {
  const input = inputs.data.input ?? {};
  return [
    { envName: 'OUTPUT_URL', urls: [withSecret(requiredInput(input.outputDir, 'outputDir', 'Train'), inputs.jobSecret, false)] },
    { envName: 'TRAIN_DATASET_URL', urls: [withSecret(requiredInput(input.dataURL, 'dataURL', 'Train'), inputs.jobSecret, true)] },
    originalDatasetMount(inputs.data, inputs.dataset),
  ];
}

function evalMounts(inputs: LlStageInputs): WorkerMount[] {
  const models = inputModelUrls(inputs.data);
  if (models.length === 0) throw new WorkerSpecError('the Eval stage\'s input has no models');
  const input = inputs.data.input ?? {};
  return [
    // The index stays a URL: the worker reads it from the KB or the output folder itself.
    { envName: 'MODEL_URLS', urls: models.map((url) => withSecret(url, inputs.jobSecret, false)) },
    { envName: 'OUTPUT_URL', urls: [withSecret(requiredInput(input.outputDir, 'outputDir', 'Eval'), inputs.jobSecret, false)] },
    { envName: 'TEST_DATASET_URL', urls: [withSecret(requiredInput(input.dataURL, 'dataURL', 'Eval'), inputs.dataset.secret, true)] },
    originalDatasetMount(inputs.data, inputs.dataset),
  ];
}

/** The pod of one run of the Train or Eval stage. */
export function stagePod(job: LifelongLearningJob, stage: 'Train' | 'Eval', inputs: LlStageInputs): WorkerPod {
  const train = stage === 'Train';
  const conditions = job.status?.conditions ?? [];
  const env = [...stageWorkerEnv(job, workerName(train ? 'train-worker' : 'eval-worker'), inputs.lcServer), ...kbEnv(job, inputs.kb)];
  if (train) {
    const completed = hasCompletedInitialTraining(conditions);
    env.splice(3, 0, { name: 'HAS_COMPLETED_INITIAL_TRAINING', value: String(completed) });
    const index = completed ? cloudKbIndex(conditions) : undefined;
    if (index) env.push({ name: 'CLOUD_KB_INDEX', value: index });
  }
  return buildPod(job, LL_GVK, {
    workerType: workerTypeOf(stage),
    template: train ? job.spec.trainSpec.template : job.spec.evalSpec.template,
    env,
    mounts: train ? trainMounts(inputs) : evalMounts(inputs),
    hostNetwork: true,
    restartPolicy: 'OnFailure',
    dnsPolicy: 'ClusterFirstWithHostNet',
  });
}

/** `<outputDir>/deploy/index.json`. */
export function deployIndexUrl(job: LifelongLearningJob): string {
  return `${job.spec.outputDir.replace(/\/+$/, '')}/${LL_DEPLOY_INDEX}`;
}

/** When the latest deploy restarted the inference worker, if one did. */
export function deployedAt(conditions: readonly StageCondition[]): string | undefined {
  return conditions.findLast((c) => c.stage === 'Deploy' && c.type === 'Completed' && c.reason === RESTARTED)?.lastTransitionTime;
}

/** The inference worker: `<name>-deployment-inference`, one replica, on the deployed index. */
export function inferenceDeployment(job: LifelongLearningJob, inputs: { lcServer: string; kb: KbAccess; jobSecret?: CoreSecret }, live: Deployment | undefined): Deployment {
  const env: EnvVar[] = [
    ...stageWorkerEnv(job, liveWorkerName(live) ?? workerName('inferworker'), inputs.lcServer),
    { name: 'OUTPUT_URL', value: job.spec.outputDir },
    ...kbEnv(job, inputs.kb),
  ];
  const mounts: WorkerMount[] = [{ envName: 'MODEL_URLS', urls: [withSecret(deployIndexUrl(job), inputs.jobSecret, false)] }];
  const deployment = buildDeployment(job, LL_GVK, { workerType: INFERENCE_WORKER, template: job.spec.deploySpec.template, env, mounts, replicas: 1 });
  const template = deployment.spec.template;
  const at = deployedAt(job.status?.conditions ?? []);
  const annotations = { ...template.metadata?.annotations, ...(at ? { [DEPLOYED_AT_ANNOTATION]: at } : {}) };
  const spec = { ...template.spec, hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' };
  return { ...deployment, spec: { ...deployment.spec, template: { ...template, metadata: { ...template.metadata, annotations }, spec } } };
}
