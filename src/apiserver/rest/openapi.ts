// The OpenAPI documents kubectl reads: /openapi/v3 (an index of group-version documents, each
// with a content hash so clients can cache them), /openapi/v3/api/v1 and
// /openapi/v3/apis/GROUP/VERSION (what `kubectl explain` renders and what `kubectl apply` and
// `kubectl create` inspect), and /openapi/v2 for older clients.
//
// Two things in here steer kubectl's behaviour and must not be "tidied away":
//  * Every kind has a PATCH operation that carries `x-kubernetes-group-version-kind` and the
//    `fieldValidation` query parameter. That is the only way kubectl 1.32 learns that the server
//    validates fields itself; without it kubectl falls back to client-side validation against
//    these (deliberately permissive) schemas.
//  * No PATCH operation lists application/strategic-merge-patch+json. kubectl would otherwise
//    compute strategic merge patches from these schemas, which carry no patch-merge-key metadata;
//    without it kubectl uses its compiled-in types for built-in kinds and JSON merge patch for
//    custom resources, exactly as against a real cluster for CRDs.
import { createHash } from 'node:crypto';
import type { JSONSchemaProps } from '../../api/meta.ts';
import type { ResourceDef } from '../registry/types.ts';
import { defsOf, kindOf, SCALE_GVK, servedGroups, subresourcesOf, versionInfo } from './discovery.ts';
import type { GroupVersionKind, SubresourceInfo } from './discovery.ts';

type Schema = { [key: string]: unknown };
type RefFn = (name: string) => string;

const V3_REF: RefFn = (name) => `#/components/schemas/${name}`;
const V2_REF: RefFn = (name) => `#/definitions/${name}`;

const GVK_EXT = 'x-kubernetes-group-version-kind';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const OBJECT_META = `${META}.ObjectMeta`;
const LIST_META = `${META}.ListMeta`;
const STATUS = `${META}.Status`;
const DELETE_OPTIONS = `${META}.DeleteOptions`;
const PATCH = `${META}.Patch`;
const SCALE = 'io.k8s.api.autoscaling.v1.Scale';

/** The patch formats the server accepts, strategic merge patch intentionally absent (see above). */
const PATCH_CONTENT_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];

// ---------------------------------------------------------------------------------------------
// Schema names

function groupIdent(group: string): string {
  const parts = (group || 'core').replace(/\.k8s\.io$/, '').split(/[.-]/);
  return parts.map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');
}

/** Built-ins follow upstream (io.k8s.api.apps.v1.Deployment); CRDs use the reversed group
 *  (io.sedna.v1alpha1.Dataset), as the apiextensions server names them. */
function schemaPrefix(def: ResourceDef): string {
  if (def.source === 'builtin') return `io.k8s.api.${def.group ? def.group.split('.')[0] : 'core'}.${def.version}`;
  return `${def.group.split('.').reverse().join('.')}.${def.version}`;
}

function kindSchemaName(def: ResourceDef): string {
  return `${schemaPrefix(def)}.${def.kind}`;
}

function listSchemaName(def: ResourceDef): string {
  return `${schemaPrefix(def)}.${def.listKind}`;
}

// ---------------------------------------------------------------------------------------------
// Component schemas

function gvkList(gvk: GroupVersionKind): GroupVersionKind[] {
  return [{ group: gvk.group, version: gvk.version, kind: gvk.kind }];
}

function typeMetaProperties(ref: RefFn, metaRef: string, metaDescription: string): Schema {
  return {
    apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
    kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
    // allOf rather than a bare $ref: in OpenAPI 3.0 siblings of $ref (the description) are ignored.
    metadata: { allOf: [{ $ref: ref(metaRef) }], description: metaDescription },
  };
}

const OBJECT_META_DESCRIPTION = "Standard object's metadata.";

function stringMap(description: string): Schema {
  return { type: 'object', additionalProperties: { type: 'string' }, description };
}

function dateTime(description: string): Schema {
  return { type: 'string', format: 'date-time', description };
}

