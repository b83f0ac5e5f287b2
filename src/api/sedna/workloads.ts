// The schemas of the Kubernetes workload types Sedna embeds in its specs: pod templates, label
// selectors, the inlined apps/v1 DeploymentSpec and batch/v1 JobSpec, and the HPA of joint
// inference workers. The types themselves live with the other Kubernetes shapes in
// src/api/workloads.ts.
//
// Pod templates are opaque objects (x-kubernetes-preserve-unknown-fields): we do not carry the whole
// core/v1 PodSpec schema, the kubelet side validates pods when they are created. Sedna's CRDs type
// `template.metadata` as a bare object, which prunes every label and annotation a user writes there
// (spec §6 item 30); ours keeps them, so YAML that worked with Sedna still applies and the labels now
// reach the worker pods.
import {
  array,
  boolean,
  int32,
  int64,
  intOrString,
  object,
  opaqueObject,
  string,
  stringEnum,
  stringMap,
} from './schema.ts';
import { typedPodTemplateSchema } from './pod-template-schema.ts';

export type { DeploymentSpec, HPA, JobSpec, PodTemplateSpec } from '../workloads.ts';

/** Typed as Sedna's CRDs type it (env values strings, ports ints...); see pod-template-schema.ts. */
export const podTemplateSchema = typedPodTemplateSchema;

export const labelSelectorSchema = {
  ...object(
    {
      matchExpressions: array(
        object(
          {
            key: string(),
            operator: stringEnum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
            values: { ...array(string()), 'x-kubernetes-list-type': 'atomic' as const },
          },
          ['key', 'operator'],
        ),
      ),
      matchLabels: stringMap(),
    },
    [],
    'A label query over pods (meta/v1 LabelSelector).',
  ),
  'x-kubernetes-map-type': 'atomic' as const,
};

export const deploymentSpecProperties = {
  replicas: int32('Number of desired pods.'),
  selector: labelSelectorSchema,
  template: podTemplateSchema,
  strategy: object({
    type: string('Recreate or RollingUpdate.'),
    rollingUpdate: object({ maxSurge: intOrString(), maxUnavailable: intOrString() }),
  }),
  minReadySeconds: int32(),
  revisionHistoryLimit: int32(),
  paused: boolean(),
  progressDeadlineSeconds: int32(),
};

export const DEPLOYMENT_SPEC_REQUIRED = ['selector', 'template'] as const;

export const jobSpecProperties = {
  template: podTemplateSchema,
  parallelism: int32(),
  completions: int32(),
  activeDeadlineSeconds: int64(),
  podFailurePolicy: opaqueObject(),
  successPolicy: opaqueObject(),
  backoffLimit: int32(),
  backoffLimitPerIndex: int32(),
  maxFailedIndexes: int32(),
  selector: labelSelectorSchema,
  manualSelector: boolean(),
  ttlSecondsAfterFinished: int32(),
  completionMode: string(),
  suspend: boolean(),
  podReplacementPolicy: string(),
  managedBy: string(),
};

const metricSpecSchema = { ...opaqueObject('autoscaling/v2 MetricSpec.', { type: string() }), required: ['type'] };

export const hpaSchema = object(
  {
    minReplicas: int32(),
    maxReplicas: int32(),
    metrics: array(metricSpecSchema, 'autoscaling/v2 metrics.'),
    behavior: opaqueObject('autoscaling/v2 HorizontalPodAutoscalerBehavior.'),
  },
  ['maxReplicas'],
  'Optional HorizontalPodAutoscaler for the worker Deployment.',
);
