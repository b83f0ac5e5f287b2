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

export function validateObjectMeta(obj: KubeObject, namespaced: boolean, nameRule: NameRule): FieldError[] {
  const errors: FieldError[] = [];
  const meta = obj.metadata;
  if (!meta.name) errors.push(FieldErrors.required('metadata.name', 'name or generateName is required'));
  else for (const m of nameRule(meta.name)) errors.push(FieldErrors.invalid('metadata.name', meta.name, m));
  if (namespaced && !meta.namespace) errors.push(FieldErrors.required('metadata.namespace'));
  if (!namespaced && meta.namespace) errors.push(FieldErrors.forbidden('metadata.namespace', 'not allowed on this type'));
  errors.push(...validateLabels(meta.labels));
  if (meta.annotations !== undefined && !isStringMap(meta.annotations)) {
    errors.push(FieldErrors.invalid('metadata.annotations', meta.annotations, 'annotations must be a map of string to string'));
  } else {
    for (const key of Object.keys(meta.annotations ?? {})) {
      for (const m of qualifiedNameErrors(key)) errors.push(FieldErrors.invalid('metadata.annotations', key, m));
    }
    const size = Object.entries(meta.annotations ?? {}).reduce((n, [k, v]) => n + k.length + v.length, 0);
    if (size > 256 * 1024) errors.push(FieldErrors.tooLong('metadata.annotations', 256 * 1024));
  }
  errors.push(...validateOwnerReferences(obj));
  if (meta.finalizers !== undefined && !(Array.isArray(meta.finalizers) && meta.finalizers.every((f) => typeof f === 'string'))) {
    errors.push(FieldErrors.invalid('metadata.finalizers', meta.finalizers, 'must be a list of strings'));
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
