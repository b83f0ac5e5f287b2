// ReidJob: one pod that re-identifies people in stored detections (spec §1.12). The spec is a
// batch/v1 JobSpec plus a Kafka switch; Sedna's controller reads only its template.
import type { KubeObject } from '../meta.ts';
import { ACTIVE_COLUMN, FAILED_COLUMN, PHASE_COLUMN, SUCCEEDED_COLUMN, defineKind } from './kind.ts';
import type { KindDefinition } from './kind.ts';
import { boolean, object, string } from './schema.ts';
import {
  completionTimeSchema,
  conditionsSchema,
  jobCountProperties,
  phaseSchema,
  startTimeSchema,
  statusSchema,
} from './status.ts';
import type { BaseStatus, JobCounts, JobPhase, SednaCondition, StageConditionType } from './status.ts';
import { jobSpecProperties } from './workloads.ts';
import type { JobSpec } from './workloads.ts';

export interface ReidJobSpec extends JobSpec {
  kafkaSupport?: boolean;
}

/** ReidJob and VideoAnalyticsJob conditions carry the workers' results as a JSON string. */
export interface DataCondition extends SednaCondition<StageConditionType> {
  data?: string;
}

/** Shared with VideoAnalyticsJob, whose status is the same. */
export interface BatchJobStatus extends BaseStatus<DataCondition>, JobCounts {
  startTime?: string;
  completionTime?: string;
  phase?: JobPhase;
}

export interface ReidJob extends KubeObject {
  spec: ReidJobSpec;
  status?: BatchJobStatus;
}

export const kafkaSupportSchema = boolean('Exchange data with the other services through Kafka.');

export const batchJobStatusSchema = statusSchema(
  {
    startTime: startTimeSchema,
    completionTime: completionTimeSchema,
    ...jobCountProperties,
    phase: phaseSchema,
  },
  conditionsSchema({ data: string('JSON data the workers reported with the condition.') }),
);

export const batchJobColumns = [PHASE_COLUMN, ACTIVE_COLUMN, SUCCEEDED_COLUMN, FAILED_COLUMN];

export const reidJobKind: KindDefinition = defineKind({
  kind: 'ReidJob',
  shortNames: ['reid'],
  description: 'ReidJob re-identifies people in the detections of object search.',
  spec: object({ kafkaSupport: kafkaSupportSchema, ...jobSpecProperties }, ['template']),
  status: batchJobStatusSchema,
  requireMetadata: true,
  columns: batchJobColumns,
});
