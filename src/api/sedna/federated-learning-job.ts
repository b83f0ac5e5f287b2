// FederatedLearningJob: training workers on the edge train on local data, an aggregation worker
// merges their weights round by round (spec §1.6).
import type { KubeObject } from '../meta.ts';
import { refSchema } from './common.ts';
import type { NamedRef } from './common.ts';
import { ACTIVE_COLUMN, FAILED_COLUMN, PHASE_COLUMN, SUCCEEDED_COLUMN, column, defineKind } from './kind.ts';
import type { KindDefinition } from './kind.ts';
import { array, dateTime, int32, object, string, withMinItems } from './schema.ts';
import {
  completionTimeSchema,
  conditionsSchema,
  jobCountProperties,
  phaseSchema,
  startTimeSchema,
  statusSchema,
} from './status.ts';
import type { BaseStatus, JobCounts, JobPhase, SednaCondition } from './status.ts';
import { podTemplateSchema } from './workloads.ts';
import type { PodTemplateSpec } from './workloads.ts';

export interface AggregationWorker {
  model: NamedRef;
  template: PodTemplateSpec;
}

export interface TrainingWorker {
  dataset: NamedRef;
  template: PodTemplateSpec;
}

/** How workers exchange weights: through S3 when `s3` is set, else over WebSocket. */
export interface Transmitter {
  ws?: Record<string, never>;
  s3?: { aggDataPath: string; credentialName?: string };
}

export interface FederatedLearningJobSpec {
  aggregationWorker: AggregationWorker;
  trainingWorkers: TrainingWorker[];
  pretrainedModel?: NamedRef;
  transmitter?: Transmitter;
}

export type FederatedLearningConditionType = 'Training' | 'Complete' | 'Failed';

export interface FederatedLearningJobStatus extends BaseStatus<SednaCondition<FederatedLearningConditionType>>, JobCounts {
  startTime?: string;
  completionTime?: string;
  phase?: JobPhase;
  /** Our extension: the aggregation round the job is in, as the aggregator last reported. */
  round?: number;
}

export interface FederatedLearningJob extends KubeObject {
  spec: FederatedLearningJobSpec;
  status?: FederatedLearningJobStatus;
}

const aggregationWorker = object(
  { model: refSchema('Model'), template: podTemplateSchema },
  ['model', 'template'],
  'The aggregation worker; its Model receives the aggregated weights and metrics.',
);

const trainingWorker = object({ dataset: refSchema('Dataset'), template: podTemplateSchema }, ['dataset', 'template']);

const transmitter = object(
  {
    ws: object({}, [], 'Exchange weights over WebSocket (the default).'),
    s3: object(
      {
        aggDataPath: string('S3 path where workers exchange aggregation data.'),
        credentialName: string('Secret in the same namespace with the S3 credentials.'),
      },
      ['aggDataPath'],
      'Exchange weights through S3.',
    ),
  },
  [],
  'How the workers exchange weights: S3 when s3 is set, else WebSocket.',
);

// An FL job with no trainer could never finish a round; Sedna accepts it and then waits forever.
const trainingWorkers = withMinItems(array(trainingWorker, 'One training worker pod per element.'), 1);

const spec = object(
  { aggregationWorker, trainingWorkers, pretrainedModel: refSchema('Model'), transmitter },
  ['aggregationWorker', 'trainingWorkers'],
);

const status = statusSchema(
  {
    startTime: startTimeSchema,
    completionTime: completionTimeSchema,
    ...jobCountProperties,
    phase: phaseSchema,
    round: int32('The aggregation round the job is in.'),
  },
  conditionsSchema({ lastProbeTime: dateTime('When the condition was last probed.') }),
);

export const federatedLearningJobKind: KindDefinition = defineKind({
  kind: 'FederatedLearningJob',
  shortNames: ['fl'],
  description: 'FederatedLearningJob trains one model on several nodes without moving their data.',
  spec,
  status,
  requireMetadata: false,
  columns: [
    PHASE_COLUMN,
    column('Round', 'integer', '.status.round'),
    ACTIVE_COLUMN,
    { ...SUCCEEDED_COLUMN, priority: 1 },
    FAILED_COLUMN,
  ],
});
