// Edge reports of a JointInferenceService (spec §2.4.2 upstream): the LC relays the edge worker's
// periodic `{phase, status, output: {models: null, ownerInfo}}`; ownerInfo minus its times becomes
// `status.metrics`. Differences from Sedna: only the service's edge node may report on it, the
// metrics are sorted by key (a repeated report then writes nothing), and a bad report is refused.
import { SEDNA_API_VERSION } from '../../api/sedna/index.ts';
import type { JointInferenceService } from '../../api/sedna/joint-inference-service.ts';
import type { Metric } from '../../api/sedna/status.ts';
import type { EdgeMessage } from '../../api/edge-protocol.ts';
import { type FeatureContext, RejectedMessage } from '../../gm/feature.ts';
import { JI_PLURAL } from './workers.ts';

const TIME_KEYS = new Set(['startTime', 'updateTime']);

/** ownerInfo → metrics: times dropped, strings kept, other values JSON-encoded, sorted by key. */
export function metricsFromOwnerInfo(ownerInfo: Record<string, unknown>): Metric[] {
  return Object.keys(ownerInfo)
    .filter((key) => !TIME_KEYS.has(key))
    .sort()
    .map((key) => {
      const value = ownerInfo[key];
      return { key, value: typeof value === 'string' ? value : JSON.stringify(value ?? null) };
    });
}

/** The report's ownerInfo, or undefined when it carries none. */
export function parseOwnerInfo(content: unknown): Record<string, unknown> | undefined {
  if (typeof content !== 'object' || content === null || Array.isArray(content)) throw new RejectedMessage('jointinferenceservice status: content must be a JSON object');
  const { output } = content as { output?: unknown };
  if (output === undefined || output === null) return undefined;
  if (typeof output !== 'object' || Array.isArray(output)) throw new RejectedMessage('jointinferenceservice status: output must be an object');
  const { ownerInfo } = output as { ownerInfo?: unknown };
  if (ownerInfo === undefined || ownerInfo === null) return undefined;
  if (typeof ownerInfo !== 'object' || Array.isArray(ownerInfo)) throw new RejectedMessage('jointinferenceservice status: output.ownerInfo must be an object');
  return ownerInfo as Record<string, unknown>;
}

export async function handleJointInferenceUpstream(ctx: FeatureContext, node: string, message: EdgeMessage): Promise<void> {
  const { namespace, resourceName } = message.header;
  const ownerInfo = parseOwnerInfo(message.content);
  if (!ownerInfo) return;
  const metrics = metricsFromOwnerInfo(ownerInfo);
  const target = { apiVersion: SEDNA_API_VERSION, plural: JI_PLURAL, namespace, name: resourceName };
  const result = await ctx.status.update<JointInferenceService>(target, (current) => {
    const edgeNode = current.spec?.edgeWorker?.template?.spec?.nodeName;
    if (edgeNode !== node) throw new RejectedMessage(`node ${node} reported on jointinferenceservice ${namespace}/${resourceName}, whose edge worker runs on node ${edgeNode ?? '(none)'}`);
    return { ...current.status, metrics };
  });
  if (result === 'not-found') throw new RejectedMessage(`jointinferenceservice ${namespace}/${resourceName} (reported by node ${node}) does not exist`);
}
