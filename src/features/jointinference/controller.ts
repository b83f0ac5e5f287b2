// The JointInferenceService controller (spec §2.4.2), level-triggered: every reconcile brings the
// service's token Secret, cloud Deployment, cloud Service, edge Deployment and HPAs to what the
// spec asks, writing only what differs, then folds the Deployments' availability into the status.
// Differences from Sedna: a deleted Deployment, Service or Secret is recreated because their
// informers enqueue the owner; a spec change rolls only the worker whose template changed (its
// WORKER_NAME is kept); a missing Model is a Failed condition retried when the Model appears,
// and Failed is not terminal — a worker that comes back returns the service to Running.
import type { KubeObject } from '../../api/meta.ts';
import type { JointInferenceService } from '../../api/sedna/joint-inference-service.ts';
import type { Model } from '../../api/sedna/model.ts';
import type { HPA } from '../../api/sedna/workloads.ts';
import { Controller, type Lister, resourcePath, type SharedInformer } from '../../controller/index.ts';
import type { FeatureContext, FeatureController } from '../../gm/feature.ts';
import {
  applyObject,
  buildHpa,
  type CoreSecret,
  deleteIfExists,
  type Deployment,
  deploymentName,
  type HorizontalPodAutoscaler,
  hpaName,
  mergeSpecOverLive,
  type ObjectRef,
  type Service,
  WorkerSpecError,
} from '../../gm/workers/index.ts';
import { currentCondition, INVALID_SPEC, isAvailable, MODEL_NOT_FOUND, nextStatus, type Observation } from './status.ts';
import { CLOUD, cloudDeployment, cloudService, EDGE, edgeDeployment, JI_GVK, JI_KIND, JI_PLURAL, tokenSecret, tokenSecretName } from './workers.ts';

export { handleJointInferenceUpstream } from './upstream.ts';
export { JI_KIND, JI_PLURAL } from './workers.ts';

const SEDNA_GROUP = 'sedna.io';

interface Informers {
  services: SharedInformer<JointInferenceService>;
  models: SharedInformer<Model>;
  deployments: SharedInformer<Deployment>;
  k8sServices: SharedInformer<Service>;
  secrets: SharedInformer<CoreSecret>;
  hpas: SharedInformer<HorizontalPodAutoscaler>;
}

function informersFor(ctx: FeatureContext): Informers {
  const namespace = ctx.config.namespace || undefined;
  const core = <T extends KubeObject>(apiVersion: string, plural: string): SharedInformer<T> => ctx.informers.informerFor<T>({ path: resourcePath({ apiVersion, plural, namespace }) });
  return {
    services: ctx.informers.informerFor<JointInferenceService>({ path: ctx.pathFor(JI_PLURAL) }),
    models: ctx.informers.informerFor<Model>({ path: ctx.pathFor('models') }),
    deployments: core<Deployment>('apps/v1', 'deployments'),
    k8sServices: core<Service>('v1', 'services'),
    secrets: core<CoreSecret>('v1', 'secrets'),
    hpas: core<HorizontalPodAutoscaler>('autoscaling/v2', 'horizontalpodautoscalers'),
  };
}

export function createJointInferenceController(ctx: FeatureContext): FeatureController {
  const informers = informersFor(ctx);
  ctx.downstream.bind<JointInferenceService>({
    kind: JI_KIND,
    lister: informers.services.lister,
    nodesFor: (ji) => {
      const node = ji.spec?.edgeWorker?.template?.spec?.nodeName;
      return node ? [node] : [];
    },
  });
  const reconciler = new JointInferenceReconciler(ctx, informers);
  const controller = new Controller({
    name: 'jointinference',
    maxConcurrentReconciles: 4,
    logger: ctx.logger,
    metrics: ctx.metrics,
    reconcile: (key) => reconciler.reconcile(key.namespace, key.name),
  });
  controller
    .watchFor(informers.services)
    .watchOwned(informers.deployments, JI_KIND, SEDNA_GROUP)
    .watchOwned(informers.k8sServices, JI_KIND, SEDNA_GROUP)
    .watchOwned(informers.secrets, JI_KIND, SEDNA_GROUP)
    .watchOwned(informers.hpas, JI_KIND, SEDNA_GROUP)
    // A Model that appears (or changes its URL) concerns the services naming it.
    .watches(informers.models, (model) => servicesUsing(informers.services.lister, model));
  return controller;
}

