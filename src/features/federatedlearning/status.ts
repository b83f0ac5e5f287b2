// The status of a FederatedLearningJob, computed from its pods of the current generation.
//
// Rules (Sedna's, with the fixes the issue asks for):
// - Failed: a pod of the current generation is in phase Failed (a worker with restartPolicy Never
//   exited non-zero, or a pod the kubelet gave up on). Failed wins over Complete.
// - Complete: the aggregation pod Succeeded. Sedna waited for `succeeded > 0 && active == 0`, which
//   never holds while a trainer lingers after the last round; the aggregator alone decides when
//   training is over (it exits 0 only after its final round), so its success completes the job.
// - Finished (Complete or Failed True) is terminal: phase and conditions no longer change and no
//   pod is recreated; the counters keep following the pods.
// - Conditions are kept by type (Training, Complete, Failed), not appended: the Training condition
//   is rewritten in place with the latest round ("Round N reaches at <time>") where Sedna appended
//   one condition per report without bound.
// - Phase: Pending until a pod of the current generation runs (or while inputs are missing),
//   Running, then Succeeded or Failed.
import type { FederatedLearningConditionType, FederatedLearningJob, FederatedLearningJobStatus } from '../../api/sedna/federated-learning-job.ts';
import type { JobPhase, SednaCondition } from '../../api/sedna/status.ts';
import { findCondition, rfc3339, setCondition } from '../../controller/index.ts';

export type FlCondition = SednaCondition<FederatedLearningConditionType>;

export const WORKER_FAILED = 'workerFailed';
export const COMPLETED = 'Completed';
export const DO_TRAINING = 'DoTraining';
export const WORKERS_CREATED = 'WorkersCreated';
export const SPEC_UPDATED = 'SpecUpdated';
export const MODEL_NOT_FOUND = 'ModelNotFound';
export const DATASET_NOT_FOUND = 'DatasetNotFound';
export const INVALID_SPEC = 'InvalidSpec';
export const WORKER_UNAVAILABLE = 'WorkerUnavailable';
export const WORKERS_AVAILABLE = 'WorkersAvailable';

/** The pod phases the status is computed from. */
export interface PodView {
  /** `aggregation` or `train-<i>`. */
  slot: string;
  name: string;
  phase?: string;
  terminating: boolean;
  /** Its node is not Ready (the node-lifecycle controller set the pod's Ready=False): not a running worker now. */
  nodeNotReady?: boolean;
}

export interface PodCounts {
  active: number;
  succeeded: number;
  failed: number;
}

/** What the controller observed this reconcile. */
export interface Observation {
  /** The job's pods of the current generation. */
  pods: PodView[];
  /** Something keeps the workers from being created (a missing Model or Dataset, a bad template). */
  problem?: { reason: string; message: string };
}

/** Active: neither finished nor being deleted (as the Job controller counts). */
export function countPods(pods: readonly PodView[]): PodCounts {
  const counts: PodCounts = { active: 0, succeeded: 0, failed: 0 };
  for (const pod of pods) {
    if (pod.phase === 'Succeeded') counts.succeeded++;
    else if (pod.phase === 'Failed') counts.failed++;
    else if (!pod.terminating && !pod.nodeNotReady) counts.active++;
  }
  return counts;
}

