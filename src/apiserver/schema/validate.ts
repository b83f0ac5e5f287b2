// Validation of a custom resource against its CRD version's structural schema, as kube-apiserver's
// apiextensions does it. Three passes run in Kubernetes' order, because that order is what a client
// sees in the Status causes:
//   1. kube-openapi's schema validator (types, junctors, strings, formats, numbers, arrays, enums,
//      objects). Its paths name map entries with a dot (`spec.labels.key`), as kube-openapi does.
//   2. embedded resources (apiextensions' schema/objectmeta): apiVersion and kind must be present.
//   3. list types (apiextensions' schema/listtype): set and map lists must not repeat items.
//      Passes 2 and 3 build field.Path strings, so map entries are `spec.labels[key]` there.
// Every message is worded as kubeOpenAPIResultToFieldErrors renders it for kube-apiserver 1.32.
import type { JSONSchemaProps } from '../../api/meta.ts';
import { type FieldError, FieldErrors, fieldError } from '../errors.ts';
import { dns1035LabelErrors } from '../../api/names.ts';
import { compilePattern } from './pattern.ts';

type Json = Record<string, unknown>;

export function validateAgainstSchema(value: unknown, schema: JSONSchemaProps, path = ''): FieldError[] {
  const out: FieldError[] = [];
  validateNode(value, schema, path, out, path === '');
  validateEmbedded(value, schema, path, out);
  validateListTypes(value, schema, path, out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function schemaOf(additional: JSONSchemaProps | boolean | undefined): JSONSchemaProps | undefined {
  return typeof additional === 'object' ? additional : undefined;
}

function child(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** The JSON type name kube-openapi infers for a decoded value (whole numbers decode as int64). */
function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value === 'object' ? 'object' : typeof value;
}

/** Go's %v of a float64: exponent form outside [1e-4, 1e21), with a two-digit exponent. */
export function goNumber(n: number): string {
  if (n === 0 || !Number.isFinite(n)) return String(n);
  const exp = Math.floor(Math.log10(Math.abs(n)));
  if (exp >= -4 && exp < 21) return String(n);
  return n.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
}

/** field.Error prints a nil bad value as the string "null". */
function badValue(value: unknown): unknown {
  return value === null || value === undefined ? 'null' : value;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
}

// ---------------------------------------------------------------------------------------------
// Pass 1: kube-openapi. Validators run in its order: type, junctors, string, format, number,
// array, enum, object. A type failure does not stop the others, exactly as in kube-openapi.

function validateNode(value: unknown, s: JSONSchemaProps, path: string, out: FieldError[], root = false): void {
  checkType(value, s, path, out);
  if (value === null || value === undefined) {
    checkEnum(null, s, path, out);
    return;
  }
  checkJunctors(value, s, path, out);
  if (typeof value === 'string') {
    checkString(value, s, path, out);
    checkFormat(value, s, path, out);
  }
  if (typeof value === 'number') checkNumber(value, s, path, out);
  if (Array.isArray(value)) checkArray(value, s, path, out);
  checkEnum(value, s, path, out);
  if (isObject(value)) checkObject(value, s, path, out, root);
}

function typeError(path: string, typeName: string, actual: string): FieldError {
  return FieldErrors.typeInvalid(path, actual, `${path} in body must be of type ${typeName}: ${JSON.stringify(actual)}`);
}

function declaredTypes(s: JSONSchemaProps): string[] {
  // apiextensions converts x-kubernetes-int-or-string into the type list [integer, string].
  if (s['x-kubernetes-int-or-string']) return ['integer', 'string'];
  return s.type ? [s.type] : [];
}

function typeAccepts(types: string[], actual: string): boolean {
  return types.includes(actual) || (actual === 'integer' && types.includes('number'));
}

/** The format kube-openapi reports for non-string data when a string format does not fit. */
function formatOfData(value: unknown): string {
  if (typeof value !== 'number') return '';
  return Number.isInteger(value) ? 'int64' : 'float64';
}

function checkType(value: unknown, s: JSONSchemaProps, path: string, out: FieldError[]): void {
  const types = declaredTypes(s);
  const format = effectiveFormat(s);
  if (types.length === 0 && !format) return;
  if (value === null || value === undefined) {
    if (types.length > 0 && !s.nullable) out.push(typeError(path, types.join(','), 'null'));
    return;
  }
  const actual = jsonType(value);
  const stringLike = actual === 'string' || actual === 'array';
  if (!stringLike && format && !(typeAccepts(types, actual) || formatOfData(value) === format)) {
    out.push(typeError(path, format, formatOfData(value)));
    return;
  }
  // kube-openapi leaves strings and arrays under a string format to the format validator.
  if (format && stringLike && !types.includes('number') && !types.includes('integer')) return;
  if (!typeAccepts(types, actual)) out.push(typeError(path, types.join(','), actual));
}

// --- junctors: anyOf, oneOf, allOf, not -------------------------------------------------------

/**
 * kube-openapi reports junctor failures as untyped errors, which apiextensions turns into
 * field.Invalid on a nil path: the field renders as "<nil>" and the bad value as "".
 */
function junctorError(detail: string): FieldError {
  return FieldErrors.invalid('<nil>', '', detail);
}

function branchErrors(value: unknown, branch: JSONSchemaProps, path: string): FieldError[] {
  const out: FieldError[] = [];
  validateNode(value, branch, path, out);
  return out;
}

/** kube-openapi keeps the failures of the branch that matched best; fewest errors stands in for that. */
function bestFailures(results: FieldError[][]): FieldError[] {
  return results.reduce((best, r) => (r.length < best.length ? r : best));
}

function checkJunctors(value: unknown, s: JSONSchemaProps, path: string, out: FieldError[]): void {
  const quoted = JSON.stringify(path);
  if (s.anyOf?.length) {
    const results = s.anyOf.map((b) => branchErrors(value, b, path));
    if (!results.some((r) => r.length === 0)) {
      out.push(junctorError(`${quoted} must validate at least one schema (anyOf)`), ...bestFailures(results));
    }
  }
  if (s.oneOf?.length) {
    const results = s.oneOf.map((b) => branchErrors(value, b, path));
    const valid = results.filter((r) => r.length === 0).length;
    if (valid === 0) out.push(junctorError(`${quoted} must validate one and only one schema (oneOf). Found none valid`), ...bestFailures(results));
    if (valid > 1) out.push(junctorError(`${quoted} must validate one and only one schema (oneOf). Found ${valid} valid alternatives`));
  }
  if (s.allOf?.length) {
    const results = s.allOf.map((b) => branchErrors(value, b, path));
    const valid = results.filter((r) => r.length === 0).length;
    out.push(...results.flat());
    if (valid !== results.length) out.push(junctorError(`${quoted} must validate all the schemas (allOf)${valid === 0 ? '. None validated' : ''}`));
  }
  if (s.not && branchErrors(value, s.not, path).length === 0) {
    out.push(junctorError(`${quoted} must not validate the schema (not)`));
  }
}

// --- strings ------------------------------------------------------------------------------------

/** field.TooLong as of Kubernetes 1.32: "may not be more than N bytes" (or "1 byte"). */
function tooLong(path: string, max: number): FieldError {
  if (max !== 1) return FieldErrors.tooLong(path, max);
  return fieldError(path, 'FieldValueTooLong', 'Too long: may not be more than 1 byte');
}

/** kube-openapi's string validator stops at its first failure: maxLength, minLength, pattern. */
function checkString(value: string, s: JSONSchemaProps, path: string, out: FieldError[]): void {
  const length = [...value].length;
  if (s.maxLength !== undefined && length > s.maxLength) {
    out.push(tooLong(path, s.maxLength));
    return;
  }
  if (s.minLength !== undefined && length < s.minLength) {
    out.push(FieldErrors.invalid(path, value, `${path} in body should be at least ${s.minLength} chars long`));
    return;
  }
  if (s.pattern === undefined || s.pattern === '') return;
  const re = compilePattern(s.pattern);
  if (re instanceof Error) {
    out.push(FieldErrors.invalid(path, value, `${path} in body should match '${s.pattern}, but pattern is invalid: ${re.message}'`));
  } else if (!re.test(value)) {
    out.push(FieldErrors.invalid(path, value, `${path} in body should match '${s.pattern}'`));
  }
}

// --- formats ------------------------------------------------------------------------------------

// apiextensions strips every format but these before validating (StripUnsupportedFormatsPostProcess);
// names compare without dashes, as go-openapi's format registry does.
const SUPPORTED_FORMATS = new Set([
  'bsonobjectid', 'uri', 'email', 'hostname', 'ipv4', 'ipv6', 'cidr', 'mac', 'uuid', 'uuid3', 'uuid4', 'uuid5',
  'isbn', 'isbn10', 'isbn13', 'creditcard', 'ssn', 'hexcolor', 'rgbcolor', 'byte', 'password', 'date', 'duration', 'datetime',
]);

function normalizeFormat(format: string): string {
  return format.replaceAll('-', '').toLowerCase();
}

function effectiveFormat(s: JSONSchemaProps): string {
  return s.format && SUPPORTED_FORMATS.has(normalizeFormat(s.format)) ? s.format : '';
}

function isDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** strfmt.IsDateTime: a full date, "T", hh:mm:ss with optional fraction, then z or an offset. */
function isDateTime(value: string): boolean {
  const [date, time, ...rest] = value.toLowerCase().split('t');
  if (rest.length > 0 || time === undefined || !isDate(date ?? '')) return false;
  const m = /^(\d{2}):(\d{2}):(\d{2})(\.\d+)?(z|[+-]\d{2}:\d{2})$/.exec(time);
  return m !== null && m[1]! <= '23' && m[2]! <= '59' && m[3]! <= '59';
}

const FORMAT_CHECKS: Record<string, (value: string) => boolean> = {
  datetime: isDateTime,
  date: isDate,
  byte: (v) => /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(v),
  uuid: (v) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(v),
};

function checkFormat(value: string, s: JSONSchemaProps, path: string, out: FieldError[]): void {
  const format = effectiveFormat(s);
  const check = format ? FORMAT_CHECKS[normalizeFormat(format)] : undefined;
  if (check && !check(value)) {
    out.push(FieldErrors.typeInvalid(path, value, `${path} in body must be of type ${format}: ${JSON.stringify(value)}`));
  }
}

// --- numbers ------------------------------------------------------------------------------------

function isMultiple(value: number, factor: number): boolean {
  if (Number.isInteger(value) && Number.isInteger(factor)) return value % factor === 0;
  const q = value / factor;
  return Math.abs(q - Math.round(q)) <= 1e-9 * Math.max(1, Math.abs(q));
}

/** Errors merge as kube-openapi merges them: multipleOf, then minimum, then maximum. */
function checkNumber(value: number, s: JSONSchemaProps, path: string, out: FieldError[]): void {
  if (s.multipleOf !== undefined) {
    if (s.multipleOf <= 0) {
      out.push(FieldErrors.invalid(path, s.multipleOf, `factor MultipleOf declared for ${path} must be positive: ${goNumber(s.multipleOf)}`));
    } else if (!isMultiple(value, s.multipleOf)) {
      out.push(FieldErrors.invalid(path, value, `${path} in body should be a multiple of ${goNumber(s.multipleOf)}`));
    }
  }
  if (s.minimum !== undefined && (s.exclusiveMinimum ? value <= s.minimum : value < s.minimum)) {
    const relation = s.exclusiveMinimum ? 'greater than' : 'greater than or equal to';
    out.push(FieldErrors.invalid(path, value, `${path} in body should be ${relation} ${goNumber(s.minimum)}`));
  }
  if (s.maximum !== undefined && (s.exclusiveMaximum ? value >= s.maximum : value > s.maximum)) {
    const relation = s.exclusiveMaximum ? 'less than' : 'less than or equal to';
    out.push(FieldErrors.invalid(path, value, `${path} in body should be ${relation} ${goNumber(s.maximum)}`));
  }
}

// --- arrays -------------------------------------------------------------------------------------

function checkArray(value: unknown[], s: JSONSchemaProps, path: string, out: FieldError[]): void {
  if (s.items) value.forEach((item, i) => validateNode(item, s.items!, `${path}[${i}]`, out));
  if (s.minItems !== undefined && value.length < s.minItems) {
    out.push(FieldErrors.invalid(path, value.length, `${path} in body should have at least ${s.minItems} items`));
  }
  if (s.maxItems !== undefined && value.length > s.maxItems) out.push(FieldErrors.tooMany(path, value.length, s.maxItems));
  if (s.uniqueItems && value.some((item, i) => value.slice(0, i).some((prev) => deepEqual(prev, item)))) {
    out.push(FieldErrors.invalid(path, '', `${path} in body shouldn't contain duplicates`));
  }
}

// --- enums --------------------------------------------------------------------------------------

function checkEnum(value: unknown, s: JSONSchemaProps, path: string, out: FieldError[]): void {
  if (!s.enum?.length || s.enum.some((allowed) => deepEqual(allowed, value))) return;
  // apiextensions lists string values as they are and every other value as its JSON.
  const supported = s.enum.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  out.push(FieldErrors.notSupported(path, badValue(value), supported));
}

// --- objects ------------------------------------------------------------------------------------

/**
 * At the resource root, metadata is validated as ObjectMeta elsewhere; the schema only demands an
 * object there (CRD schemas may not say more about metadata than name and generateName).
 */
function checkRootMetadata(value: unknown, path: string, out: FieldError[]): void {
  if (value !== undefined && !isObject(value)) out.push(typeError(path, 'object', jsonType(value)));
}

function checkObject(value: Json, s: JSONSchemaProps, path: string, out: FieldError[], root: boolean): void {
  const count = Object.keys(value).length;
  // kube-openapi returns straight away on a property-count failure.
  if (s.minProperties !== undefined && count < s.minProperties) {
    out.push(FieldErrors.invalid(path, count, `${path} in body should have at least ${s.minProperties} properties`));
    return;
  }
  if (s.maxProperties !== undefined && count > s.maxProperties) {
    out.push(FieldErrors.tooMany(path, count, s.maxProperties));
    return;
  }
  const additional = schemaOf(s.additionalProperties);
  for (const [key, v] of Object.entries(value)) {
    const at = child(path, key);
    const prop = s.properties?.[key];
    if (root && key === 'metadata') checkRootMetadata(v, at, out);
    else if (prop) validateNode(v, prop, at, out);
    else if (additional) validateNode(v, additional, at, out);
  }
  for (const key of s.required ?? []) {
    if (!Object.hasOwn(value, key)) out.push(FieldErrors.required(child(path, key)));
  }
}

// ---------------------------------------------------------------------------------------------
// Walk shared by passes 2 and 3: the structural part of the schema only (properties, additional
// properties, items), with field.Path naming.

type Visitor = (value: unknown, s: JSONSchemaProps, path: string, out: FieldError[]) => void;

function walkStructural(value: unknown, s: JSONSchemaProps | undefined, path: string, out: FieldError[], visit: Visitor): void {
  if (!s) return;
  visit(value, s, path, out);
  if (Array.isArray(value)) {
    value.forEach((item, i) => walkStructural(item, s.items, `${path}[${i}]`, out, visit));
  } else if (isObject(value)) {
    const additional = schemaOf(s.additionalProperties);
    for (const [key, v] of Object.entries(value)) {
      const prop = s.properties?.[key];
      if (prop) walkStructural(v, prop, child(path, key), out, visit);
      else if (additional) walkStructural(v, additional, `${path}[${key}]`, out, visit);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Pass 2: embedded resources carry their own type meta.

function validateEmbedded(value: unknown, schema: JSONSchemaProps, path: string, out: FieldError[]): void {
  walkStructural(value, schema, path, out, (v, s, at, errs) => {
    if (s['x-kubernetes-embedded-resource'] && isObject(v)) errs.push(...embeddedTypeMetaErrors(v, at));
  });
}

function apiVersionErrors(value: unknown, path: string): FieldError[] {
  if (typeof value !== 'string') return [FieldErrors.invalid(path, value, 'must be a string')];
  if (value === '') return [FieldErrors.invalid(path, value, 'must not be empty')];
  if (value !== '/' && value.split('/').length > 2) {
    return [FieldErrors.invalid(path, value, `unexpected GroupVersion string: ${value}`)];
  }
  return [];
}

function kindErrors(value: unknown, path: string): FieldError[] {
  if (typeof value !== 'string') return [FieldErrors.invalid(path, value, 'must be a string')];
  if (value === '') return [FieldErrors.invalid(path, value, 'must not be empty')];
  const errs = dns1035LabelErrors(value.toLowerCase());
  if (errs.length === 0) return [];
  return [FieldErrors.invalid(path, value, `may have mixed case, but should otherwise match: ${errs.join(',')}`)];
}

function embeddedTypeMetaErrors(obj: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!Object.hasOwn(obj, 'apiVersion')) errs.push(FieldErrors.required(child(path, 'apiVersion'), 'must not be empty'));
  if (!Object.hasOwn(obj, 'kind')) errs.push(FieldErrors.required(child(path, 'kind'), 'must not be empty'));
  for (const [key, v] of Object.entries(obj)) {
    if (key === 'apiVersion') errs.push(...apiVersionErrors(v, child(path, key)));
    if (key === 'kind') errs.push(...kindErrors(v, child(path, key)));
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------
// Pass 3: x-kubernetes-list-type set and map.

function validateListTypes(value: unknown, schema: JSONSchemaProps, path: string, out: FieldError[]): void {
  walkStructural(value, schema, path, out, (v, s, at, errs) => {
    if (!Array.isArray(v)) return;
    if (s['x-kubernetes-list-type'] === 'set') errs.push(...setDuplicates(v, at));
    if (s['x-kubernetes-list-type'] === 'map') errs.push(...mapDuplicates(v, s, at));
  });
}

/** Go's %#v of a decoded JSON value, which is how field.Duplicate prints compound values. */
function goSyntax(value: unknown): string {
  if (value === null || value === undefined) return 'interface {}(nil)';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return goNumber(value);
  if (Array.isArray(value)) return `[]interface {}{${value.map(goSyntax).join(', ')}}`;
  if (isObject(value)) {
    const entries = Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${goSyntax(value[k])}`);
    return `map[string]interface {}{${entries.join(', ')}}`;
  }
  return typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}

function duplicate(path: string, value: unknown): FieldError {
  if (typeof value !== 'object' || value === null) return FieldErrors.duplicate(path, badValue(value));
  return fieldError(path, 'FieldValueDuplicate', `Duplicate value: ${goSyntax(value)}`);
}

/** Reports the second occurrence of each repeated value only, as apiextensions does. */
function repeatedIndexes(keys: unknown[]): number[] {
  const seen: { key: unknown; times: number }[] = [];
  const indexes: number[] = [];
  keys.forEach((key, i) => {
    if (key === undefined) return;
    const entry = seen.find((e) => deepEqual(e.key, key));
    if (!entry) seen.push({ key, times: 1 });
    else if (entry.times++ === 1) indexes.push(i);
  });
  return indexes;
}

function setDuplicates(list: unknown[], path: string): FieldError[] {
  return repeatedIndexes(list).map((i) => duplicate(`${path}[${i}]`, list[i]));
}

/** The key of one map-list item: each key field's value, or that field's schema default. */
function mapKeyOf(item: Json, keys: string[], s: JSONSchemaProps): Json {
  const key: Json = {};
  for (const k of keys) {
    const v = Object.hasOwn(item, k) ? item[k] : s.items?.properties?.[k]?.default;
    if (v !== undefined) key[k] = v;
  }
  return key;
}

function mapDuplicates(list: unknown[], s: JSONSchemaProps, path: string): FieldError[] {
  const bad = list.findIndex((x) => x !== null && !isObject(x));
  if (bad >= 0) return [FieldErrors.invalid(`${path}[${bad}]`, list[bad], 'must be an object for an array of list-type map')];
  const keys = s['x-kubernetes-list-map-keys'] ?? [];
  const itemKeys = list.map((x) => (isObject(x) ? mapKeyOf(x, keys, s) : undefined));
  return repeatedIndexes(itemKeys).map((i) => duplicate(`${path}[${i}]`, itemKeys[i]));
}
