// Small builders for the OpenAPI v3 structural schemas of the Sedna CRDs. They spell out each node
// the way controller-gen would (type, format, required), so the kind files read like the Go types.
import type { JSONSchemaProps, JsonValue } from '../meta.ts';

type Props = Record<string, JSONSchemaProps>;

/** Adds a description only when there is one, so generated YAML has no empty keys. */
function described(schema: JSONSchemaProps, description: string | undefined): JSONSchemaProps {
  return description ? { ...schema, description } : schema;
}

export function string(description?: string): JSONSchemaProps {
  return described({ type: 'string' }, description);
}

export function stringEnum(values: readonly string[], description?: string): JSONSchemaProps {
  return described({ type: 'string', enum: [...values] }, description);
}

export function boolean(description?: string): JSONSchemaProps {
  return described({ type: 'boolean' }, description);
}

/** Go int32: Kubernetes counts and replica numbers. */
export function int32(description?: string): JSONSchemaProps {
  return described({ type: 'integer', format: 'int32' }, description);
}

/** Go int64: seconds and generations. */
export function int64(description?: string): JSONSchemaProps {
  return described({ type: 'integer', format: 'int64' }, description);
}

/** Go int: controller-gen gives it no format. */
export function integer(description?: string): JSONSchemaProps {
  return described({ type: 'integer' }, description);
}

/** Go float64 (Sedna generates its CRDs with allowDangerousTypes, so floats are plain numbers). */
export function number(description?: string): JSONSchemaProps {
  return described({ type: 'number' }, description);
}

/** metav1.Time: RFC 3339. */
export function dateTime(description?: string): JSONSchemaProps {
  return described({ type: 'string', format: 'date-time' }, description);
}

/** intstr.IntOrString, e.g. a rolling update's maxSurge. */
export function intOrString(description?: string): JSONSchemaProps {
  return described({ 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] }, description);
}

export function object(properties: Props, required: readonly string[] = [], description?: string): JSONSchemaProps {
  const schema: JSONSchemaProps = { type: 'object' };
  if (Object.keys(properties).length > 0) schema.properties = properties;
  if (required.length > 0) schema.required = [...required];
  return described(schema, description);
}

export function array(items: JSONSchemaProps, description?: string): JSONSchemaProps {
  return described({ type: 'array', items }, description);
}

export function stringMap(description?: string): JSONSchemaProps {
  return described({ type: 'object', additionalProperties: { type: 'string' } }, description);
}

/** An object whose content is not ours to check (embedded Kubernetes types we pass through). */
export function opaqueObject(description?: string, properties?: Props): JSONSchemaProps {
  const schema: JSONSchemaProps = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  if (properties) schema.properties = properties;
  return described(schema, description);
}

export function withDefault(schema: JSONSchemaProps, value: JsonValue): JSONSchemaProps {
  return { ...schema, default: value };
}

export function withMinimum(schema: JSONSchemaProps, minimum: number): JSONSchemaProps {
  return { ...schema, minimum };
}

export function withMinItems(schema: JSONSchemaProps, minItems: number): JSONSchemaProps {
  return { ...schema, minItems };
}
