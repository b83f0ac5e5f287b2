// Reports on an IncrementalLearningJob from its nodes (spec §2.4.4 upstream): the LC's
// `{phase, status, input?, output?}` and the workers' results it relays become a condition
// `{type, stage, message: "reported by lc", data: JSON of {input, output}}`. Differences from
// Sedna: a report must come from one of the job's nodes and name the stage the job is in (a late
// report of an earlier stage would otherwise rewind the machine), a malformed `data` is refused
// with the field named, and a worker's `running` is taken as what it is (nothing to record)
// instead of an error.
import type { EdgeMessage } from '../../api/edge-protocol.ts';
import type { KubeObject } from '../../api/meta.ts';
import type { Dataset } from '../../api/sedna/dataset.ts';
import { SEDNA_API_VERSION } from '../../api/sedna/index.ts';
import type { IncrementalLearningJob, Stage } from '../../api/sedna/incremental-learning-job.ts';
import { isApiError } from '../../controller/index.ts';
import { type FeatureContext, RejectedMessage } from '../../gm/feature.ts';
import { checkStageData, StageDataError } from './data.ts';
import { appendCondition, type ConditionType, latest } from './status.ts';
import type { StageJob } from './stage-reconciler.ts';
import { IL_PLURAL } from './workers.ts';

const STAGES: Record<string, Stage> = { train: 'Train', eval: 'Eval', deploy: 'Deploy' };
const TYPES: Record<string, ConditionType> = { ready: 'Ready', completed: 'Completed', failed: 'Failed', waiting: 'Waiting' };

export interface StageReport {
  stage: Stage;
  /** Undefined for a worker's `running`: nothing to record. */
  type?: ConditionType;
  data: string;
  /** Why, when our LC says (a deploy not made, an eval that cannot run); Sedna's LC sends none. */
  message?: string;
}

/** A longer message is cut: it is for people reading the condition. */
const MAX_MESSAGE = 1000;

export function parseReport(content: unknown, kind = 'incrementallearningjob'): StageReport {
  if (typeof content !== 'object' || content === null || Array.isArray(content)) throw new RejectedMessage(`${kind} report: content must be a JSON object`);
  const { phase, status, input, output, message } = content as Record<string, unknown>;
  if (message !== undefined && typeof message !== 'string') throw new RejectedMessage(`${kind} report: message must be a string`);
  const stage = typeof phase === 'string' ? STAGES[phase.toLowerCase()] : undefined;
  if (!stage) throw new RejectedMessage(`${kind} report: invalid condition stage (phase ${JSON.stringify(phase)}; want train, eval or deploy)`);
  const lower = typeof status === 'string' ? status.toLowerCase() : undefined;
  const type = lower ? TYPES[lower] : undefined;
  if (!type && lower !== 'running') throw new RejectedMessage(`${kind} report: invalid condition type (status ${JSON.stringify(status)}; want ready, completed, failed or waiting)`);
  try {
    const data = checkStageData(input, output);
    const json = JSON.stringify({ ...(data.input ? { input: data.input } : {}), ...(data.output ? { output: data.output } : {}) });
    return { stage, ...(type ? { type } : {}), data: json, ...(message ? { message: message.slice(0, MAX_MESSAGE) } : {}) };
  } catch (err) {
    if (err instanceof StageDataError) throw new RejectedMessage(`${kind} report: ${err.message}`);
    throw err;
  }
}

/** The nodes that may report on a job: its Dataset's node and the nodes its stages ran on. */
export function jobNodes(job: KubeObject, datasetNode: string | undefined): string[] {
  const annotations = job.metadata.annotations ?? {};
  const nodes = [datasetNode, annotations['sedna.io/Train'], annotations['sedna.io/Eval'], annotations['sedna.io/Deploy']];
  return [...new Set(nodes.filter((n): n is string => Boolean(n)))];
}

async function datasetNode(ctx: FeatureContext, namespace: string, name: string): Promise<string | undefined> {
  if (!name) return undefined;
  try {
    const dataset = await ctx.client.get<Dataset>({ apiVersion: SEDNA_API_VERSION, plural: 'datasets', namespace, name }, { timeoutMs: 10_000 });
    return dataset.spec?.nodeName;
  } catch (err) {
    if (isApiError(err, 404)) return undefined;
    throw err;
  }
}

async function jobOf<J extends StageJob>(ctx: FeatureContext, ref: { apiVersion: string; plural: string; namespace: string; name: string }): Promise<J | undefined> {
  try {
    return await ctx.client.get<J>(ref, { timeoutMs: 10_000 });
  } catch (err) {
    if (isApiError(err, 404)) return undefined;
    throw err;
  }
}

/** How a feature whose jobs run the stage machine takes its nodes' reports. */
export interface StageUpstream<J extends StageJob> {
  /** Lower-case kind, as the LC names it (`incrementallearningjob`). */
  kind: string;
  plural: string;
  /** Work done before the condition is appended, outside the status write (e.g. reading the knowledge base). */
  prepare?(ctx: FeatureContext, job: J, report: StageReport): Promise<((status: NonNullable<J['status']>) => NonNullable<J['status']>) | undefined>;
}

export async function handleStageUpstream<J extends StageJob & { spec?: { dataset?: { name?: string } } }>(ctx: FeatureContext, node: string, message: EdgeMessage, feature: StageUpstream<J>): Promise<void> {
  const { namespace, resourceName } = message.header;
  const { kind } = feature;
  const report = parseReport(message.content, kind);
  if (!report.type) return;
  const target = { apiVersion: SEDNA_API_VERSION, plural: feature.plural, namespace, name: resourceName };
  const job = await jobOf<J>(ctx, target);
  if (!job) throw new RejectedMessage(`${kind} ${namespace}/${resourceName} (reported by node ${node}) does not exist`);
  const dsNode = await datasetNode(ctx, namespace, job.spec?.dataset?.name ?? '');
  const amend = await feature.prepare?.(ctx, job, report);
  const result = await ctx.status.update<J>(target, (current, now) => {
    const allowed = jobNodes(current, dsNode);
    if (!allowed.includes(node)) throw new RejectedMessage(`node ${node} reported on ${kind} ${namespace}/${resourceName}, whose nodes are ${allowed.join(', ') || '(none)'}`);
    const stage = latest(current.status)?.stage ?? 'Train';
    if (stage !== report.stage) throw new RejectedMessage(`${kind} ${namespace}/${resourceName}: a ${report.stage} report while the job is in its ${stage} stage`);
    const status = amend ? amend({ ...current.status }) : current.status;
    const next = appendCondition(status, { type: report.type!, stage: report.stage, message: report.message ? `reported by lc: ${report.message}` : 'reported by lc', data: report.data }, current.metadata.generation, now);
    return next as Record<string, unknown>;
  });
  if (result === 'not-found') throw new RejectedMessage(`${kind} ${namespace}/${resourceName} (reported by node ${node}) does not exist`);
}

export function handleIncrementalLearningUpstream(ctx: FeatureContext, node: string, message: EdgeMessage): Promise<void> {
  return handleStageUpstream<IncrementalLearningJob>(ctx, node, message, { kind: 'incrementallearningjob', plural: IL_PLURAL });
}
