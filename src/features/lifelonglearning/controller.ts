// The LifelongLearningJob controller (spec §2.4.5): incremental learning's stage machine
// (../incrementallearning/status.ts, stage-reconciler.ts) with lifelong learning's workers
// (workers.ts) and its status.knowledgeBase filled from the knowledge base (kb-status.ts). As in
// Sedna, no inference worker runs before the first deploy and each Deploy/Ready restarts it (unless
// the job asks for hot update, workers.ts KB_HOT_UPDATE_ANNOTATION); unlike Sedna, the worker is a
// Deployment with an owner reference, recreated when deleted, rolled by a
// deploy; a Train or Eval pod that fails is retried with backoff; a missing Dataset or stage input
// is written on the latest condition instead of a silent requeue; the KB token reaches the workers
// through a Secret the job owns, not as a value in their pod spec.
import type { EdgeMessage } from '../../api/edge-protocol.ts';
import type { Stage } from '../../api/sedna/incremental-learning-job.ts';
import type { KnowledgeBaseStatus, LifelongLearningJob, LifelongLearningJobStatus } from '../../api/sedna/lifelong-learning-job.ts';
import type { Result } from '../../controller/index.ts';
import { dateOf } from '../../lib/clock.ts';
import type { FeatureContext, FeatureController, FeatureRegistration } from '../../gm/feature.ts';
import { FeatureScaffold } from '../../gm/feature-controller.ts';
import { applyObject, type CoreSecret, type Deployment, deploymentName, mergeSpecOverLive } from '../../gm/workers/index.ts';
import { dataOf, outputModels } from '../incrementallearning/data.ts';
import { Problem, StageReconciler } from '../incrementallearning/stage-reconciler.ts';
import { DATASET_NOT_FOUND, INVALID_INPUT, latest, nextStep, type WorkerView } from '../incrementallearning/status.ts';
import { participatingNodes } from '../incrementallearning/nodes.ts';
import { type StageInformers, stageScaffold } from '../incrementallearning/stage-scaffold.ts';
import { handleStageUpstream, type StageReport } from '../incrementallearning/upstream.ts';
import { kbAccessOf, knowledgeBaseFromModels, knowledgeBaseFromQuery, queryKnowledgeBase, reportedUnseen } from './kb-status.ts';
import { HOT_UPDATED, hotUpdateEnabled, INFERENCE_WORKER, inferenceDeployment, type KbAccess, kbTokenSecret, LL_KIND, LL_PLURAL, stagePod, workerTypeOf, workerTypeSelector } from './workers.ts';

export { LL_KIND, LL_PLURAL } from './workers.ts';

export type Informers = StageInformers<LifelongLearningJob>;

/** The scaffold and the reconciler, wired but not started (unit tests drive the reconciler). */
export function lifelongLearningParts(ctx: FeatureContext): { scaffold: FeatureScaffold<LifelongLearningJob>; reconciler: LifelongLearningReconciler } {
  const { scaffold, informers } = stageScaffold<LifelongLearningJob>(ctx, { name: 'lifelonglearning', kind: LL_KIND, plural: LL_PLURAL, nodes: participatingNodes });
  return { scaffold, reconciler: new LifelongLearningReconciler(scaffold, informers) };
}

export function createLifelongLearningController(ctx: FeatureContext): FeatureController {
  return lifelongLearningParts(ctx).reconciler.controller();
}

export class LifelongLearningReconciler extends StageReconciler<LifelongLearningJob, Informers> {
  protected stageSelector(job: LifelongLearningJob, stage: Stage): string {
    return workerTypeSelector(job, workerTypeOf(stage));
  }

  async reconcile(job: LifelongLearningJob): Promise<Result | void> {
    if (!latest(job.status)) {
      await this.write(job, { append: { type: 'Waiting', stage: 'Train' } });
      return;
    }
    let problem: Problem | undefined;
    const inference = await this.applyInference(job);
    const view: WorkerView = { inferenceAvailable: (inference?.status?.availableReplicas ?? 0) >= 1 };
    const stagePodNow = this.stagePodView(job);
    if (stagePodNow) view.stagePod = stagePodNow;
    // Deploy/Ready completes at once: the inference worker restarts on the new index, or, with hot
    // update on and a worker serving, takes it in place (no restart, no roll).
    const step = nextStep(job.status, false, view, dateOf(this.ctx.clock));
    if (step.append?.stage === 'Deploy' && step.append.type === 'Completed' && hotUpdateEnabled(job) && view.inferenceAvailable) {
      step.append = { type: 'Completed', stage: 'Deploy', reason: HOT_UPDATED, message: 'the inference worker takes the new knowledge base in place (hot update: it re-reads MODEL_URLS)' };
    }
    if (step.createPod) {
      try {
        await this.createStagePod(job);
        if (latest(job.status)?.type === 'Ready') step.append = { type: 'Starting', stage: latest(job.status)!.stage };
      } catch (err) {
        problem = this.asProblem(err);
      }
    }
    if (step.annotate) await this.annotate(job, step.annotate.stage, step.annotate.node);
    if (problem && !step.append) step.note = { reason: problem.reason, message: problem.message };
    await this.write(job, step);
    return step.requeueAfterMs !== undefined ? { requeueAfter: step.requeueAfterMs } : undefined;
  }

