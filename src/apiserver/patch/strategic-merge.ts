// Kubernetes strategic merge patch: what `kubectl apply`, `kubectl edit` and a default
// `kubectl patch` send for built-in kinds. It is a JSON merge patch in which some lists merge
// element by element instead of being replaced, steered by the patchStrategy / patchMergeKey
// struct tags (here: a PatchSchema) and by `$` directives inside the patch. The algorithm follows
// k8s.io/apimachinery/pkg/util/strategicpatch (mergeMap / mergeSlice with the server's options
// MergeParallelList and IgnoreUnmatchedNulls), including its element ordering, so results match
// a real API server.
import { badRequest } from '../errors.ts';
import { isJsonObject, setOwn } from './merge-patch.ts';
import type { JsonMap } from './merge-patch.ts';

export type PatchStrategy = 'merge' | 'replace' | 'retainKeys' | 'merge,retainKeys';

/** The patch-relevant struct tags of one field and, recursively, of what it contains. */
export interface PatchSchema {
  /** Fields of a struct, by JSON name. Fields without tags need no entry. */
  fields?: Record<string, PatchSchema>;
  /** Schema of every element, when this field is a list. */
  items?: PatchSchema;
  /** Schema of every value, when this field is a map[string]T. */
  values?: PatchSchema;
  /** patchStrategy: lists merge only with 'merge'; maps are replaced wholesale with 'replace'. */
  strategy?: PatchStrategy;
  /** patchMergeKey: the element field that identifies an element of a merging list of objects. */
  mergeKey?: string;
}

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList/';
const SET_ELEMENT_ORDER = '$setElementOrder/';

/** Applies `patch` to `original`; neither input is modified or shared with the result. */
export function applyStrategicMergePatch(original: unknown, patch: unknown, schema: PatchSchema): unknown {
  if (!isJsonObject(patch)) {
    throw badRequest(`a strategic merge patch must be a JSON object, not ${kindOf(patch)}`);
  }
  const base = isJsonObject(original) ? structuredClone(original) : {};
  // Working on private copies lets the merge share subtrees between its inputs and its result.
  return mergeMap(base, structuredClone(patch), schema);
}

// ---------------------------------------------------------------------------------------------
// Maps

function mergeMap(original: JsonMap, patch: JsonMap, schema: PatchSchema | undefined): JsonMap {
  if (Object.hasOwn(patch, DIRECTIVE)) {
    const replaced = applyMapDirective(patch, schema);
    if (replaced) return replaced;
  }
  const result = retainKeys(original, patch);
  const ordered = applySetElementOrders(result, patch, schema);
  for (const [key, value] of Object.entries(patch)) {
    if (isDirectiveKey(key) || ordered.has(key)) continue;
    mergeField(result, key, value, childSchema(schema, key));
  }
  // Deletions run after additions, so a value both listed and deleted ends up deleted.
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) deleteFromPrimitiveList(result, key, value);
  }
  return result;
}

/** `$patch` on a map: replace drops the original, delete empties the map, merge is the default. */
function applyMapDirective(patch: JsonMap, schema: PatchSchema | undefined): JsonMap | undefined {
  const directive = patch[DIRECTIVE];
  switch (directive) {
    case 'replace':
      return mergeMap({}, withoutKey(patch, DIRECTIVE), schema);
    case 'delete':
      // As upstream: the map becomes empty, the key holding it stays.
      return {};
    case 'merge':
      return undefined;
    default:
      throw unknownDirective(directive, patch);
  }
}

function isDirectiveKey(key: string): boolean {
  return (
    key === DIRECTIVE ||
    key === RETAIN_KEYS ||
    key.startsWith(SET_ELEMENT_ORDER) ||
    key.startsWith(DELETE_FROM_PRIMITIVE_LIST)
  );
}

