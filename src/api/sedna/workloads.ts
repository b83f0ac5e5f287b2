// The Kubernetes workload types Sedna embeds in its specs: pod templates, label selectors, the
// inlined apps/v1 DeploymentSpec and batch/v1 JobSpec, and the HPA of joint inference workers.
//
// Pod templates are opaque objects (x-kubernetes-preserve-unknown-fields): we do not carry the whole
// core/v1 PodSpec schema, the kubelet side validates pods when they are created. Sedna's CRDs type
// `template.metadata` as a bare object, which prunes every label and annotation a user writes there
// (spec §6 item 30); ours keeps them, so YAML that worked with Sedna still applies and the labels now
// reach the worker pods.
import type { LabelSelector, ObjectMeta } from '../meta.ts';
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

export interface Container {
  name: string;
  image?: string;
  [field: string]: unknown;
}

/** The parts of a core/v1 PodSpec Sedna's controllers read; the rest travels untouched. */
export interface PodSpec {
  nodeName?: string;
  containers?: Container[];
  [field: string]: unknown;
}

export interface PodTemplateSpec {
  metadata?: ObjectMeta;
  spec?: PodSpec;
}

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

/** apps/v1 DeploymentSpec, inlined by FeatureExtractionService and ObjectSearch's reidWorkers. */
export interface DeploymentSpec {
  replicas?: number;
  selector: LabelSelector;
  template: PodTemplateSpec;
  strategy?: { type?: string; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } };
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  paused?: boolean;
  progressDeadlineSeconds?: number;
}

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

/** Sedna's HPA: an autoscaling/v2 HorizontalPodAutoscalerSpec without the scale target. */
export interface HPA {
  minReplicas?: number;
  maxReplicas: number;
  metrics?: Array<{ type: string; [field: string]: unknown }>;
  behavior?: Record<string, unknown>;
}

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
