// The FederatedLearningJob controller (spec §2.4.3), level-triggered and strictly per job: every
// reconcile compares the pods the job's spec asks for (the aggregator and one trainer per
// trainingWorkers[i], built from the current generation) with the job's own pods, found by the
// job's uid label and controller reference, and converges: stale pods (built from an older
// generation) are deleted, missing ones created, and the token Secret and aggregation Service
// applied. Differences from Sedna: no controller-wide selector or service host (one job's update
// never touches another's pods), a deleted pod is recreated by the same reconcile that creates the
// first pods (same slot, same WORKER_NAME, from the current spec) instead of copying the deleted
// pod, a spec edit rolls the pods through the generation annotation, a finished job's remaining
// pods are stopped (as the Job controller does) and never recreated, and a missing Model or Dataset
// is a Training=False condition retried when it appears.
import type { KubeObject } from '../../api/meta.ts';
import { type Dataset, datasetKind } from '../../api/sedna/dataset.ts';
import type { FederatedLearningJob } from '../../api/sedna/federated-learning-job.ts';
import { type Model, modelKind } from '../../api/sedna/model.ts';
import { type Informer, isApiError, isControlledBy, type ObjectKey } from '../../controller/index.ts';
import type { FeatureContext, FeatureController, FeatureRegistration } from '../../gm/feature.ts';
import { FeatureReconciler, FeatureScaffold, type TransitionEvent } from '../../gm/feature-controller.ts';
import { applyObject, type CoreSecret, deleteIfExists, labelPrefix, mergeSpecOverLive, selectorString, type Service, WorkerSpecError, type WorkerPod } from '../../gm/workers/index.ts';
import { PodExpectations } from './expectations.ts';
import { resolveInputs } from './inputs.ts';
import { aggregatorSucceeded, COMPLETED, failureOf, INVALID_SPEC, isFinished, nextStatus, type Observation, type PodView } from './status.ts';
import {
  aggregationService,
  desiredSlots,
  FL_KIND,
  FL_PLURAL,
  generationOf,
  type JobInputs,
  podForSlot,
  slotOf,
  tokenSecret,
  tokenSecretName,
  trainerNodes,
} from './workers.ts';

import { handleFederatedLearningUpstream } from './upstream.ts';

export { handleFederatedLearningUpstream };
export { FL_KIND, FL_PLURAL } from './workers.ts';

/** A worker pod as the API server reports it. */
type Pod = WorkerPod & { status?: { phase?: string; conditions?: { type: string; status: string; reason?: string }[] } };

export interface Informers {
  jobs: Informer<FederatedLearningJob>;
  models: Informer<Model>;
  datasets: Informer<Dataset>;
  pods: Informer<Pod>;
  services: Informer<Service>;
  secrets: Informer<CoreSecret>;
}

function names(...list: (string | undefined)[]): (string | undefined)[] {
  return list;
}

/** The scaffold and the reconciler, wired but not started (unit tests drive the reconciler). */
export function federatedLearningParts(ctx: FeatureContext): { scaffold: FeatureScaffold<FederatedLearningJob>; reconciler: FederatedLearningReconciler } {
  const scaffold = new FeatureScaffold<FederatedLearningJob>(ctx, { name: 'federatedlearning', primary: { kind: FL_KIND, plural: FL_PLURAL }, nodesFor: trainerNodes });
  const informers: Informers = {
    jobs: scaffold.primary,
    // Only the pods of some FL job: every one we create carries the uid label.
    pods: scaffold.owns<Pod>('v1', 'pods', `${labelPrefix(FL_KIND)}uid`),
    services: scaffold.owns<Service>('v1', 'services'),
    secrets: scaffold.owns<CoreSecret>('v1', 'secrets'),
    // A Model or Dataset that appears concerns the jobs naming it.
    models: scaffold.watchesSedna<Model>(modelKind.plural, (model) =>
      scaffold.keysWhere(model, (job) => names(job.spec.aggregationWorker?.model?.name, job.spec.pretrainedModel?.name).includes(model.metadata.name)),
    ),
    datasets: scaffold.watchesSedna<Dataset>(datasetKind.plural, (dataset) =>
      scaffold.keysWhere(dataset, (job) => names(...(job.spec.trainingWorkers ?? []).map((w) => w.dataset?.name)).includes(dataset.metadata.name)),
    ),
  };
  return { scaffold, reconciler: new FederatedLearningReconciler(scaffold, informers) };
}

