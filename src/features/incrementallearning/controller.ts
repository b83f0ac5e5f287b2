// The IncrementalLearningJob controller (spec §2.4.4) on the feature scaffold. Each reconcile keeps
// the inference Deployment as the spec and the deployed model ask, then takes one step of the
// stage machine (status.ts): creating the Train or Eval pod of the current run, annotating the
// node a stage runs on (downstream follows it), appending the next condition. Reports from the
// nodes append their conditions through upstream.ts. Differences from Sedna: owner references on
// every worker (cascade delete), the inference worker recreated when deleted, pods found by
// annotation, a missing Model, Dataset or stage input written on the latest condition (with an
// event) until fixed instead of a silent requeue, retries with backoff, observedGeneration.
import type { Dataset } from '../../api/sedna/dataset.ts';
import { datasetKind } from '../../api/sedna/dataset.ts';
import type { IncrementalLearningJob, IncrementalLearningJobStatus, Stage, StageCondition } from '../../api/sedna/incremental-learning-job.ts';
import { type Model, modelKind } from '../../api/sedna/model.ts';
import { type Informer, isControlledBy, type Result } from '../../controller/index.ts';
import { dateOf } from '../../lib/clock.ts';
import type { FeatureContext, FeatureController, FeatureRegistration } from '../../gm/feature.ts';
import { FeatureReconciler, FeatureScaffold, type TransitionEvent } from '../../gm/feature-controller.ts';
import { applyObject, type CoreSecret, type Deployment, deploymentName, mergeSpecOverLive, WorkerSpecError, type WorkerPod } from '../../gm/workers/index.ts';
import { compileTrigger } from '../../lc/triggers.ts';
import { dataOf } from './data.ts';
import {
  appendCondition,
  currentRun,
  DATASET_NOT_FOUND,
  INVALID_INPUT,
  INVALID_TRIGGER,
  latest,
  MODEL_NOT_FOUND,
  nextStep,
  noteOnLatest,
  PROBLEM_REASONS,
  type Step,
  type WorkerView,
} from './status.ts';
import { stageNodes } from './nodes.ts';
import { handleIncrementalLearningUpstream } from './upstream.ts';
import {
  HOT_UPDATE_ANNOTATION,
  hotUpdateConfigPath,
  IL_KIND,
  IL_PLURAL,
  INFERENCE_WORKER,
  inferenceDeployment,
  STAGE_RUN_ANNOTATION,
  type StageInputs,
  stagePod,
  type WithSecret,
  workerTypeOf,
  workerTypeSelector,
} from './workers.ts';

export { IL_KIND, IL_PLURAL } from './workers.ts';

type Pod = WorkerPod & { status?: { phase?: string; message?: string } };

export interface Informers {
  jobs: Informer<IncrementalLearningJob>;
  models: Informer<Model>;
  datasets: Informer<Dataset>;
  pods: Informer<Pod>;
  deployments: Informer<Deployment>;
  secrets: Informer<CoreSecret>;
}

/** A problem the job waits on; written on the latest condition. */
class Problem extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** A train or deploy trigger the LC cannot compile (it keeps the job and runs nothing until fixed). */
function triggerProblem(job: IncrementalLearningJob): Problem | undefined {
  for (const [field, spec] of [['spec.trainSpec.trigger', job.spec?.trainSpec?.trigger], ['spec.deploySpec.trigger', job.spec?.deploySpec?.trigger]] as const) {
    try {
      compileTrigger(spec);
    } catch (err) {
      return new Problem(INVALID_TRIGGER, `${field} cannot be evaluated: ${(err as Error).message}`);
    }
  }
  return undefined;
}

function modelNames(job: IncrementalLearningJob): (string | undefined)[] {
  return [job.spec?.initialModel?.name, job.spec?.deploySpec?.model?.name, job.spec?.evalSpec?.initialEvalModel?.name];
}

