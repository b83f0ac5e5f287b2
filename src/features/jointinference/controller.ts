// The JointInferenceService controller (spec §2.4.2), level-triggered: every reconcile brings the
// service's token Secret, cloud Deployment, cloud Service, edge Deployment and HPAs to what the
// spec asks, writing only what differs, then folds the Deployments' availability into the status.
// Differences from Sedna: a deleted Deployment, Service or Secret is recreated because their
// informers enqueue the owner; a spec change rolls only the worker whose template changed (its
// WORKER_NAME is kept); a missing Model is a Failed condition retried when the Model appears,
// and Failed is not terminal — a worker that comes back returns the service to Running.
import type { JointInferenceService } from '../../api/sedna/joint-inference-service.ts';
import { type Model, modelKind } from '../../api/sedna/model.ts';
import type { HPA } from '../../api/sedna/workloads.ts';
import type { Informer } from '../../controller/index.ts';
import type { FeatureContext, FeatureController, FeatureRegistration } from '../../gm/feature.ts';
import { FeatureReconciler, FeatureScaffold, type TransitionEvent } from '../../gm/feature-controller.ts';
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
  type Service,
  WorkerSpecError,
} from '../../gm/workers/index.ts';
import { currentCondition, INVALID_SPEC, isAvailable, MODEL_NOT_FOUND, nextStatus, type Observation, WORKER_RECOVERED } from './status.ts';
import { CLOUD, cloudDeployment, cloudService, EDGE, edgeDeployment, JI_GVK, JI_KIND, JI_PLURAL, tokenSecret, tokenSecretName } from './workers.ts';

import { handleJointInferenceUpstream } from './upstream.ts';

export { handleJointInferenceUpstream };
export { JI_KIND, JI_PLURAL } from './workers.ts';

interface Informers {
  services: Informer<JointInferenceService>;
  models: Informer<Model>;
  deployments: Informer<Deployment>;
  k8sServices: Informer<Service>;
  secrets: Informer<CoreSecret>;
  hpas: Informer<HorizontalPodAutoscaler>;
}

/** The scaffold and the reconciler, wired but not started (unit tests drive the reconciler). */
export function jointInferenceParts(ctx: FeatureContext): { scaffold: FeatureScaffold<JointInferenceService>; reconciler: JointInferenceReconciler } {
  const scaffold = new FeatureScaffold<JointInferenceService>(ctx, {
    name: 'jointinference',
    primary: { kind: JI_KIND, plural: JI_PLURAL },
    nodesFor: (ji) => {
      const node = ji.spec?.edgeWorker?.template?.spec?.nodeName;
      return node ? [node] : [];
    },
  });
  const informers: Informers = {
    services: scaffold.primary,
    deployments: scaffold.owns<Deployment>('apps/v1', 'deployments'),
    k8sServices: scaffold.owns<Service>('v1', 'services'),
    secrets: scaffold.owns<CoreSecret>('v1', 'secrets'),
    hpas: scaffold.owns<HorizontalPodAutoscaler>('autoscaling/v2', 'horizontalpodautoscalers'),
    // A Model that appears (or changes its URL) concerns the services naming it.
    models: scaffold.watchesSedna<Model>(modelKind.plural, (model) =>
      scaffold.keysWhere(model, (ji) => ji.spec?.cloudWorker?.model?.name === model.metadata.name || ji.spec?.edgeWorker?.model?.name === model.metadata.name),
    ),
  };
  return { scaffold, reconciler: new JointInferenceReconciler(scaffold, informers) };
}

export function createJointInferenceController(ctx: FeatureContext): FeatureController {
  return jointInferenceParts(ctx).reconciler.controller();
}

/** An event when the service fails, or recovers from failing. */
function transitionEvent(before: JointInferenceService['status'], after: NonNullable<JointInferenceService['status']>): TransitionEvent | undefined {
  const was = currentCondition(before);
  const now = currentCondition(after);
  if (!now) return undefined;
  if (was?.type === now.type && was.reason === now.reason && was.message === now.message) return undefined;
  if (now.type === 'Failed') return { type: 'Warning', reason: now.reason ?? 'Failed', message: now.message ?? '' };
  if (now.type === 'Running' && was?.type === 'Failed') return { type: 'Normal', reason: WORKER_RECOVERED, message: 'the cloud and edge workers are available again' };
  return undefined;
}

export class JointInferenceReconciler extends FeatureReconciler<JointInferenceService, Informers> {
  async reconcile(ji: JointInferenceService): Promise<void> {
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

  /** Applies every worker object in Sedna's order; returns each worker Deployment's availability. */
  private async applyWorkers(ji: JointInferenceService, cloudModel: Model, edgeModel: Model): Promise<Record<string, boolean>> {
    const { client } = this.ctx;
    const namespace = ji.metadata.namespace ?? '';
    const { secrets, deployments, k8sServices } = this.informers;
    const secretName = tokenSecretName(ji);
    await applyObject<CoreSecret>(client, { ref: this.scaffold.ref(ji, 'v1', 'secrets', secretName), desired: () => tokenSecret(ji), cached: () => secrets.lister.get(namespace, secretName), createOnly: true });

    const cloudName = deploymentName(ji, CLOUD);
    const cloud = await applyObject<Deployment>(client, {
      ref: this.scaffold.ref(ji, 'apps/v1', 'deployments', cloudName),
      desired: (live) => cloudDeployment(ji, cloudModel, this.credential(cloudModel), live),
      cached: () => deployments.lister.get(namespace, cloudName),
      merge: mergeSpecOverLive,
    });
    await this.applyHpa(ji, CLOUD, cloudName, ji.spec.cloudWorker.hpa);

    const service = cloudService(ji);
    await applyObject<Service>(client, {
      ref: this.scaffold.ref(ji, 'v1', 'services', service.metadata.name!),
      desired: () => service,
      cached: () => k8sServices.lister.get(namespace, service.metadata.name!),
      merge: mergeSpecOverLive,
    });

    const edgeName = deploymentName(ji, EDGE);
    const edge = await applyObject<Deployment>(client, {
      ref: this.scaffold.ref(ji, 'apps/v1', 'deployments', edgeName),
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
    const ref = this.scaffold.ref(ji, 'autoscaling/v2', 'horizontalpodautoscalers', name);
    const cached = this.informers.hpas.lister.get(namespace, name);
    if (!hpa) {
      if (cached) await deleteIfExists(this.ctx.client, ref);
      return;
    }
    await applyObject<HorizontalPodAutoscaler>(this.ctx.client, { ref, desired: () => buildHpa(ji, JI_GVK, workerType, deployment, hpa), cached: () => cached });
  }

  /** Availability from the cache, when the workers were not applied this time. */
  private availability(ji: JointInferenceService): Record<string, boolean> {
    const lister = this.informers.deployments.lister;
    const namespace = ji.metadata.namespace ?? '';
    return { cloud: isAvailable(lister.get(namespace, deploymentName(ji, CLOUD))), edge: isAvailable(lister.get(namespace, deploymentName(ji, EDGE))) };
  }

  /** Writes the status when it changed, with an event when the service fails or recovers. */
  private async writeStatus(ji: JointInferenceService, observation: Observation): Promise<void> {
    await this.scaffold.writeStatus(ji, (current, now) => nextStatus(current, observation, now), transitionEvent);
  }
}

/** Joint inference on the GM side. */
export const gm: FeatureRegistration = { kind: JI_KIND, plural: JI_PLURAL, createController: createJointInferenceController, handleUpstream: handleJointInferenceUpstream };
