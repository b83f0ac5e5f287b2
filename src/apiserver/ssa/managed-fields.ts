// metadata.managedFields: which manager owns which fields. Every write through the API records
// its changes for its field manager (operation Update; the fieldManager parameter, or the
// User-Agent's product as kube-apiserver derives it); server-side apply (apply.ts) records what a
// manager applied (operation Apply). A field changed or removed by one manager is no longer
// another's.
import type { IncomingMessage } from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject, ManagedFieldsEntry } from '../../api/meta.ts';
import { badRequest } from '../errors.ts';
import type { ResourceDef } from '../registry/types.ts';
import { type FieldSet, fieldsOf, fromFieldsV1, isWithin, keyPath, toFieldsV1, valueAt } from './fieldset.ts';
import { applySchemaOf, type ApplySchema } from './schema.ts';

export interface ManagedSet {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  subresource?: string;
  fields: FieldSet;
}

function timestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function decodeManagedFields(entries: ManagedFieldsEntry[] | undefined): ManagedSet[] {
  return (Array.isArray(entries) ? entries : []).map((e) => ({
    manager: e.manager ?? '',
    operation: e.operation === 'Apply' ? 'Apply' : 'Update',
    apiVersion: e.apiVersion ?? '',
    time: e.time ?? timestamp(),
    ...(e.subresource ? { subresource: e.subresource } : {}),
    fields: fromFieldsV1(e.fieldsV1),
  }));
}

/** Back to managedFields; entries that own nothing are dropped, as upstream does. */
export function encodeManagedFields(sets: ManagedSet[]): ManagedFieldsEntry[] {
  return sets
    .filter((s) => s.fields.size > 0)
    .map((s) => ({
      manager: s.manager,
      operation: s.operation,
      apiVersion: s.apiVersion,
      time: s.time,
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1(s.fields),
      ...(s.subresource ? { subresource: s.subresource } : {}),
    }));
}

/** The part of an object a write through `subresource` may change. */
export function scopeOf(def: ResourceDef, subresource: string | undefined): { skipStatus?: boolean; onlyStatus?: boolean } {
  if (subresource === 'status') return { onlyStatus: true };
  return def.subresources.status ? { skipStatus: true } : {};
}

/** Drops `paths` (and what lies below them) from every set. */
export function disown(sets: ManagedSet[], paths: Iterable<string>): void {
  const list = [...paths];
  if (list.length === 0) return;
  for (const set of sets) {
    for (const owned of [...set.fields]) if (list.some((p) => isWithin(owned, p))) set.fields.delete(owned);
  }
}

/** Paths set in `obj` whose value is new: leaves that differ from `old`, list items `old` lacks. */
function changedFields(old: KubeObject | undefined, obj: KubeObject, schema: ApplySchema, scope: ReturnType<typeof scopeOf>): FieldSet {
  const now = fieldsOf(obj, schema, scope);
  const changed: FieldSet = new Set();
  for (const key of now.all) {
    const before = old ? valueAt(old, keyPath(key), schema) : undefined;
    if (now.leaves.has(key) ? !isDeepStrictEqual(before, valueAt(obj, keyPath(key), schema)) : before === undefined) changed.add(key);
  }
  return changed;
}

/**
 * Records a create/update/patch by `manager` in obj.metadata.managedFields. A client that writes
 * managedFields itself (kubectl's migration from client-side apply) is taken at its word.
 */
export function trackUpdate(def: ResourceDef, old: KubeObject | undefined, obj: KubeObject, manager: string, subresource: string | undefined): void {
  const given = obj.metadata.managedFields;
  if (given !== undefined && !isDeepStrictEqual(given, old?.metadata.managedFields)) {
    if (!Array.isArray(given)) throw badRequest('metadata.managedFields: Invalid value: must be a list of ManagedFieldsEntry');
    if (given.length === 0) delete obj.metadata.managedFields;
    return;
  }
  const schema = applySchemaOf(def);
  const scope = scopeOf(def, subresource);
  const sets = decodeManagedFields(old?.metadata.managedFields);
  const changed = changedFields(old, obj, schema, scope);
  const removed = old ? [...fieldsOf(old, schema, scope).all].filter((k) => !fieldsOf(obj, schema, scope).all.has(k)) : [];
  disown(sets, [...changed, ...removed]);
  if (changed.size > 0) {
    let mine = sets.find((s) => s.manager === manager && s.operation === 'Update' && s.subresource === subresource);
    if (!mine) {
      mine = { manager, operation: 'Update', apiVersion: obj.apiVersion ?? '', time: timestamp(), ...(subresource ? { subresource } : {}), fields: new Set() };
      sets.push(mine);
    }
    for (const key of changed) mine.fields.add(key);
    mine.time = timestamp();
    mine.apiVersion = obj.apiVersion ?? mine.apiVersion;
  }
  const encoded = encodeManagedFields(sets);
  if (encoded.length > 0) obj.metadata.managedFields = encoded;
  else delete obj.metadata.managedFields;
}

/** kube-apiserver's default manager: the fieldManager parameter, else the User-Agent's product. */
export function fieldManagerOf(req: IncomingMessage, query: URLSearchParams): string {
  const given = query.get('fieldManager');
  if (given !== null && given !== '') {
    if (given.length > 128) throw badRequest('fieldManager: Too long: may not be more than 128 bytes');
    return given;
  }
  const agent = req.headers['user-agent'] ?? 'unknown';
  return agent.split('/')[0]!.slice(0, 128) || 'unknown';
}