/** The scaffold and the reconciler, wired but not started (unit tests drive the reconciler). */
export function incrementalLearningParts(ctx: FeatureContext): { scaffold: FeatureScaffold<IncrementalLearningJob>; reconciler: IncrementalLearningReconciler } {
  // The Dataset informer is registered after the scaffold it serves (nodesFor reads it lazily).
  const lookup: { datasets?: Informer<Dataset> } = {};
  const nodesFor = (job: IncrementalLearningJob): string[] => stageNodes(job, lookup.datasets?.lister.get(job.metadata.namespace ?? '', job.spec?.dataset?.name ?? '')?.spec?.nodeName);
  const scaffold = new FeatureScaffold<IncrementalLearningJob>(ctx, {
    name: 'incrementallearning',
    primary: { kind: IL_KIND, plural: IL_PLURAL },
    nodesFor,
    // The LC acts on the latest condition (Sedna's GM sends every update, status included).
    sendsStatus: true,
  });
  const datasets = scaffold.watchesSedna<Dataset>(datasetKind.plural, (dataset) => scaffold.keysWhere(dataset, (job) => job.spec?.dataset?.name === dataset.metadata.name));
  lookup.datasets = datasets;
  const informers: Informers = {
    jobs: scaffold.primary,
    datasets,
    pods: scaffold.owns<Pod>('v1', 'pods', `${IL_KIND.toLowerCase()}.sedna.io/uid`),
    deployments: scaffold.owns<Deployment>('apps/v1', 'deployments'),
    secrets: scaffold.owns<CoreSecret>('v1', 'secrets'),
    models: scaffold.watchesSedna<Model>(modelKind.plural, (model) => scaffold.keysWhere(model, (job) => modelNames(job).includes(model.metadata.name))),
  };
  // Sedna sends the job's Models to its nodes (the LC reads their URLs and formats from them).
  ctx.downstream.bind<Model>({
    kind: modelKind.kind,
    lister: informers.models.lister,
    nodesFor: (model) => {
      const namespace = model.metadata.namespace ?? '';
      const jobs = scaffold.primary.lister.list(namespace).filter((job) => modelNames(job).includes(model.metadata.name));
      return [...new Set(jobs.flatMap(nodesFor))];
    },
  });
  return { scaffold, reconciler: new IncrementalLearningReconciler(scaffold, informers) };
}

export function createIncrementalLearningController(ctx: FeatureContext): FeatureController {
  return incrementalLearningParts(ctx).reconciler.controller();
}

/** Events for failures, retries and problems the job waits on. */
function transitionEvent(before: IncrementalLearningJobStatus | undefined, after: IncrementalLearningJobStatus): TransitionEvent | undefined {
  const was = latest(before);
  const now = latest(after);
  if (!now || (was?.type === now.type && was.stage === now.stage && was.reason === now.reason && was.message === now.message)) return undefined;
  if (now.type === 'Failed' || (now.reason && PROBLEM_REASONS.has(now.reason))) return { type: 'Warning', reason: now.reason ?? `${now.stage}Failed`, message: now.message ?? `the ${now.stage} stage failed` };
  if (now.reason === 'Retry') return { type: 'Normal', reason: 'Retry', message: now.message ?? '' };
  return undefined;
}

/** The same latest condition: a step computed from the cache still applies to the server's copy. */
function sameLatest(a: StageCondition | undefined, b: StageCondition | undefined): boolean {
  return a?.type === b?.type && a?.stage === b?.stage && a?.lastTransitionTime === b?.lastTransitionTime;
}

export class IncrementalLearningReconciler extends FeatureReconciler<IncrementalLearningJob, Informers> {
  async reconcile(job: IncrementalLearningJob): Promise<Result | void> {
    if (!latest(job.status)) {
      await this.write(job, { append: { type: 'Waiting', stage: 'Train' } });
      return;
    }
    let problem: Problem | undefined = triggerProblem(job);
    let inference: Deployment | undefined;
    try {
      inference = await this.applyInference(job);
    } catch (err) {
      problem ??= this.asProblem(err);
    }
    await this.syncModels(job);
    const view = this.view(job, inference);
    const step = nextStep(job.status, job.spec.deploySpec.model.hotUpdateEnabled === true, view, dateOf(this.ctx.clock));
    if (step.createPod) {
      try {
        await this.createStagePod(job);
        if (latest(job.status)?.type === 'Ready') step.append = { type: 'Starting', stage: latest(job.status)!.stage };
      } catch (err) {
        problem ??= this.asProblem(err);
      }
    }
    if (step.annotate) await this.annotate(job, step.annotate.stage, step.annotate.node);
    if (problem && !step.append) step.note = { reason: problem.reason, message: problem.message };
    await this.write(job, step);
    return step.requeueAfterMs !== undefined ? { requeueAfter: step.requeueAfterMs } : undefined;
  }