export function createFederatedLearningController(ctx: FeatureContext): FeatureController {
  return federatedLearningParts(ctx).reconciler.controller();
}

/** An event when the job finishes: Completed, or the reason it failed. */
function transitionEvent(before: FederatedLearningJob['status'], after: NonNullable<FederatedLearningJob['status']>): TransitionEvent | undefined {
  if (isFinished(before) || !isFinished(after)) return undefined;
  const failed = after.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
  if (failed) return { type: 'Warning', reason: failed.reason ?? 'Failed', message: failed.message ?? '' };
  return { type: 'Normal', reason: COMPLETED, message: 'the federated learning job completed' };
}

function isTerminating(pod: KubeObject): boolean {
  return Boolean(pod.metadata.deletionTimestamp);
}

function podView(pod: Pod): PodView {
  const nodeNotReady = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'False' && c.reason === 'NodeNotReady') ?? false;
  return { slot: slotOf(pod) ?? '', name: pod.metadata.name ?? '', ...(pod.status?.phase ? { phase: pod.status.phase } : {}), terminating: isTerminating(pod), ...(nodeNotReady ? { nodeNotReady } : {}) };
}

function isDone(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export class FederatedLearningReconciler extends FeatureReconciler<FederatedLearningJob, Informers> {
  private readonly expectations = new PodExpectations();

  override forget(key: ObjectKey): void {
    this.expectations.forgetJob(key.namespace, key.name);
  }

  async reconcile(job: FederatedLearningJob): Promise<{ requeueAfter?: number } | void> {
    const pods = this.ownPods(job);
    for (const pod of pods) this.expectations.observed(job, pod.metadata.name ?? '');
    if (isFinished(job.status)) {
      await this.finish(job, pods, job.status?.observedGeneration ?? job.metadata.generation ?? 0);
      return;
    }
    const generation = job.metadata.generation ?? 0;
    // A spec edit: the pods of older generations go; their replacements are missing slots below.
    await this.deletePods(job, pods.filter((p) => generationOf(p) !== generation && !isTerminating(p)));
    const current = pods.filter((p) => generationOf(p) === generation);
    const views = current.map(podView);
    if (failureOf(views) || aggregatorSucceeded(views)) {
      await this.finish(job, pods, generation);
      return;
    }
    const problem = await this.applyChildren(job, current);
    await this.writeStatus(job, { pods: views, ...(problem ? { problem } : {}) });
    return this.expectations.pendingFor(job) ? { requeueAfter: 1000 } : undefined;
  }

  /**
   * A finished job (or one finishing now): the status from the pods of the generation it ran, and
   * its still-running workers stopped, since they have nothing left to do (the Job controller's
   * rule). Nothing is created, and its finished pods stay for their logs.
   */
  private async finish(job: FederatedLearningJob, pods: Pod[], generation: number): Promise<void> {
    const ran = pods.filter((p) => generationOf(p) === generation);
    await this.writeStatus(job, { pods: ran.map(podView) });
    await this.deletePods(job, pods.filter((p) => !isDone(p) && !isTerminating(p)));
  }

  /** The job's pods: its uid label selects them, its controller reference confirms them. */
  private ownPods(job: FederatedLearningJob): Pod[] {
    const selector = selectorString({ [`${labelPrefix(FL_KIND)}uid`]: job.metadata.uid ?? '' });
    return this.informers.pods.lister.list(job.metadata.namespace, selector).filter((p) => isControlledBy(p, job));
  }

  /** Secret, Service, then the missing pods; returns the problem that kept them from being made. */
  private async applyChildren(job: FederatedLearningJob, current: Pod[]): Promise<Observation['problem']> {
    const inputs = resolveInputs(job, this.informers, this.ctx.config.localController.server);
    if ('problem' in inputs) {
      await this.warnOnce(job, inputs.problem);
      return inputs.problem;
    }
    try {
      // Sedna's order: the aggregator's Service before the trainers that dial it.
      await this.applySecret(job);
      await this.applyService(job);
      await this.createMissingPods(job, current, inputs);
      return undefined;
    } catch (err) {
      if (!(err instanceof WorkerSpecError)) throw err;
      const problem = { reason: INVALID_SPEC, message: err.message };
      await this.warnOnce(job, problem);
      return problem;
    }
  }

  private async applySecret(job: FederatedLearningJob): Promise<void> {
    const name = tokenSecretName(job);
    const namespace = job.metadata.namespace ?? '';
    await applyObject<CoreSecret>(this.ctx.client, {
      ref: this.scaffold.ref(job, 'v1', 'secrets', name),
      desired: () => tokenSecret(job),
      cached: () => this.informers.secrets.lister.get(namespace, name),
      createOnly: true,
    });
  }

  private async applyService(job: FederatedLearningJob): Promise<void> {
    const service = aggregationService(job);
    const name = service.metadata.name!;
    await applyObject<Service>(this.ctx.client, {
      ref: this.scaffold.ref(job, 'v1', 'services', name),
      desired: () => service,
      cached: () => this.informers.services.lister.get(job.metadata.namespace, name),
      merge: mergeSpecOverLive,
    });
  }

  /**
   * Creates a pod for every slot that has none: a slot is filled by a live pod of the current
   * generation, a succeeded one (its work is done: not recreated when deleted), or a pod created
   * but not yet in the cache.
   */
  private async createMissingPods(job: FederatedLearningJob, current: Pod[], inputs: JobInputs): Promise<void> {
    for (const pod of current) if (pod.status?.phase === 'Succeeded') this.expectations.succeeded(job, slotOf(pod) ?? '');
    const filled = new Set(current.filter((p) => !isTerminating(p) || isDone(p)).map((p) => slotOf(p)));
    const missing = desiredSlots(job).filter((slot) => !filled.has(slot) && !this.expectations.isFilled(job, slot));
    if (missing.length === 0) return;
    // Built before anything is created, so an invalid template creates nothing.
    const pods = missing.map((slot) => ({ slot, pod: podForSlot(job, slot, inputs) }));
    if (!(await this.stillCurrent(job))) return;
    const errors: unknown[] = [];
    for (const { slot, pod } of pods) {
      try {
        const created = await this.ctx.client.create<WorkerPod>({ apiVersion: 'v1', plural: 'pods', namespace: job.metadata.namespace ?? '' }, pod, { timeoutMs: 10_000 });
        this.expectations.created(job, slot, created.metadata.name ?? '');
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, `creating ${errors.length} pod(s) of federatedlearningjob ${job.metadata.namespace}/${job.metadata.name} failed`);
  }

  /**
   * The server's copy is the cached one (same uid and generation, not being deleted): a stale cache
   * must not create pods for a job just deleted or edited.
   */
  private async stillCurrent(job: FederatedLearningJob): Promise<boolean> {
    try {
      const live = await this.ctx.client.get<FederatedLearningJob>(this.scaffold.selfRef(job), { timeoutMs: 10_000 });
      return live.metadata.uid === job.metadata.uid && live.metadata.generation === job.metadata.generation && !live.metadata.deletionTimestamp;
    } catch (err) {
      if (isApiError(err, 404)) return false;
      throw err;
    }
  }

  private async deletePods(job: FederatedLearningJob, pods: Pod[]): Promise<void> {
    for (const pod of pods) await deleteIfExists(this.ctx.client, this.scaffold.ref(job, 'v1', 'pods', pod.metadata.name ?? ''));
  }

  /** An event for a problem, only when the status does not already say it. */
  private async warnOnce(job: FederatedLearningJob, problem: { reason: string; message: string }): Promise<void> {
    const training = job.status?.conditions?.find((c) => c.type === 'Training');
    if (training?.status === 'False' && training.reason === problem.reason && training.message === problem.message) return;
    await this.scaffold.event(job, { type: 'Warning', ...problem });
  }

  /** Writes the status when it changed, with an event when the job finishes. */
  private async writeStatus(job: FederatedLearningJob, observation: Observation): Promise<void> {
    await this.scaffold.writeStatus(
      job,
      // Edited meanwhile: these pods describe the older spec; the edit's reconcile writes.
      (latest, now) => (latest.metadata.generation !== job.metadata.generation ? undefined : nextStatus(latest, observation, now)),
      transitionEvent,
    );
  }
}

/** Federated learning on the GM side. */
export const gm: FeatureRegistration = { kind: FL_KIND, plural: FL_PLURAL, createController: createFederatedLearningController, handleUpstream: handleFederatedLearningUpstream };
