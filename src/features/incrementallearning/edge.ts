// Incremental learning on the LC (spec §4.6), the first user of the triggered job manager: the job
// is kept (a worker report is relayed only for a job this LC holds), and its train trigger is
// checked against the new samples of its Dataset every trainSpec.trigger.checkPeriodSeconds; a
// firing is reported upstream as Sedna's LC does, `{phase: train, status: ready}`, with the sample
// counts. The rest of the job manager (the training dataset file, eval and deploy stages) and the
// GM controller are not built yet: the GM accepts this kind without reconciling it.
import type { EdgeFeature } from '../../lc/edge-feature.ts';
import { TriggeredJobManager } from '../../lc/job-manager.ts';
import type { SednaObject } from '../../lc/objects.ts';

interface IncrementalSpec {
  dataset?: { name?: string };
  trainSpec?: { trigger?: { checkPeriodSeconds?: number } };
}

export const edge: EdgeFeature = {
  kinds: ['incrementallearningjob'],
  relays: { incrementallearningjob: 'held-job' },
  createLocalManager: (ctx) =>
    new TriggeredJobManager(ctx, {
      kind: 'incrementallearningjob',
      resourceKind: 'IncrementalLearningJob',
      watch: (job: SednaObject) => {
        const spec = (job.spec ?? {}) as IncrementalSpec;
        const dataset = spec.dataset?.name;
        const trigger = spec.trainSpec?.trigger;
        if (!dataset || !trigger) return undefined;
        return { dataset, trigger, ...(trigger.checkPeriodSeconds ? { checkPeriodSeconds: trigger.checkPeriodSeconds } : {}) };
      },
      report: (_job, stats, samples) => ({ phase: 'train', status: 'ready', input: { numberOfSamples: samples, newSamples: stats.num_of_samples } }),
    }),
};
