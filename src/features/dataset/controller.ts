// The Dataset feature (spec §2.4.1): a Dataset goes to the LocalController of spec.nodeName, which
// counts its samples and reports `{numberOfSamples, updateTime?}`; the GM writes that into the
// status, with a Ready condition. Differences from Sedna: a node may only report on a Dataset
// bound to it, a Dataset moved to another node is deleted from the old one, a Dataset bound to a
// node with no credential says so in its Ready condition, and a repeated report writes nothing.
import { SEDNA_API_VERSION } from '../../api/sedna/index.ts';
import { type Dataset, datasetKind, type DatasetStatus } from '../../api/sedna/dataset.ts';
import type { Condition } from '../../api/meta.ts';
import { Controller, type Informer, rfc3339, setCondition } from '../../controller/index.ts';
import type { EdgeMessage } from '../../api/edge-protocol.ts';
import { type FeatureContext, type FeatureController, type FeatureRegistration, RejectedMessage } from '../../gm/feature.ts';

export const DATASET_KIND = datasetKind.kind;
export const DATASET_PLURAL = datasetKind.plural;
const READY = 'Ready';

function datasetInformer(ctx: FeatureContext): Informer<Dataset> {
  return ctx.informers.informerFor<Dataset>({ path: ctx.pathFor(DATASET_PLURAL) });
}

export function createDatasetController(ctx: FeatureContext): FeatureController {
  const informer = datasetInformer(ctx);
  ctx.downstream.bind<Dataset>({
    kind: DATASET_KIND,
    lister: informer.lister,
    nodesFor: (dataset) => (dataset.spec?.nodeName ? [dataset.spec.nodeName] : []),
  });
  const controller = new Controller({
    name: 'dataset',
    maxConcurrentReconciles: 4,
    logger: ctx.logger,
    metrics: ctx.metrics,
    clock: ctx.clock,
    reconcile: async ({ namespace, name }) => {
      const dataset = informer.lister.get(namespace, name);
      if (!dataset) {
        await ctx.downstream.remove(DATASET_KIND, namespace, name);
        return;
      }
      const { unknownNodes } = await ctx.downstream.sync(DATASET_KIND, dataset);
      if (unknownNodes.length > 0) {
        await setReady(ctx, dataset, 'False', 'NodeNotRegistered', `node ${unknownNodes.join(', ')} has no edge credential, so the dataset cannot be sent to it`);
      } else if (dataset.status?.conditions?.find((c) => c.type === READY)?.reason === 'NodeNotRegistered') {
        await setReady(ctx, dataset, 'False', 'Syncing', `sent to node ${dataset.spec.nodeName}; waiting for its sample count`);
      }
    },
  });
  controller.watchFor(informer);
  return controller;
}

/** Upstream `dataset` status (appendix D: `{numberOfSamples, updateTime?}`). */
export async function handleDatasetUpstream(ctx: FeatureContext, node: string, message: EdgeMessage): Promise<void> {
  const { namespace, resourceName } = message.header;
  const report = parseReport(message.content);
  const result = await ctx.status.update<Dataset>(target(namespace, resourceName), (current, now) => {
    if (current.spec?.nodeName !== node) throw new RejectedMessage(`node ${node} reported on dataset ${namespace}/${resourceName}, which is bound to node ${current.spec?.nodeName ?? '(none)'}`);
    const previous = current.status;
    const unchangedCount = previous?.numberOfSamples === report.numberOfSamples;
    // A repeated count without a time of its own changes nothing (Sedna rewrote updateTime each time).
    const updateTime = report.updateTime ?? (unchangedCount && previous?.updateTime ? previous.updateTime : rfc3339(now));
    const condition: Condition = {
      type: READY,
      status: 'True',
      reason: 'SamplesReported',
      message: `node ${node} reported ${report.numberOfSamples} samples`,
      observedGeneration: current.metadata.generation,
    };
    const next: DatasetStatus = {
      ...previous,
      numberOfSamples: report.numberOfSamples,
      updateTime,
      conditions: setCondition(previous?.conditions, condition),
    };
    return next as unknown as Record<string, unknown>;
  }, datasetInformer(ctx).lister.get(namespace, resourceName));
  if (result === 'not-found') throw new RejectedMessage(`dataset ${namespace}/${resourceName} does not exist`);
}

function parseReport(content: unknown): { numberOfSamples: number; updateTime?: string } {
  if (typeof content !== 'object' || content === null) throw new RejectedMessage('dataset status: content must be a JSON object');
  const { numberOfSamples, updateTime } = content as Record<string, unknown>;
  if (typeof numberOfSamples !== 'number' || !Number.isInteger(numberOfSamples) || numberOfSamples < 0) {
    throw new RejectedMessage(`dataset status: numberOfSamples must be a non-negative integer, got ${JSON.stringify(numberOfSamples)}`);
  }
  if (updateTime !== undefined && (typeof updateTime !== 'string' || Number.isNaN(Date.parse(updateTime)))) {
    throw new RejectedMessage(`dataset status: updateTime must be an RFC 3339 time, got ${JSON.stringify(updateTime)}`);
  }
  return updateTime === undefined ? { numberOfSamples } : { numberOfSamples, updateTime: rfc3339(new Date(updateTime)) };
}

async function setReady(ctx: FeatureContext, dataset: Dataset, status: 'True' | 'False', reason: string, message: string): Promise<void> {
  const { namespace = '', name = '' } = dataset.metadata;
  await ctx.status.update<Dataset>(target(namespace, name), (current) => {
    const conditions = setCondition(current.status?.conditions, { type: READY, status, reason, message, observedGeneration: current.metadata.generation });
    return { ...current.status, numberOfSamples: current.status?.numberOfSamples ?? 0, conditions };
  }, datasetInformer(ctx).lister.get(namespace, name));
}

function target(namespace: string, name: string): { apiVersion: string; plural: string; namespace: string; name: string } {
  return { apiVersion: SEDNA_API_VERSION, plural: DATASET_PLURAL, namespace, name };
}

/** The Dataset feature on the GM side. */
export const gm: FeatureRegistration = { kind: DATASET_KIND, plural: DATASET_PLURAL, createController: createDatasetController, handleUpstream: handleDatasetUpstream };
