// What apiextensions-apiserver checks on a CustomResourceDefinition (apiextensions.k8s.io/v1) before
// storing it, and the defaults it fills first. Messages are Kubernetes' own, so kubectl shows the
// same rejection it would from a real cluster.
import type {
  CustomResourceColumnDefinition,
  CustomResourceDefinition,
  CustomResourceDefinitionNames,
  CustomResourceDefinitionVersion,
  JSONSchemaProps,
} from '../../api/meta.ts';
import { type FieldError, FieldErrors } from '../errors.ts';
import { dns1035LabelErrors } from '../../api/names.ts';
import { compilePattern } from './pattern.ts';
import { dnsSubdomainErrors, validateObjectMeta } from '../registry/validation.ts';

// ---------------------------------------------------------------------------------------------
// Defaulting (SetDefaults_CustomResourceDefinition). Served and storage flags are the user's.

export function defaultCustomResourceDefinition(crd: CustomResourceDefinition): void {
  const names = crd.spec.names;
  if (!names.singular) names.singular = names.kind.toLowerCase();
  if (!names.listKind && names.kind) names.listKind = `${names.kind}List`;
  if (!crd.spec.conversion) crd.spec.conversion = { strategy: 'None' };
  const storage = crd.spec.versions.find((v) => v.storage);
  if (storage && !crd.status?.storedVersions?.length) {
    crd.status = { ...crd.status, storedVersions: [storage.name] };
  }
}

// ---------------------------------------------------------------------------------------------
// Validation (ValidateCustomResourceDefinition), in Kubernetes' order: metadata, group, scope,
// each version, the version set, names, conversion.

export function validateCustomResourceDefinition(crd: CustomResourceDefinition): FieldError[] {
  const spec = crd.spec;
  const requiredName = `${spec.names.plural}.${spec.group}`;
  const nameRule = (name: string): string[] => [
    ...dnsSubdomainErrors(name),
    ...(name === requiredName ? [] : ['must be spec.names.plural+"."+spec.group']),
  ];
  return [
    ...validateObjectMeta(crd, false, nameRule),
    ...validateGroup(spec.group),
    ...enumString('spec.scope', spec.scope, ['Cluster', 'Namespaced']),
    ...validatePreserveUnknownFields(spec.preserveUnknownFields),
    ...spec.versions.flatMap((v, i) => validateVersion(v, `spec.versions[${i}]`)),
    ...validateVersionSet(spec.versions),
    ...validateNames(spec.names, 'spec.names'),
    ...(spec.conversion ? enumString('spec.conversion.strategy', spec.conversion.strategy, ['None', 'Webhook']) : []),
  ];
}

function enumString(path: string, value: string | undefined, accepted: string[]): FieldError[] {
  if (!value) return [FieldErrors.required(path)];
  return accepted.includes(value) ? [] : [FieldErrors.notSupported(path, value, accepted)];
}

function validateGroup(group: string): FieldError[] {
  if (!group) return [FieldErrors.required('spec.group')];
  const errs = dnsSubdomainErrors(group);
  if (errs.length > 0) return [FieldErrors.invalid('spec.group', group, errs.join(','))];
  if (!group.includes('.')) return [FieldErrors.invalid('spec.group', group, 'should be a domain with at least one dot')];
  return [];
}

/** apiextensions.k8s.io/v1 no longer allows whole-object preservation; schemas say it per node. */
function validatePreserveUnknownFields(preserve: boolean | undefined): FieldError[] {
  if (!preserve) return [];
  return [
    FieldErrors.invalid(
      'spec.preserveUnknownFields',
      true,
      'cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead',
    ),
  ];
}

function validateVersion(version: CustomResourceDefinitionVersion, path: string): FieldError[] {
  const errs = dns1035LabelErrors(version.name ?? '');
  return [
    ...(errs.length > 0 ? [FieldErrors.invalid(`${path}.name`, version.name ?? '', errs.join(','))] : []),
    ...validateSchema(version.schema?.openAPIV3Schema, `${path}.schema.openAPIV3Schema`),
    ...validateScale(version.subresources?.scale, `${path}.subresources`),
    ...(version.additionalPrinterColumns ?? []).flatMap((c, i) => validateColumn(c, `${path}.additionalPrinterColumns[${i}]`)),
  ];
}

