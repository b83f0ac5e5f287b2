// How one built-in kind becomes a ResourceDef (builtin()), and the small helpers the kinds' files
// share. Its own module so builtins.ts, workload-kinds.ts and rbac-kinds.ts can all use it without
// importing each other.
import type { KubeObject } from '../../api/meta.ts';
import { type FieldError, FieldErrors } from '../errors.ts';
import { builtinPatchSchemas } from '../patch/builtin-schemas.ts';
import { builtinColumns } from './builtin-columns.ts';
import { makeFinalizeStrategy, makeStatusStrategy, makeStrategy, type StrategyOptions } from './strategy.ts';
import type { ResourceDef } from './types.ts';
import { type NameRule, validateObjectMeta } from './validation.ts';

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export interface BuiltinSpec {
  group: string;
  version: string;
  kind: string;
  plural: string;
  shortNames?: string[];
  categories?: string[];
  namespaced: boolean;
  nameRule: NameRule;
  strategy: Omit<StrategyOptions, 'validate' | 'validateUpdate'>;
  validate?: (obj: KubeObject) => FieldError[];
  validateUpdate?: (obj: KubeObject, old: KubeObject) => FieldError[];
  subresources?: ResourceDef['subresources'];
  selectableFields?: (obj: KubeObject) => Record<string, string>;
  normalize?: (obj: KubeObject) => string[];
  /** Printer columns and SMP metadata, when not in builtin-columns.ts / builtin-schemas.ts. */
  columns?: ResourceDef['columns'];
  patchSchema?: ResourceDef['patchSchema'];
  verbs?: string[];
  /** A kind served by a handler of its own instead of storage (reviews); see ResourceDef.handler. */
  handler?: ResourceDef['handler'];
}

export function builtin(spec: BuiltinSpec): ResourceDef {
  const key = `${spec.group}/${spec.kind}`;
  const validate = (obj: KubeObject): FieldError[] => [
    ...validateObjectMeta(obj, spec.namespaced, spec.nameRule),
    ...topLevelTypeErrors(obj),
    ...(spec.validate?.(obj) ?? []),
  ];
  const subresources = spec.subresources ?? { status: spec.strategy.statusSubresource };
  return {
    group: spec.group,
    version: spec.version,
    kind: spec.kind,
    listKind: `${spec.kind}List`,
    plural: spec.plural,
    singular: spec.kind.toLowerCase(),
    shortNames: spec.shortNames ?? [],
    categories: spec.categories ?? [],
    namespaced: spec.namespaced,
    verbs: spec.verbs ?? ALL_VERBS,
    subresources,
    strategy: makeStrategy({ ...spec.strategy, validate, ...(spec.validateUpdate ? { validateUpdate: spec.validateUpdate } : {}) }),
    ...(subresources.status ? { statusStrategy: makeStatusStrategy(topLevelTypeErrors) } : {}),
    ...(subresources.finalize ? { finalizeStrategy: makeFinalizeStrategy() } : {}),
    selectableFields: spec.selectableFields ?? (() => ({})),
    columns: spec.columns ?? builtinColumns[key] ?? [],
    patchSchema: spec.patchSchema ?? builtinPatchSchemas[key],
    ...(spec.handler ? { handler: spec.handler } : {}),
    source: 'builtin',
    storageVersion: spec.version,
    ...(spec.normalize ? { normalize: spec.normalize } : {}),
  };
}

/** Kubernetes' PodSpec defaults, for pods and for the templates of workloads. */
export function defaultPodSpec(spec: Record<string, unknown>): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  for (const list of [spec.containers, spec.initContainers]) {
    for (const container of Array.isArray(list) ? list : []) {
      for (const port of Array.isArray(record(container).ports) ? (record(container).ports as unknown[]) : []) {
        record(port).protocol ??= 'TCP';
      }
    }
  }
}

export function str(value: unknown): string {
  if (typeof value === 'string') return value;
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

export function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function immutableSelector(obj: KubeObject, old: KubeObject): FieldError[] {
  const selector = JSON.stringify(record(obj.spec).selector);
  const oldSelector = JSON.stringify(record(old.spec).selector);
  return selector === oldSelector ? [] : [FieldErrors.invalid('spec.selector', record(obj.spec).selector, 'field is immutable')];
}

/** spec and status of a built-in kind are structs: a string or a list there is never stored. */
function topLevelTypeErrors(obj: KubeObject): FieldError[] {
  return (['spec', 'status'] as const).flatMap((field) => {
    const value = obj[field];
    if (value === undefined || value === null || (typeof value === 'object' && !Array.isArray(value))) return [];
    return [FieldErrors.typeInvalid(field, value, 'must be an object')];
  });
}
