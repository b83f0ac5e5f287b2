// Lifelong learning on the LC (spec §4.11): the node keeps its jobs; the lifelong-learning manager
// (local-manager.ts) runs the data loop and the train, eval and deploy tasks of the jobs whose
// Dataset is on this node. Worker reports about a job this LC holds are relayed upstream as
// Sedna's LC relays them.
import type { EdgeFeature } from '../../lc/edge-feature.ts';
import { JOB_KIND, LifelongLearningManager } from './local-manager.ts';

export const edge: EdgeFeature = {
  kinds: [JOB_KIND],
  relays: { [JOB_KIND]: 'held-job' },
  createLocalManager: (ctx) => new LifelongLearningManager({ ...ctx, logger: ctx.logger.child({ component: 'lifelonglearning' }) }),
};