  private secret(namespace: string, name: string | undefined): CoreSecret | undefined {
    return name ? this.informers.secrets.lister.get(namespace, name) : undefined;
  }

  /** Before a worker is made: the Secret its KB_TOKEN comes from, created or brought to the GM's token. */
  private async applyKbTokenSecret(job: LifelongLearningJob, kb: KbAccess): Promise<void> {
    const secret = kbTokenSecret(job, kb);
    if (!secret) return;
    const namespace = job.metadata.namespace ?? '';
    const name = secret.metadata.name!;
    await applyObject<CoreSecret>(this.ctx.client, {
      ref: this.scaffold.ref(job, 'v1', 'secrets', name),
      desired: () => secret,
      cached: () => this.secret(namespace, name),
    });
  }

  /** Once a cycle deployed an index: the inference Deployment, created (again) or brought to the spec. */
  private async applyInference(job: LifelongLearningJob): Promise<Deployment | undefined> {
    if (!job.status?.deployedModel) return undefined;
    const namespace = job.metadata.namespace ?? '';
    const name = deploymentName(job, INFERENCE_WORKER);
    const jobSecret = this.secret(namespace, job.spec.credentialName);
    const kb = kbAccessOf(this.ctx.config);
    await this.applyKbTokenSecret(job, kb);
    const inputs = { lcServer: this.ctx.config.localController.server, kb, ...(jobSecret ? { jobSecret } : {}) };
    const result = await applyObject<Deployment>(this.ctx.client, {
      ref: this.scaffold.ref(job, 'apps/v1', 'deployments', name),
      desired: (live) => inferenceDeployment(job, inputs, live),
      cached: () => this.informers.deployments.lister.get(namespace, name),
      merge: mergeSpecOverLive,
    });
    return result.object;
  }

  private async createStagePod(job: LifelongLearningJob): Promise<void> {
    const stage = latest(job.status)!.stage as 'Train' | 'Eval';
    const namespace = job.metadata.namespace ?? '';
    const ready = job.status?.conditions?.findLast((c) => c.stage === stage && c.type === 'Ready');
    const data = dataOf(ready);
    if (!data?.input) throw new Problem(INVALID_INPUT, `empty input from condData: the latest ${stage}/Ready condition carries no input`);
    const dataset = this.informers.datasets.lister.get(namespace, job.spec.dataset.name);
    if (!dataset) throw new Problem(DATASET_NOT_FOUND, `dataset ${namespace}/${job.spec.dataset.name} (spec.dataset.name) not found`);
    const datasetSecret = this.secret(namespace, dataset.spec.credentialName);
    const jobSecret = this.secret(namespace, job.spec.credentialName);
    const kb = kbAccessOf(this.ctx.config);
    await this.applyKbTokenSecret(job, kb);
    const pod = stagePod(job, stage, {
      data,
      dataset: { object: dataset, ...(datasetSecret ? { secret: datasetSecret } : {}) },
      ...(jobSecret ? { jobSecret } : {}),
      lcServer: this.ctx.config.localController.server,
      kb,
    });
    await this.createRunPod(job, stage, pod);
  }
}

/**
 * Before a completed Train or Eval is recorded: the knowledge base's counts, or (the KB being
 * unreachable) the reported models' — the report itself is never held back by the KB.
 */
async function knowledgeBaseAfter(ctx: FeatureContext, job: LifelongLearningJob, report: StageReport): Promise<((status: LifelongLearningJobStatus) => LifelongLearningJobStatus) | undefined> {
  if (report.type !== 'Completed' || report.stage === 'Deploy') return undefined;
  const models = outputModels(dataOf({ data: report.data }));
  const previous = job.status?.knowledgeBase;
  let knowledgeBase: KnowledgeBaseStatus | undefined;
  try {
    knowledgeBase = knowledgeBaseFromQuery(await queryKnowledgeBase(kbAccessOf(ctx.config)), reportedUnseen(models, previous));
  } catch (err) {
    ctx.logger.warn({ err: (err as Error).message, job: `${job.metadata.namespace}/${job.metadata.name}` }, 'knowledge base unreachable; status.knowledgeBase from the reported models');
    knowledgeBase = knowledgeBaseFromModels(models, previous);
  }
  return knowledgeBase ? (status) => ({ ...status, knowledgeBase }) : undefined;
}

export function handleLifelongLearningUpstream(ctx: FeatureContext, node: string, message: EdgeMessage): Promise<void> {
  return handleStageUpstream<LifelongLearningJob>(ctx, node, message, { kind: 'lifelonglearningjob', plural: LL_PLURAL, prepare: knowledgeBaseAfter });
}

/** Lifelong learning on the GM side. */
export const gm: FeatureRegistration = { kind: LL_KIND, plural: LL_PLURAL, createController: createLifelongLearningController, handleUpstream: handleLifelongLearningUpstream };
