// The rules every kind shares: who may change spec, status and metadata, and when generation moves.
// A kind picks one of these and adds its own validation; see Kubernetes' pkg/registry/*/strategy.go.
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../api/meta.ts';
import type { FieldError } from '../errors.ts';
import type { Strategy } from './types.ts';

export interface StrategyOptions {
  /** The kind has a /status subresource: the main endpoint keeps the stored status. */
  statusSubresource: boolean;
  /** Status given on create is dropped (most kinds with a status subresource). */
  resetStatusOnCreate?: boolean;
  /**
   * What counts as the spec for generation: 'spec' compares `.spec`; 'all' compares every top-level
   * field but metadata and status (CRDs, whose shape the server does not know).
   */
  generationFrom?: 'spec' | 'all' | 'none';
  /** Fills server-owned defaults on create (e.g. a pod's phase). */
  defaultOnCreate?: (obj: KubeObject) => void;
  /**
   * Defaulting of the API's optional fields, on every write as Kubernetes does when it decodes a
   * request: a replaced pod template must come out the same as a created one, or controllers that
   * compare templates (the Deployment controller's hash) see a difference that is not there.
   */
  defaults?: (obj: KubeObject) => void;
  validate?: (obj: KubeObject) => FieldError[];
  validateUpdate?: (obj: KubeObject, old: KubeObject) => FieldError[];
  allowCreateOnUpdate?: boolean;
  /** Copies fields the main endpoint may not change from the stored object. May mutate `obj`. */
  keepOnUpdate?: (obj: KubeObject, old: KubeObject) => void;
  gracePeriod?: Strategy['gracePeriod'];
  pendingFinalizers?: Strategy['pendingFinalizers'];
  prepareForDelete?: Strategy['prepareForDelete'];
}

function specOf(obj: KubeObject, from: 'spec' | 'all'): unknown {
  if (from === 'spec') return obj.spec;
  const { metadata: _metadata, status: _status, apiVersion: _apiVersion, kind: _kind, ...rest } = obj;
  return rest;
}

export function makeStrategy(options: StrategyOptions): Strategy {
  const generationFrom = options.generationFrom ?? 'spec';
  return {
    prepareForCreate(obj) {
      if (options.statusSubresource && options.resetStatusOnCreate !== false) delete obj.status;
      if (generationFrom !== 'none') obj.metadata.generation = 1;
      options.defaults?.(obj);
      options.defaultOnCreate?.(obj);
    },
    validate: (obj) => options.validate?.(obj) ?? [],
    prepareForUpdate(obj, old) {
      options.defaults?.(obj);
      options.keepOnUpdate?.(obj, old);
      if (options.statusSubresource) {
        if (old.status === undefined) delete obj.status;
        else obj.status = old.status;
      }
      if (generationFrom === 'none') return;
      const oldGeneration = old.metadata.generation ?? 1;
      const specChanged = !isDeepStrictEqual(specOf(obj, generationFrom), specOf(old, generationFrom));
      obj.metadata.generation = specChanged ? oldGeneration + 1 : oldGeneration;
    },
    validateUpdate: (obj, old) => [...(options.validate?.(obj) ?? []), ...(options.validateUpdate?.(obj, old) ?? [])],
    allowCreateOnUpdate: options.allowCreateOnUpdate ?? false,
    allowUnconditionalUpdate: true,
    ...(options.gracePeriod ? { gracePeriod: options.gracePeriod } : {}),
    ...(options.pendingFinalizers ? { pendingFinalizers: options.pendingFinalizers } : {}),
    ...(options.prepareForDelete ? { prepareForDelete: options.prepareForDelete } : {}),
  };
}

/**
 * The /status door: only status changes. Spec, labels, annotations, finalizers and owners come
 * from the stored object, so a status writer can never clobber a user's edit.
 */
export function makeStatusStrategy(validateStatus?: (obj: KubeObject) => FieldError[]): Strategy {
  return {
    prepareForCreate() {},
    validate: () => [],
    prepareForUpdate(obj, old) {
      const status = obj.status;
      for (const key of Object.keys(obj)) if (key !== 'status' && key !== 'metadata') delete obj[key];
      for (const [key, value] of Object.entries(old)) if (key !== 'status' && key !== 'metadata') obj[key] = value;
      obj.metadata = { ...old.metadata, resourceVersion: obj.metadata.resourceVersion };
      if (status === undefined) delete obj.status;
      else obj.status = status;
    },
    validateUpdate: (obj) => validateStatus?.(obj) ?? [],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  };
}

/** namespaces/finalize: the namespace controller's door, which changes spec.finalizers only. */
export function makeFinalizeStrategy(): Strategy {
  return {
    prepareForCreate() {},
    validate: () => [],
    prepareForUpdate(obj, old) {
      const finalizers = (obj.spec as { finalizers?: unknown } | undefined)?.finalizers;
      const next = structuredClone(old);
      next.spec = { ...(old.spec as object), finalizers: Array.isArray(finalizers) ? finalizers : [] };
      for (const key of Object.keys(obj)) delete obj[key];
      Object.assign(obj, next, { metadata: { ...old.metadata, resourceVersion: obj.metadata?.resourceVersion } });
    },
    validateUpdate: () => [],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  };
}
