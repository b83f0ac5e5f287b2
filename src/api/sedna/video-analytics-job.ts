// VideoAnalyticsJob: one pod that runs a detection model over a video stream (spec §1.13). Like
// ReidJob, plus the model.
import type { KubeObject } from '../meta.ts';
import { refSchema } from './common.ts';
import type { NamedRef } from './common.ts';
import { column, defineKind } from './kind.ts';
import type { KindDefinition } from './kind.ts';
import { batchJobColumns, batchJobStatusSchema, kafkaSupportSchema } from './reid-job.ts';
import type { BatchJobStatus } from './reid-job.ts';
import { object } from './schema.ts';
import { jobSpecProperties } from './workloads.ts';
import type { JobSpec } from './workloads.ts';

export interface VideoAnalyticsJobSpec extends JobSpec {
  model: NamedRef;
  kafkaSupport?: boolean;
}

export interface VideoAnalyticsJob extends KubeObject {
  spec: VideoAnalyticsJobSpec;
  status?: BatchJobStatus;
}

export const videoAnalyticsJobKind: KindDefinition = defineKind({
  kind: 'VideoAnalyticsJob',
  shortNames: ['va'],
  description: 'VideoAnalyticsJob analyses a video stream with a detection model.',
  spec: object(
    { model: refSchema('Model'), kafkaSupport: kafkaSupportSchema, ...jobSpecProperties },
    ['model', 'template'],
  ),
  status: batchJobStatusSchema,
  requireMetadata: true,
  columns: [...batchJobColumns, column('Model', 'string', '.spec.model.name', 1)],
});
