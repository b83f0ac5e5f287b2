// Incremental learning on the LC (spec §4.6): the node keeps its jobs (the Models they name are
// kept by the LC's model manager, which the manager reads); the incremental-learning manager (local-manager.ts) runs
// the data loop and the train, eval and deploy tasks of the jobs whose Dataset is on this node.
// Worker reports about a job this LC holds are relayed upstream as Sedna's LC relays them.
import type { EdgeFeature } from '../../lc/edge-feature.ts';
import { IncrementalLearningManager, JOB_KIND } from './local-manager.ts';

export const edge: EdgeFeature = {
  kinds: [JOB_KIND],
  relays: { [JOB_KIND]: 'held-job' },
  createLocalManager: (ctx) => new IncrementalLearningManager({ ...ctx, logger: ctx.logger.child({ component: 'incrementallearning' }) }),
};
