// The Model feature. Sedna has no Model controller (§2.2): a Model reaches a node only as part of
// a job that uses it, and its status is written from upstream reports. Until a job feature binds
// Models to nodes, this accepts `model` status reports — `{metrics, updateTime?}` with metrics as
// Sedna's `[{key, value}]` or a `{key: value}` map — from any authenticated node, and writes
// `status.metrics` and `status.updateTime` (a repeated report writes nothing).
import { isDeepStrictEqual } from 'node:util';
import { SEDNA_API_VERSION } from '../../api/sedna/index.ts';
import { type Model, modelKind, type ModelStatus } from '../../api/sedna/model.ts';
import type { Metric } from '../../api/sedna/status.ts';
import type { EdgeMessage } from '../../api/edge-protocol.ts';
import { rfc3339 } from '../../controller/index.ts';
import { type FeatureContext, type FeatureRegistration, RejectedMessage } from '../../gm/feature.ts';

export const MODEL_KIND = modelKind.kind;
export const MODEL_PLURAL = modelKind.plural;

export async function handleModelUpstream(ctx: FeatureContext, node: string, message: EdgeMessage): Promise<void> {
  const { namespace, resourceName } = message.header;
  const report = parseReport(message.content);
  const result = await ctx.status.update<Model>({ apiVersion: SEDNA_API_VERSION, plural: MODEL_PLURAL, namespace, name: resourceName }, (current, now) => {
    const previous = current.status;
    const same = isDeepStrictEqual(previous?.metrics, report.metrics);
    const updateTime = report.updateTime ?? (same && previous?.updateTime ? previous.updateTime : rfc3339(now));
    const next: ModelStatus = { ...previous, metrics: report.metrics, updateTime };
    return next as unknown as Record<string, unknown>;
  });
  if (result === 'not-found') throw new RejectedMessage(`model ${namespace}/${resourceName} (reported by node ${node}) does not exist`);
}

function parseReport(content: unknown): { metrics: Metric[]; updateTime?: string } {
  if (typeof content !== 'object' || content === null) throw new RejectedMessage('model status: content must be a JSON object');
  const { metrics, updateTime } = content as Record<string, unknown>;
  let list: Metric[];
  if (Array.isArray(metrics)) {
    list = metrics.map((m: unknown) => {
      const { key, value } = (m ?? {}) as Record<string, unknown>;
      if (typeof key !== 'string') throw new RejectedMessage('model status: every metric needs a string key');
      return { key, value: typeof value === 'string' ? value : JSON.stringify(value) };
    });
  } else if (typeof metrics === 'object' && metrics !== null) {
    list = Object.entries(metrics).map(([key, value]) => ({ key, value: typeof value === 'string' ? value : JSON.stringify(value) }));
  } else {
    throw new RejectedMessage('model status: metrics must be a list of {key, value} or a mapping');
  }
  if (updateTime !== undefined && (typeof updateTime !== 'string' || Number.isNaN(Date.parse(updateTime)))) {
    throw new RejectedMessage(`model status: updateTime must be an RFC 3339 time, got ${JSON.stringify(updateTime)}`);
  }
  return updateTime === undefined ? { metrics: list } : { metrics: list, updateTime: rfc3339(new Date(updateTime)) };
}

/** The Model kind on the GM side: upstream reports only, no controller (as in Sedna). */
export const gm: FeatureRegistration = { kind: MODEL_KIND, plural: MODEL_PLURAL, handleUpstream: handleModelUpstream };