function validateVersionSet(versions: CustomResourceDefinitionVersion[]): FieldError[] {
  const errs: FieldError[] = [];
  const names = versions.map((v) => v.name);
  if (new Set(names).size !== names.length) errs.push(FieldErrors.invalid('spec.versions', versions, 'must contain unique version names'));
  if (versions.filter((v) => v.storage).length !== 1) {
    errs.push(FieldErrors.invalid('spec.versions', versions, 'must have exactly one version marked as storage version'));
  }
  return errs;
}

function labelRule(path: string, value: string | undefined, mixedCase: boolean): FieldError[] {
  if (!value) return [];
  const errs = dns1035LabelErrors(mixedCase ? value.toLowerCase() : value);
  if (errs.length === 0) return [];
  const detail = mixedCase ? `may have mixed case, but should otherwise match: ${errs.join(',')}` : errs.join(',');
  return [FieldErrors.invalid(path, value, detail)];
}

function validateNames(names: CustomResourceDefinitionNames, path: string): FieldError[] {
  const required = (['plural', 'singular', 'kind', 'listKind'] as const).filter((k) => !names[k]).map((k) => FieldErrors.required(`${path}.${k}`));
  return [
    ...required,
    ...labelRule(`${path}.plural`, names.plural, false),
    ...labelRule(`${path}.singular`, names.singular, false),
    ...labelRule(`${path}.kind`, names.kind, true),
    ...labelRule(`${path}.listKind`, names.listKind, true),
    ...(names.shortNames ?? []).flatMap((n, i) => labelRule(`${path}.shortNames[${i}]`, n, false)),
    ...(names.kind && names.kind === names.listKind ? [FieldErrors.invalid(`${path}.listKind`, names.listKind, 'kind and listKind may not be the same')] : []),
    ...(names.categories ?? []).flatMap((c, i) => labelRule(`${path}.categories[${i}]`, c, false)),
  ];
}

// ---------------------------------------------------------------------------------------------
// Printer columns and the scale subresource.

const COLUMN_TYPES = ['boolean', 'date', 'integer', 'number', 'string'];
const COLUMN_FORMATS = ['byte', 'date', 'date-time', 'double', 'float', 'int32', 'int64', 'password'];

function simpleJsonPathErrors(value: string, path: string): FieldError[] {
  if (!value.startsWith('.')) return [FieldErrors.invalid(path, value, 'must be a simple json path starting with .')];
  return [];
}

function validateColumn(col: CustomResourceColumnDefinition, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const oneOf = (list: string[]): string => `must be one of ${list.join(',')}`;
  if (!col.name) errs.push(FieldErrors.required(`${path}.name`));
  if (!col.type) errs.push(FieldErrors.required(`${path}.type`, oneOf(COLUMN_TYPES)));
  else if (!COLUMN_TYPES.includes(col.type)) errs.push(FieldErrors.invalid(`${path}.type`, col.type, oneOf(COLUMN_TYPES)));
  if (col.format && !COLUMN_FORMATS.includes(col.format)) errs.push(FieldErrors.invalid(`${path}.format`, col.format, oneOf(COLUMN_FORMATS)));
  if (!col.jsonPath) errs.push(FieldErrors.required(`${path}.JSONPath`));
  else errs.push(...simpleJsonPathErrors(col.jsonPath, `${path}.jsonPath`));
  return errs;
}

function scalePathErrors(value: string | undefined, path: string, under: '.spec' | '.status', required: boolean): FieldError[] {
  if (!value) return required ? [FieldErrors.required(path)] : [];
  const errs = simpleJsonPathErrors(value, path);
  if (errs.length > 0) return errs;
  return value.startsWith(`${under}.`) ? [] : [FieldErrors.invalid(path, value, `should be a json path under ${under}`)];
}

