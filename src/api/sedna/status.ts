// Status conventions every Sedna kind shares: append-only conditions whose last element is the
// current state, worker counters, job phases and metrics, plus the observedGeneration we add so a
// client can tell whether the status describes the spec it sees.
import type { Condition, JSONSchemaProps } from '../meta.ts';
import { array, dateTime, int32, int64, object, string, stringEnum } from './schema.ts';

type Props = Record<string, JSONSchemaProps>;

export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;

/** A condition of one kind; `type` names the kind's condition types (spec §1.1). */
export interface SednaCondition<T extends string = string> extends Condition {
  type: T;
}

export const JOB_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed'] as const;
export type JobPhase = (typeof JOB_PHASES)[number];

/** Pending/Running/Failed: the services (JI, object search/tracking, feature extraction). */
export type ServiceConditionType = 'Pending' | 'Running' | 'Failed';

/** Waiting → Ready → Starting → Running → Completed | Failed: IL, LL, ReID and video analytics. */
export type StageConditionType = 'Waiting' | 'Ready' | 'Starting' | 'Running' | 'Completed' | 'Failed';

export interface Metric {
  key: string;
  value: string;
}

export const metricsSchema = array(object({ key: string(), value: string() }, ['key', 'value']), 'Metrics reported by the workers.');

/** Counters of the pods or Deployments a controller runs for the resource. */
export interface WorkerCounts {
  active?: number;
  failed?: number;
}

export interface JobCounts extends WorkerCounts {
  succeeded?: number;
}

export const workerCountProperties = {
  active: int32('Number of workers running.'),
  failed: int32('Number of workers that failed.'),
};

export const jobCountProperties = {
  ...workerCountProperties,
  succeeded: int32('Number of workers that succeeded.'),
};

export const phaseSchema = stringEnum(JOB_PHASES, 'Phase of the job: Pending, Running, Succeeded or Failed.');
export const startTimeSchema = dateTime('When the controller acknowledged the resource.');
export const completionTimeSchema = dateTime('When the job completed.');

// Condition types stay open strings, as in Sedna's CRDs: an enum would refuse the status write of a
// newer controller that adds a condition type, and the type list is documented in the TypeScript.
const conditionProperties: Props = {
  type: string('Type of the condition.'),
  status: stringEnum(CONDITION_STATUSES, 'Status of the condition: True, False or Unknown.'),
  reason: string('One-word CamelCase reason for the last transition.'),
  message: string('Human-readable details about the last transition.'),
  lastTransitionTime: dateTime('When the condition last changed status.'),
  lastHeartbeatTime: dateTime('When the condition was last updated.'),
  observedGeneration: int64('The .metadata.generation the condition was set from.'),
};

/** The `conditions` array; `extra` adds a kind's own fields (stage, data, lastProbeTime). */
export function conditionsSchema(extra: Props = {}, required: readonly string[] = []): JSONSchemaProps {
  const item = object({ ...conditionProperties, ...extra }, ['type', 'status', ...required]);
  return array(item, 'Conditions, oldest first: new ones are appended and the last one is the current state.');
}

/** A kind's status: its own fields plus conditions and observedGeneration. */
export function statusSchema(properties: Props, conditions: JSONSchemaProps, required: readonly string[] = []): JSONSchemaProps {
  return object(
    { ...properties, conditions, observedGeneration: int64('The .metadata.generation this status was computed from.') },
    required,
    'Observed state, written by the controllers through the status subresource.',
  );
}

export interface BaseStatus<C extends Condition = SednaCondition> {
  conditions?: C[];
  observedGeneration?: number;
}
