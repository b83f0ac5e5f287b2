// Structural-schema defaulting of custom resources, as apiextensions' schema/defaulting does it on
// every decode: missing properties get their `default`, and so does a null where null is not allowed
// (pruneUnknownFields has already dropped such nulls that have no default). Defaults are deep-copied
// so that stored objects never share structure with the CRD's schema.
import type { JSONSchemaProps } from '../../api/meta.ts';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNullableNull(value: unknown, s: JSONSchemaProps | undefined): boolean {
  return value === null && s !== undefined && !s.nullable;
}

/** Replaces a disallowed null with the schema's default, if it has one. */
function defaultNull(value: unknown, s: JSONSchemaProps | undefined): unknown {
  return isNonNullableNull(value, s) && s?.default !== undefined ? structuredClone(s.default) : value;
}

function defaultObject(obj: Json, s: JSONSchemaProps): void {
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    if (prop.default === undefined) continue;
    if (!Object.hasOwn(obj, key) || isNonNullableNull(obj[key], prop)) obj[key] = structuredClone(prop.default);
  }
  // Recurse after filling, so defaults nested inside a freshly defaulted object apply too.
  const additional = typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
  for (const key of Object.keys(obj)) {
    const prop = s.properties?.[key];
    if (prop) {
      applyDefaults(obj[key], prop);
    } else if (additional) {
      obj[key] = defaultNull(obj[key], additional);
      applyDefaults(obj[key], additional);
    }
  }
}

export function applyDefaults(value: unknown, schema: JSONSchemaProps): void {
  if (Array.isArray(value)) {
    if (!schema.items) return;
    for (let i = 0; i < value.length; i++) {
      value[i] = defaultNull(value[i], schema.items);
      applyDefaults(value[i], schema.items);
    }
  } else if (isObject(value)) {
    defaultObject(value, schema);
  }
}