function objectMetaSchema(ref: RefFn): Schema {
  return {
    type: 'object',
    description: 'ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.',
    properties: {
      name: { type: 'string', description: 'Name must be unique within a namespace.' },
      generateName: { type: 'string', description: 'Optional prefix used by the server to generate a unique name if name is not provided.' },
      namespace: { type: 'string', description: 'Namespace defines the space within which each name must be unique.' },
      uid: { type: 'string', description: 'UID is the unique in time and space value for this object. Read-only.' },
      resourceVersion: { type: 'string', description: 'An opaque value that represents the internal version of this object. Read-only.' },
      generation: { type: 'integer', format: 'int64', description: 'A sequence number representing a specific generation of the desired state. Read-only.' },
      creationTimestamp: dateTime('The time this object was created. Read-only.'),
      deletionTimestamp: dateTime('The time after which this resource will be deleted. Read-only.'),
      deletionGracePeriodSeconds: { type: 'integer', format: 'int64', description: 'Seconds allowed for graceful termination. Read-only.' },
      labels: stringMap('Map of string keys and values used to organize and categorize objects.'),
      annotations: stringMap('Unstructured key value map stored with a resource for arbitrary metadata.'),
      ownerReferences: {
        type: 'array',
        items: { $ref: ref(`${META}.OwnerReference`) },
        description: 'Objects this object depends on; it is garbage collected when all owners are gone.',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['uid'],
      },
      finalizers: { type: 'array', items: { type: 'string' }, description: 'Must be empty before the object is deleted from the registry.', 'x-kubernetes-list-type': 'set' },
      managedFields: { type: 'array', items: { $ref: ref(`${META}.ManagedFieldsEntry`) }, description: 'Which manager owns which fields (server-side apply).' },
    },
  };
}

function ownerReferenceSchema(): Schema {
  return {
    type: 'object',
    description: 'OwnerReference identifies an owning object in the same namespace.',
    required: ['apiVersion', 'kind', 'name', 'uid'],
    properties: {
      apiVersion: { type: 'string', description: 'API version of the referent.' },
      kind: { type: 'string', description: 'Kind of the referent.' },
      name: { type: 'string', description: 'Name of the referent.' },
      uid: { type: 'string', description: 'UID of the referent.' },
      controller: { type: 'boolean', description: 'If true, this reference points to the managing controller.' },
      blockOwnerDeletion: { type: 'boolean', description: 'If true, the owner cannot be deleted before this object is removed.' },
    },
    'x-kubernetes-map-type': 'atomic',
  };
}

function managedFieldsEntrySchema(): Schema {
  return {
    type: 'object',
    description: 'ManagedFieldsEntry is a workflow-id, a FieldSet and the group version of the resource that the fieldset applies to.',
    properties: {
      manager: { type: 'string', description: 'The workflow managing these fields.' },
      operation: { type: 'string', description: 'Apply or Update.' },
      apiVersion: { type: 'string', description: 'The version of the resource this field set applies to.' },
      time: dateTime('When the entry was last changed.'),
      fieldsType: { type: 'string', description: 'The format of fieldsV1; only FieldsV1.' },
      fieldsV1: { type: 'object', description: 'The owned fields.' },
      subresource: { type: 'string', description: 'The subresource the fields were written through.' },
    },
  };
}

function listMetaSchema(): Schema {
  return {
    type: 'object',
    description: 'ListMeta describes metadata that synthetic resources must have, including lists.',
    properties: {
      resourceVersion: { type: 'string', description: 'The version of the list; use it to start a watch.' },
      continue: { type: 'string', description: 'Token for retrieving the next page when the list was limited.' },
      remainingItemCount: { type: 'integer', format: 'int64', description: 'Items left after this page (estimate).' },
    },
  };
}

function statusSchema(ref: RefFn): Schema {
  return {
    type: 'object',
    description: 'Status is a return value for calls that do not return other objects.',
    properties: {
      ...typeMetaProperties(ref, LIST_META, 'Standard list metadata.'),
      status: { type: 'string', description: 'Success or Failure.' },
      message: { type: 'string', description: 'A human-readable description of the status of this operation.' },
      reason: { type: 'string', description: 'A machine-readable description of why this operation is in the Failure status.' },
      details: { type: 'object', description: 'Extended data associated with the reason.', 'x-kubernetes-preserve-unknown-fields': true },
      code: { type: 'integer', format: 'int32', description: 'Suggested HTTP return code for this status.' },
    },
    [GVK_EXT]: gvkList({ group: '', version: 'v1', kind: 'Status' }),
  };
}

