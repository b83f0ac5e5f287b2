// The sedna.io/v1alpha1 API: every kind, and the apiextensions.k8s.io/v1 CRD that serves it.
import type { CustomResourceDefinition, CustomResourceDefinitionVersion } from '../meta.ts';
import { datasetKind } from './dataset.ts';
import { featureExtractionServiceKind } from './feature-extraction-service.ts';
import { federatedLearningJobKind } from './federated-learning-job.ts';
import { incrementalLearningJobKind } from './incremental-learning-job.ts';
import { jointInferenceServiceKind } from './joint-inference-service.ts';
import type { KindDefinition } from './kind.ts';
import { lifelongLearningJobKind } from './lifelong-learning-job.ts';
import { modelKind } from './model.ts';
import { objectSearchServiceKind } from './object-search-service.ts';
import { objectTrackingServiceKind } from './object-tracking-service.ts';
import { reidJobKind } from './reid-job.ts';
import { videoAnalyticsJobKind } from './video-analytics-job.ts';

export const SEDNA_GROUP = 'sedna.io';
export const SEDNA_VERSION = 'v1alpha1';
export const SEDNA_API_VERSION = `${SEDNA_GROUP}/${SEDNA_VERSION}`;

export type { KindDefinition } from './kind.ts';

/** In the order of the spec's kind table (§1.2), which is also the order of deploy/crds/all.yaml. */
export const sednaKinds: KindDefinition[] = [
  datasetKind,
  modelKind,
  jointInferenceServiceKind,
  federatedLearningJobKind,
  incrementalLearningJobKind,
  lifelongLearningJobKind,
  objectSearchServiceKind,
  objectTrackingServiceKind,
  featureExtractionServiceKind,
  reidJobKind,
  videoAnalyticsJobKind,
];

export function crdName(kind: KindDefinition): string {
  return `${kind.plural}.${SEDNA_GROUP}`;
}

function servedVersion(kind: KindDefinition): CustomResourceDefinitionVersion {
  return {
    name: SEDNA_VERSION,
    served: true,
    storage: true,
    schema: { openAPIV3Schema: structuredClone(kind.schema) },
    subresources: { status: {} },
    additionalPrinterColumns: structuredClone(kind.printerColumns),
  };
}

/** The CRD object, deep-copied so that callers (and the API server's defaulting) cannot touch the kind. */
export function crdFor(kind: KindDefinition): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: crdName(kind) },
    spec: {
      group: SEDNA_GROUP,
      names: {
        kind: kind.kind,
        listKind: kind.listKind,
        plural: kind.plural,
        singular: kind.singular,
        ...(kind.shortNames.length > 0 ? { shortNames: [...kind.shortNames] } : {}),
        categories: [...kind.categories],
      },
      scope: kind.scope,
      versions: [servedVersion(kind)],
    },
  };
}
