// Reports on an IncrementalLearningJob from its nodes (spec §2.4.4 upstream): the LC's
// `{phase, status, input?, output?}` and the workers' results it relays become a condition
// `{type, stage, message: "reported by lc", data: JSON of {input, output}}`. Differences from
// Sedna: a report must come from one of the job's nodes and name the stage the job is in (a late
// report of an earlier stage would otherwise rewind the machine), a malformed `data` is refused
// with the field named, and a worker's `running` is taken as what it is (nothing to record)
// instead of an error.
import type { EdgeMessage } from '../../api/edge-protocol.ts';
import type { Dataset } from '../../api/sedna/dataset.ts';
import { SEDNA_API_VERSION } from '../../api/sedna/index.ts';
import type { IncrementalLearningJob, Stage, StageCondition } from '../../api/sedna/incremental-learning-job.ts';
import { isApiError } from '../../controller/index.ts';
import { type FeatureContext, RejectedMessage } from '../../gm/feature.ts';
import { checkStageData, StageDataError } from './data.ts';
import { participatingNodes } from './nodes.ts';
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
  /** A worker's report the LC relayed (it carries `output`), not the LC's own. */
  fromWorker: boolean;
}

/** A longer message is cut: it is for people reading the condition. */
const MAX_MESSAGE = 1000;
export const MALFORMED_REPORT = 'MalformedReport';

export function parseReport(content: unknown, kind = 'incrementallearningjob'): StageReport {
  if (typeof content !== 'object' || content === null || Array.isArray(content)) throw new RejectedMessage(`${kind} report: content must be a JSON object`);
  const { phase, status, input, output, message: lcMessage } = content as Record<string, unknown>;
  if (lcMessage !== undefined && typeof lcMessage !== 'string') throw new RejectedMessage(`${kind} report: message must be a string`);
  const message = lcMessage ?? workerCause(output);
  const stage = typeof phase === 'string' ? STAGES[phase.toLowerCase()] : undefined;
  if (!stage) throw new RejectedMessage(`${kind} report: invalid condition stage (phase ${JSON.stringify(phase)}; want train, eval or deploy)`);
  const lower = typeof status === 'string' ? status.toLowerCase() : undefined;
  const type = lower ? TYPES[lower] : undefined;
  if (!type && lower !== 'running') throw new RejectedMessage(`${kind} report: invalid condition type (status ${JSON.stringify(status)}; want ready, completed, failed or waiting)`);
  try {
    const data = checkStageData(input, output);
    const json = JSON.stringify({ ...(data.input ? { input: data.input } : {}), ...(data.output ? { output: data.output } : {}) });
    return { stage, ...(type ? { type } : {}), data: json, ...(message ? { message: message.slice(0, MAX_MESSAGE) } : {}), fromWorker: output !== undefined && output !== null };
  } catch (err) {
    if (err instanceof StageDataError) throw new RejectedMessage(`${kind} report: ${err.message}`);
    throw err;
  }
}

/** A relayed worker's cause of failure (our SDK sends `ownerInfo.message`; Sedna's sends none). */
function workerCause(output: unknown): string | undefined {
  const ownerInfo = (output as { ownerInfo?: unknown } | null | undefined)?.ownerInfo;
  const cause = (ownerInfo as { message?: unknown } | null | undefined)?.message;
  return typeof cause === 'string' && cause !== '' ? cause : undefined;
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
  /**
   * Whether a worker's report of `stage` is the current run's, given the job's latest condition; a
   * report refused here is a stale one (default: every report of the current stage is taken).
   */
  acceptsWorkerReport?(latest: StageCondition | undefined, stage: Stage): boolean;
  /** Work done before the condition is appended, outside the status write (e.g. reading the knowledge base). */
  prepare?(ctx: FeatureContext, job: J, report: StageReport): Promise<((status: NonNullable<J['status']>) => NonNullable<J['status']>) | undefined>;
}

export async function handleStageUpstream<J extends StageJob & { spec?: { dataset?: { name?: string } } }>(ctx: FeatureContext, node: string, message: EdgeMessage, feature: StageUpstream<J>): Promise<void> {
  const { namespace, resourceName } = message.header;
  const { kind } = feature;
  const target = { apiVersion: SEDNA_API_VERSION, plural: feature.plural, namespace, name: resourceName };
  let report: StageReport;
  try {
    report = parseReport(message.content, kind);
  } catch (err) {
    // A malformed report is refused (nothing of the job changes) and said on the job, where its owner looks.
    const job = err instanceof RejectedMessage ? await jobOf<J>(ctx, target) : undefined;
    if (job) await ctx.events.event(job, 'Warning', MALFORMED_REPORT, `a report from node ${node} was refused: ${(err as Error).message}`);
    throw err;
  }
  if (!report.type) return;
  const job = await jobOf<J>(ctx, target);
  if (!job) throw new RejectedMessage(`${kind} ${namespace}/${resourceName} (reported by node ${node}) does not exist`);
  const dsNode = await datasetNode(ctx, namespace, job.spec?.dataset?.name ?? '');
  const amend = await feature.prepare?.(ctx, job, report);
  const result = await ctx.status.update<J>(target, (current, now) => {
    const allowed = participatingNodes(current, dsNode);
    if (!allowed.includes(node)) throw new RejectedMessage(`node ${node} reported on ${kind} ${namespace}/${resourceName}, whose nodes are ${allowed.join(', ') || '(none)'}`);
    const stage = latest(current.status)?.stage ?? 'Train';
    if (stage !== report.stage) throw new RejectedMessage(`${kind} ${namespace}/${resourceName}: a ${report.stage} report while the job is in its ${stage} stage`);
    const last = latest(current.status);
    if (report.fromWorker && feature.acceptsWorkerReport && !feature.acceptsWorkerReport(last, report.stage)) {
      throw new RejectedMessage(`${kind} ${namespace}/${resourceName}: a worker's ${report.stage} report while the stage is ${last?.type ?? 'not started'}: not the current run's (a restarted worker's), not taken`);
    }
    const status = amend ? amend({ ...current.status }) : current.status;
    const next = appendCondition(status, { type: report.type!, stage: report.stage, message: report.message ? `reported by lc: ${report.message}` : 'reported by lc', data: report.data }, current.metadata.generation, now);
    return next as Record<string, unknown>;
  });
  if (result === 'not-found') throw new RejectedMessage(`${kind} ${namespace}/${resourceName} (reported by node ${node}) does not exist`);
}

/**
 * A train or eval worker reports the run the GM started (Ready, Starting, Running); the inference
 * worker's deploy report counts only once the deploy runs (Deploy/Running: the LC has written the
 * hot-update config and pushed). An inference worker restarted earlier, say by an LC restart while
 * the job evaluates, reports the model it started on; taken at Deploy/Waiting, that report
 * completed the round's deploy before the LC had decided it.
 */
export function ilAcceptsWorkerReport(last: StageCondition | undefined, stage: Stage): boolean {
  if (!last || last.stage !== stage) return false;
  return stage === 'Deploy' ? last.type === 'Running' : last.type === 'Ready' || last.type === 'Starting' || last.type === 'Running';
}

export function handleIncrementalLearningUpstream(ctx: FeatureContext, node: string, message: EdgeMessage): Promise<void> {
  return handleStageUpstream<IncrementalLearningJob>(ctx, node, message, { kind: 'incrementallearningjob', plural: IL_PLURAL, acceptsWorkerReport: ilAcceptsWorkerReport });
}