function validateScale(scale: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string } | undefined, path: string): FieldError[] {
  if (!scale) return [];
  return [
    ...scalePathErrors(scale.specReplicasPath, `${path}.scale.specReplicasPath`, '.spec', true),
    ...scalePathErrors(scale.statusReplicasPath, `${path}.scale.statusReplicasPath`, '.status', true),
    ...scalePathErrors(scale.labelSelectorPath, `${path}.scale.labelSelectorPath`, '.status', false),
  ];
}

// ---------------------------------------------------------------------------------------------
// Schemas: first the OpenAPI restrictions apiextensions adds, then the structural invariants.

function validateSchema(schema: JSONSchemaProps | undefined, path: string): FieldError[] {
  if (!schema) return [FieldErrors.required(path, 'schemas are required')];
  return [...openAPIRestrictions(schema, path), ...structuralErrors(schema, 'root', path)];
}

function childSchemas(s: JSONSchemaProps, path: string): [JSONSchemaProps, string][] {
  const out: [JSONSchemaProps, string][] = [];
  if (typeof s.additionalProperties === 'object') out.push([s.additionalProperties, `${path}.additionalProperties`]);
  for (const [k, v] of Object.entries(s.properties ?? {})) out.push([v, `${path}.properties[${k}]`]);
  if (s.not) out.push([s.not, `${path}.not`]);
  s.allOf?.forEach((v, i) => out.push([v, `${path}.allOf[${i}]`]));
  s.oneOf?.forEach((v, i) => out.push([v, `${path}.oneOf[${i}]`]));
  s.anyOf?.forEach((v, i) => out.push([v, `${path}.anyOf[${i}]`]));
  if (s.items) out.push([s.items, `${path}.items`]);
  return out;
}

function listTypeErrors(s: JSONSchemaProps, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const listType = s['x-kubernetes-list-type'];
  const keys = s['x-kubernetes-list-map-keys'] ?? [];
  if (listType !== undefined && !['atomic', 'set', 'map'].includes(listType)) {
    errs.push(FieldErrors.notSupported(`${path}.x-kubernetes-list-type`, listType, ['atomic', 'set', 'map']));
  }
  if (keys.length > 0 && listType === undefined) {
    errs.push(FieldErrors.required(`${path}.x-kubernetes-list-type`, 'must be map if x-kubernetes-list-map-keys is non-empty'));
  } else if (keys.length > 0 && listType !== 'map') {
    errs.push(FieldErrors.invalid(`${path}.x-kubernetes-list-type`, listType, 'must be map if x-kubernetes-list-map-keys is non-empty'));
  }
  if (listType !== 'map') return errs;
  if (keys.length === 0) errs.push(FieldErrors.required(`${path}.x-kubernetes-list-map-keys`, 'must not be empty if x-kubernetes-list-type is map'));
  if (!s.items) errs.push(FieldErrors.required(`${path}.items`, 'must have a schema if x-kubernetes-list-type is map'));
  else if (s.items.type !== 'object') {
    errs.push(FieldErrors.invalid(`${path}.items.type`, s.items.type ?? '', "must be object if parent array's x-kubernetes-list-type is map"));
  }
  return errs;
}

