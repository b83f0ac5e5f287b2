// Federated learning on the LC: the job is kept for routing, and the trainers' round reports are
// relayed with their results as `output.models` (spec §4.9).
import type { EdgeFeature } from '../../lc/edge-feature.ts';

export const edge: EdgeFeature = {
  kinds: ['federatedlearningjob'],
  relays: { federatedlearningjob: 'results' },
};