function servicesUsing(lister: Lister<JointInferenceService>, model: Model): { namespace: string; name: string }[] {
  const namespace = model.metadata.namespace ?? '';
  return lister
    .list(namespace)
    .filter((ji) => ji.spec?.cloudWorker?.model?.name === model.metadata.name || ji.spec?.edgeWorker?.model?.name === model.metadata.name)
    .map((ji) => ({ namespace, name: ji.metadata.name ?? '' }));
}

class JointInferenceReconciler {
  constructor(
    private readonly ctx: FeatureContext,
    private readonly informers: Informers,
  ) {}

  async reconcile(namespace: string, name: string): Promise<void> {
    const ji = this.informers.services.lister.get(namespace, name);
    if (!ji) {
      await this.ctx.downstream.remove(JI_KIND, namespace, name);
      return;
    }
    if (ji.metadata.deletionTimestamp) return; // the garbage collector is taking its workers away
    await this.ctx.downstream.sync(JI_KIND, ji);
    const models = this.models(ji);
    if ('missing' in models) {
      await this.writeStatus(ji, { available: this.availability(ji), problem: { reason: MODEL_NOT_FOUND, message: models.missing } });
      return;
    }
    try {
      const available = await this.applyWorkers(ji, models.cloud, models.edge);
      await this.writeStatus(ji, { available });
    } catch (err) {
      if (!(err instanceof WorkerSpecError)) throw err;
      await this.writeStatus(ji, { available: this.availability(ji), problem: { reason: INVALID_SPEC, message: err.message } });
    }
  }

  private models(ji: JointInferenceService): { cloud: Model; edge: Model } | { missing: string } {
    const namespace = ji.metadata.namespace ?? '';
    const lister = this.informers.models.lister;
    const wanted = [
      ['cloudWorker', ji.spec.cloudWorker.model.name],
      ['edgeWorker', ji.spec.edgeWorker.model.name],
    ] as const;
    const missing = wanted.filter(([, model]) => !lister.get(namespace, model));
    if (missing.length > 0) {
      return { missing: missing.map(([worker, model]) => `model ${namespace}/${model} (spec.${worker}.model.name) not found`).join('; ') };
    }
    return { cloud: lister.get(namespace, wanted[0][1])!, edge: lister.get(namespace, wanted[1][1])! };
  }

  private credential(model: Model): CoreSecret | undefined {
    const name = model.spec.credentialName;
    return name ? this.informers.secrets.lister.get(model.metadata.namespace, name) : undefined;
  }

  private ref(ji: JointInferenceService, apiVersion: string, plural: string, name: string): ObjectRef {
    return { apiVersion, plural, namespace: ji.metadata.namespace ?? '', name };
  }