/** Complete or Failed is True: nothing more happens to the job's pods. */
export function isFinished(status: FederatedLearningJobStatus | undefined): boolean {
  return (status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

/** The failure message when a current pod failed, naming the workers. */
export function failureOf(pods: readonly PodView[]): string | undefined {
  const failed = pods.filter((p) => p.phase === 'Failed');
  if (failed.length === 0) return undefined;
  const which = failed.map((p) => `${p.slot === 'aggregation' ? 'the aggregation worker' : `training worker ${p.slot.slice('train-'.length)}`} (pod ${p.name})`);
  return `the worker of FederatedLearningJob failed: ${which.join(', ')}`;
}

export function aggregatorSucceeded(pods: readonly PodView[]): boolean {
  return pods.some((p) => p.slot === 'aggregation' && p.phase === 'Succeeded');
}

function setFl(conditions: readonly FlCondition[] | undefined, condition: FlCondition, now: Date): FlCondition[] {
  return setCondition(conditions, condition, now) as FlCondition[];
}

/** The Training condition while the job runs; the latest round's message is kept until the spec changes. */
function trainingCondition(job: FederatedLearningJob, observation: Observation, rolled: boolean): FlCondition | undefined {
  const generation = job.metadata.generation;
  if (observation.problem) return { type: 'Training', status: 'False', ...observation.problem, observedGeneration: generation };
  const previous = findCondition(job.status?.conditions, 'Training') as FlCondition | undefined;
  const unavailable = observation.pods.filter((p) => p.nodeNotReady && !p.terminating && p.phase === 'Running');
  if (unavailable.length > 0) {
    const which = unavailable.map((p) => `${p.slot === 'aggregation' ? 'the aggregation worker' : `training worker ${p.slot.slice('train-'.length)}`} (pod ${p.name})`);
    return { type: 'Training', status: 'True', reason: WORKER_UNAVAILABLE, message: `unavailable, its node not ready: ${which.join(', ')}`, observedGeneration: generation };
  }
  if (previous?.reason === WORKER_UNAVAILABLE) return { type: 'Training', status: 'True', reason: WORKERS_AVAILABLE, message: 'every worker is available again', observedGeneration: generation };
  if (rolled) return { type: 'Training', status: 'True', reason: SPEC_UPDATED, message: `the workers were recreated from generation ${generation}`, observedGeneration: generation };
  if (previous?.status === 'True') return undefined;
  const trainers = job.spec.trainingWorkers.length;
  const message = `created the aggregation worker and ${trainers} training worker${trainers === 1 ? '' : 's'}`;
  return { type: 'Training', status: 'True', reason: WORKERS_CREATED, message, observedGeneration: generation };
}

function runningPhase(observation: Observation): JobPhase {
  if (observation.problem) return 'Pending';
  return observation.pods.some((p) => p.phase === 'Running' && !p.terminating) ? 'Running' : 'Pending';
}

/** The next status of an unfinished job; a finished one only has its counters refreshed. */
export function nextStatus(job: FederatedLearningJob, observation: Observation, now: Date): FederatedLearningJobStatus {
  const previous = job.status;
  const counts = countPods(observation.pods);
  const base: FederatedLearningJobStatus = { ...previous, startTime: previous?.startTime ?? rfc3339(now), ...counts };
  if (isFinished(previous)) return base;
  const generation = job.metadata.generation;
  const rolled = previous?.observedGeneration !== undefined && previous.observedGeneration !== generation;
  let conditions = previous?.conditions ? [...previous.conditions] : [];
  const training = trainingCondition(job, observation, rolled);
  if (training) conditions = setFl(conditions, training, now);
  const next: FederatedLearningJobStatus = { ...base, conditions, observedGeneration: generation };
  // A new aggregator starts from round 0.
  if (rolled) delete next.round;
  const failure = failureOf(observation.pods);
  if (failure) {
    next.conditions = setFl(conditions, { type: 'Failed', status: 'True', reason: WORKER_FAILED, message: failure, observedGeneration: generation }, now);
    next.phase = 'Failed';
    return next;
  }
  if (aggregatorSucceeded(observation.pods)) {
    next.conditions = setFl(conditions, { type: 'Complete', status: 'True', reason: COMPLETED, message: 'the aggregation worker completed its final round', observedGeneration: generation }, now);
    next.completionTime = rfc3339(now);
    next.phase = 'Succeeded';
    return next;
  }
  next.phase = runningPhase(observation);
  return next;
}

/** The job's status after an edge report of round `round` at `updateTime`: round and the Training condition. */
export function withRound(job: FederatedLearningJob, round: number, updateTime: string, now: Date): FederatedLearningJobStatus {
  const previous = job.status;
  const condition: FlCondition = { type: 'Training', status: 'True', reason: DO_TRAINING, message: `Round ${round} reaches at ${updateTime}`, observedGeneration: job.metadata.generation };
  // Trainers report the same round each; a late report of an earlier round does not move it back.
  if (previous?.round !== undefined && round < previous.round) return { ...previous };
  return { ...previous, round, conditions: setFl(previous?.conditions, condition, now) };
}
