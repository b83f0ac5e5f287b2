// What the generic store needs to know about one kind. Built-in kinds and every served CRD
// version are described by the same shape, so one set of REST verbs serves them all.
import type { JSONSchemaProps, KubeObject } from '../../api/meta.ts';
import type { FieldError } from '../errors.ts';
import type { PatchSchema } from '../patch/strategic-merge.ts';
import type { UserInfo } from '../authn/user.ts';
import type { AuthServices } from '../authz/types.ts';

/** Per-kind hooks, after Kubernetes' rest.RESTCreateStrategy / RESTUpdateStrategy. */
export interface Strategy {
  /** Clears or fills fields the server owns before a create (status, generation). May mutate. */
  prepareForCreate(obj: KubeObject): void;
  /** Checks a new object. Must not mutate. */
  validate(obj: KubeObject): FieldError[];
  /** Carries over what the caller may not change and bumps generation. May mutate `obj`. */
  prepareForUpdate(obj: KubeObject, old: KubeObject): void;
  /** Checks an update (immutability and the object itself). Must not mutate. */
  validateUpdate(obj: KubeObject, old: KubeObject): FieldError[];
  /** PUT on a missing object creates it. */
  allowCreateOnUpdate: boolean;
  /** PUT without metadata.resourceVersion overwrites the latest version. */
  allowUnconditionalUpdate: boolean;
  /** Seconds a delete waits before the object goes (pods on a node: their grace period). */
  gracePeriod?(obj: KubeObject, requested: number | undefined): number;
  /** Finalizers kept outside metadata.finalizers (a namespace's spec.finalizers). */
  pendingFinalizers?(obj: KubeObject): string[];
  /** Marks an object whose deletion has begun (a namespace turns Terminating). May mutate. */
  prepareForDelete?(obj: KubeObject): void;
}

/** One column of `kubectl get` output (a meta/v1 TableColumnDefinition plus how to fill it). */
export interface ColumnSpec {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  /** CRD columns carry a JSONPath; built-in columns compute the cell. */
  jsonPath?: string;
  cell?: (obj: KubeObject, now: Date) => unknown;
}

export interface ScaleSubresource {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

export interface ResourceDef {
  /** '' for the core group. */
  group: string;
  version: string;
  kind: string;
  listKind: string;
  /** The URL segment: pods, jointinferenceservices. */
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  verbs: string[];
  subresources: {
    status: boolean;
    scale?: ScaleSubresource;
    /** pods/log */
    log?: boolean;
    /** namespaces/finalize */
    finalize?: boolean;
  };
  strategy: Strategy;
  /** Status-subresource strategy: keeps spec and metadata, takes status. */
  statusStrategy?: Strategy;
  /** namespaces/finalize: takes only spec.finalizers. */
  finalizeStrategy?: Strategy;
  /** Values field selectors may match; metadata.name and metadata.namespace are always there. */
  selectableFields(obj: KubeObject): Record<string, string>;
  columns: ColumnSpec[];
  /** Structural schema of a CRD version (validation, defaulting, pruning). */
  schema?: JSONSchemaProps;
  /**
   * Decoding step run on every incoming object before the strategy: prunes unknown fields and
   * applies schema defaults (CRDs). Returns the paths of the fields it dropped, so the request's
   * fieldValidation can warn about them or refuse them.
   */
  normalize?: (obj: KubeObject) => string[];
  /** Strategic-merge-patch metadata for built-in kinds; undefined means the kind refuses SMP. */
  patchSchema?: PatchSchema;
  /**
   * Kinds that are never stored (TokenReview, SubjectAccessReview): a create runs this and answers
   * with what it returns.
   */
  handler?: (body: KubeObject, context: { user: UserInfo; namespace: string | undefined; auth: AuthServices }) => KubeObject;
  /** Where the definition came from; CRD-backed kinds go away with their CRD. */
  source: 'builtin' | 'crd';
  /** The version objects are stored in; differs from `version` only for multi-version CRDs. */
  storageVersion: string;
}

export function apiVersionOf(def: Pick<ResourceDef, 'group' | 'version'>): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

/** The group/resource pair used in error messages and storage keys. */
export function groupResource(def: Pick<ResourceDef, 'group' | 'plural'>): { group: string; resource: string } {
  return { group: def.group, resource: def.plural };
}