/** A copy of `original`, cut down to the keys `$retainKeys` names when the patch has it. */
function retainKeys(original: JsonMap, patch: JsonMap): JsonMap {
  if (!Object.hasOwn(patch, RETAIN_KEYS)) return { ...original };
  const keep = patch[RETAIN_KEYS];
  if (!Array.isArray(keep)) {
    throw badRequest(`invalid patch format of retainKeys: ${RETAIN_KEYS} must be a list of field names`);
  }
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || isDirectiveKey(key) || keep.includes(key)) continue;
    throw badRequest(
      `invalid patch format of retainKeys: field ${JSON.stringify(key)} is set by the patch but not listed in ${RETAIN_KEYS} ${JSON.stringify(keep)}`,
    );
  }
  return Object.fromEntries(Object.entries(original).filter(([key]) => keep.includes(key)));
}

function mergeField(result: JsonMap, key: string, value: unknown, schema: PatchSchema | undefined): void {
  if (value === null) {
    delete result[key];
  } else if (Object.hasOwn(result, key)) {
    setOwn(result, key, mergeValue(result[key], value, schema));
  } else {
    setOwn(result, key, materialize(value, schema));
  }
}

function mergeValue(original: unknown, patch: unknown, schema: PatchSchema | undefined): unknown {
  if (isJsonObject(original) && isJsonObject(patch)) {
    return schema?.strategy === 'replace' ? materialize(patch, schema) : mergeMap(original, patch, schema);
  }
  if (Array.isArray(original) && Array.isArray(patch)) return mergeList(original, patch, schema);
  // Scalars, and values whose type changed, are replaced.
  return materialize(patch, schema);
}

/**
 * A patch value with nothing to merge into, made plain: directives applied and removed, nulls
 * dropped. Upstream copies such values verbatim and can leak directives into the object.
 */
function materialize(value: unknown, schema: PatchSchema | undefined): unknown {
  if (isJsonObject(value)) return mergeMap({}, value, schema);
  if (Array.isArray(value)) return mergeList([], value, schema);
  return value;
}

function deleteFromPrimitiveList(result: JsonMap, key: string, toDelete: unknown): void {
  const field = key.slice(DELETE_FROM_PRIMITIVE_LIST.length);
  if (!field || !Array.isArray(toDelete)) {
    throw badRequest(`invalid patch format of primitive list: ${JSON.stringify(key)} must name a field and hold a list`);
  }
  const current = Object.hasOwn(result, field) ? result[field] : undefined;
  if (Array.isArray(current)) setOwn(result, field, current.filter((v) => !toDelete.includes(v)));
}

// ---------------------------------------------------------------------------------------------
// Lists

function mergeList(original: unknown[], patch: unknown[], schema: PatchSchema | undefined): unknown[] {
  if (!isMergeList(schema)) return atomicList(patch, schema?.items);
  if (original.length === 0 && patch.length === 0) return [];
  if (elementKind(original, patch) !== 'object') {
    return normalizeOrder(dedupe([...original, ...patch]), patch, original, undefined);
  }
  const mergeKey = schema?.mergeKey;
  if (!mergeKey) throw badRequest('cannot merge a list of objects that has no patchMergeKey');
  const { base, items } = applyListDirectives(original, patch as JsonMap[], mergeKey, schema?.items);
  const merged = mergeByKey(base, items, mergeKey, schema?.items);
  return normalizeOrder(merged, items, base, mergeKey);
}

function isMergeList(schema: PatchSchema | undefined): boolean {
  return schema?.strategy === 'merge' || schema?.strategy === 'merge,retainKeys';
}

/** A list without merge strategy is replaced by the patch's, minus any directive elements. */
function atomicList(patch: unknown[], itemSchema: PatchSchema | undefined): unknown[] {
  const out: unknown[] = [];
  for (const element of patch) {
    if (isJsonObject(element) && Object.hasOwn(element, DIRECTIVE)) {
      const directive = element[DIRECTIVE];
      if (directive === 'replace' || directive === 'delete') continue;
      if (directive !== 'merge') throw unknownDirective(directive, element);
    }
    out.push(materialize(element, itemSchema));
  }
  return out;
}

