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
import type { Dataset } from '../../api/sedna/dataset.ts';
import type { FederatedLearningJob } from '../../api/sedna/federated-learning-job.ts';
import type { Model } from '../../api/sedna/model.ts';
import { Controller, isApiError, isControlledBy, type Lister, requestJson, resourcePath, type SharedInformer } from '../../controller/index.ts';
import type { FeatureContext, FeatureController } from '../../gm/feature.ts';
import {
  applyObject,
  type CoreSecret,
  deleteIfExists,
  labelPrefix,
  mergeSpecOverLive,
  objectPath,
  type ObjectRef,
  selectorString,
  type Service,
  WorkerSpecError,
  type WorkerPod,
} from '../../gm/workers/index.ts';
import { PodExpectations } from './expectations.ts';
import { resolveInputs } from './inputs.ts';
import { aggregatorSucceeded, failureOf, INVALID_SPEC, isFinished, nextStatus, type Observation, type PodView } from './status.ts';
import {
  aggregationService,
  desiredSlots,
  FL_GVK,
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

export { handleFederatedLearningUpstream } from './upstream.ts';
export { FL_KIND, FL_PLURAL } from './workers.ts';

const SEDNA_GROUP = 'sedna.io';

/** A worker pod as the API server reports it. */
type Pod = WorkerPod & { status?: { phase?: string; conditions?: { type: string; status: string; reason?: string }[] } };

export interface Informers {
  jobs: SharedInformer<FederatedLearningJob>;
  models: SharedInformer<Model>;
  datasets: SharedInformer<Dataset>;
  pods: SharedInformer<Pod>;
  services: SharedInformer<Service>;
  secrets: SharedInformer<CoreSecret>;
}

function informersFor(ctx: FeatureContext): Informers {
  const namespace = ctx.config.namespace || undefined;
  const core = <T extends KubeObject>(plural: string, labelSelector?: string): SharedInformer<T> =>
    ctx.informers.informerFor<T>({ path: resourcePath({ apiVersion: 'v1', plural, namespace }), ...(labelSelector ? { labelSelector } : {}) });
  return {
    jobs: ctx.informers.informerFor<FederatedLearningJob>({ path: ctx.pathFor(FL_PLURAL) }),
    models: ctx.informers.informerFor<Model>({ path: ctx.pathFor('models') }),
    datasets: ctx.informers.informerFor<Dataset>({ path: ctx.pathFor('datasets') }),
    // Only the pods of some FL job: every one we create carries the uid label.
    pods: core<Pod>('pods', `${labelPrefix(FL_KIND)}uid`),
    services: core<Service>('services'),
    secrets: core<CoreSecret>('secrets'),
  };
}

export function createFederatedLearningController(ctx: FeatureContext): FeatureController {
  const informers = informersFor(ctx);
  ctx.downstream.bind<FederatedLearningJob>({ kind: FL_KIND, lister: informers.jobs.lister, nodesFor: trainerNodes });
  const reconciler = new FederatedLearningReconciler(ctx, informers);
  const controller = new Controller({
    name: 'federatedlearning',
    maxConcurrentReconciles: 4,
    logger: ctx.logger,
    metrics: ctx.metrics,
    reconcile: (key) => reconciler.reconcile(key.namespace, key.name),
  });
  controller
    .watchFor(informers.jobs)
    .watchOwned(informers.pods, FL_KIND, SEDNA_GROUP)
    .watchOwned(informers.services, FL_KIND, SEDNA_GROUP)
    .watchOwned(informers.secrets, FL_KIND, SEDNA_GROUP)
    // A Model or Dataset that appears concerns the jobs naming it.
    .watches(informers.models, (model) => jobsUsing(informers.jobs.lister, model, (job) => [job.spec.aggregationWorker?.model?.name, job.spec.pretrainedModel?.name]))
    .watches(informers.datasets, (dataset) => jobsUsing(informers.jobs.lister, dataset, (job) => (job.spec.trainingWorkers ?? []).map((w) => w.dataset?.name)));
  return controller;
}

function jobsUsing(lister: Lister<FederatedLearningJob>, obj: KubeObject, names: (job: FederatedLearningJob) => (string | undefined)[]): { namespace: string; name: string }[] {
  const namespace = obj.metadata.namespace ?? '';
  return lister
    .list(namespace)
    .filter((job) => names(job).includes(obj.metadata.name))
    .map((job) => ({ namespace, name: job.metadata.name ?? '' }));
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

class FederatedLearningReconciler {
  private readonly expectations = new PodExpectations();

  constructor(
    private readonly ctx: FeatureContext,
    private readonly informers: Informers,
  ) {}

  async reconcile(namespace: string, name: string): Promise<{ requeueAfter?: number } | void> {
    const job = this.informers.jobs.lister.get(namespace, name);
    if (!job) {
      this.expectations.forgetJob(namespace, name);
      await this.ctx.downstream.remove(FL_KIND, namespace, name);
      return;
    }
    if (job.metadata.deletionTimestamp) return; // the garbage collector is taking its children away
    await this.ctx.downstream.sync(FL_KIND, job);
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

  private ref(job: FederatedLearningJob, apiVersion: string, plural: string, name: string): ObjectRef {
    return { apiVersion, plural, namespace: job.metadata.namespace ?? '', name };
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
    await applyObject<CoreSecret>(this.ctx.kc, {
      ref: this.ref(job, 'v1', 'secrets', name),
      desired: () => tokenSecret(job),
      cached: () => this.informers.secrets.lister.get(namespace, name),
      createOnly: true,
    });
  }

  private async applyService(job: FederatedLearningJob): Promise<void> {
    const service = aggregationService(job);
    const name = service.metadata.name!;
    await applyObject<Service>(this.ctx.kc, {
      ref: this.ref(job, 'v1', 'services', name),
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
        const created = await requestJson<WorkerPod>(this.ctx.kc, { method: 'POST', path: resourcePath({ apiVersion: 'v1', plural: 'pods', namespace: job.metadata.namespace }), body: pod, timeoutMs: 10_000 });
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
      const live = await requestJson<FederatedLearningJob>(this.ctx.kc, { path: objectPath(this.ref(job, FL_GVK.apiVersion, FL_PLURAL, job.metadata.name ?? '')), timeoutMs: 10_000 });
      return live.metadata.uid === job.metadata.uid && live.metadata.generation === job.metadata.generation && !live.metadata.deletionTimestamp;
    } catch (err) {
      if (isApiError(err, 404)) return false;
      throw err;
    }
  }

  private async deletePods(job: FederatedLearningJob, pods: Pod[]): Promise<void> {
    for (const pod of pods) await deleteIfExists(this.ctx.kc, this.ref(job, 'v1', 'pods', pod.metadata.name ?? ''));
  }

  /** An event for a problem, only when the status does not already say it. */
  private async warnOnce(job: FederatedLearningJob, problem: { reason: string; message: string }): Promise<void> {
    const training = job.status?.conditions?.find((c) => c.type === 'Training');
    if (training?.status === 'False' && training.reason === problem.reason && training.message === problem.message) return;
    await this.ctx.events.event(this.involved(job), 'Warning', problem.reason, problem.message);
  }

  private involved(job: FederatedLearningJob): KubeObject {
    return { ...job, apiVersion: FL_GVK.apiVersion, kind: FL_KIND };
  }

  /** Writes the status when it changed, with an event when the job finishes or its spec is rolled. */
  private async writeStatus(job: FederatedLearningJob, observation: Observation): Promise<void> {
    let wasFinished = false;
    let after: FederatedLearningJob['status'];
    const target = { apiVersion: FL_GVK.apiVersion, plural: FL_PLURAL, namespace: job.metadata.namespace ?? '', name: job.metadata.name ?? '' };
    const result = await this.ctx.status.update<FederatedLearningJob>(
      target,
      (latest) => {
        // Edited meanwhile: these pods describe the older spec; the edit's reconcile writes.
        if (latest.metadata.generation !== job.metadata.generation) return undefined;
        wasFinished = isFinished(latest.status);
        after = nextStatus(latest, observation, new Date());
        return after as unknown as Record<string, unknown>;
      },
      job,
    );
    if (result !== 'written' || wasFinished || !isFinished(after)) return;
    const failed = after?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
    if (failed) await this.ctx.events.event(this.involved(job), 'Warning', failed.reason ?? 'Failed', failed.message ?? '');
    else await this.ctx.events.event(this.involved(job), 'Normal', 'Completed', 'the federated learning job completed');
  }
}
