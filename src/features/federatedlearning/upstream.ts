// Edge reports of a FederatedLearningJob (spec §2.4.3 upstream): the LC relays a trainer's
// `{phase, status, output: {models: [{format, url, metrics}], ownerInfo: {currentRound, updateTime, …}}}`.
// `ownerInfo.currentRound` → status.round and the Training condition ("Round N reaches at <time>",
// rewritten in place, where Sedna appended one condition per report); the first model's metrics →
// the aggregation Model's status.metrics. Differences from Sedna: only a node running a trainer of
// the job may report on it, a malformed report is refused, a repeated report writes nothing, and a
// report that names its job's uid (JOB_UID) is refused unless the job of that name is that one.
import { isDeepStrictEqual } from 'node:util';
import type { EdgeMessage } from '../../api/edge-protocol.ts';
import type { FederatedLearningJob } from '../../api/sedna/federated-learning-job.ts';
import { SEDNA_API_VERSION } from '../../api/sedna/index.ts';
import { type Model, modelKind, type ModelStatus } from '../../api/sedna/model.ts';
import type { Metric } from '../../api/sedna/status.ts';
import { dateOf, rfc3339 } from '../../controller/index.ts';
import { type FeatureContext, RejectedMessage } from '../../gm/feature.ts';
import { withRound } from './status.ts';
import { FL_PLURAL, trainerNodes } from './workers.ts';

/** What a trainer report carries for the GM. */
export interface FlReport {
  /** ownerInfo.currentRound when it is a positive integer. */
  round?: number;
  /** ownerInfo.updateTime, or undefined. */
  updateTime?: string;
  /** The first model's metrics, sorted by key; empty when none. */
  metrics: Metric[];
  /** The uid of the job the trainer belongs to (our addition), when it sent one. */
  ownerUid?: string;
}

const WHAT = 'federatedlearningjob status';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A metrics map → Sedna's [{key, value}]: strings kept, other values JSON-encoded, sorted by key. */
export function metricsFromMap(metrics: Record<string, unknown>): Metric[] {
  return Object.keys(metrics)
    .sort()
    .map((key) => {
      const value = metrics[key];
      return { key, value: typeof value === 'string' ? value : JSON.stringify(value ?? null) };
    });
}

function parseRound(ownerInfo: Record<string, unknown>): number | undefined {
  const raw = ownerInfo.currentRound;
  if (raw === undefined || raw === null) return undefined;
  const round = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof round !== 'number' || !Number.isInteger(round) || round < 0) throw new RejectedMessage(`${WHAT}: output.ownerInfo.currentRound must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return round > 0 ? round : undefined;
}

function parseUpdateTime(ownerInfo: Record<string, unknown>): string | undefined {
  const raw = ownerInfo.updateTime;
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'string' || raw === '') throw new RejectedMessage(`${WHAT}: output.ownerInfo.updateTime must be a string, got ${JSON.stringify(raw)}`);
  return raw;
}

function parseMetrics(models: unknown): Metric[] {
  if (models === undefined || models === null) return [];
  if (!Array.isArray(models)) throw new RejectedMessage(`${WHAT}: output.models must be a list`);
  const first: unknown = models[0];
  if (first === undefined) return [];
  if (!isObject(first)) throw new RejectedMessage(`${WHAT}: output.models[0] must be an object`);
  const { metrics } = first;
  if (metrics === undefined || metrics === null) return [];
  if (!isObject(metrics)) throw new RejectedMessage(`${WHAT}: output.models[0].metrics must be a mapping`);
  return metricsFromMap(metrics);
}

/** Parses the relayed content; a malformed one is refused with the field named. */
export function parseFlReport(content: unknown): FlReport {
  if (!isObject(content)) throw new RejectedMessage(`${WHAT}: content must be a JSON object`);
  const { output, ownerUid } = content;
  if (ownerUid !== undefined && (typeof ownerUid !== 'string' || ownerUid === '')) throw new RejectedMessage(`${WHAT}: ownerUid must be a non-empty string, got ${JSON.stringify(ownerUid)}`);
  const uid = typeof ownerUid === 'string' ? { ownerUid } : {};
  if (output === undefined || output === null) return { metrics: [], ...uid };
  if (!isObject(output)) throw new RejectedMessage(`${WHAT}: output must be an object`);
  const { ownerInfo, models } = output;
  if (ownerInfo !== undefined && ownerInfo !== null && !isObject(ownerInfo)) throw new RejectedMessage(`${WHAT}: output.ownerInfo must be an object`);
  const info = ownerInfo ?? {};
  const report: FlReport = { metrics: parseMetrics(models), ...uid };
  const round = parseRound(info);
  if (round !== undefined) report.round = round;
  const updateTime = parseUpdateTime(info);
  if (updateTime !== undefined) report.updateTime = updateTime;
  return report;
}

export async function handleFederatedLearningUpstream(ctx: FeatureContext, node: string, message: EdgeMessage): Promise<void> {
  const { namespace, resourceName } = message.header;
  const report = parseFlReport(message.content);
  const target = { apiVersion: SEDNA_API_VERSION, plural: FL_PLURAL, namespace, name: resourceName };
  let modelName: string | undefined;
  const now = dateOf(ctx.clock);
  const result = await ctx.status.update<FederatedLearningJob>(target, (current) => {
    // A late report of a deleted job (its trainer, or the LC's outbox, outlived it) never lands on a new job of that name.
    if (report.ownerUid !== undefined && report.ownerUid !== current.metadata.uid) {
      throw new RejectedMessage(`federatedlearningjob ${namespace}/${resourceName} uid ${report.ownerUid} (reported by node ${node}) no longer exists; the job of that name is uid ${current.metadata.uid ?? 'unknown'}`);
    }
    const nodes = trainerNodes(current);
    if (!nodes.includes(node)) throw new RejectedMessage(`node ${node} reported on federatedlearningjob ${namespace}/${resourceName}, whose training workers run on ${nodes.length > 0 ? `node ${nodes.join(', ')}` : 'no node'}`);
    modelName = current.spec.aggregationWorker?.model?.name;
    if (report.round === undefined) return undefined;
    return withRound(current, report.round, report.updateTime ?? rfc3339(now), now) as unknown as Record<string, unknown>;
  });
  if (result === 'not-found') throw new RejectedMessage(`federatedlearningjob ${namespace}/${resourceName} (reported by node ${node}) does not exist`);
  if (report.metrics.length > 0 && modelName) await writeModelMetrics(ctx, namespace, modelName, report.metrics, now);
}

/** The aggregation Model's metrics; updateTime moves only when they change. */
async function writeModelMetrics(ctx: FeatureContext, namespace: string, name: string, metrics: Metric[], now: Date): Promise<void> {
  const result = await ctx.status.update<Model>({ apiVersion: SEDNA_API_VERSION, plural: modelKind.plural, namespace, name }, (current) => {
    const previous = current.status;
    if (isDeepStrictEqual(previous?.metrics, metrics)) return undefined;
    const next: ModelStatus = { ...previous, metrics, updateTime: rfc3339(now) };
    return next as unknown as Record<string, unknown>;
  });
  if (result === 'not-found') throw new RejectedMessage(`model ${namespace}/${name}, the aggregation model of a federatedlearningjob, does not exist`);
}