/** All elements must share one JSON type, and lists of lists cannot be merged. */
function elementKind(original: unknown[], patch: unknown[]): string {
  let kind: string | undefined;
  for (const element of [...original, ...patch]) {
    const k = kindOf(element);
    if (k === 'an array') throw badRequest('lists of lists are not supported by strategic merge patch');
    if (kind !== undefined && kind !== k) {
      throw badRequest(`list element types are not identical: ${JSON.stringify(original)} and ${JSON.stringify(patch)}`);
    }
    kind = k;
  }
  return kind === 'an object' ? 'object' : 'primitive';
}

function dedupe(values: unknown[]): unknown[] {
  return [...new Set(values)];
}

/**
 * Element directives: `{"$patch": "delete", <key>: v}` removes that element from the original,
 * `{"$patch": "replace"}` makes the remaining patch elements the whole list.
 */
function applyListDirectives(
  original: unknown[],
  patch: JsonMap[],
  mergeKey: string,
  itemSchema: PatchSchema | undefined,
): { base: unknown[]; items: JsonMap[] } {
  let base = original;
  const items: JsonMap[] = [];
  let replace = false;
  for (const element of patch) {
    if (!Object.hasOwn(element, DIRECTIVE)) {
      items.push(element);
      continue;
    }
    const directive = element[DIRECTIVE];
    if (directive === 'delete') {
      requireMergeKey(element, mergeKey);
      base = base.filter((o) => !sameKey(o, element, mergeKey));
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      const rest = withoutKey(element, DIRECTIVE);
      if (Object.keys(rest).length > 0) items.push(rest);
    } else {
      throw unknownDirective(directive, element);
    }
  }
  if (replace) return { base: items.map((item) => materialize(item, itemSchema)), items: [] };
  return { base, items };
}

/** Patch elements merge into the original element with the same key, or are added. */
function mergeByKey(base: unknown[], items: JsonMap[], mergeKey: string, itemSchema: PatchSchema | undefined): unknown[] {
  const out = [...base];
  for (const item of items) {
    requireMergeKey(item, mergeKey);
    const at = out.findIndex((o) => sameKey(o, item, mergeKey));
    if (at >= 0) out[at] = mergeMap(out[at] as JsonMap, item, itemSchema);
    else out.push(materialize(item, itemSchema));
  }
  return out;
}

function requireMergeKey(element: JsonMap, mergeKey: string): void {
  if (!Object.hasOwn(element, mergeKey)) {
    throw badRequest(`map: ${JSON.stringify(element)} does not contain declared merge key: ${mergeKey}`);
  }
}

function sameKey(a: unknown, b: JsonMap, mergeKey: string): boolean {
  return isJsonObject(a) && Object.hasOwn(a, mergeKey) && a[mergeKey] === b[mergeKey];
}

// ---------------------------------------------------------------------------------------------
// $setElementOrder

/** Merges and orders every list the patch has a `$setElementOrder/<field>` for; returns those fields. */
function applySetElementOrders(result: JsonMap, patch: JsonMap, schema: PatchSchema | undefined): Set<string> {
  const done = new Set<string>();
  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const field = key.slice(SET_ELEMENT_ORDER.length);
    if (!field || !Array.isArray(order)) {
      throw badRequest(`invalid patch format of setElementOrder list: ${JSON.stringify(key)} must name a field and hold a list`);
    }
    // A null list deletes the field; the main loop does that.
    if (patch[field] === null) continue;
    const current = Object.hasOwn(result, field) ? result[field] : undefined;
    const ordered = orderedList(current, patch[field], order, childSchema(schema, field));
    if (ordered === undefined) continue;
    setOwn(result, field, ordered);
    done.add(field);
  }
  return done;
}

function orderedList(
  current: unknown,
  patchList: unknown,
  order: unknown[],
  schema: PatchSchema | undefined,
): unknown[] | undefined {
  if (patchList !== undefined && !Array.isArray(patchList)) {
    throw badRequest(`invalid patch format of setElementOrder list: the list it orders is ${kindOf(patchList)}`);
  }
  const base = Array.isArray(current) ? current : undefined;
  if (base === undefined && patchList === undefined) return undefined;
  const merged = patchList === undefined ? (base as unknown[]) : mergeList(base ?? [], patchList, schema);
  if (!isMergeList(schema)) return merged;
  const mergeKey = merged.some(isJsonObject) ? schema?.mergeKey : undefined;
  if (mergeKey) order.forEach((o) => checkOrderElement(o, mergeKey));
  checkPatchFollowsOrder(patchList ?? [], order, mergeKey);
  return normalizeOrder(merged, order, base ?? [], mergeKey);
}

