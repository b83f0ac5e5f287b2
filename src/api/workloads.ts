// The core/v1, apps/v1, batch/v1 and autoscaling/v2 shapes, in one place: what the GM builds for
// workers, what the embedded kubelet runs and reports, what the API server's Deployment and
// ReplicaSet controllers read, and what Sedna's CRDs inline. Each carries the fields someone here
// reads or writes; the others travel through the index signatures untouched, because a user's pod
// template may carry anything a PodSpec allows.
import type { Condition, KubeObject, LabelSelector, ObjectMeta } from './meta.ts';

export type IntOrString = number | string;

// ---------------------------------------------------------------------------------------------
// core/v1

export interface EnvVarSource {
  fieldRef?: { fieldPath: string; apiVersion?: string };
  secretKeyRef?: { name: string; key: string; optional?: boolean };
  configMapKeyRef?: { name: string; key: string; optional?: boolean };
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: EnvVarSource;
}

export interface EnvFromSource {
  prefix?: string;
  configMapRef?: { name: string; optional?: boolean };
  secretRef?: { name: string; optional?: boolean };
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  hostPort?: number;
  protocol?: string;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  subPath?: string;
  readOnly?: boolean;
}

/** A port as a number, or the name of one of the container's ports. */
export type ProbePort = number | string;

export interface HTTPHeader {
  name: string;
  value: string;
}

/** core/v1 Probe: one handler plus its timing. */
export interface Probe {
  exec?: { command?: string[] };
  httpGet?: { path?: string; port: ProbePort; host?: string; scheme?: string; httpHeaders?: HTTPHeader[] };
  tcpSocket?: { port: ProbePort; host?: string };
  grpc?: { port: number; service?: string };
  /** Default 0. */
  initialDelaySeconds?: number;
  /** Default 10. */
  periodSeconds?: number;
  /** Default 1. */
  timeoutSeconds?: number;
  /** Default 1; must be 1 for liveness and startup probes. */
  successThreshold?: number;
  /** Default 3. */
  failureThreshold?: number;
  /** Grace for a kill after a failed liveness or startup probe (default: the pod's). */
  terminationGracePeriodSeconds?: number;
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  ports?: ContainerPort[];
  volumeMounts?: VolumeMount[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  [field: string]: unknown;
}

export interface Volume {
  name: string;
  hostPath?: { path: string; type?: string };
  emptyDir?: Record<string, unknown>;
  configMap?: { name: string; optional?: boolean; items?: { key: string; path: string }[] };
  secret?: { secretName: string; optional?: boolean; items?: { key: string; path: string }[] };
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  [field: string]: unknown;
}

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export interface PodSpec {
  nodeName?: string;
  /** Run one after another, each to completion, before any of `containers` starts. */
  initContainers?: Container[];
  containers: Container[];
  volumes?: Volume[];
  restartPolicy?: RestartPolicy;
  terminationGracePeriodSeconds?: number;
  serviceAccountName?: string;
  hostNetwork?: boolean;
  dnsPolicy?: string;
  [field: string]: unknown;
}

/**
 * core/v1 PodTemplateSpec, as workload specs (Deployments, ReplicaSets, Sedna's CRDs) carry it. Its
 * spec is required, as in Go (a value, not a pointer); what users write is validated elsewhere.
 */
export interface PodTemplateSpec {
  metadata?: ObjectMeta;
  spec: PodSpec;
}

export interface ContainerStateWaiting {
  reason?: string;
  message?: string;
}

export interface ContainerStateRunning {
  startedAt?: string;
}

export interface ContainerStateTerminated {
  exitCode: number;
  signal?: number;
  reason?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  containerID?: string;
}

export interface ContainerState {
  waiting?: ContainerStateWaiting;
  running?: ContainerStateRunning;
  terminated?: ContainerStateTerminated;
}

export interface ContainerStatus {
  name: string;
  state: ContainerState;
  lastState: ContainerState;
  ready: boolean;
  started: boolean;
  restartCount: number;
  image: string;
  imageID: string;
  containerID?: string;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

export interface PodStatus {
  phase?: PodPhase;
  conditions?: Condition[];
  message?: string;
  reason?: string;
  hostIP?: string;
  hostIPs?: { ip: string }[];
  podIP?: string;
  podIPs?: { ip: string }[];
  startTime?: string;
  /** Only when the spec has initContainers, in their order. */
  initContainerStatuses?: ContainerStatus[];
  containerStatuses?: ContainerStatus[];
}

export interface Pod extends KubeObject {
  spec?: PodSpec;
  status?: PodStatus;
}

export interface ServicePort {
  name?: string;
  protocol?: string;
  port: number;
  targetPort?: IntOrString;
}

export interface Service extends KubeObject {
  spec: { selector?: Record<string, string>; ports: ServicePort[]; type?: string; clusterIP?: string; clusterIPs?: string[]; [field: string]: unknown };
}

export interface CoreSecret extends KubeObject {
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// apps/v1

export interface DeploymentSpec {
  replicas?: number;
  selector: LabelSelector;
  template: PodTemplateSpec;
  strategy?: { type?: string; rollingUpdate?: { maxSurge?: IntOrString; maxUnavailable?: IntOrString } };
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  paused?: boolean;
  progressDeadlineSeconds?: number;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: Condition[];
  collisionCount?: number;
}

export interface Deployment extends KubeObject {
  spec: DeploymentSpec;
  status?: DeploymentStatus;
}

export interface ReplicaSetSpec {
  replicas?: number;
  minReadySeconds?: number;
  selector?: LabelSelector;
  template?: PodTemplateSpec;
}

export interface ReplicaSetStatus {
  replicas?: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: Condition[];
}

// ---------------------------------------------------------------------------------------------
// batch/v1

/** batch/v1 JobSpec, inlined by ReidJob and VideoAnalyticsJob. Sedna's GM reads only `template`. */
export interface JobSpec {
  template: PodTemplateSpec;
  parallelism?: number;
  completions?: number;
  activeDeadlineSeconds?: number;
  podFailurePolicy?: Record<string, unknown>;
  successPolicy?: Record<string, unknown>;
  backoffLimit?: number;
  backoffLimitPerIndex?: number;
  maxFailedIndexes?: number;
  selector?: LabelSelector;
  manualSelector?: boolean;
  ttlSecondsAfterFinished?: number;
  completionMode?: string;
  suspend?: boolean;
  podReplacementPolicy?: string;
  managedBy?: string;
}

// ---------------------------------------------------------------------------------------------
// autoscaling/v2

/** Sedna's HPA: an autoscaling/v2 HorizontalPodAutoscalerSpec without the scale target. */
export interface HPA {
  minReplicas?: number;
  maxReplicas: number;
  metrics?: Array<{ type: string; [field: string]: unknown }>;
  behavior?: Record<string, unknown>;
}

export interface HorizontalPodAutoscaler extends KubeObject {
  spec: HPA & { scaleTargetRef: { apiVersion: string; kind: string; name: string } };
}
