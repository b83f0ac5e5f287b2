// FeatureExtractionService: a Deployment of workers that turn detections into ReID features
// (spec §1.11). The spec is an apps/v1 DeploymentSpec plus the model and a Kafka switch.
import type { KubeObject } from '../meta.ts';
import { refSchema } from './common.ts';
import type { NamedRef } from './common.ts';
import { ACTIVE_COLUMN, CONDITION_COLUMN, FAILED_COLUMN, column, defineKind } from './kind.ts';
import type { KindDefinition } from './kind.ts';
import { boolean, object } from './schema.ts';
import { conditionsSchema, metricsSchema, startTimeSchema, statusSchema, workerCountProperties } from './status.ts';
import type { BaseStatus, Metric, SednaCondition, ServiceConditionType, WorkerCounts } from './status.ts';
import { DEPLOYMENT_SPEC_REQUIRED, deploymentSpecProperties } from './workloads.ts';
import type { DeploymentSpec } from './workloads.ts';

export interface FeatureExtractionServiceSpec extends DeploymentSpec {
  model: NamedRef;
  kafkaSupport?: boolean;
}

export interface FeatureExtractionServiceStatus extends BaseStatus<SednaCondition<ServiceConditionType>>, WorkerCounts {
  startTime?: string;
  metrics?: Metric[];
}

export interface FeatureExtractionService extends KubeObject {
  spec: FeatureExtractionServiceSpec;
  status?: FeatureExtractionServiceStatus;
}

const spec = object(
  {
    model: refSchema('Model'),
    kafkaSupport: boolean('Exchange data with the other services through Kafka.'),
    ...deploymentSpecProperties,
  },
  ['model', ...DEPLOYMENT_SPEC_REQUIRED],
);

const status = statusSchema(
  { startTime: startTimeSchema, ...workerCountProperties, metrics: metricsSchema },
  conditionsSchema(),
);

export const featureExtractionServiceKind: KindDefinition = defineKind({
  kind: 'FeatureExtractionService',
  shortNames: ['fe'],
  description: 'FeatureExtractionService runs the feature extraction workers of object search.',
  spec,
  status,
  requireMetadata: true,
  columns: [CONDITION_COLUMN, column('Replicas', 'integer', '.spec.replicas'), ACTIVE_COLUMN, FAILED_COLUMN],
});
