// The Dataset feature on the LC: the dataset manager counts each Dataset's samples and reports
// the count upstream (spec §4.3). Worker reports owned by a Dataset are accepted and dropped.
import type { EdgeFeature } from '../../lc/edge-feature.ts';
import { DatasetManager } from './local-manager.ts';

export const edge: EdgeFeature = {
  kinds: ['dataset'],
  createLocalManager: (ctx) =>
    new DatasetManager({ db: ctx.db, send: ctx.send, rootfs: ctx.rootfs, pollIntervalMs: ctx.pollIntervalMs, logger: ctx.logger.child({ component: 'datasets' }), clock: ctx.clock }),
};
