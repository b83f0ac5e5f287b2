// The multi-edge inference kinds on the LC, until their features land: feature-extraction reports
// are relayed as status; ReID and video-analytics reports with their results (Sedna's LC dropped
// these two although its GM accepts them). The GM does not reconcile these kinds yet.
import type { EdgeFeature } from '../../lc/edge-feature.ts';

export const edge: EdgeFeature = {
  kinds: [],
  relays: { featureextractionservice: 'status', reidjob: 'results', videoanalyticsjob: 'results' },
};
