// The IncrementalLearningJob controller (spec §2.4.4) on the feature scaffold. Each reconcile keeps
// the inference Deployment as the spec and the deployed model ask, then takes one step of the
// stage machine (status.ts): creating the Train or Eval pod of the current run, annotating the
// node a stage runs on (downstream follows it), appending the next condition. Reports from the
// nodes append their conditions through upstream.ts. Differences from Sedna: owner references on
// every worker (cascade delete), the inference worker recreated when deleted, pods found by
// annotation, a missing Model, Dataset or stage input written on the latest condition (with an
// event) until fixed instead of a silent requeue, retries with backoff, observedGeneration.
import type { IncrementalLearningJob, Stage } from '../../api/sedna/incremental-learning-job.ts';
import { type Model, modelKind } from '../../api/sedna/model.ts';
import type { Informer, Result } from '../../controller/index.ts';
import { dateOf } from '../../lib/clock.ts';
import type { FeatureContext, FeatureController, FeatureRegistration } from '../../gm/feature.ts';
import { FeatureScaffold } from '../../gm/feature-controller.ts';
import { Problem, StageReconciler } from './stage-reconciler.ts';
import { type StageInformers, stageScaffold } from './stage-scaffold.ts';
import { applyObject, type CoreSecret, type Deployment, deploymentName, mergeSpecOverLive } from '../../gm/workers/index.ts';
import { compileTrigger } from '../../lc/triggers.ts';
import { dataOf } from './data.ts';
import {
  currentRun,
  DATASET_NOT_FOUND,
  INVALID_INPUT,
  INVALID_TRIGGER,
  latest,
  MODEL_NOT_FOUND,
  nextStep,
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
  type StageInputs,
  stagePod,
  type WithSecret,
  workerTypeOf,
  workerTypeSelector,
} from './workers.ts';

export { IL_KIND, IL_PLURAL } from './workers.ts';

export interface Informers extends StageInformers<IncrementalLearningJob> {
  models: Informer<Model>;
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
  const { scaffold, informers: stage, nodesFor } = stageScaffold<IncrementalLearningJob>(ctx, { name: 'incrementallearning', kind: IL_KIND, plural: IL_PLURAL, nodes: stageNodes });
  const informers: Informers = {
    ...stage,
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

export class IncrementalLearningReconciler extends StageReconciler<IncrementalLearningJob, Informers> {
  protected stageSelector(job: IncrementalLearningJob, stage: Stage): string {
    return workerTypeSelector(job, workerTypeOf(stage));
  }

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

  private view(job: IncrementalLearningJob, inference: Deployment | undefined): WorkerView {
    const view: WorkerView = { inferenceAvailable: (inference?.status?.availableReplicas ?? 0) >= 1 };
    const node = job.spec.deploySpec.template.spec?.nodeName;
    if (node) view.inferenceNode = node;
    const stagePod = this.stagePodView(job);
    if (stagePod) view.stagePod = stagePod;
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

  private async createStagePod(job: IncrementalLearningJob): Promise<void> {
    const stage = latest(job.status)!.stage as 'Train' | 'Eval';
    await this.createRunPod(job, stage, stagePod(job, stage, currentRun(job.status, stage), this.stageInputs(job, stage)));
  }
}

/** Incremental learning on the GM side. */
export const gm: FeatureRegistration = { kind: IL_KIND, plural: IL_PLURAL, createController: createIncrementalLearningController, handleUpstream: handleIncrementalLearningUpstream };
