// Pruning of custom resources, as apiextensions' schema coercer does before defaulting: fields the
// structural schema does not know are dropped (and reported, for warnings or fieldValidation=Strict),
// then nulls the schema does not allow and cannot default are dropped silently.
import type { JSONSchemaProps } from '../../api/meta.ts';

type Json = Record<string, unknown>;

// apiVersion, kind and metadata of a resource (the root, or an x-kubernetes-embedded-resource) are
// handled as type and object meta, never pruned against the schema.
const META_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Path segments as apiextensions records unknown fields: `spec.workers[0].foo`. */
function keyPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

interface Pruning {
  unknown: string[];
}

/**
 * Removes unknown fields in place and returns their paths, sorted as Kubernetes sorts them.
 * Without a path the value is a whole resource, so its type and object meta stay.
 */
export function pruneUnknownFields(value: unknown, schema: JSONSchemaProps, path = ''): string[] {
  const state: Pruning = { unknown: [] };
  const atRoot = path === '';
  const root = atRoot && !schema['x-kubernetes-embedded-resource'] ? { ...schema, 'x-kubernetes-embedded-resource': true } : schema;
  prune(value, root, path, state);
  pruneNonNullableNulls(value, schema);
  return state.unknown.sort();
}

function prune(value: unknown, s: JSONSchemaProps | undefined, path: string, state: Pruning): void {
  if (s?.['x-kubernetes-preserve-unknown-fields']) {
    pruneKnown(value, s, path, state);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => prune(item, s?.items, `${path}[${i}]`, state));
  } else if (isObject(value)) {
    pruneObject(value, s, path, state);
  }
}

function pruneObject(obj: Json, s: JSONSchemaProps | undefined, path: string, state: Pruning): void {
  for (const [key, v] of Object.entries(obj)) {
    if (s?.['x-kubernetes-embedded-resource'] && META_FIELDS.has(key)) continue;
    const prop = s?.properties?.[key];
    const additional = s?.additionalProperties;
    if (prop) {
      prune(v, prop, keyPath(path, key), state);
    } else if (typeof additional === 'object') {
      prune(v, additional, keyPath(path, key), state);
    } else if (additional !== true) {
      // `additionalProperties: true` keeps anything; no schema or `false` drops the field.
      state.unknown.push(keyPath(path, key));
      delete obj[key];
    }
  }
}

/** Under x-kubernetes-preserve-unknown-fields unknown fields stay, but known ones are still pruned. */
function pruneKnown(value: unknown, s: JSONSchemaProps, path: string, state: Pruning): void {
  if (Array.isArray(value)) {
    if (s.items) value.forEach((item, i) => pruneKnown(item, s.items!, `${path}[${i}]`, state));
    return;
  }
  if (!isObject(value)) return;
  for (const [key, v] of Object.entries(value)) {
    if (s['x-kubernetes-embedded-resource'] && META_FIELDS.has(key)) continue;
    const prop = s.properties?.[key];
    const additional = s.additionalProperties;
    if (prop) prune(v, prop, keyPath(path, key), state);
    else if (typeof additional === 'object') prune(v, additional, keyPath(path, key), state);
  }
}

function fieldSchema(s: JSONSchemaProps | undefined, key: string): JSONSchemaProps | undefined {
  const prop = s?.properties?.[key];
  if (prop) return prop;
  return typeof s?.additionalProperties === 'object' ? s.additionalProperties : undefined;
}

/**
 * Drops nulls that the schema neither allows (nullable) nor can replace (default), as
 * apiextensions' PruneNonNullableNullsWithoutDefaults does: such a field reads as absent.
 */
export function pruneNonNullableNulls(value: unknown, schema: JSONSchemaProps | undefined): void {
  if (Array.isArray(value)) {
    for (const item of value) pruneNonNullableNulls(item, schema?.items);
  } else if (isObject(value)) {
    for (const [key, v] of Object.entries(value)) {
      const s = fieldSchema(schema, key);
      if (v === null && s && !s.nullable && s.default === undefined) delete value[key];
      else pruneNonNullableNulls(v, s);
    }
  }
}
