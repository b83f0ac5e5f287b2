// One error type for the whole API server. Every failure reaches the client as a meta/v1 Status,
// because kubectl and the official clients print exactly its message, reason and causes.
import type { Status, StatusCause, StatusDetails } from '../api/meta.ts';
import { SelectorError } from '../api/selectors/error.ts';

export class StatusError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: StatusDetails | undefined;

  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.name = 'StatusError';
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  toStatus(): Status {
    const status: Status = {
      apiVersion: 'v1',
      kind: 'Status',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) status.details = this.details;
    return status;
  }
}

/** What a resource is called in messages: "pods", or "jointinferenceservices.sedna.io". */
export interface QualifiedResource {
  group: string;
  resource: string;
}

function qualified(r: QualifiedResource): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

export function notFound(r: QualifiedResource, name: string): StatusError {
  return new StatusError(404, 'NotFound', `${qualified(r)} "${name}" not found`, {
    name,
    group: r.group,
    kind: r.resource,
  });
}

export function alreadyExists(r: QualifiedResource, name: string): StatusError {
  return new StatusError(409, 'AlreadyExists', `${qualified(r)} "${name}" already exists`, {
    name,
    group: r.group,
    kind: r.resource,
  });
}

export function conflict(r: QualifiedResource, name: string, why: string): StatusError {
  return new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${why}`, {
    name,
    group: r.group,
    kind: r.resource,
  });
}

export const STALE_OBJECT_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';

/** A field-level validation failure, as Kubernetes' field.Error renders it. */
export interface FieldError {
  /** JSON path of the field, dotted: spec.template.spec.containers[0].image */
  field: string;
  /** FieldValueInvalid, FieldValueRequired, FieldValueNotSupported, FieldValueTooLong, FieldValueTypeInvalid, FieldValueForbidden, FieldValueDuplicate */
  reason: string;
  /** The detail after the field, e.g. `Invalid value: "x": must be no more than 63 characters` */
  message: string;
}

/** 422 Invalid, worded as kube-apiserver words it: Kind.group "name" is invalid: [field: detail, ...] */
export function invalid(kind: string, group: string, name: string, errors: FieldError[]): StatusError {
  const kindName = group ? `${kind}.${group}` : kind;
  const rendered = errors.map((e) => `${e.field}: ${e.message}`);
  const summary = rendered.length === 1 ? rendered[0] : `[${rendered.join(', ')}]`;
  const causes: StatusCause[] = errors.map((e) => ({ reason: e.reason, message: e.message, field: e.field }));
  return new StatusError(422, 'Invalid', `${kindName} "${name}" is invalid: ${summary}`, {
    name,
    group,
    kind,
    causes,
  });
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, 'BadRequest', message);
}

/**
 * The Status a failure is answered with: its own, 400 for a selector the shared parsers
 * (src/api/selectors) refused, else undefined (the caller answers 500 and logs it).
 */
export function statusOf(err: unknown): StatusError | undefined {
  if (err instanceof StatusError) return err;
  if (err instanceof SelectorError) return badRequest(err.message);
  return undefined;
}

export function methodNotAllowed(verb: string, what: string): StatusError {
  return new StatusError(405, 'MethodNotAllowed', `${verb} is not supported on ${what}`);
}

export function unsupportedMediaType(contentType: string): StatusError {
  return new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got ${JSON.stringify(contentType)})`);
}

export function gone(message: string): StatusError {
  return new StatusError(410, 'Expired', message);
}

export function unauthorized(): StatusError {
  return new StatusError(401, 'Unauthorized', 'Unauthorized');
}

export function forbidden(r: QualifiedResource, name: string, why: string): StatusError {
  return new StatusError(403, 'Forbidden', `${qualified(r)} "${name}" is forbidden: ${why}`, {
    name,
    group: r.group,
    kind: r.resource,
  });
}

export function internalError(message: string): StatusError {
  return new StatusError(500, 'InternalError', `Internal error occurred: ${message}`);
}

export function tooLarge(message: string): StatusError {
  return new StatusError(413, 'RequestEntityTooLarge', message);
}

export function fieldError(field: string, reason: string, message: string): FieldError {
  return { field, reason, message };
}

/** Go's %v of a value as field errors print it: strings quoted, numbers and booleans bare. */
export function goValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'object') return Array.isArray(value) ? '"array"' : '"object"';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return '"object"';
}

export const FieldErrors = {
  required: (field: string, detail = ''): FieldError =>
    fieldError(field, 'FieldValueRequired', detail ? `Required value: ${detail}` : 'Required value'),
  invalid: (field: string, value: unknown, detail: string): FieldError =>
    fieldError(field, 'FieldValueInvalid', `Invalid value: ${goValue(value)}: ${detail}`),
  notSupported: (field: string, value: unknown, supported: unknown[]): FieldError =>
    fieldError(
      field,
      'FieldValueNotSupported',
      `Unsupported value: ${goValue(value)}: supported values: ${supported.map(goValue).join(', ')}`,
    ),
  forbidden: (field: string, detail: string): FieldError => fieldError(field, 'FieldValueForbidden', `Forbidden: ${detail}`),
  tooLong: (field: string, max: number): FieldError =>
    fieldError(field, 'FieldValueTooLong', `Too long: may not be more than ${max} bytes`),
  tooMany: (field: string, actual: number, max: number): FieldError =>
    fieldError(field, 'FieldValueTooMany', `Too many: ${actual}: must have at most ${max} items`),
  typeInvalid: (field: string, value: unknown, detail: string): FieldError =>
    fieldError(field, 'FieldValueTypeInvalid', `Invalid value: ${goValue(value)}: ${detail}`),
  duplicate: (field: string, value: unknown): FieldError =>
    fieldError(field, 'FieldValueDuplicate', `Duplicate value: ${goValue(value)}`),
};
