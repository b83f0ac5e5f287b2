// Server-side apply (PATCH with application/apply-patch+yaml), after structured-merge-diff: the
// applied configuration is merged into the live object (maps field by field, associative lists
// item by item, sets by value, everything else replaced); fields the manager applied before and
// leaves out now are removed unless another manager owns them; a field the configuration sets to
// a value other than the live one, while another manager owns it, is a conflict (409 naming the
// fields and managers) unless the apply is forced, which takes the ownership over.
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../api/meta.ts';
import { badRequest, StatusError } from '../errors.ts';
import type { ResourceDef } from '../registry/types.ts';
import { describePath, fieldsOf, isWithin, itemKey, keyPath, pathKey, removeAt, valueAt } from './fieldset.ts';
import { decodeManagedFields, disown, encodeManagedFields, type ManagedSet, scopeOf } from './managed-fields.ts';
import { applySchemaOf, type ApplySchema } from './schema.ts';

export interface ApplyOptions {
  manager: string;
  force: boolean;
  subresource?: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks what an apply body must carry: apiVersion and kind of the resource, the URL's name. */
export function checkApplied(def: ResourceDef, body: unknown, name: string): KubeObject {
  if (!isObject(body)) throw badRequest('an apply patch must be an object (a YAML or JSON manifest)');
  const apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
  if (body.apiVersion !== apiVersion) throw badRequest(`apiVersion must be ${JSON.stringify(apiVersion)} in an apply patch, got ${JSON.stringify(body.apiVersion ?? '')}`);
  if (body.kind !== def.kind) throw badRequest(`kind must be ${JSON.stringify(def.kind)} in an apply patch, got ${JSON.stringify(body.kind ?? '')}`);
  const meta = isObject(body.metadata) ? body.metadata : {};
  if (meta.name !== undefined && meta.name !== name) throw badRequest(`the name of the object (${JSON.stringify(meta.name)}) does not match the name on the URL (${name})`);
  if (meta.managedFields !== undefined) throw badRequest('metadata.managedFields must be nil in an apply patch');
  return { ...body, metadata: { ...meta, name } };
}

function mergeValue(live: unknown, applied: unknown, schema: ApplySchema): unknown {
  if (isObject(applied) && isObject(live) && !schema.atomicMap()) {
    const out: Record<string, unknown> = { ...live };
    for (const [k, v] of Object.entries(applied)) {
      if (v === null) delete out[k];
      else out[k] = mergeValue(live[k], v, schema.field(k));
    }
    return out;
  }
  if (Array.isArray(applied) && Array.isArray(live)) {
    const liveItems = live as unknown[];
    const appliedItems = applied as unknown[];
    const type = schema.listType();
    if (type === 'map') {
      const keys = schema.listKeys();
      const items = [...liveItems];
      for (const item of appliedItems) {
        const at = items.findIndex((l) => itemKey(l, keys) === itemKey(item, keys));
        if (at >= 0) items[at] = mergeValue(items[at], item, schema.items());
        else items.push(item);
      }
      return items;
    }
    if (type === 'set') return [...liveItems, ...appliedItems.filter((a) => !liveItems.some((l) => isDeepStrictEqual(l, a)))];
  }
  return structuredClone(applied);
}

/** The live object with the applied configuration merged in, within the write's scope. */
function merge(def: ResourceDef, live: KubeObject, applied: KubeObject, schema: ApplySchema, subresource: string | undefined): KubeObject {
  const scope = scopeOf(def, subresource);
  const out = structuredClone(live);
  for (const [key, value] of Object.entries(applied)) {
    if (key === 'apiVersion' || key === 'kind') continue;
    if ((scope.skipStatus && key === 'status') || (scope.onlyStatus && key !== 'status' && key !== 'metadata')) continue;
    if (key === 'metadata') {
      if (scope.onlyStatus) continue;
      const meta = value as Record<string, unknown>;
      const merged = out.metadata as unknown as Record<string, unknown>;
      for (const field of ['labels', 'annotations', 'finalizers', 'ownerReferences']) {
        if (meta[field] !== undefined) merged[field] = mergeValue(merged[field], meta[field], schema.field('metadata').field(field));
      }
      if (typeof meta.resourceVersion === 'string' && meta.resourceVersion !== '') merged.resourceVersion = meta.resourceVersion;
      continue;
    }
    if (value === null) delete out[key];
    else out[key] = mergeValue(out[key], value, schema.field(key));
  }
  return out;
}

/** A list or map left empty by a removal goes too, unless another manager owns it. */
function pruneEmptyParents(obj: KubeObject, path: string[], schema: ApplySchema, others: ManagedSet[]): void {
  for (let p = path; p.length > 0; p = p.slice(0, -1)) {
    const value = valueAt(obj, p, schema);
    const empty = Array.isArray(value) ? value.length === 0 : isObject(value) && Object.keys(value).length === 0;
    if (!empty || others.some((o) => o.fields.has(pathKey(p)))) return;
    removeAt(obj, p, schema);
  }
}

interface Conflict {
  manager: string;
  apiVersion: string;
  field: string;
}

function conflictError(conflicts: Conflict[]): StatusError {
  const describe = (c: Conflict): string => `conflict with "${c.manager}"${c.apiVersion ? ` using ${c.apiVersion}` : ''}`;
  const n = conflicts.length;
  const lines = conflicts.map((c) => `${describe(c)}: ${describePath(c.field)}`);
  const message = n === 1 ? `Apply failed with 1 conflict: ${lines[0]}` : `Apply failed with ${n} conflicts: ${lines.join('\n')}`;
  return new StatusError(409, 'Conflict', message, {
    causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: describe(c), field: describePath(c.field) })),
  });
}

