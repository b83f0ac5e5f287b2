// The GM-side wiring the incremental- and lifelong-learning controllers share: the job kind on the
// feature scaffold, sent to the nodes that take part in it (which depend on its Dataset's node, so
// the Dataset informer is read lazily: it is registered after the scaffold it serves), with its
// status (the LC acts on the latest condition), and the informers the stage machine reads: the
// Datasets the jobs name, and the stage pods, inference Deployments and Secrets the jobs own.
import type { Dataset } from '../../api/sedna/dataset.ts';
import { datasetKind } from '../../api/sedna/dataset.ts';
import type { Informer } from '../../controller/index.ts';
import type { FeatureContext } from '../../gm/feature.ts';
import { FeatureScaffold } from '../../gm/feature-controller.ts';
import type { CoreSecret, Deployment } from '../../gm/workers/index.ts';
import type { StageJob, StagePod } from './stage-reconciler.ts';

/** A stage job that names its Dataset. */
export type DatasetJob = StageJob & { spec?: { dataset?: { name?: string } } };

export interface StageInformers<J extends DatasetJob> {
  jobs: Informer<J>;
  datasets: Informer<Dataset>;
  pods: Informer<StagePod>;
  deployments: Informer<Deployment>;
  secrets: Informer<CoreSecret>;
}

export interface StageFeature<J extends DatasetJob> {
  /** The feature's name on the scaffold (`incrementallearning`). */
  name: string;
  kind: string;
  plural: string;
  /** The nodes a job is sent to, given its Dataset's node (undefined while unknown). */
  nodes: (job: J, datasetNode: string | undefined) => string[];
}

export interface StageScaffold<J extends DatasetJob> {
  scaffold: FeatureScaffold<J>;
  informers: StageInformers<J>;
  /** The nodes a job is sent to now. */
  nodesFor: (job: J) => string[];
}

export function stageScaffold<J extends DatasetJob>(ctx: FeatureContext, feature: StageFeature<J>): StageScaffold<J> {
  const lookup: { datasets?: Informer<Dataset> } = {};
  const nodesFor = (job: J): string[] => feature.nodes(job, lookup.datasets?.lister.get(job.metadata.namespace ?? '', job.spec?.dataset?.name ?? '')?.spec?.nodeName);
  const scaffold = new FeatureScaffold<J>(ctx, {
    name: feature.name,
    primary: { kind: feature.kind, plural: feature.plural },
    nodesFor,
    // The LC acts on the latest condition (Sedna's GM sends every update, status included).
    sendsStatus: true,
  });
  const datasets = scaffold.watchesSedna<Dataset>(datasetKind.plural, (dataset) => scaffold.keysWhere(dataset, (job) => job.spec?.dataset?.name === dataset.metadata.name));
  lookup.datasets = datasets;
  const informers: StageInformers<J> = {
    jobs: scaffold.primary,
    datasets,
    pods: scaffold.owns<StagePod>('v1', 'pods', `${feature.kind.toLowerCase()}.sedna.io/uid`),
    deployments: scaffold.owns<Deployment>('apps/v1', 'deployments'),
    secrets: scaffold.owns<CoreSecret>('v1', 'secrets'),
  };
  return { scaffold, informers, nodesFor };
}