function deleteOptionsSchema(): Schema {
  return {
    type: 'object',
    description: 'DeleteOptions may be provided when deleting an API object.',
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion of this representation.' },
      kind: { type: 'string', description: 'Kind of this representation.' },
      dryRun: { type: 'array', items: { type: 'string' }, description: 'All: process the request without persisting it.' },
      gracePeriodSeconds: { type: 'integer', format: 'int64', description: 'Seconds before the object should be deleted.' },
      orphanDependents: { type: 'boolean', description: 'Deprecated: use propagationPolicy.' },
      propagationPolicy: { type: 'string', description: 'Orphan, Background or Foreground garbage collection.' },
      preconditions: {
        type: 'object',
        description: 'Must be fulfilled before a deletion is carried out.',
        properties: { resourceVersion: { type: 'string', description: 'The target ResourceVersion.' }, uid: { type: 'string', description: 'The target UID.' } },
      },
    },
    [GVK_EXT]: gvkList({ group: '', version: 'v1', kind: 'DeleteOptions' }),
  };
}

function scaleSchema(ref: RefFn): Schema {
  return {
    type: 'object',
    description: 'Scale represents a scaling request for a resource.',
    properties: {
      ...typeMetaProperties(ref, OBJECT_META, OBJECT_META_DESCRIPTION),
      spec: { type: 'object', description: 'Desired state.', properties: { replicas: { type: 'integer', format: 'int32', description: 'Desired number of instances.' } } },
      status: {
        type: 'object',
        description: 'Current state; read-only.',
        required: ['replicas'],
        properties: {
          replicas: { type: 'integer', format: 'int32', description: 'Actual number of observed instances.' },
          selector: { type: 'string', description: 'Label query over the pods counted in replicas.' },
        },
      },
    },
    [GVK_EXT]: gvkList(SCALE_GVK),
  };
}

/** The apimachinery types every group-version document refers to. */
function metaSchemas(ref: RefFn): Record<string, Schema> {
  return {
    [DELETE_OPTIONS]: deleteOptionsSchema(),
    [LIST_META]: listMetaSchema(),
    [`${META}.ManagedFieldsEntry`]: managedFieldsEntrySchema(),
    [OBJECT_META]: objectMetaSchema(ref),
    [`${META}.OwnerReference`]: ownerReferenceSchema(),
    [PATCH]: { type: 'object', description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.' },
    [STATUS]: statusSchema(ref),
  };
}

/** Swagger 2.0 knows neither nullable nor anyOf/oneOf/not. Like upstream, a nullable field loses
 *  its type (so null passes) and the unsupported combinators are dropped. */
function toV2Schema(schema: JSONSchemaProps): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'nullable' || key === 'anyOf' || key === 'oneOf' || key === 'not') continue;
    if (key === 'properties') out[key] = Object.fromEntries(Object.entries(value as Record<string, JSONSchemaProps>).map(([k, v]) => [k, toV2Schema(v)]));
    else if (key === 'items' || (key === 'additionalProperties' && typeof value === 'object')) out[key] = toV2Schema(value as JSONSchemaProps);
    else if (key === 'allOf') out[key] = (value as JSONSchemaProps[]).map(toV2Schema);
    else out[key] = value;
  }
  if (schema.nullable) delete out.type;
  return out;
}

function kindDescription(def: ResourceDef): string {
  const apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
  if (def.source === 'crd') return `${def.kind} (${apiVersion}), defined by a CustomResourceDefinition.`;
  return `${def.kind} (${apiVersion}) is a built-in Kubernetes kind. This server does not publish its field schema; see the Kubernetes API reference.`;
}

