// The stage and condition machine of an IncrementalLearningJob (spec §2.4.4), as pure functions
// of the status and what the controller observed. One step per reconcile, as in Sedna:
// Waiting → (LC) Ready → Starting → Running → Completed → Waiting of the next stage, the stages
// cycling Train → Eval → Deploy → Train. Differences from Sedna, each a weak point of §6:
// - a Failed stage is retried with exponential backoff from the data of its last Ready, instead of
//   dropping the round and going back to Train/Waiting;
// - a stage pod that succeeded without its worker's report (which carries the models) is a
//   failure after a grace period, not a Completed without models that the next stage trips on;
// - a stage pod that disappears is recreated;
// - `round` and `deployedModel` are kept in the status, conditions are bounded, and the
//   controller records observedGeneration.
import type { IncrementalLearningJobStatus, Stage, StageCondition } from '../../api/sedna/incremental-learning-job.ts';
import { rfc3339 } from '../../controller/index.ts';
import { dataOf, inputModelUrls } from './data.ts';

export type ConditionType = StageCondition['type'];

export const MAX_CONDITIONS = 200;
export const RETRY_BASE_MS = 10_000;
export const RETRY_MAX_MS = 5 * 60_000;
/** How long a succeeded stage pod may wait for its worker's report. */
export const REPORT_GRACE_MS = 30_000;

export const POD_FAILED = 'PodFailed';
export const NO_REPORT = 'NoWorkerReport';
export const RETRY = 'Retry';
export const WAITING_FOR_REPORT = 'WaitingForReport';
/** The stage's worker died and its pod restarted it (restartPolicy OnFailure): the stage goes on in the new run. */
export const WORKER_RESTARTED = 'WorkerRestarted';
export const MODEL_NOT_FOUND = 'ModelNotFound';
export const DATASET_NOT_FOUND = 'DatasetNotFound';
export const INVALID_INPUT = 'InvalidStageInput';
export const INVALID_TRIGGER = 'InvalidTrigger';
/** Reasons the controller sets on the latest condition for a problem it is waiting on. */
export const PROBLEM_REASONS = new Set([MODEL_NOT_FOUND, DATASET_NOT_FOUND, INVALID_INPUT, INVALID_TRIGGER]);

const NEXT_STAGE: Record<Stage, Stage> = { Train: 'Eval', Eval: 'Deploy', Deploy: 'Train' };

/** What the controller saw of the stage's worker. */
export interface WorkerView {
  /** The pod of the current run of the Train or Eval stage, if any. */
  stagePod?: { name: string; phase?: string; node?: string; message?: string; restarts?: number; lastExit?: string };
  /** The inference Deployment has an available replica. */
  inferenceAvailable: boolean;
  inferenceNode?: string;
}

export interface NewCondition {
  type: ConditionType;
  stage: Stage;
  reason?: string;
  message?: string;
  data?: string;
}

/** One step of the machine. */
export interface Step {
  /** Appended to the conditions. */
  append?: NewCondition;
  /** Create the pod of the current stage run (Train or Eval). */
  createPod?: boolean;
  /** Annotate the job `sedna.io/<stage>` = node (where the stage runs; downstream follows it). */
  annotate?: { stage: Stage; node: string };
  /** Rewrite the latest condition's reason and message (nothing appended). */
  note?: { reason: string; message: string };
  requeueAfterMs?: number;
}

export function latest(status: IncrementalLearningJobStatus | undefined): StageCondition | undefined {
  const list = status?.conditions ?? [];
  return list[list.length - 1];
}

/** The index of the condition that began the current round (the latest Waiting/Train), or 0. */
function roundStart(conditions: readonly StageCondition[]): number {
  const index = conditions.findLastIndex((c) => c.stage === 'Train' && c.type === 'Waiting');
  return index < 0 ? 0 : index;
}