  /** The job's Models go to the job's nodes (a Model named twice is sent once). */
  private async syncModels(job: IncrementalLearningJob): Promise<void> {
    const namespace = job.metadata.namespace ?? '';
    for (const name of new Set(modelNames(job))) {
      const model = name ? this.informers.models.lister.get(namespace, name) : undefined;
      if (model) await this.ctx.downstream.sync(modelKind.kind, model);
    }
  }

  private asProblem(err: unknown): Problem {
    if (err instanceof Problem) return err;
    if (err instanceof WorkerSpecError) return new Problem(INVALID_INPUT, err.message);
    throw err;
  }

  private model(job: IncrementalLearningJob, name: string, field: string): WithSecret<Model> {
    const namespace = job.metadata.namespace ?? '';
    const model = this.informers.models.lister.get(namespace, name);
    if (!model) throw new Problem(MODEL_NOT_FOUND, `model ${namespace}/${name} (${field}) not found`);
    return { object: model, ...this.secret(namespace, model.spec.credentialName) };
  }

  private secret(namespace: string, name: string | undefined): { secret?: CoreSecret } {
    const secret = name ? this.informers.secrets.lister.get(namespace, name) : undefined;
    return secret ? { secret } : {};
  }

  /** Creates the inference Deployment, or brings it to the spec and the deployed model. */
  private async applyInference(job: IncrementalLearningJob): Promise<Deployment> {
    const namespace = job.metadata.namespace ?? '';
    const deployModel = this.model(job, job.spec.deploySpec.model.name, 'spec.deploySpec.model.name');
    const name = deploymentName(job, INFERENCE_WORKER);
    const lcServer = this.ctx.config.localController.server;
    const deployedModel = job.status?.deployedModel;
    const result = await applyObject<Deployment>(this.ctx.client, {
      ref: this.scaffold.ref(job, 'apps/v1', 'deployments', name),
      desired: (live) => inferenceDeployment(job, { deployModel, lcServer, ...(deployedModel ? { deployedModel } : {}) }, live),
      cached: () => this.informers.deployments.lister.get(namespace, name),
      merge: mergeSpecOverLive,
    });
    if (job.spec.deploySpec.model.hotUpdateEnabled && !job.metadata.annotations?.[HOT_UPDATE_ANNOTATION]) {
      await this.ctx.client.patch(this.scaffold.selfRef(job), { metadata: { annotations: { [HOT_UPDATE_ANNOTATION]: hotUpdateConfigPath(job) } } }, 'merge', { timeoutMs: 10_000 });
    }
    return result.object;
  }

  private stagePods(job: IncrementalLearningJob, stage: Stage): Pod[] {
    return this.informers.pods.lister.list(job.metadata.namespace ?? '', workerTypeSelector(job, workerTypeOf(stage))).filter((p) => isControlledBy(p, job));
  }

  private view(job: IncrementalLearningJob, inference: Deployment | undefined): WorkerView {
    const current = latest(job.status);
    const view: WorkerView = { inferenceAvailable: (inference?.status?.availableReplicas ?? 0) >= 1 };
    const node = job.spec.deploySpec.template.spec?.nodeName;
    if (node) view.inferenceNode = node;
    if (!current || current.stage === 'Deploy') return view;
    const run = currentRun(job.status, current.stage);
    const pod = this.stagePods(job, current.stage).find((p) => p.metadata.annotations?.[STAGE_RUN_ANNOTATION] === run && !p.metadata.deletionTimestamp);
    if (pod) {
      view.stagePod = { name: pod.metadata.name ?? '', ...(pod.status?.phase ? { phase: pod.status.phase } : {}), ...(pod.spec.nodeName ? { node: pod.spec.nodeName } : {}), ...(pod.status?.message ? { message: pod.status.message } : {}) };
    }
    return view;
  }