/** A CRD version's structural schema, with the TypeMeta/ObjectMeta fields every object has. */
function crdKindSchema(def: ResourceDef, schema: JSONSchemaProps, ref: RefFn, dialect: 'v2' | 'v3'): Schema {
  const base = dialect === 'v2' ? toV2Schema(schema) : (structuredClone(schema) as Schema);
  const properties = (base.properties ?? {}) as Schema;
  return {
    ...base,
    type: 'object',
    description: schema.description ?? kindDescription(def),
    properties: { ...properties, ...typeMetaProperties(ref, OBJECT_META, OBJECT_META_DESCRIPTION) },
    [GVK_EXT]: gvkList(kindOf(def)),
  };
}

/** Built-in kinds and schemaless CRDs: any fields pass, but explain still knows the kind. */
function permissiveKindSchema(def: ResourceDef, ref: RefFn): Schema {
  return {
    type: 'object',
    description: kindDescription(def),
    properties: typeMetaProperties(ref, OBJECT_META, OBJECT_META_DESCRIPTION),
    'x-kubernetes-preserve-unknown-fields': true,
    [GVK_EXT]: gvkList(kindOf(def)),
  };
}

function listSchema(def: ResourceDef, ref: RefFn): Schema {
  return {
    type: 'object',
    description: `${def.listKind} is a list of ${def.kind}.`,
    required: ['items'],
    properties: {
      ...typeMetaProperties(ref, LIST_META, 'Standard list metadata.'),
      items: { type: 'array', items: { $ref: ref(kindSchemaName(def)) }, description: `List of ${def.plural}.` },
    },
    [GVK_EXT]: gvkList({ group: def.group, version: def.version, kind: def.listKind }),
  };
}

