// The status of a JointInferenceService, computed from what its Deployments report. Conditions
// follow Sedna: a list whose last element is the current state, appended only when the type
// changes (a change of reason, message or generation rewrites the last one). Unlike Sedna, Failed
// is not terminal: a worker that comes back returns the service to Running.
import type { JointInferenceService, JointInferenceServiceStatus } from '../../api/sedna/joint-inference-service.ts';
import type { SednaCondition, ServiceConditionType } from '../../api/sedna/status.ts';
import { rfc3339 } from '../../controller/index.ts';
import type { Deployment } from '../../gm/workers/index.ts';

export type JiCondition = SednaCondition<ServiceConditionType>;

export const WORKER_FAILED = 'workerFailed';
export const MODEL_NOT_FOUND = 'ModelNotFound';
export const INVALID_SPEC = 'InvalidSpec';
/** Event reason: a Failed service whose workers are available again. */
export const WORKER_RECOVERED = 'WorkerRecovered';

/** What the controller observed. */
export interface Observation {
  /** Availability of each worker Deployment, by worker (`cloud`, `edge`). */
  available: Record<string, boolean>;
  /** A problem that keeps the workers from being created (a missing Model, an invalid template). */
  problem?: { reason: string; message: string };
}

/** A worker Deployment counts as available with at least one available replica. */
export function isAvailable(deployment: Deployment | undefined): boolean {
  if (!deployment || deployment.metadata.deletionTimestamp) return false;
  return (deployment.status?.availableReplicas ?? 0) >= 1;
}

function lastOf(status: JointInferenceServiceStatus | undefined): JiCondition | undefined {
  const conditions = status?.conditions ?? [];
  return conditions[conditions.length - 1];
}

function conditionFor(ji: JointInferenceService, observation: Observation, everRunning: boolean): Omit<JiCondition, 'observedGeneration' | 'lastTransitionTime'> {
  if (observation.problem) return { type: 'Failed', status: 'True', ...observation.problem };
  const down = Object.entries(observation.available)
    .filter(([, up]) => !up)
    .map(([worker]) => worker);
  if (down.length === 0) return { type: 'Running', status: 'True', reason: 'WorkersAvailable', message: 'the cloud and edge workers are available' };
  const which = `the ${down.join(' and ')} worker${down.length > 1 ? 's' : ''}`;
  if (!everRunning) return { type: 'Pending', status: 'True', reason: 'WorkersStarting', message: `waiting for ${which} to become available` };
  return { type: 'Failed', status: 'True', reason: WORKER_FAILED, message: `${which} of service ${ji.metadata.name} ${down.length > 1 ? 'are' : 'is'} not available` };
}

/** Appends `next` when its type differs from the last condition's; otherwise rewrites the last one if anything changed. */
export function appendCondition(conditions: readonly JiCondition[] | undefined, next: JiCondition, now: Date): JiCondition[] {
  const list = [...(conditions ?? [])];
  const last = list[list.length - 1];
  if (last?.type !== next.type) return [...list, { ...next, lastTransitionTime: rfc3339(now) }];
  const same = last.status === next.status && last.reason === next.reason && last.message === next.message && last.observedGeneration === next.observedGeneration;
  if (same) return list;
  list[list.length - 1] = { ...next, lastTransitionTime: last.lastTransitionTime ?? rfc3339(now) };
  return list;
}

/** The next status; metrics (written from the edge's reports) are kept. */
export function nextStatus(ji: JointInferenceService, observation: Observation, now: Date): JointInferenceServiceStatus {
  const previous = ji.status;
  const everRunning = previous?.conditions?.some((c) => c.type === 'Running') ?? false;
  const workers = Object.keys(observation.available).length;
  const active = Object.values(observation.available).filter(Boolean).length;
  const condition: JiCondition = { ...conditionFor(ji, observation, everRunning), observedGeneration: ji.metadata.generation };
  return {
    ...previous,
    startTime: previous?.startTime ?? rfc3339(now),
    active,
    // Until both workers have first come up they are starting, not failed.
    failed: everRunning ? workers - active : 0,
    conditions: appendCondition(previous?.conditions, condition, now),
    observedGeneration: ji.metadata.generation,
  };
}

/** The last condition, to tell a transition (for events). */
export function currentCondition(status: JointInferenceServiceStatus | undefined): JiCondition | undefined {
  return lastOf(status);
}
