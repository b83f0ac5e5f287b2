// JointInferenceService: a small model on the edge answers what it can and sends hard examples to a
// big model in the cloud (spec §1.5). Each worker becomes a Deployment.
import type { KubeObject } from '../meta.ts';
import { hardExampleMiningSchema, refSchema } from './common.ts';
import type { HardExampleMining, NamedRef } from './common.ts';
import { ACTIVE_COLUMN, CONDITION_COLUMN, FAILED_COLUMN, defineKind } from './kind.ts';
import type { KindDefinition } from './kind.ts';
import { object } from './schema.ts';
import { conditionsSchema, metricsSchema, startTimeSchema, statusSchema, workerCountProperties } from './status.ts';
import type { BaseStatus, Metric, SednaCondition, ServiceConditionType, WorkerCounts } from './status.ts';
import { hpaSchema, podTemplateSchema } from './workloads.ts';
import type { HPA, PodTemplateSpec } from './workloads.ts';

export interface EdgeWorker {
  model: NamedRef;
  hardExampleMining: HardExampleMining;
  template: PodTemplateSpec;
  // Sedna's Go field has no omitempty, so objects written by Sedna carry `hpa: null`.
  hpa?: HPA | null;
}

export interface CloudWorker {
  model: NamedRef;
  template: PodTemplateSpec;
  hpa?: HPA | null;
}

export interface JointInferenceServiceSpec {
  edgeWorker: EdgeWorker;
  cloudWorker: CloudWorker;
}

export interface JointInferenceServiceStatus extends BaseStatus<SednaCondition<ServiceConditionType>>, WorkerCounts {
  startTime?: string;
  metrics?: Metric[];
}

export interface JointInferenceService extends KubeObject {
  spec: JointInferenceServiceSpec;
  status?: JointInferenceServiceStatus;
}

const edgeWorker = object(
  {
    model: refSchema('Model'),
    hardExampleMining: hardExampleMiningSchema,
    template: podTemplateSchema,
    hpa: hpaSchema,
  },
  ['hardExampleMining', 'model', 'template'],
  'The edge worker: runs the small model and mines hard examples.',
);

const cloudWorker = object(
  { model: refSchema('Model'), template: podTemplateSchema, hpa: hpaSchema },
  ['model', 'template'],
  'The cloud worker: runs the big model on the hard examples.',
);

const status = statusSchema(
  { startTime: startTimeSchema, ...workerCountProperties, metrics: metricsSchema },
  conditionsSchema(),
);

export const jointInferenceServiceKind: KindDefinition = defineKind({
  kind: 'JointInferenceService',
  shortNames: ['ji'],
  description: 'JointInferenceService runs inference collaboratively on an edge and a cloud worker.',
  spec: object({ edgeWorker, cloudWorker }, ['cloudWorker', 'edgeWorker']),
  status,
  requireMetadata: true,
  columns: [CONDITION_COLUMN, ACTIVE_COLUMN, FAILED_COLUMN],
});
