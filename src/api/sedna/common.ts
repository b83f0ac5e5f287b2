// Spec pieces several Sedna kinds share (pkg/apis/sedna/v1alpha1/common_types.go and the IL/LL
// trigger): references to other Sedna resources, key/value parameters, hard-example mining and
// the train/deploy trigger, and the tracking and ReID workers of object search and tracking.
import type { JSONSchemaProps } from '../meta.ts';
import { array, integer, number, object, string, stringEnum } from './schema.ts';
import { DEPLOYMENT_SPEC_REQUIRED, deploymentSpecProperties, podTemplateSchema } from './workloads.ts';
import type { DeploymentSpec, PodTemplateSpec } from './workloads.ts';

/** A reference to a Model or Dataset in the resource's own namespace. */
export interface NamedRef {
  name: string;
}

export function refSchema(what: 'Model' | 'Dataset'): JSONSchemaProps {
  return object({ name: string(`Name of a ${what} in the same namespace.`) }, ['name']);
}

export interface ParaSpec {
  key: string;
  value: string;
}

export const paraSpecSchema = object({ key: string(), value: string() }, ['key', 'value']);

export interface HardExampleMining {
  name: string;
  parameters?: ParaSpec[];
}

export const hardExampleMiningSchema = object(
  {
    name: string('Hard-example mining algorithm, e.g. IBT or CrossEntropy (the worker reads it as HEM_NAME).'),
    parameters: array(paraSpecSchema, 'Algorithm parameters (the worker reads them as HEM_PARAMETERS).'),
  },
  ['name'],
);

// Every operator the LocalController's trigger understands (spec §4.7). Sedna's CRD takes any
// string and an unknown operator silently never fires, so we refuse it when the resource is applied.
export const TRIGGER_OPERATORS = ['>', 'gt', '>=', 'ge', '=', '==', 'eq', '!=', 'ne', '<', 'lt', '<=', 'le'] as const;
export type TriggerOperator = (typeof TRIGGER_OPERATORS)[number];

export interface TriggerCondition {
  operator: TriggerOperator;
  threshold: number;
  metric: string;
}

export interface Trigger {
  /** Accepted for compatibility; the LocalController checks on its own period. */
  checkPeriodSeconds?: number;
  /** A daily window of local HH:MM times; start after end means it crosses midnight. */
  timer?: { start: string; end: string };
  condition: TriggerCondition;
}

export const triggerSchema = object(
  {
    checkPeriodSeconds: integer('Accepted for compatibility with Sedna; the LocalController uses its own period.'),
    timer: object({ start: string('HH:MM, local time.'), end: string('HH:MM, local time.') }, ['start', 'end']),
    condition: object(
      {
        operator: stringEnum(TRIGGER_OPERATORS, 'Comparison of the metric with the threshold.'),
        threshold: number(),
        metric: string('Statistic to compare, e.g. num_of_samples or precision_delta[0].'),
      },
      ['operator', 'threshold', 'metric'],
    ),
  },
  ['condition'],
);

/** One tracking pod per element of trackingWorkers (object search and object tracking). */
export interface TrackingWorker {
  template: PodTemplateSpec;
}

export const trackingWorkersSchema = array(object({ template: podTemplateSchema }, ['template']), 'One tracking worker pod per element.');

/** An inlined apps/v1 DeploymentSpec; Sedna's controller uses its replicas and template only. */
export type ReidWorkers = DeploymentSpec;

export const reidWorkersSchema = object(deploymentSpecProperties, DEPLOYMENT_SPEC_REQUIRED, 'The ReID workers, run as one Deployment.');
