// Joint inference on the LC: the service is kept for routing, and the edge worker's inference
// counters (InferenceReporter) are relayed as status, without models (spec §4.5).
import type { EdgeFeature } from '../../lc/edge-feature.ts';

export const edge: EdgeFeature = {
  kinds: ['jointinferenceservice'],
  relays: { jointinferenceservice: 'status' },
};