function kindSchemas(defs: readonly ResourceDef[], ref: RefFn, dialect: 'v2' | 'v3'): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  for (const def of defs) {
    out[kindSchemaName(def)] = def.source === 'crd' && def.schema ? crdKindSchema(def, def.schema, ref, dialect) : permissiveKindSchema(def, ref);
    out[listSchemaName(def)] = listSchema(def, ref);
    if (def.subresources.scale) out[SCALE] = scaleSchema(ref);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Operations, described once and rendered as OpenAPI 3 or Swagger 2

type Method = 'get' | 'put' | 'post' | 'delete' | 'patch';
type Body = { kind: 'object'; schema: string } | { kind: 'patch' } | { kind: 'delete' };

interface OperationSpec {
  method: Method;
  action: string;
  operationId: string;
  description: string;
  gvk: GroupVersionKind;
  query: readonly string[];
  body?: Body;
  /** A schema name, or 'text' for pods/log. */
  response: string;
  codes: readonly string[];
}

interface PathSpec {
  path: string;
  pathParams: ('namespace' | 'name')[];
  tag: string;
  operations: OperationSpec[];
}

interface ParamInfo {
  type: 'string' | 'boolean' | 'integer';
  description: string;
}

const PARAMS: Record<string, ParamInfo> = {
  allowWatchBookmarks: { type: 'boolean', description: 'Ask for BOOKMARK watch events.' },
  container: { type: 'string', description: 'The container for which to stream logs.' },
  continue: { type: 'string', description: 'The continue token of a previous limited list.' },
  dryRun: { type: 'string', description: 'All: process the request without persisting it.' },
  fieldManager: { type: 'string', description: 'Name of the actor making the change, for managedFields.' },
  fieldSelector: { type: 'string', description: 'Restrict the returned objects by their fields.' },
  fieldValidation: {
    type: 'string',
    description: 'How the server treats unknown or duplicate fields in the request: Ignore, Warn (the default) or Strict.',
  },
  follow: { type: 'boolean', description: 'Follow the log stream.' },
  force: { type: 'boolean', description: 'Take ownership of conflicting fields on apply (apply patches only).' },
  gracePeriodSeconds: { type: 'integer', description: 'Seconds before the object should be deleted.' },
  labelSelector: { type: 'string', description: 'Restrict the returned objects by their labels.' },
  limit: { type: 'integer', description: 'Maximum number of items to return.' },
  limitBytes: { type: 'integer', description: 'Maximum number of log bytes to return.' },
  orphanDependents: { type: 'boolean', description: 'Deprecated: use propagationPolicy.' },
  previous: { type: 'boolean', description: 'Return the logs of the previous container instance.' },
  propagationPolicy: { type: 'string', description: 'Orphan, Background or Foreground garbage collection.' },
  resourceVersion: { type: 'string', description: 'Which version of the collection to list or watch from.' },
  resourceVersionMatch: { type: 'string', description: 'How resourceVersion applies to list calls.' },
  sendInitialEvents: { type: 'boolean', description: 'Start a watch with synthetic events for the current state.' },
  sinceSeconds: { type: 'integer', description: 'Only logs newer than this many seconds.' },
  tailLines: { type: 'integer', description: 'Number of lines from the end of the log to show.' },
  timeoutSeconds: { type: 'integer', description: 'Timeout for the list/watch call.' },
  timestamps: { type: 'boolean', description: 'Prefix every log line with its timestamp.' },
  watch: { type: 'boolean', description: 'Watch for changes instead of listing.' },
};

const PATH_PARAMS: Record<'namespace' | 'name', string> = {
  namespace: 'object name and auth scope, such as for teams and projects',
  name: 'name of the object',
};

const LIST_QUERY = ['allowWatchBookmarks', 'continue', 'fieldSelector', 'labelSelector', 'limit', 'resourceVersion', 'resourceVersionMatch', 'sendInitialEvents', 'timeoutSeconds', 'watch'];
const WRITE_QUERY = ['dryRun', 'fieldManager', 'fieldValidation'];
const PATCH_QUERY = ['dryRun', 'fieldManager', 'fieldValidation', 'force'];
const DELETE_QUERY = ['dryRun', 'gracePeriodSeconds', 'orphanDependents', 'propagationPolicy'];
const DELETECOLLECTION_QUERY = ['continue', 'dryRun', 'fieldSelector', 'gracePeriodSeconds', 'labelSelector', 'limit', 'orphanDependents', 'propagationPolicy', 'resourceVersion', 'resourceVersionMatch', 'sendInitialEvents', 'timeoutSeconds'];
const LOG_QUERY = ['container', 'follow', 'limitBytes', 'previous', 'sinceSeconds', 'tailLines', 'timestamps'];

interface Naming {
  /** e.g. CoreV1NamespacedPod, the stem of upstream-style operation ids. */
  id: string;
  /** e.g. CoreV1PodForAllNamespaces. */
  allNamespacesId: string;
  def: ResourceDef;
}

function naming(def: ResourceDef): Naming {
  const gv = `${groupIdent(def.group)}${def.version.charAt(0).toUpperCase()}${def.version.slice(1)}`;
  return { id: `${gv}${def.namespaced ? 'Namespaced' : ''}${def.kind}`, allNamespacesId: `${gv}${def.kind}ForAllNamespaces`, def };
}

function patchOperation(n: Naming, gvk: GroupVersionKind, response: string, suffix: string, what: string): OperationSpec {
  return {
    method: 'patch',
    action: 'patch',
    operationId: `patch${n.id}${suffix}`,
    description: `partially update ${what} of the specified ${n.def.kind}`,
    gvk,
    query: PATCH_QUERY,
    body: { kind: 'patch' },
    response,
    codes: ['200', '201'],
  };
}

function collectionOperations(n: Naming): OperationSpec[] {
  const { def } = n;
  const gvk = kindOf(def);
  const ops: OperationSpec[] = [];
  if (def.verbs.includes('list')) {
    ops.push({ method: 'get', action: 'list', operationId: `list${n.id}`, description: `list or watch objects of kind ${def.kind}`, gvk, query: LIST_QUERY, response: listSchemaName(def), codes: ['200'] });
  }
  if (def.verbs.includes('create')) {
    ops.push({ method: 'post', action: 'post', operationId: `create${n.id}`, description: `create a ${def.kind}`, gvk, query: WRITE_QUERY, body: { kind: 'object', schema: kindSchemaName(def) }, response: kindSchemaName(def), codes: ['200', '201', '202'] });
  }
  if (def.verbs.includes('deletecollection')) {
    ops.push({ method: 'delete', action: 'deletecollection', operationId: `deleteCollection${n.id}`, description: `delete collection of ${def.kind}`, gvk, query: DELETECOLLECTION_QUERY, body: { kind: 'delete' }, response: STATUS, codes: ['200'] });
  }
  return ops;
}

function itemOperations(n: Naming): OperationSpec[] {
  const { def } = n;
  const gvk = kindOf(def);
  const schema = kindSchemaName(def);
  const ops: OperationSpec[] = [];
  if (def.verbs.includes('get')) ops.push({ method: 'get', action: 'get', operationId: `read${n.id}`, description: `read the specified ${def.kind}`, gvk, query: [], response: schema, codes: ['200'] });
  if (def.verbs.includes('update')) {
    ops.push({ method: 'put', action: 'put', operationId: `replace${n.id}`, description: `replace the specified ${def.kind}`, gvk, query: WRITE_QUERY, body: { kind: 'object', schema }, response: schema, codes: ['200', '201'] });
  }
  if (def.verbs.includes('delete')) {
    ops.push({ method: 'delete', action: 'delete', operationId: `delete${n.id}`, description: `delete a ${def.kind}`, gvk, query: DELETE_QUERY, body: { kind: 'delete' }, response: schema, codes: ['200', '202'] });
  }
  // Present even for a kind without the patch verb: kubectl looks for fieldValidation support on
  // a PATCH operation of the kind before every create, not only before patches.
  ops.push(patchOperation(n, gvk, schema, '', 'the fields'));
  return ops;
}

function subresourceOperations(n: Naming, sub: SubresourceInfo): OperationSpec[] {
  const suffix = sub.name.charAt(0).toUpperCase() + sub.name.slice(1);
  const what = `${sub.name} of the specified ${n.def.kind}`;
  const schema = sub.name === 'scale' ? SCALE : kindSchemaName(n.def);
  if (sub.name === 'log') {
    return [{ method: 'get', action: 'get', operationId: `read${n.id}Log`, description: `read log of the specified ${n.def.kind}`, gvk: sub.gvk, query: LOG_QUERY, response: 'text', codes: ['200'] }];
  }
  if (sub.name === 'finalize') {
    return [{ method: 'put', action: 'put', operationId: `replace${n.id}Finalize`, description: `replace finalize of the specified ${n.def.kind}`, gvk: sub.gvk, query: WRITE_QUERY, body: { kind: 'object', schema }, response: schema, codes: ['200', '201'] }];
  }
  return [
    { method: 'get', action: 'get', operationId: `read${n.id}${suffix}`, description: `read ${what}`, gvk: sub.gvk, query: [], response: schema, codes: ['200'] },
    { method: 'put', action: 'put', operationId: `replace${n.id}${suffix}`, description: `replace ${what}`, gvk: sub.gvk, query: WRITE_QUERY, body: { kind: 'object', schema }, response: schema, codes: ['200', '201'] },
    patchOperation(n, sub.gvk, schema, suffix, sub.name),
  ];
}

function pathsOf(def: ResourceDef): PathSpec[] {
  const n = naming(def);
  const ident = groupIdent(def.group);
  const tag = `${ident.charAt(0).toLowerCase()}${ident.slice(1)}_${def.version}`;
  const root = def.group ? `/apis/${def.group}/${def.version}` : `/api/${def.version}`;
  const scope: ('namespace' | 'name')[] = def.namespaced ? ['namespace'] : [];
  const collection = `${root}${def.namespaced ? '/namespaces/{namespace}' : ''}/${def.plural}`;
  const item = `${collection}/{name}`;
  const paths: PathSpec[] = [
    { path: collection, pathParams: scope, tag, operations: collectionOperations(n) },
    { path: item, pathParams: [...scope, 'name'], tag, operations: itemOperations(n) },
  ];
  if (def.namespaced && def.verbs.includes('list')) {
    const op: OperationSpec = { method: 'get', action: 'list', operationId: `list${n.allNamespacesId}`, description: `list or watch objects of kind ${def.kind}`, gvk: kindOf(def), query: LIST_QUERY, response: listSchemaName(def), codes: ['200'] };
    paths.push({ path: `${root}/${def.plural}`, pathParams: [], tag, operations: [op] });
  }
  for (const sub of subresourcesOf(def)) paths.push({ path: `${item}/${sub.name}`, pathParams: [...scope, 'name'], tag, operations: subresourceOperations(n, sub) });
  return paths.filter((p) => p.operations.length > 0);
}

const RESPONSE_TEXT: Record<string, string> = { '200': 'OK', '201': 'Created', '202': 'Accepted', '401': 'Unauthorized' };

// --- OpenAPI 3 rendering

function v3QueryParam(name: string): Schema {
  const info = PARAMS[name] as ParamInfo;
  return { name, in: 'query', description: info.description, schema: { type: info.type, uniqueItems: true } };
}

function v3PathParams(spec: PathSpec): Schema[] {
  const params: Schema[] = spec.pathParams.map((p) => ({ name: p, in: 'path', description: PATH_PARAMS[p], required: true, schema: { type: 'string', uniqueItems: true } }));
  params.push({ name: 'pretty', in: 'query', description: "If 'true', then the output is pretty printed.", schema: { type: 'string', uniqueItems: true } });
  return params;
}

function v3RequestBody(body: Body): Schema {
  if (body.kind === 'patch') {
    const content = Object.fromEntries(PATCH_CONTENT_TYPES.map((t) => [t, { schema: { $ref: V3_REF(PATCH) } }]));
    return { content, required: true };
  }
  const schema = body.kind === 'delete' ? DELETE_OPTIONS : body.schema;
  return { content: { '*/*': { schema: { $ref: V3_REF(schema) } } }, ...(body.kind === 'object' ? { required: true } : {}) };
}

function v3Responses(op: OperationSpec): Schema {
  const content = op.response === 'text' ? { 'text/plain': { schema: { type: 'string' } } } : { 'application/json': { schema: { $ref: V3_REF(op.response) } } };
  const out: Schema = {};
  for (const code of op.codes) out[code] = { description: RESPONSE_TEXT[code], content };
  out['401'] = { description: RESPONSE_TEXT['401'] };
  return out;
}

function v3Operation(op: OperationSpec, tag: string): Schema {
  const out: Schema = { tags: [tag], description: op.description, operationId: op.operationId, parameters: op.query.map(v3QueryParam) };
  if (op.body) out.requestBody = v3RequestBody(op.body);
  out.responses = v3Responses(op);
  out['x-kubernetes-action'] = op.action;
  out[GVK_EXT] = { ...op.gvk };
  return out;
}

function v3PathItem(spec: PathSpec): Schema {
  const item: Schema = {};
  for (const op of spec.operations) item[op.method] = v3Operation(op, spec.tag);
  item.parameters = v3PathParams(spec);
  return item;
}

// --- Swagger 2 rendering

function v2QueryParam(name: string): Schema {
  const info = PARAMS[name] as ParamInfo;
  return { uniqueItems: true, type: info.type, description: info.description, name, in: 'query' };
}

function v2PathParams(spec: PathSpec): Schema[] {
  const params: Schema[] = spec.pathParams.map((p) => ({ uniqueItems: true, type: 'string', description: PATH_PARAMS[p], name: p, in: 'path', required: true }));
  params.push({ uniqueItems: true, type: 'string', description: "If 'true', then the output is pretty printed.", name: 'pretty', in: 'query' });
  return params;
}

function v2BodyParam(body: Body): Schema {
  const schema = body.kind === 'patch' ? PATCH : body.kind === 'delete' ? DELETE_OPTIONS : body.schema;
  return { name: 'body', in: 'body', required: body.kind !== 'delete', schema: { $ref: V2_REF(schema) } };
}

function v2Operation(op: OperationSpec, tag: string): Schema {
  const parameters = op.query.map(v2QueryParam);
  if (op.body) parameters.unshift(v2BodyParam(op.body));
  const schema = op.response === 'text' ? { type: 'string' } : { $ref: V2_REF(op.response) };
  const responses: Schema = {};
  for (const code of op.codes) responses[code] = { description: RESPONSE_TEXT[code], schema };
  responses['401'] = { description: RESPONSE_TEXT['401'] };
  return {
    description: op.description,
    consumes: op.body?.kind === 'patch' ? [...PATCH_CONTENT_TYPES] : ['*/*'],
    produces: [op.response === 'text' ? 'text/plain' : 'application/json'],
    schemes: ['https'],
    tags: [tag],
    operationId: op.operationId,
    parameters,
    responses,
    'x-kubernetes-action': op.action,
    [GVK_EXT]: { ...op.gvk },
  };
}

function v2PathItem(spec: PathSpec): Schema {
  const item: Schema = {};
  for (const op of spec.operations) item[op.method] = v2Operation(op, spec.tag);
  item.parameters = v2PathParams(spec);
  return item;
}

// ---------------------------------------------------------------------------------------------
// Documents

function info(): Schema {
  return { title: 'Kubernetes', version: versionInfo().gitVersion };
}

function sortedSchemas(schemas: Record<string, Schema>): Record<string, Schema> {
  return Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `/openapi/v3/api/v1`, `/openapi/v3/apis/GROUP/VERSION`: one group-version's OpenAPI 3.0 document. */
export function openapiV3GroupVersion(defs: readonly ResourceDef[], group: string, version: string): Schema {
  const gvDefs = defsOf(defs, group, version);
  const paths: Schema = {};
  for (const def of gvDefs) for (const spec of pathsOf(def)) paths[spec.path] = v3PathItem(spec);
  const schemas = sortedSchemas({ ...metaSchemas(V3_REF), ...kindSchemas(gvDefs, V3_REF, 'v3') });
  return { openapi: '3.0.0', info: info(), paths, components: { schemas } };
}

/** Upstream's cache key for a document: the uppercase hex SHA-512 of its JSON. */
export function openapiV3Hash(document: unknown): string {
  return createHash('sha512').update(JSON.stringify(document)).digest('hex').toUpperCase();
}

/** The key of a group-version under /openapi/v3: `api/v1` or `apis/GROUP/VERSION`. */
export function openapiV3Key(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/** The inverse of openapiV3Key for a request path below /openapi/v3/, or undefined. */
export function parseOpenapiV3Key(key: string): { group: string; version: string } | undefined {
  const parts = key.replace(/^\/+|\/+$/g, '').split('/');
  if (parts.length === 2 && parts[0] === 'api' && parts[1]) return { group: '', version: parts[1] };
  if (parts.length === 3 && parts[0] === 'apis' && parts[1] && parts[2]) return { group: parts[1], version: parts[2] };
  return undefined;
}

export interface OpenAPIV3Root {
  paths: Record<string, { serverRelativeURL: string }>;
}

/** `/openapi/v3`: where each group-version document lives, the URL pinned to its content hash. */
export function openapiV3Root(defs: readonly ResourceDef[]): OpenAPIV3Root {
  const paths: OpenAPIV3Root['paths'] = {};
  for (const { group, versions } of servedGroups(defs)) {
    for (const version of versions) {
      const key = openapiV3Key(group, version);
      paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${openapiV3Hash(openapiV3GroupVersion(defs, group, version))}` };
    }
  }
  return { paths };
}

/** `/openapi/v2`: every group-version in one Swagger 2.0 document. */
export function openapiV2(defs: readonly ResourceDef[]): Schema {
  const paths: Schema = {};
  let definitions: Record<string, Schema> = metaSchemas(V2_REF);
  for (const { group, versions } of servedGroups(defs)) {
    for (const version of versions) {
      const gvDefs = defsOf(defs, group, version);
      for (const def of gvDefs) for (const spec of pathsOf(def)) paths[spec.path] = v2PathItem(spec);
      definitions = { ...definitions, ...kindSchemas(gvDefs, V2_REF, 'v2') };
    }
  }
  return { swagger: '2.0', info: info(), paths, definitions: sortedSchemas(definitions) };
}
