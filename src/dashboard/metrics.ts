// The dashboard's series as Prometheus metrics, read from DashboardState at scrape time, so
// Grafana can plot what the pages plot. Values mirror what the resources' status carries (the
// workers' cumulative counters), hence gauges.
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { DashboardState } from './state.ts';

type Labels = 'namespace' | 'name';

function lastOf(state: DashboardState, kind: string, namespace: string, name: string, series: string): number | undefined {
  return state.seriesOf(`${kind}/${namespace}/${name}`)?.get(series)?.last?.[1];
}

/** A gauge per resource of `kind`, set from the newest point of `series`. */
function seriesGauge(registry: Registry, state: DashboardState, metric: string, help: string, kind: string, series: string): void {
  new Gauge<Labels>({
    name: metric,
    help,
    labelNames: ['namespace', 'name'],
    registers: [registry],
    collect() {
      this.reset();
      for (const o of state.resources.get(kind)?.values() ?? []) {
        const namespace = o.metadata?.namespace ?? '';
        const name = o.metadata?.name ?? '';
        const value = lastOf(state, kind, namespace, name, series);
        if (value !== undefined) this.set({ namespace, name }, value);
      }
    },
  });
}

export function dashboardRegistry(state: DashboardState): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge<'node' | 'role'>({
    name: 'sedna_node_ready',
    help: '1 when the Node is Ready, else 0.',
    labelNames: ['node', 'role'],
    registers: [registry],
    collect() {
      this.reset();
      for (const n of state.snapshot().nodes) this.set({ node: n.name, role: n.roles.join(',') }, n.ready ? 1 : 0);
    },
  });
  new Gauge<'kind' | 'phase'>({
    name: 'sedna_resources',
    help: 'Sedna resources by kind and phase (status.phase, else the last condition type).',
    labelNames: ['kind', 'phase'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [kind, rows] of Object.entries(state.snapshot().resources)) for (const r of rows) this.inc({ kind, phase: r.phase });
    },
  });
  seriesGauge(registry, state, 'sedna_jointinference_inferences', 'Inferences the edge worker reported (status.metrics inferenceNumber).', 'JointInferenceService', 'inferences');
  seriesGauge(registry, state, 'sedna_jointinference_hard_examples', 'Hard examples the edge worker offloaded (hardExampleNumber).', 'JointInferenceService', 'hardExamples');
  seriesGauge(registry, state, 'sedna_jointinference_offload_ratio', 'Share of inferences offloaded to the cloud (uploadCloudRatio).', 'JointInferenceService', 'offloadShare');
  seriesGauge(registry, state, 'sedna_jointinference_cloud_failures', 'Offloads the cloud did not answer (cloudFailureNumber).', 'JointInferenceService', 'cloudFailures');
  seriesGauge(registry, state, 'sedna_federatedlearning_round', 'The aggregation round the job is in (status.round).', 'FederatedLearningJob', 'round');
  seriesGauge(registry, state, 'sedna_federatedlearning_accuracy', 'Accuracy of the latest round (the aggregation Model\'s metrics).', 'FederatedLearningJob', 'accuracy');
  seriesGauge(registry, state, 'sedna_federatedlearning_loss', 'Loss of the latest round.', 'FederatedLearningJob', 'loss');
  seriesGauge(registry, state, 'sedna_federatedlearning_round_clients', 'Clients aggregated in the latest round.', 'FederatedLearningJob', 'clients');
  seriesGauge(registry, state, 'sedna_federatedlearning_round_bytes', 'Bytes a trainer sent in the latest round.', 'FederatedLearningJob', 'bytes');
  for (const [kind, prefix] of [['IncrementalLearningJob', 'sedna_incrementallearning'], ['LifelongLearningJob', 'sedna_lifelonglearning']] as const) {
    seriesGauge(registry, state, `${prefix}_cycle`, 'The train, eval and deploy cycle the job is in (status.round, else counted from its conditions).', kind, 'cycle');
    seriesGauge(registry, state, `${prefix}_trained_model_metric`, 'The Eval stage\'s metric of the model trained in the latest evaluated cycle.', kind, 'trainedMetric');
  }
  seriesGauge(registry, state, 'sedna_incrementallearning_deployed_model_metric', 'The Eval stage\'s metric of the deployed model, on the same data, in the latest evaluated cycle.', 'IncrementalLearningJob', 'deployedMetric');
  seriesGauge(registry, state, 'sedna_lifelonglearning_knowledge_base_models', 'Models in the knowledge base (status.knowledgeBase.AIModels.numberOfAIModels).', 'LifelongLearningJob', 'kbModels');
  seriesGauge(registry, state, 'sedna_lifelonglearning_unseen_samples', 'Unseen samples the knowledge base holds (status.knowledgeBase.samples.numberOfUnseenSample).', 'LifelongLearningJob', 'unseenSamples');
  seriesGauge(registry, state, 'sedna_lifelonglearning_labeled_unseen_samples', 'Labelled unseen samples (status.knowledgeBase.samples.numberOfLabeledUnseenSample).', 'LifelongLearningJob', 'labeledUnseenSamples');
  seriesGauge(registry, state, 'sedna_dataset_samples', 'Samples in the Dataset (status.numberOfSamples).', 'Dataset', 'samples');
  return registry;
}
