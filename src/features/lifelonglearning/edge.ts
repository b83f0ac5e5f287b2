// Lifelong learning on the LC, until its job manager lands (spec §4.11): the job is kept, and a
// worker report is relayed only for a job this LC holds. The GM does not reconcile this kind yet.
import type { EdgeFeature } from '../../lc/edge-feature.ts';

export const edge: EdgeFeature = {
  kinds: ['lifelonglearningjob'],
  relays: { lifelonglearningjob: 'held-job' },
};