  /** What the current stage run's pod is built from: the data of the stage's latest Ready. */
  private stageInputs(job: IncrementalLearningJob, stage: Stage): StageInputs {
    const namespace = job.metadata.namespace ?? '';
    const ready = job.status?.conditions?.findLast((c) => c.stage === stage && c.type === 'Ready');
    const data = dataOf(ready);
    if (!data?.input) throw new Problem(INVALID_INPUT, `empty input from condData: the latest ${stage}/Ready condition carries no input`);
    const initialModel = this.model(job, job.spec.initialModel.name, 'spec.initialModel.name');
    this.model(job, job.spec.deploySpec.model.name, 'spec.deploySpec.model.name');
    const dataset = this.informers.datasets.lister.get(namespace, job.spec.dataset.name);
    if (!dataset) throw new Problem(DATASET_NOT_FOUND, `dataset ${namespace}/${job.spec.dataset.name} (spec.dataset.name) not found`);
    const jobSecret = this.secret(namespace, job.spec.credentialName).secret;
    return { data, initialModel, dataset: { object: dataset, ...this.secret(namespace, dataset.spec.credentialName) }, ...(jobSecret ? { jobSecret } : {}), lcServer: this.ctx.config.localController.server };
  }

  /** Creates the pod of the current run unless the server already has it (the cache may lag a create). */
  private async createStagePod(job: IncrementalLearningJob): Promise<void> {
    const stage = latest(job.status)!.stage as 'Train' | 'Eval';
    const run = currentRun(job.status, stage);
    const pod = stagePod(job, stage, run, this.stageInputs(job, stage));
    const namespace = job.metadata.namespace ?? '';
    const live = await this.ctx.client.list<Pod>({ apiVersion: 'v1', plural: 'pods', namespace }, { labelSelector: workerTypeSelector(job, workerTypeOf(stage)), timeoutMs: 10_000 });
    if (live.items.some((p) => p.metadata.annotations?.[STAGE_RUN_ANNOTATION] === run && !p.metadata.deletionTimestamp && isControlledBy(p, job))) return;
    await this.ctx.client.create<WorkerPod>({ apiVersion: 'v1', plural: 'pods', namespace }, pod, { timeoutMs: 10_000 });
  }

  /** `sedna.io/<Stage>` = the node the stage runs on (Sedna's annotation; downstream reads it). */
  private async annotate(job: IncrementalLearningJob, stage: Stage, node: string): Promise<void> {
    const key = `sedna.io/${stage}`;
    if (job.metadata.annotations?.[key] === node) return;
    await this.ctx.client.patch(this.scaffold.selfRef(job), { metadata: { annotations: { [key]: node } } }, 'merge', { timeoutMs: 10_000 });
  }

  /** Writes the step's condition or note, unless the server's latest condition moved on meanwhile. */
  private async write(job: IncrementalLearningJob, step: Step): Promise<void> {
    const cachedLatest = latest(job.status);
    const clearNote = !step.append && !step.note && cachedLatest?.reason !== undefined && PROBLEM_REASONS.has(cachedLatest.reason);
    if (!step.append && !step.note && !clearNote && job.status?.observedGeneration === job.metadata.generation) return;
    await this.scaffold.writeStatus(
      job,
      (current, now) => {
        if (!sameLatest(latest(current.status), cachedLatest)) return undefined;
        const generation = current.metadata.generation;
        let status: IncrementalLearningJobStatus = { ...current.status };
        if (step.append) status = appendCondition(status, step.append, generation, now);
        else if (step.note) {
          const last = latest(status);
          if (last?.reason === step.note.reason && last.message === step.note.message) return status.observedGeneration === generation ? undefined : { ...status, observedGeneration: generation };
          status = noteOnLatest(status, step.note, now);
        } else if (clearNote) status = noteOnLatest(status, {}, now);
        if (generation !== undefined) status.observedGeneration = generation;
        return status;
      },
      transitionEvent,
    );
  }
}

/** Incremental learning on the GM side. */
export const gm: FeatureRegistration = { kind: IL_KIND, plural: IL_PLURAL, createController: createIncrementalLearningController, handleUpstream: handleIncrementalLearningUpstream };
