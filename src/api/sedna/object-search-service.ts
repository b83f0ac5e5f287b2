// ObjectSearchService: a user worker takes queries, tracking workers follow people in video streams
// and ReID workers match them across cameras (spec §1.9).
import type { KubeObject } from '../meta.ts';
import { reidWorkersSchema, trackingWorkersSchema } from './common.ts';
import type { ReidWorkers, TrackingWorker } from './common.ts';
import { ACTIVE_COLUMN, CONDITION_COLUMN, FAILED_COLUMN, defineKind } from './kind.ts';
import type { KindDefinition } from './kind.ts';
import { object } from './schema.ts';
import { conditionsSchema, startTimeSchema, statusSchema, workerCountProperties } from './status.ts';
import type { BaseStatus, SednaCondition, ServiceConditionType, WorkerCounts } from './status.ts';
import { podTemplateSchema } from './workloads.ts';
import type { PodTemplateSpec } from './workloads.ts';

export interface ObjectSearchServiceSpec {
  userWorker: { template: PodTemplateSpec };
  trackingWorkers: TrackingWorker[];
  reidWorkers: ReidWorkers;
}

/** Shared with ObjectTrackingService, whose status is the same. */
export interface ObjectServiceStatus extends BaseStatus<SednaCondition<ServiceConditionType>>, WorkerCounts {
  startTime?: string;
}

export interface ObjectSearchService extends KubeObject {
  spec: ObjectSearchServiceSpec;
  status?: ObjectServiceStatus;
}

export const objectServiceStatusSchema = statusSchema({ startTime: startTimeSchema, ...workerCountProperties }, conditionsSchema());

const spec = object(
  {
    userWorker: object({ template: podTemplateSchema }, ['template'], 'The user worker, run as a one-replica Deployment.'),
    trackingWorkers: trackingWorkersSchema,
    reidWorkers: reidWorkersSchema,
  },
  ['reidWorkers', 'trackingWorkers', 'userWorker'],
);

export const objectSearchServiceKind: KindDefinition = defineKind({
  kind: 'ObjectSearchService',
  shortNames: ['objs'],
  description: 'ObjectSearchService searches for a person across the video streams of several edge nodes.',
  spec,
  status: objectServiceStatusSchema,
  requireMetadata: true,
  columns: [CONDITION_COLUMN, ACTIVE_COLUMN, FAILED_COLUMN],
});