function checkOrderElement(element: unknown, mergeKey: string): void {
  if (!isJsonObject(element) || !Object.hasOwn(element, mergeKey)) {
    throw badRequest(`invalid patch format of setElementOrder list: ${JSON.stringify(element)} has no merge key ${mergeKey}`);
  }
}

/** Upstream's validatePatchWithSetOrderList: patch elements must appear in the order list, in that order. */
function checkPatchFollowsOrder(patchList: unknown[], order: unknown[], mergeKey: string | undefined): void {
  const wanted = patchList.filter((e) => !(isJsonObject(e) && Object.hasOwn(e, DIRECTIVE)));
  let matched = 0;
  for (const o of order) {
    if (matched < wanted.length && sameElement(wanted[matched], o, mergeKey)) matched++;
  }
  if (matched < wanted.length) {
    throw badRequest(
      `the order in patch list ${JSON.stringify(patchList)} doesn't match ${SET_ELEMENT_ORDER} list ${JSON.stringify(order)}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Element order (upstream normalizeElementOrder / mergeSortedSlice)

/**
 * Orders a merged list the way the API server does: elements named in `patchOrder` follow that
 * order, the others keep their order in `serverOrder`, and the two runs are interleaved using
 * `serverOrder` wherever it knows both elements. New elements therefore land next to the patch
 * elements they were listed with, and a patch of only new elements puts them first.
 */
function normalizeOrder(
  merged: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  mergeKey: string | undefined,
): unknown[] {
  const inPatch = (e: unknown): boolean => indexIn(patchOrder, e, mergeKey) >= 0;
  const patchItems = sortByOrder(merged.filter(inPatch), patchOrder, mergeKey);
  const serverOnly = sortByOrder(
    merged.filter((e) => !inPatch(e)),
    serverOrder,
    mergeKey,
  );
  return interleave(serverOnly, patchItems, serverOrder, mergeKey);
}

function sortByOrder(items: unknown[], order: unknown[], mergeKey: string | undefined): unknown[] {
  const rank = (e: unknown): number => {
    const i = indexIn(order, e, mergeKey);
    return i < 0 ? order.length : i;
  };
  return [...items].sort((a, b) => rank(a) - rank(b));
}

/** Takes a server-only element first only when the server order puts it before the next patch element. */
function interleave(left: unknown[], right: unknown[], serverOrder: unknown[], mergeKey: string | undefined): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (j >= right.length) out.push(left[i++]);
    else if (i >= left.length) out.push(right[j++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey);
      const ri = indexIn(serverOrder, right[j], mergeKey);
      out.push(li >= 0 && ri >= 0 && li < ri ? left[i++] : right[j++]);
    }
  }
  return out;
}

function indexIn(list: unknown[], element: unknown, mergeKey: string | undefined): number {
  return list.findIndex((candidate) => sameElement(candidate, element, mergeKey));
}

function sameElement(a: unknown, b: unknown, mergeKey: string | undefined): boolean {
  if (mergeKey === undefined) return a === b;
  return isJsonObject(a) && isJsonObject(b) && a[mergeKey] === b[mergeKey];
}

// ---------------------------------------------------------------------------------------------
// Helpers

function childSchema(schema: PatchSchema | undefined, key: string): PatchSchema | undefined {
  if (!schema) return undefined;
  if (schema.fields && Object.hasOwn(schema.fields, key)) return schema.fields[key];
  return schema.values;
}

function withoutKey(map: JsonMap, key: string): JsonMap {
  return Object.fromEntries(Object.entries(map).filter(([k]) => k !== key));
}

function unknownDirective(directive: unknown, where: JsonMap): Error {
  return badRequest(
    `unknown patch type: ${JSON.stringify(directive)} in map: ${JSON.stringify(where)} (${DIRECTIVE} must be one of "replace", "delete", "merge")`,
  );
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
