// ObjectTrackingService: tracking and ReID workers without a user worker (spec §1.10). Sedna ships
// the CRD but no controller for it.
import type { KubeObject } from '../meta.ts';
import { reidWorkersSchema, trackingWorkersSchema } from './common.ts';
import type { ReidWorkers, TrackingWorker } from './common.ts';
import { ACTIVE_COLUMN, CONDITION_COLUMN, FAILED_COLUMN, defineKind } from './kind.ts';
import type { KindDefinition } from './kind.ts';
import { objectServiceStatusSchema } from './object-search-service.ts';
import type { ObjectServiceStatus } from './object-search-service.ts';
import { object } from './schema.ts';

export interface ObjectTrackingServiceSpec {
  trackingWorkers: TrackingWorker[];
  reidWorkers: ReidWorkers;
}

export interface ObjectTrackingService extends KubeObject {
  spec: ObjectTrackingServiceSpec;
  status?: ObjectServiceStatus;
}

export const objectTrackingServiceKind: KindDefinition = defineKind({
  kind: 'ObjectTrackingService',
  shortNames: ['objt'],
  description: 'ObjectTrackingService tracks people in the video streams of several edge nodes.',
  spec: object({ trackingWorkers: trackingWorkersSchema, reidWorkers: reidWorkersSchema }, ['reidWorkers', 'trackingWorkers']),
  status: objectServiceStatusSchema,
  requireMetadata: true,
  columns: [CONDITION_COLUMN, ACTIVE_COLUMN, FAILED_COLUMN],
});