  /** Applies every worker object in Sedna's order; returns each worker Deployment's availability. */
  private async applyWorkers(ji: JointInferenceService, cloudModel: Model, edgeModel: Model): Promise<Record<string, boolean>> {
    const { kc } = this.ctx;
    const namespace = ji.metadata.namespace ?? '';
    const { secrets, deployments, k8sServices } = this.informers;
    const secretName = tokenSecretName(ji);
    await applyObject<CoreSecret>(kc, { ref: this.ref(ji, 'v1', 'secrets', secretName), desired: () => tokenSecret(ji), cached: () => secrets.lister.get(namespace, secretName), createOnly: true });

    const cloudName = deploymentName(ji, CLOUD);
    const cloud = await applyObject<Deployment>(kc, {
      ref: this.ref(ji, 'apps/v1', 'deployments', cloudName),
      desired: (live) => cloudDeployment(ji, cloudModel, this.credential(cloudModel), live),
      cached: () => deployments.lister.get(namespace, cloudName),
      merge: mergeSpecOverLive,
    });
    await this.applyHpa(ji, CLOUD, cloudName, ji.spec.cloudWorker.hpa);

    const service = cloudService(ji);
    await applyObject<Service>(kc, {
      ref: this.ref(ji, 'v1', 'services', service.metadata.name!),
      desired: () => service,
      cached: () => k8sServices.lister.get(namespace, service.metadata.name!),
      merge: mergeSpecOverLive,
    });

    const edgeName = deploymentName(ji, EDGE);
    const edge = await applyObject<Deployment>(kc, {
      ref: this.ref(ji, 'apps/v1', 'deployments', edgeName),
      desired: (live) => edgeDeployment(ji, edgeModel, this.credential(edgeModel), live, this.ctx.config.localController.server),
      cached: () => deployments.lister.get(namespace, edgeName),
      merge: mergeSpecOverLive,
    });
    await this.applyHpa(ji, EDGE, edgeName, ji.spec.edgeWorker.hpa);
    return { cloud: isAvailable(cloud.object), edge: isAvailable(edge.object) };
  }

  /** Creates or updates `hpa-<deployment>` when the worker asks for one, deletes it when not. */
  private async applyHpa(ji: JointInferenceService, workerType: string, deployment: string, hpa: HPA | null | undefined): Promise<void> {
    const namespace = ji.metadata.namespace ?? '';
    const name = hpaName(deployment);
    const ref = this.ref(ji, 'autoscaling/v2', 'horizontalpodautoscalers', name);
    const cached = this.informers.hpas.lister.get(namespace, name);
    if (!hpa) {
      if (cached) await deleteIfExists(this.ctx.kc, ref);
      return;
    }
    await applyObject<HorizontalPodAutoscaler>(this.ctx.kc, { ref, desired: () => buildHpa(ji, JI_GVK, workerType, deployment, hpa), cached: () => cached });
  }

  /** Availability from the cache, when the workers were not applied this time. */
  private availability(ji: JointInferenceService): Record<string, boolean> {
    const lister = this.informers.deployments.lister;
    const namespace = ji.metadata.namespace ?? '';
    return { cloud: isAvailable(lister.get(namespace, deploymentName(ji, CLOUD))), edge: isAvailable(lister.get(namespace, deploymentName(ji, EDGE))) };
  }

  /** Writes the status when it changed, with an event when the service fails or recovers. */
  private async writeStatus(ji: JointInferenceService, observation: Observation): Promise<void> {
    let before: ReturnType<typeof currentCondition>;
    let after: ReturnType<typeof currentCondition>;
    const target = { apiVersion: JI_GVK.apiVersion, plural: JI_PLURAL, namespace: ji.metadata.namespace ?? '', name: ji.metadata.name ?? '' };
    const result = await this.ctx.status.update<JointInferenceService>(
      target,
      (current) => {
        const next = nextStatus(current, observation, new Date());
        before = currentCondition(current.status);
        after = currentCondition(next);
        return next as unknown as Record<string, unknown>;
      },
      ji,
    );
    if (result !== 'written' || !after) return;
    const changed = before?.type !== after.type || before.reason !== after.reason || before.message !== after.message;
    if (!changed) return;
    const involved = { ...ji, apiVersion: JI_GVK.apiVersion, kind: JI_KIND };
    if (after.type === 'Failed') await this.ctx.events.event(involved, 'Warning', after.reason ?? 'Failed', after.message ?? '');
    else if (after.type === 'Running' && before?.type === 'Failed') await this.ctx.events.event(involved, 'Normal', 'WorkerRecovered', 'the cloud and edge workers are available again');
  }
}