/** ValidateCustomResourceDefinitionOpenAPISchema: the node first, then everything below it. */
function openAPIRestrictions(s: JSONSchemaProps, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (s.type === 'null') errs.push(FieldErrors.forbidden(`${path}.type`, 'type cannot be set to null'));
  if (s.uniqueItems) errs.push(FieldErrors.forbidden(`${path}.uniqueItems`, 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic'));
  const additional = s.additionalProperties;
  if (additional !== undefined && Object.keys(s.properties ?? {}).length > 0 && additional !== true) {
    errs.push(FieldErrors.forbidden(`${path}.additionalProperties`, 'additionalProperties and properties are mutual exclusive'));
  }
  if (s.pattern !== undefined) {
    // Refused here, as kube-apiserver does, rather than failing every later write of the kind.
    const compiled = compilePattern(s.pattern);
    if (compiled instanceof Error) errs.push(FieldErrors.invalid(`${path}.pattern`, s.pattern, `must be a valid regular expression, but isn't: ${compiled.message}`));
  }
  errs.push(...listTypeErrors(s, path));
  for (const [sub, at] of childSchemas(s, path)) errs.push(...openAPIRestrictions(sub, at));
  return errs;
}

type Level = 'root' | 'items' | 'field';

const MISSING_TYPE: Record<Level, string> = {
  root: 'must not be empty at the root',
  items: 'must not be empty for specified array items',
  field: 'must not be empty for specified object fields',
};

/** Recursion over the structural part of the schema (properties, additionalProperties, items). */
function structuralChildren(s: JSONSchemaProps, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (s.type === 'array' && !s.items) errs.push(FieldErrors.required(`${path}.items`, 'must be specified'));
  if (s.items) errs.push(...structuralErrors(s.items, 'items', `${path}.items`));
  for (const [k, v] of Object.entries(s.properties ?? {})) errs.push(...structuralErrors(v, 'field', `${path}.properties[${k}]`));
  if (typeof s.additionalProperties === 'object') errs.push(...structuralErrors(s.additionalProperties, 'field', `${path}.additionalProperties`));
  return errs;
}

function extensionErrors(s: JSONSchemaProps, path: string): FieldError[] {
  if (!s['x-kubernetes-int-or-string']) return [];
  const errs: FieldError[] = [];
  if (s['x-kubernetes-preserve-unknown-fields']) {
    errs.push(FieldErrors.invalid(`${path}.x-kubernetes-preserve-unknown-fields`, true, 'must be false if x-kubernetes-int-or-string is true'));
  }
  if (s['x-kubernetes-embedded-resource']) {
    errs.push(FieldErrors.invalid(`${path}.x-kubernetes-embedded-resource`, true, 'must be false if x-kubernetes-int-or-string is true'));
  }
  return errs;
}

/**
 * Every node must name its type, except int-or-string and preserve-unknown-fields nodes; embedded
 * resources must be objects; the root must be an object.
 */
function typeErrors(s: JSONSchemaProps, level: Level, path: string): FieldError[] {
  const embedded = s['x-kubernetes-embedded-resource'];
  if (embedded && s.type !== 'object') {
    const detail = 'must be object if x-kubernetes-embedded-resource is true';
    return [s.type ? FieldErrors.invalid(`${path}.type`, s.type, detail) : FieldErrors.required(`${path}.type`, detail)];
  }
  if (!s.type && !embedded && !s['x-kubernetes-int-or-string'] && !s['x-kubernetes-preserve-unknown-fields']) {
    return [FieldErrors.required(`${path}.type`, MISSING_TYPE[level])];
  }
  if (level === 'root' && s.type && s.type !== 'object') return [FieldErrors.invalid(`${path}.type`, s.type, 'must be object at the root')];
  return [];
}

/** apiVersion, kind and metadata of a resource, if the schema mentions them, have fixed types. */
function typeMetaErrors(s: JSONSchemaProps, level: Level, path: string): FieldError[] {
  if (level !== 'root' && !s['x-kubernetes-embedded-resource']) return [];
  const expected: [string, string][] = [['kind', 'string'], ['apiVersion', 'string'], ['metadata', 'object']];
  return expected.flatMap(([field, type]) => {
    const prop = s.properties?.[field];
    if (!prop || prop.type === type) return [];
    return [FieldErrors.invalid(`${path}.properties[${field}].type`, prop.type ?? '', `must be ${type}`)];
  });
}

/** ValidateStructural: the children first, then the node, as apiextensions reports them. */
function structuralErrors(s: JSONSchemaProps, level: Level, path: string): FieldError[] {
  const errs = [...structuralChildren(s, path), ...extensionErrors(s, path), ...typeErrors(s, level, path), ...typeMetaErrors(s, level, path)];
  if (s['x-kubernetes-embedded-resource'] && typeof s.additionalProperties === 'object') {
    errs.push(FieldErrors.forbidden(`${path}.additionalProperties`, 'must not be used if x-kubernetes-embedded-resource is set'));
  }
  if (s['x-kubernetes-embedded-resource'] && !s['x-kubernetes-preserve-unknown-fields'] && Object.keys(s.properties ?? {}).length === 0) {
    errs.push(FieldErrors.required(`${path}.properties`, 'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields'));
  }
  return errs;
}
