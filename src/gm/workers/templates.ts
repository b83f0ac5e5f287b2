// The Kubernetes objects the GM creates for a CR's workers (spec §2.3.2–2.3.3, appendix E): a
// Deployment or a Pod from the user's pod template, the Service in front of a worker type, and
// the HPA of a Deployment. Each carries the worker labels and one controller ownerReference to
// the CR, so the garbage collector removes it with the CR. Sedna's env is appended after the
// user's, so a name Sedna injects wins (Kubernetes takes the last duplicate).
import type { KubeObject } from '../../api/meta.ts';
import { controllerRef, type GroupVersionKind } from '../../controller/owner.ts';
import { deploymentLabels, workerLabels } from './labels.ts';
import { injectStorage, type WorkerMount } from './storage.ts';
import type { Container, Deployment, EnvVar, HorizontalPodAutoscaler, HPA, Pod, PodSpec, PodTemplateSpec, RestartPolicy, Service } from '../../api/workloads.ts';

/** A container of a worker pod, as the feature controllers name it. */
export type WorkerContainer = Container;

/** A Pod the GM builds for a worker: unlike a Pod read back, its spec is always set. */
export interface WorkerPod extends Pod {
  spec: PodSpec;
}

export interface WorkerParams {
  /** `Cloud`, `Edge`, `train`, … (lower-cased in names and labels, kept in `app.sedna.io`). */
  workerType: string;
  template: PodTemplateSpec;
  /** Appended to every container, in this order. */
  env: readonly EnvVar[];
  mounts?: readonly WorkerMount[];
}

export interface DeploymentParams extends WorkerParams {
  /** Unset: the API default (1), or whatever an HPA has scaled to. */
  replicas?: number;
}

export interface PodParams extends WorkerParams {
  hostNetwork?: boolean;
  /** Used only when the template sets none. */
  restartPolicy?: RestartPolicy;
  dnsPolicy?: string;
}

/** The CR's worker spec cannot be turned into a workload; retrying cannot fix it. */
export class WorkerSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerSpecError';
  }
}

function nameOf(owner: KubeObject): string {
  const name = owner.metadata.name;
  if (!name) throw new Error('the owner of worker objects needs metadata.name');
  return name;
}

export function deploymentName(owner: KubeObject, workerType: string): string {
  return `${nameOf(owner)}-deployment-${workerType.toLowerCase()}`;
}

export function serviceName(owner: KubeObject, workerType: string): string {
  return `${nameOf(owner)}-${workerType}`.toLowerCase();
}

export function hpaName(deployment: string): string {
  return `hpa-${deployment}`;
}

/** `<service>.<namespace>`, the host workers dial (no port). */
export function serviceHost(service: Service): string {
  return `${service.metadata.name}.${service.metadata.namespace}`;
}

/** A deep copy of the CR's template with the storage injected and `env` appended to every container. */
export function workerTemplate(params: WorkerParams, labels: Record<string, string>): PodTemplateSpec {
  const source = structuredClone(params.template);
  if (!source.spec?.containers?.length) throw new WorkerSpecError(`the ${params.workerType.toLowerCase()} worker's template.spec.containers must name at least one container`);
  let template: PodTemplateSpec = { spec: source.spec };
  const { labels: userLabels, annotations } = source.metadata ?? {};
  template.metadata = { ...(annotations ? { annotations } : {}), labels: { ...userLabels, ...labels } };
  if (params.mounts) template = injectStorage(template, params.mounts);
  const containers = template.spec.containers.map((c): WorkerContainer => ({ ...c, env: [...(c.env ?? []), ...params.env] }));
  return { ...template, spec: { ...template.spec, containers } };
}

export function buildDeployment(owner: KubeObject, gvk: GroupVersionKind, params: DeploymentParams): Deployment {
  const labels = deploymentLabels(owner, gvk.kind, params.workerType);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: deploymentName(owner, params.workerType),
      namespace: owner.metadata.namespace,
      labels,
      ownerReferences: [controllerRef(owner, gvk)],
    },
    spec: {
      ...(params.replicas !== undefined ? { replicas: params.replicas } : {}),
      selector: { matchLabels: labels },
      template: workerTemplate(params, labels),
    },
  };
}

export function buildPod(owner: KubeObject, gvk: GroupVersionKind, params: PodParams): WorkerPod {
  const labels = workerLabels(owner, gvk.kind, params.workerType);
  const template = workerTemplate(params, labels);
  const spec = { ...template.spec };
  if (params.hostNetwork) spec.hostNetwork = true;
  if (!spec.restartPolicy && params.restartPolicy) spec.restartPolicy = params.restartPolicy;
  if (params.dnsPolicy) spec.dnsPolicy = params.dnsPolicy;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...template.metadata,
      generateName: `${nameOf(owner)}-${params.workerType.toLowerCase()}-`,
      namespace: owner.metadata.namespace,
      ownerReferences: [controllerRef(owner, gvk)],
    },
    spec,
  };
}

/** The ClusterIP Service of a worker type: one TCP port named `tcp-0` (EdgeMesh needs that name). */
export function buildService(owner: KubeObject, gvk: GroupVersionKind, workerType: string, port: number): Service {
  const labels = workerLabels(owner, gvk.kind, workerType);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: serviceName(owner, workerType), namespace: owner.metadata.namespace, labels, ownerReferences: [controllerRef(owner, gvk)] },
    spec: { selector: labels, type: 'ClusterIP', ports: [{ name: 'tcp-0', protocol: 'TCP', port, targetPort: port }] },
  };
}

export function buildHpa(owner: KubeObject, gvk: GroupVersionKind, workerType: string, deployment: string, hpa: HPA): HorizontalPodAutoscaler {
  const spec: HorizontalPodAutoscaler['spec'] = {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment },
    maxReplicas: hpa.maxReplicas,
  };
  if (hpa.minReplicas !== undefined) spec.minReplicas = hpa.minReplicas;
  if (hpa.metrics !== undefined) spec.metrics = structuredClone(hpa.metrics);
  if (hpa.behavior !== undefined) spec.behavior = structuredClone(hpa.behavior);
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: hpaName(deployment), namespace: owner.metadata.namespace, labels: workerLabels(owner, gvk.kind, workerType), ownerReferences: [controllerRef(owner, gvk)] },
    spec,
  };
}
