// Field sets as structured-merge-diff keeps them: the paths of the fields an object sets, each a
// list of path elements — `f:<name>` (a field of a map), `k:{"key":"value"}` (an item of an
// associative list, by its key fields), `v:<json>` (an item of a set) — and their managedFields
// encoding, FieldsV1 (a tree of those elements, `.` marking a node owned itself). Atomic lists and
// maps, and scalars, are leaves.
import { isDeepStrictEqual } from 'node:util';
import type { JsonObject } from '../../api/meta.ts';
import type { ApplySchema } from './schema.ts';

export type Path = string[];
/** Paths serialized (elements joined with NUL) so they can live in a Set. */
export type FieldSet = Set<string>;

const SEP = '\u0000';

export const pathKey = (path: Path): string => path.join(SEP);
export const keyPath = (key: string): Path => (key === '' ? [] : key.split(SEP));

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The `k:` element of an associative-list item: its key fields as JSON, in key order. */
export function itemKey(item: unknown, keys: string[]): string {
  const obj = isObject(item) ? item : {};
  return `k:${JSON.stringify(Object.fromEntries(keys.map((k) => [k, obj[k]])))}`;
}

/** Fields the server owns or that identify the object; never tracked, as upstream strips them. */
const UNTRACKED_METADATA = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink', 'generateName']);

export interface WalkResult {
  /** Every owned path: leaves and list items. */
  all: FieldSet;
  /** Leaves only (scalars, atomic lists and maps, empty maps): where values are compared. */
  leaves: FieldSet;
}

/** The fields `obj` sets, under `schema`. `skipStatus` leaves status out (its own subresource). */
export function fieldsOf(obj: unknown, schema: ApplySchema, options: { skipStatus?: boolean; onlyStatus?: boolean } = {}): WalkResult {
  const out: WalkResult = { all: new Set(), leaves: new Set() };
  if (!isObject(obj)) return out;
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'apiVersion' || key === 'kind') continue;
    if (options.skipStatus && key === 'status') continue;
    if (options.onlyStatus && key !== 'status') continue;
    if (key === 'metadata' && isObject(value)) {
      for (const [mk, mv] of Object.entries(value)) {
        if (!UNTRACKED_METADATA.has(mk)) walk(mv, schema.field('metadata').field(mk), ['f:metadata', `f:${mk}`], out);
      }
      continue;
    }
    walk(value, schema.field(key), [`f:${key}`], out);
  }
  return out;
}

function walk(value: unknown, schema: ApplySchema, path: Path, out: WalkResult): void {
  if (value === null || value === undefined) return;
  const leaf = (): void => {
    out.all.add(pathKey(path));
    out.leaves.add(pathKey(path));
  };
  if (isObject(value)) {
    if (schema.atomicMap() || Object.keys(value).length === 0) return leaf();
    for (const [k, v] of Object.entries(value)) walk(v, schema.field(k), [...path, `f:${k}`], out);
    return;
  }
  if (Array.isArray(value)) {
    const type = schema.listType();
    if (type === 'atomic' || value.length === 0) return leaf();
    for (const item of value) {
      if (type === 'set') {
        const p = [...path, `v:${JSON.stringify(item)}`];
        out.all.add(pathKey(p));
        out.leaves.add(pathKey(p));
        continue;
      }
      const p = [...path, itemKey(item, schema.listKeys())];
      out.all.add(pathKey(p));
      const items = schema.items();
      if (isObject(item)) for (const [k, v] of Object.entries(item)) walk(v, items.field(k), [...p, `f:${k}`], out);
    }
    return;
  }
  leaf();
}

/** The value at `path`, or undefined when the object has nothing there. */
export function valueAt(obj: unknown, path: Path, schema: ApplySchema): unknown {
  let v: unknown = obj;
  let s = schema;
  for (const element of path) {
    if (element.startsWith('f:')) {
      const name = element.slice(2);
      if (!isObject(v)) return undefined;
      v = v[name];
      s = s.field(name);
    } else if (element.startsWith('k:')) {
      if (!Array.isArray(v)) return undefined;
      const keys = s.listKeys();
      v = v.find((item) => itemKey(item, keys) === element);
      s = s.items();
    } else if (element.startsWith('v:')) {
      if (!Array.isArray(v)) return undefined;
      const wanted = JSON.parse(element.slice(2)) as unknown;
      v = v.find((item) => isDeepStrictEqual(item, wanted));
    }
    if (v === undefined) return undefined;
  }
  return v;
}

/** Removes what `path` names from `obj` (a field, a list item); returns whether it was there. */
export function removeAt(obj: unknown, path: Path, schema: ApplySchema): boolean {
  if (path.length === 0) return false;
  const parent = valueAt(obj, path.slice(0, -1), schema);
  const last = path[path.length - 1]!;
  if (last.startsWith('f:') && isObject(parent)) {
    const had = Object.hasOwn(parent, last.slice(2));
    delete parent[last.slice(2)];
    return had;
  }
  if (!Array.isArray(parent)) return false;
  let parentSchema = schema;
  for (const element of path.slice(0, -1)) parentSchema = element.startsWith('f:') ? parentSchema.field(element.slice(2)) : parentSchema.items();
  const index = last.startsWith('k:')
    ? parent.findIndex((item) => itemKey(item, parentSchema.listKeys()) === last)
    : parent.findIndex((item) => isDeepStrictEqual(item, JSON.parse(last.slice(2)) as unknown));
  if (index < 0) return false;
  parent.splice(index, 1);
  return true;
}

// ---- FieldsV1 --------------------------------------------------------------------------------

export function toFieldsV1(set: FieldSet): JsonObject {
  const root: JsonObject = {};
  for (const key of [...set].sort()) {
    let node = root;
    for (const element of keyPath(key)) {
      node[element] ??= {};
      node = node[element] as JsonObject;
    }
  }
  // A node owned itself that also has owned children says so with ".".
  markOwnedParents(root, set, []);
  return root;
}

function markOwnedParents(node: JsonObject, set: FieldSet, path: Path): void {
  for (const [element, child] of Object.entries(node)) {
    if (element === '.') continue;
    const childPath = [...path, element];
    const children = child as JsonObject;
    if (Object.keys(children).some((k) => k !== '.') && set.has(pathKey(childPath))) children['.'] = {};
    markOwnedParents(children, set, childPath);
  }
}

export function fromFieldsV1(tree: unknown): FieldSet {
  const set: FieldSet = new Set();
  const visit = (node: unknown, path: Path): void => {
    if (!isObject(node)) return;
    const entries = Object.entries(node);
    if (entries.length === 0 && path.length > 0) set.add(pathKey(path));
    for (const [element, child] of entries) {
      if (element === '.') set.add(pathKey(path));
      else visit(child, [...path, element]);
    }
  };
  visit(tree, []);
  return set;
}

/** `.spec.replicas`, `.spec.containers[name="web"].image`, `.metadata.finalizers[="x"]`: how conflicts name fields. */
export function describePath(key: string): string {
  return keyPath(key)
    .map((element) => {
      if (element.startsWith('f:')) return `.${element.slice(2)}`;
      if (element.startsWith('k:')) {
        const keys = JSON.parse(element.slice(2)) as Record<string, unknown>;
        return `[${Object.entries(keys).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
      }
      return `[=${element.slice(2)}]`;
    })
    .join('');
}

/** Whether `key` is `prefix` or below it. */
export function isWithin(key: string, prefix: string): boolean {
  return key === prefix || key.startsWith(prefix + SEP);
}
