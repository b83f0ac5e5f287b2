// The desired objects of a JointInferenceService (spec §2.4.2): the cloud Deployment and the
// Service in front of it, the edge Deployment, their optional HPAs, and the Secret holding the
// token the edge presents to the cloud (our addition: Sedna's big-model service had no
// authentication). Pure functions: the controller reads what they need and applies what they return.
import type { KubeObject } from '../../api/meta.ts';
import { SEDNA_API_VERSION } from '../../api/sedna/index.ts';
import { type JointInferenceService, jointInferenceServiceKind } from '../../api/sedna/joint-inference-service.ts';
import type { Model } from '../../api/sedna/model.ts';
import type { GroupVersionKind } from '../../controller/owner.ts';
import {
  buildDeployment,
  buildTokenSecret,
  buildService,
  type CoreSecret,
  type Deployment,
  type EnvVar,
  liveWorkerName,
  randomToken,
  type Service,
  serviceName,
  tokenSecretEnv,
  type WorkerContainer,
  workerName,
  type WorkerMount,
} from '../../gm/workers/index.ts';

export const JI_KIND = jointInferenceServiceKind.kind;
export const JI_PLURAL = jointInferenceServiceKind.plural;
export const JI_GVK: GroupVersionKind = { apiVersion: SEDNA_API_VERSION, kind: JI_KIND };
export const CLOUD = 'Cloud';
export const EDGE = 'Edge';
export const BIG_MODEL_PORT = 5000;

export function tokenSecretName(ji: KubeObject): string {
  return `${ji.metadata.name}-cloud-token`;
}

/** The generated token Secret; its value is random, so it is only ever created, never updated. */
export function tokenSecret(ji: JointInferenceService): CoreSecret {
  return buildTokenSecret(ji, JI_GVK, tokenSecretName(ji), randomToken());
}

/** The model's URL in the pod: mounted from the node, or fetched by the storage initializer. */
export function modelMount(model: Model, secret: CoreSecret | undefined): WorkerMount {
  return { envName: 'MODEL_URL', urls: [{ url: model.spec.url, downloadByInitializer: true, ...(secret ? { secret } : {}) }] };
}

function tokenEnv(ji: JointInferenceService): EnvVar {
  return tokenSecretEnv('BIG_MODEL_TOKEN', tokenSecretName(ji));
}

function commonEnv(ji: JointInferenceService, worker: string): EnvVar[] {
  return [
    { name: 'NAMESPACE', value: ji.metadata.namespace ?? '' },
    { name: 'SERVICE_NAME', value: ji.metadata.name ?? '' },
    { name: 'WORKER_NAME', value: worker },
    tokenEnv(ji),
  ];
}

/**
 * The cloud container must declare port 5000: the Service's targetPort resolves through the pod's
 * declared ports, and the embedded kubelet, which runs every pod on 127.0.0.1, gives a process a
 * host port (PORT_5000) only for a declared port.
 */
function withBigModelPort(deployment: Deployment): Deployment {
  const containers = deployment.spec.template.spec.containers;
  if (containers.some((c) => c.ports?.some((p) => p.containerPort === BIG_MODEL_PORT))) return deployment;
  const [first, ...rest] = containers as [WorkerContainer, ...WorkerContainer[]];
  const nameTaken = containers.some((c) => c.ports?.some((p) => p.name === 'tcp-0'));
  const port = { ...(nameTaken ? {} : { name: 'tcp-0' }), containerPort: BIG_MODEL_PORT, protocol: 'TCP' };
  const patched = { ...first, ports: [...(first.ports ?? []), port] };
  return { ...deployment, spec: { ...deployment.spec, template: { ...deployment.spec.template, spec: { ...deployment.spec.template.spec, containers: [patched, ...rest] } } } };
}

export function cloudDeployment(ji: JointInferenceService, model: Model, secret: CoreSecret | undefined, live: Deployment | undefined): Deployment {
  const env: EnvVar[] = [
    { name: 'BIG_MODEL_BIND_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    { name: 'BIG_MODEL_BIND_PORT', value: String(BIG_MODEL_PORT) },
    ...commonEnv(ji, liveWorkerName(live) ?? workerName('cloudworker')),
  ];
  const deployment = buildDeployment(ji, JI_GVK, { workerType: CLOUD, template: ji.spec.cloudWorker.template, env, mounts: [modelMount(model, secret)] });
  return withBigModelPort(deployment);
}

/** `<name>-cloud.<namespace>`: the host the edge worker dials. */
export function bigModelHost(ji: JointInferenceService): string {
  return `${serviceName(ji, CLOUD)}.${ji.metadata.namespace}`;
}

/** HEM parameters as Sedna passes them: a JSON array of {key, value}, or `null` when none. */
export function hemParameters(ji: JointInferenceService): string {
  const parameters = ji.spec.edgeWorker.hardExampleMining.parameters;
  return JSON.stringify(parameters ? parameters.map(({ key, value }) => ({ key, value })) : null);
}

export function edgeDeployment(ji: JointInferenceService, model: Model, secret: CoreSecret | undefined, live: Deployment | undefined, lcServer: string): Deployment {
  const env: EnvVar[] = [
    { name: 'BIG_MODEL_IP', value: bigModelHost(ji) },
    { name: 'BIG_MODEL_PORT', value: String(BIG_MODEL_PORT) },
    { name: 'HEM_NAME', value: ji.spec.edgeWorker.hardExampleMining.name },
    { name: 'HEM_PARAMETERS', value: hemParameters(ji) },
    { name: 'LC_SERVER', value: lcServer },
    ...commonEnv(ji, liveWorkerName(live) ?? workerName('edgeworker')),
  ];
  return buildDeployment(ji, JI_GVK, { workerType: EDGE, template: ji.spec.edgeWorker.template, env, mounts: [modelMount(model, secret)] });
}

export function cloudService(ji: JointInferenceService): Service {
  return buildService(ji, JI_GVK, CLOUD, BIG_MODEL_PORT);
}
