// Object-metadata validation shared by every kind (Kubernetes' ValidateObjectMeta), and the name
// rules kinds pick from.
import type { KubeObject } from '../../api/meta.ts';
import { type FieldError, FieldErrors } from '../errors.ts';
import { dnsLabelErrors, dnsSubdomainErrors, labelValueErrors, pathSegmentErrors, qualifiedNameErrors } from '../../api/names.ts';

export type NameRule = (name: string) => string[];

export { dnsLabelErrors, dnsSubdomainErrors, pathSegmentErrors };

function isStringMap(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}

/** Fields of ObjectMeta that are strings in the Go type; a number there is refused, never stored. */
const STRING_META_FIELDS = ['name', 'generateName', 'namespace', 'uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp'] as const;

function metaTypeErrors(meta: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  for (const field of STRING_META_FIELDS) {
    const value = meta[field];
    if (value !== undefined && value !== null && typeof value !== 'string') {
      errors.push(FieldErrors.typeInvalid(`metadata.${field}`, value, 'must be a string'));
    }
  }
  for (const field of ['generation', 'deletionGracePeriodSeconds']) {
    const value = meta[field];
    if (value !== undefined && value !== null && !Number.isSafeInteger(value)) errors.push(FieldErrors.typeInvalid(`metadata.${field}`, value, 'must be an integer'));
  }
  return errors;
}

export function validateObjectMeta(obj: KubeObject, namespaced: boolean, nameRule: NameRule): FieldError[] {
  const meta = obj.metadata;
  const typeErrors = metaTypeErrors(meta as Record<string, unknown>);
  // Rules below read these fields as strings: stop at wrong types rather than misread them.
  if (typeErrors.length > 0) return typeErrors;
  const errors: FieldError[] = [];
  if (!meta.name) errors.push(FieldErrors.required('metadata.name', 'name or generateName is required'));
  else for (const m of nameRule(meta.name)) errors.push(FieldErrors.invalid('metadata.name', meta.name, m));
  if (meta.generateName) {
    // The server appends 5 characters; what it appends to must already be a valid prefix.
    for (const m of nameRule(`${meta.generateName.replace(/-+$/, '')}x`)) errors.push(FieldErrors.invalid('metadata.generateName', meta.generateName, m));
  }
  if (namespaced && !meta.namespace) errors.push(FieldErrors.required('metadata.namespace'));
  if (!namespaced && meta.namespace) errors.push(FieldErrors.forbidden('metadata.namespace', 'not allowed on this type'));
  errors.push(...validateLabels(meta.labels));
  errors.push(...validateAnnotations(meta.annotations));
  errors.push(...validateOwnerReferences(obj));
  errors.push(...validateFinalizers(meta.finalizers));
  return errors;
}

/** The total size kube-apiserver allows for a object's annotations (TotalAnnotationSizeLimitB). */
export const MAX_ANNOTATIONS_BYTES = 256 * 1024;

function validateAnnotations(annotations: unknown): FieldError[] {
  if (annotations === undefined || annotations === null) return [];
  if (!isStringMap(annotations)) return [FieldErrors.invalid('metadata.annotations', annotations, 'annotations must be a map of string to string')];
  const errors: FieldError[] = [];
  for (const key of Object.keys(annotations)) {
    for (const m of qualifiedNameErrors(key.toLowerCase())) errors.push(FieldErrors.invalid('metadata.annotations', key, m));
  }
  const size = Object.entries(annotations).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  if (size > MAX_ANNOTATIONS_BYTES) errors.push(FieldErrors.tooLong('metadata.annotations', MAX_ANNOTATIONS_BYTES));
  return errors;
}

/**
 * ValidateFinalizers: qualified names; orphan and foregroundDeletion exclude each other. (Since 1.29 a finalizer without a domain is
 * only a warning in Kubernetes, so it is accepted here.)
 */
function validateFinalizers(finalizers: unknown): FieldError[] {
  if (finalizers === undefined || finalizers === null) return [];
  if (!Array.isArray(finalizers)) return [FieldErrors.typeInvalid('metadata.finalizers', finalizers, 'must be a list of strings')];
  const errors: FieldError[] = [];
  finalizers.forEach((f: unknown, i) => {
    const at = `metadata.finalizers[${i}]`;
    if (typeof f !== 'string') return void errors.push(FieldErrors.typeInvalid(at, f, 'must be a string'));
    for (const m of qualifiedNameErrors(f)) errors.push(FieldErrors.invalid(at, f, m));
  });
  if (finalizers.includes('orphan') && finalizers.includes('foregroundDeletion')) {
    errors.push(FieldErrors.invalid('metadata.finalizers', finalizers, 'finalizer orphan and foregroundDeletion cannot be both set'));
  }
  return errors;
}

export function validateLabels(labels: unknown, field = 'metadata.labels'): FieldError[] {
  if (labels === undefined) return [];
  if (!isStringMap(labels)) return [FieldErrors.invalid(field, labels, 'labels must be a map of string to string')];
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(labels)) {
    for (const m of qualifiedNameErrors(key)) errors.push(FieldErrors.invalid(field, key, m));
    for (const m of labelValueErrors(value)) errors.push(FieldErrors.invalid(field, value, m));
  }
  return errors;
}

function validateOwnerReferences(obj: KubeObject): FieldError[] {
  const refs = obj.metadata.ownerReferences;
  if (refs === undefined) return [];
  if (!Array.isArray(refs)) return [FieldErrors.invalid('metadata.ownerReferences', refs, 'must be a list')];
  const errors: FieldError[] = [];
  let controllers = 0;
  refs.forEach((ref, i) => {
    const at = `metadata.ownerReferences[${i}]`;
    if (!ref.apiVersion) errors.push(FieldErrors.invalid(`${at}.apiVersion`, ref.apiVersion ?? '', 'version must not be empty'));
    if (!ref.kind) errors.push(FieldErrors.invalid(`${at}.kind`, ref.kind ?? '', 'kind must not be empty'));
    if (!ref.name) errors.push(FieldErrors.invalid(`${at}.name`, ref.name ?? '', 'name must not be empty'));
    if (!ref.uid) errors.push(FieldErrors.invalid(`${at}.uid`, ref.uid ?? '', 'uid must not be empty'));
    if (ref.uid && ref.uid === obj.metadata.uid) errors.push(FieldErrors.invalid(`${at}.uid`, ref.uid, 'an object cannot own itself'));
    if (ref.controller) controllers++;
  });
  if (controllers > 1) {
    errors.push(FieldErrors.invalid('metadata.ownerReferences', refs.length, 'Only one reference can have Controller set to true'));
  }
  return errors;
}
