// The feature registry (spec §2.2): a feature is one folder under src/features/ and one entry here.
// The GM, the LC and the worker SDK all read this list, each loading only its own side: the
// module references are lazy, so the LC never loads a controller and the GM never loads an edge
// manager. A feature's folder holds `controller.ts` (GM: exports `gm`), `edge.ts` (LC: exports
// `edge`) and its worker SDK classes (`sdk.ts`, re-exported by src/features/sdk.ts).
import { datasetKind } from '../api/sedna/dataset.ts';
import { featureExtractionServiceKind } from '../api/sedna/feature-extraction-service.ts';
import { federatedLearningJobKind } from '../api/sedna/federated-learning-job.ts';
import { incrementalLearningJobKind } from '../api/sedna/incremental-learning-job.ts';
import { jointInferenceServiceKind } from '../api/sedna/joint-inference-service.ts';
import type { KindDefinition } from '../api/sedna/kind.ts';
import { lifelongLearningJobKind } from '../api/sedna/lifelong-learning-job.ts';
import { modelKind } from '../api/sedna/model.ts';
import { objectSearchServiceKind } from '../api/sedna/object-search-service.ts';
import { objectTrackingServiceKind } from '../api/sedna/object-tracking-service.ts';
import { reidJobKind } from '../api/sedna/reid-job.ts';
import { videoAnalyticsJobKind } from '../api/sedna/video-analytics-job.ts';
import type { FeatureRegistration } from '../gm/feature.ts';
import type { EdgeFeature } from '../lc/edge-feature.ts';

export type { FeatureRegistration } from '../gm/feature.ts';
export type { EdgeFeature } from '../lc/edge-feature.ts';

export interface FeatureEntry {
  /** The folder name. */
  name: string;
  /** The Sedna kinds the GM side reconciles or takes upstream reports for. */
  kinds: KindDefinition[];
  /** The GM side: a module exporting `gm`. */
  gm?: () => Promise<{ gm: FeatureRegistration }>;
  /** The LC side: a module exporting `edge`. */
  edge?: () => Promise<{ edge: EdgeFeature }>;
  /** The worker side: the SDK classes, re-exported by src/worker.ts (ESM exports are static). */
  sdk?: () => Promise<Record<string, unknown>>;
}

export const features: FeatureEntry[] = [
  { name: 'dataset', kinds: [datasetKind], gm: () => import('./dataset/controller.ts'), edge: () => import('./dataset/edge.ts') },
  { name: 'model', kinds: [modelKind], gm: () => import('./model/controller.ts') },
  {
    name: 'jointinference',
    kinds: [jointInferenceServiceKind],
    gm: () => import('./jointinference/controller.ts'),
    edge: () => import('./jointinference/edge.ts'),
    sdk: () => import('./jointinference/sdk.ts'),
  },
  {
    name: 'federatedlearning',
    kinds: [federatedLearningJobKind],
    gm: () => import('./federatedlearning/controller.ts'),
    edge: () => import('./federatedlearning/edge.ts'),
    sdk: () => import('./federatedlearning/sdk.ts'),
  },
  {
    name: 'incrementallearning',
    kinds: [incrementalLearningJobKind],
    gm: () => import('./incrementallearning/controller.ts'),
    edge: () => import('./incrementallearning/edge.ts'),
    sdk: () => import('./incrementallearning/sdk.ts'),
  },
  {
    name: 'lifelonglearning',
    kinds: [lifelongLearningJobKind],
    gm: () => import('./lifelonglearning/controller.ts'),
    edge: () => import('./lifelonglearning/edge.ts'),
    sdk: () => import('./lifelonglearning/sdk.ts'),
  },
  { name: 'multiedge', kinds: [], edge: () => import('./multiedge/edge.ts') },
];

/** Kinds the API server serves (their CRDs apply) that no GM feature reconciles yet. */
export const acceptedNotReconciled: KindDefinition[] = [
  objectSearchServiceKind,
  objectTrackingServiceKind,
  featureExtractionServiceKind,
  reidJobKind,
  videoAnalyticsJobKind,
];

/** The GM sides of `registry`, loaded. */
export async function loadGmFeatures(registry: readonly FeatureEntry[] = features): Promise<FeatureRegistration[]> {
  const sides = await Promise.all(registry.map(async (entry) => (entry.gm ? [(await entry.gm()).gm] : [])));
  return sides.flat();
}

/** The LC sides of `registry`, loaded, with the feature names their managers go by. */
export async function loadEdgeFeatures(registry: readonly FeatureEntry[] = features): Promise<{ name: string; edge: EdgeFeature }[]> {
  const sides = await Promise.all(registry.map(async (entry) => (entry.edge ? [{ name: entry.name, edge: (await entry.edge()).edge }] : [])));
  return sides.flat();
}