/**
 * The object after `manager` applies `applied` to `live` (undefined: the object is created), with
 * managedFields updated. Throws 409 on conflicts unless forced.
 */
export function serverSideApply(def: ResourceDef, live: KubeObject | undefined, applied: KubeObject, options: ApplyOptions): KubeObject {
  const schema = applySchemaOf(def);
  const scope = scopeOf(def, options.subresource);
  const wanted = fieldsOf(applied, schema, scope);
  const base: KubeObject = live ?? { apiVersion: applied.apiVersion, kind: applied.kind, metadata: { name: applied.metadata.name!, ...(applied.metadata.namespace ? { namespace: applied.metadata.namespace } : {}) } };
  const sets = decodeManagedFields(live?.metadata.managedFields);
  const isMine = (s: ManagedSet): boolean => s.manager === options.manager && s.operation === 'Apply' && s.subresource === options.subresource;
  let mine = sets.find(isMine);
  const others = sets.filter((s) => !isMine(s));
  const result = merge(def, base, applied, schema, options.subresource);

  // Fields this manager applied before and no longer does go, unless someone else owns them.
  const dropped = [...(mine?.fields ?? [])].filter((k) => !wanted.all.has(k) && !others.some((o) => [...o.fields].some((f) => isWithin(f, k))));
  // Outermost first: removing a list item removes its fields, which then need no visit.
  const removed: string[] = [];
  for (const key of dropped.sort((a, b) => keyPath(a).length - keyPath(b).length)) {
    if (removed.some((r) => isWithin(key, r))) continue;
    removeAt(result, keyPath(key), schema);
    removed.push(key);
    pruneEmptyParents(result, keyPath(key).slice(0, -1), schema, others);
  }

  const conflicts: Conflict[] = [];
  for (const key of wanted.leaves) {
    const before = live ? valueAt(live, keyPath(key), schema) : undefined;
    if (isDeepStrictEqual(before, valueAt(result, keyPath(key), schema))) continue;
    for (const other of others) if (other.fields.has(key)) conflicts.push({ manager: other.manager, apiVersion: other.apiVersion, field: key });
  }
  if (conflicts.length > 0) {
    if (!options.force) throw conflictError(conflicts);
    disown(others, conflicts.map((c) => c.field));
  }
  if (!mine) {
    mine = { manager: options.manager, operation: 'Apply', apiVersion: applied.apiVersion ?? '', time: '', ...(options.subresource ? { subresource: options.subresource } : {}), fields: new Set() };
    sets.push(mine);
  }
  mine.fields = new Set(wanted.all);
  mine.apiVersion = applied.apiVersion ?? mine.apiVersion;
  mine.time = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const encoded = encodeManagedFields(sets);
  if (encoded.length > 0) result.metadata.managedFields = encoded;
  else delete result.metadata.managedFields;
  return result;
}