/** Failures of `stage` in the current round. */
export function failuresOf(status: IncrementalLearningJobStatus | undefined, stage: Stage): number {
  const conditions = status?.conditions ?? [];
  return conditions.slice(roundStart(conditions)).filter((c) => c.stage === stage && c.type === 'Failed').length;
}

/** `<round>/<stage>/<attempt>` of the current run of `stage`. */
export function currentRun(status: IncrementalLearningJobStatus | undefined, stage: Stage): string {
  return `${status?.round ?? 1}/${stage}/${failuresOf(status, stage) + 1}`;
}

export function retryDelayMs(failures: number): number {
  return Math.min(RETRY_BASE_MS * 2 ** Math.max(0, failures - 1), RETRY_MAX_MS);
}

/** The latest Ready of `stage` in the current round: what a retry starts again from. */
function lastReady(conditions: readonly StageCondition[], stage: Stage): StageCondition | undefined {
  return conditions.slice(roundStart(conditions)).findLast((c) => c.stage === stage && c.type === 'Ready');
}

function timeOf(condition: StageCondition, field: 'lastTransitionTime' | 'lastHeartbeatTime'): number {
  const value = condition[field] ?? condition.lastTransitionTime;
  return value ? Date.parse(value) : 0;
}

function retry(status: IncrementalLearningJobStatus, failed: StageCondition, now: Date): Step {
  const failures = failuresOf(status, failed.stage);
  const due = timeOf(failed, 'lastTransitionTime') + retryDelayMs(failures);
  if (now.getTime() < due) return { requeueAfterMs: due - now.getTime() };
  const ready = lastReady(status.conditions ?? [], failed.stage);
  const message = `retry ${failures + 1} of the ${failed.stage} stage after: ${failed.message || failed.reason || 'a failure'}`;
  // Without a Ready to start again from (the LC reported the failure), the LC decides again.
  if (!ready) return { append: { type: 'Waiting', stage: failed.stage, reason: RETRY, message } };
  return { append: { type: 'Ready', stage: failed.stage, reason: RETRY, message, ...(ready.data ? { data: ready.data } : {}) } };
}

function stagePodStep(current: StageCondition, view: WorkerView, now: Date): Step {
  const pod = view.stagePod;
  if (!pod) return { createPod: true }; // deleted, or never created: this run needs one
  switch (pod.phase) {
    case 'Running': {
      if (current.type === 'Starting') return { append: { type: 'Running', stage: current.stage }, ...(pod.node ? { annotate: { stage: current.stage, node: pod.node } } : {}) };
      if (!pod.restarts) return {};
      // Said on the condition (and as an event), so a worker that died mid-stage is not silent.
      const message = `the ${current.stage.toLowerCase()} worker of pod ${pod.name} restarted (${pod.restarts} time${pod.restarts === 1 ? '' : 's'}), last after ${pod.lastExit ?? 'an unknown exit'}; the stage goes on in the restarted worker`;
      return current.reason === WORKER_RESTARTED && current.message === message ? {} : { note: { reason: WORKER_RESTARTED, message } };
    }
    case 'Succeeded': {
      if (current.reason !== WAITING_FOR_REPORT) return { note: { reason: WAITING_FOR_REPORT, message: `pod ${pod.name} succeeded; waiting for its worker's report` } };
      const due = timeOf(current, 'lastHeartbeatTime') + REPORT_GRACE_MS;
      if (now.getTime() < due) return { requeueAfterMs: due - now.getTime() };
      return { append: { type: 'Failed', stage: current.stage, reason: NO_REPORT, message: `pod ${pod.name} succeeded but its worker reported no ${current.stage.toLowerCase()} result` } };
    }
    case 'Failed':
      return { append: { type: 'Failed', stage: current.stage, reason: POD_FAILED, message: `pod ${pod.name} failed${pod.message ? `: ${pod.message}` : ''}` } };
    default:
      return {};
  }
}

