// The feature registry (spec §2.2): adding a feature is one folder under src/features/ and one
// line here. The GM constructs each controller, binds its upstream handler by kind (lower-cased),
// and starts them all only while it holds the leader Lease.
import type { FeatureRegistration } from '../gm/feature.ts';
import { createDatasetController, DATASET_KIND, DATASET_PLURAL, handleDatasetUpstream } from './dataset/controller.ts';
import { createFederatedLearningController, FL_KIND, FL_PLURAL, handleFederatedLearningUpstream } from './federatedlearning/controller.ts';
import { createJointInferenceController, handleJointInferenceUpstream, JI_KIND, JI_PLURAL } from './jointinference/controller.ts';
import { handleModelUpstream, MODEL_KIND, MODEL_PLURAL } from './model/controller.ts';

export type { FeatureRegistration } from '../gm/feature.ts';

export const features: FeatureRegistration[] = [
  { kind: DATASET_KIND, plural: DATASET_PLURAL, createController: createDatasetController, handleUpstream: handleDatasetUpstream },
  { kind: MODEL_KIND, plural: MODEL_PLURAL, handleUpstream: handleModelUpstream },
  { kind: JI_KIND, plural: JI_PLURAL, createController: createJointInferenceController, handleUpstream: handleJointInferenceUpstream },
  { kind: FL_KIND, plural: FL_PLURAL, createController: createFederatedLearningController, handleUpstream: handleFederatedLearningUpstream },
];
