// The slice of the core/v1, apps/v1 and autoscaling/v2 shapes the GM builds for workers
// (src/gm/workers). Fields the GM does not touch travel through the index signatures untouched, because a user's pod
// template may carry anything a PodSpec allows.
import type { KubeObject, LabelSelector, ObjectMeta } from './meta.ts';
import type { HPA } from './sedna/workloads.ts';

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

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
  hostPort?: number;
}

export interface WorkerContainer {
  name: string;
  image?: string;
  args?: string[];
  env?: EnvVar[];
  ports?: ContainerPort[];
  volumeMounts?: VolumeMount[];
  [field: string]: unknown;
}

export interface Volume {
  name: string;
  hostPath?: { path: string; type?: string };
  emptyDir?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface WorkerPodSpec {
  nodeName?: string;
  containers: WorkerContainer[];
  initContainers?: WorkerContainer[];
  volumes?: Volume[];
  restartPolicy?: string;
  hostNetwork?: boolean;
  dnsPolicy?: string;
  [field: string]: unknown;
}

export interface WorkerPodTemplate {
  metadata?: ObjectMeta;
  spec: WorkerPodSpec;
}

export interface Deployment extends KubeObject {
  spec: { replicas?: number; selector: LabelSelector; template: WorkerPodTemplate; [field: string]: unknown };
  status?: { availableReplicas?: number; conditions?: { type: string; status: string }[]; [field: string]: unknown };
}

export interface WorkerPod extends KubeObject {
  spec: WorkerPodSpec;
}

export interface ServicePort {
  name?: string;
  protocol?: string;
  port: number;
  targetPort?: number | string;
}

export interface Service extends KubeObject {
  spec: { selector?: Record<string, string>; ports: ServicePort[]; type?: string; clusterIP?: string; clusterIPs?: string[]; [field: string]: unknown };
}

export interface HorizontalPodAutoscaler extends KubeObject {
  spec: HPA & { scaleTargetRef: { apiVersion: string; kind: string; name: string } };
}

export interface CoreSecret extends KubeObject {
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