/** The next step from the job's status, whether hot update is on, and what the controller saw. */
export function nextStep(status: IncrementalLearningJobStatus | undefined, hotUpdate: boolean, view: WorkerView, now: Date): Step {
  const current = latest(status);
  if (!current) return { append: { type: 'Waiting', stage: 'Train' } };
  const { stage } = current;
  switch (current.type) {
    case 'Waiting':
      return {};
    case 'Ready':
      if (stage !== 'Deploy') return view.stagePod && isLive(view.stagePod.phase) ? { append: { type: 'Starting', stage } } : { createPod: true };
      return hotUpdate ? { append: { type: 'Starting', stage } } : { append: { type: 'Completed', stage, reason: 'InferenceWorkerRestarted', message: 'the inference worker restarts on the deployed model' } };
    case 'Starting':
    case 'Running':
      if (stage !== 'Deploy') return stagePodStep(current, view, now);
      if (current.type === 'Starting' && view.inferenceAvailable) return { append: { type: 'Running', stage }, ...(view.inferenceNode ? { annotate: { stage, node: view.inferenceNode } } : {}) };
      return {};
    case 'Completed':
      return { append: { type: 'Waiting', stage: NEXT_STAGE[stage] } };
    case 'Failed':
      return retry(status!, current, now);
    default:
      return {};
  }
}

function isLive(phase: string | undefined): boolean {
  return phase === undefined || phase === 'Pending' || phase === 'Running';
}

/** The trained model a Deploy/Ready of the round names (input.models[0]), if the round deployed one. */
export function deployedIn(conditions: readonly StageCondition[]): string | undefined {
  const evalDone = conditions.findLastIndex((c) => c.stage === 'Eval' && c.type === 'Completed');
  const ready = conditions.findLastIndex((c) => c.stage === 'Deploy' && c.type === 'Ready');
  if (ready < 0 || ready < evalDone) return undefined;
  return (inputModelUrls(dataOf(conditions[ready]) ?? {}))[0];
}

function condition(next: NewCondition, generation: number | undefined, now: Date): StageCondition {
  const time = rfc3339(now);
  return { ...next, status: 'True', lastTransitionTime: time, lastHeartbeatTime: time, ...(generation !== undefined ? { observedGeneration: generation } : {}) };
}

/** Appends a condition: the round moves on at Train/Waiting; a completed deploy names the model served. */
export function appendCondition(status: IncrementalLearningJobStatus | undefined, next: NewCondition, generation: number | undefined, now: Date): IncrementalLearningJobStatus {
  const previous = status?.conditions ?? [];
  const before = latest(status);
  const conditions = [...previous, condition(next, generation, now)].slice(-MAX_CONDITIONS);
  const out: IncrementalLearningJobStatus = { ...status, conditions };
  if (!out.startTime) out.startTime = rfc3339(now);
  if (next.stage === 'Train' && next.type === 'Waiting' && next.reason !== RETRY) {
    out.round = before ? (status?.round ?? 0) + 1 : 1;
  }
  if (next.stage === 'Deploy' && next.type === 'Completed') {
    const deployed = deployedIn(previous);
    if (deployed) out.deployedModel = deployed;
  }
  if (generation !== undefined) out.observedGeneration = generation;
  return out;
}

/** Rewrites the latest condition's reason and message (a problem the job waits on, or its end). */
export function noteOnLatest(status: IncrementalLearningJobStatus, note: { reason?: string; message?: string }, now: Date): IncrementalLearningJobStatus {
  const conditions = [...(status.conditions ?? [])];
  const last = conditions[conditions.length - 1];
  if (!last) return status;
  const { reason: _r, message: _m, ...rest } = last;
  conditions[conditions.length - 1] = { ...rest, ...(note.reason ? { reason: note.reason } : {}), ...(note.message ? { message: note.message } : {}), lastHeartbeatTime: rfc3339(now) };
  return { ...status, conditions };
}
