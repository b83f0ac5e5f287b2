// Pod and workload checks: enough of Kubernetes' ValidatePodSpec that a broken pod is refused with
// the field named, plus the rule that a running pod's spec is immutable but for its images.
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../api/meta.ts';
import { type FieldError, FieldErrors } from '../errors.ts';
import { labelSelectorFromObject } from '../../api/selectors/labels.ts';
import { containerFieldErrors, volumesErrors } from './container-validation.ts';
import { dnsLabelErrors, validateLabels } from './validation.ts';
import type { LabelSelector } from '../../api/meta.ts';

const INT32_MAX = 2 ** 31 - 1;

/** An int32 field of the Go type: a whole number within range, at least `min` when given. */
export function int32Errors(value: unknown, field: string, min?: number): FieldError[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'number' || !Number.isInteger(value)) return [FieldErrors.typeInvalid(field, value, 'must be an integer')];
  if (value > INT32_MAX || value < -INT32_MAX - 1) return [FieldErrors.invalid(field, value, 'must be a 32-bit integer (at most 2147483647)')];
  if (min !== undefined && value < min) return [FieldErrors.invalid(field, value, `must be greater than or equal to ${min}`)];
  return [];
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];

export function validatePodSpec(value: unknown, path: string): FieldError[] {
  const spec = record(value);
  if (value === undefined) return [FieldErrors.required(path)];
  const errors: FieldError[] = [];
  const containers = spec.containers;
  if (containers !== undefined && !Array.isArray(containers)) errors.push(FieldErrors.typeInvalid(`${path}.containers`, containers, 'must be a list'));
  else if (!Array.isArray(containers) || containers.length === 0) errors.push(FieldErrors.required(`${path}.containers`));
  else errors.push(...validateContainers(containers, `${path}.containers`));
  if (Array.isArray(spec.initContainers)) errors.push(...validateContainers(spec.initContainers, `${path}.initContainers`));
  else if (spec.initContainers !== undefined) errors.push(FieldErrors.typeInvalid(`${path}.initContainers`, spec.initContainers, 'must be a list'));
  errors.push(...volumesErrors(spec.volumes, `${path}.volumes`));
  if (spec.restartPolicy !== undefined && !RESTART_POLICIES.includes(spec.restartPolicy as string)) {
    errors.push(FieldErrors.notSupported(`${path}.restartPolicy`, spec.restartPolicy, RESTART_POLICIES));
  }
  const grace = spec.terminationGracePeriodSeconds;
  if (grace !== undefined && (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0)) {
    errors.push(FieldErrors.invalid(`${path}.terminationGracePeriodSeconds`, grace, 'must be greater than or equal to 0'));
  }
  if (spec.nodeName !== undefined && typeof spec.nodeName !== 'string') {
    errors.push(FieldErrors.invalid(`${path}.nodeName`, spec.nodeName, 'must be a string'));
  }
  return errors;
}

function validateContainers(containers: unknown[], path: string): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  containers.forEach((c, i) => {
    const container = record(c);
    const at = `${path}[${i}]`;
    const name = container.name;
    if (typeof name !== 'string' || name === '') errors.push(FieldErrors.required(`${at}.name`));
    else {
      for (const m of dnsLabelErrors(name)) errors.push(FieldErrors.invalid(`${at}.name`, name, m));
      if (seen.has(name)) errors.push(FieldErrors.duplicate(`${at}.name`, name));
      seen.add(name);
    }
    if (typeof container.image !== 'string' || container.image.trim() === '') errors.push(FieldErrors.required(`${at}.image`));
    errors.push(...containerFieldErrors(container, at));
  });
  return errors;
}

/** Only images (and a few scheduling fields) of a pod may change after it is created. */
export function validatePodUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const mask = (spec: unknown): unknown => {
    const copy = structuredClone(record(spec));
    for (const key of ['containers', 'initContainers']) {
      if (Array.isArray(copy[key])) copy[key] = (copy[key] as unknown[]).map((c) => ({ ...record(c), image: '' }));
    }
    delete copy.activeDeadlineSeconds;
    delete copy.tolerations;
    // The scheduler binds a pending pod by setting nodeName once.
    if (!record(old.spec).nodeName) delete copy.nodeName;
    return copy;
  };
  if (isDeepStrictEqual(mask(obj.spec), mask(old.spec))) return [];
  return [
    FieldErrors.forbidden(
      'spec',
      'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations)',
    ),
  ];
}

/** Deployment and ReplicaSet: a selector that selects the template's labels, and a valid template. */
export function validateWorkloadSpec(value: unknown): FieldError[] {
  const spec = record(value);
  const errors: FieldError[] = [];
  errors.push(...int32Errors(spec.replicas, 'spec.replicas', 0));
  const selector = spec.selector as LabelSelector | undefined;
  const template = record(spec.template);
  const labels = record(record(template.metadata).labels) as Record<string, string>;
  if (!selector || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0)) {
    errors.push(FieldErrors.required('spec.selector'));
  } else if (!labelSelectorFromObject(selector).matches(labels)) {
    errors.push(FieldErrors.invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
  }
  errors.push(...validateLabels(record(template.metadata).labels, 'spec.template.metadata.labels'));
  errors.push(...int32Errors(spec.minReadySeconds, 'spec.minReadySeconds', 0));
  errors.push(...int32Errors(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit', 0));
  errors.push(...int32Errors(spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds', 0));
  errors.push(...strategyErrors(spec.strategy));
  errors.push(...validatePodSpec(template.spec, 'spec.template.spec'));
  return errors;
}

const DEPLOYMENT_STRATEGIES = ['Recreate', 'RollingUpdate'];

/** A Deployment's strategy (a ReplicaSet has none): a known type, rollingUpdate only with RollingUpdate. */
function strategyErrors(value: unknown): FieldError[] {
  if (value === undefined) return [];
  const strategy = record(value);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [FieldErrors.typeInvalid('spec.strategy', value, 'must be an object')];
  if (!DEPLOYMENT_STRATEGIES.includes(strategy.type as string)) return [FieldErrors.notSupported('spec.strategy.type', strategy.type, DEPLOYMENT_STRATEGIES)];
  if (strategy.type === 'Recreate' && strategy.rollingUpdate !== undefined && strategy.rollingUpdate !== null) {
    return [FieldErrors.forbidden('spec.strategy.rollingUpdate', 'may not be specified when strategy `type` is \'Recreate\'')];
  }
  return [];
}
