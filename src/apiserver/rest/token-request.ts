// POST serviceaccounts/<name>/token (authentication.k8s.io/v1 TokenRequest): a signed token for
// the service account, for the audiences asked (the API server's by default), valid for
// spec.expirationSeconds (default one hour, at least ten minutes, at most a year), optionally
// bound to a Pod or Secret of the same namespace so it dies with that object.
import type { KubeObject } from '../../api/meta.ts';
import {
  type BoundObject,
  DEFAULT_AUDIENCE,
  MAX_EXPIRATION_SECONDS,
  MIN_EXPIRATION_SECONDS,
  type ServiceAccountTokens,
} from '../authn/service-account-tokens.ts';
import { FieldErrors, invalid, type FieldError } from '../errors.ts';
import type { GenericStore } from '../registry/generic-store.ts';
import { record } from '../registry/builtins.ts';

const DEFAULT_EXPIRATION_SECONDS = 3600;

export function createToken(store: GenericStore, tokens: ServiceAccountTokens, namespace: string, name: string, body: KubeObject): KubeObject {
  const sa = store.get(store.registry.lookup('', 'v1', 'serviceaccounts')!, namespace, name);
  const spec = record(body.spec);
  const errors: FieldError[] = [];
  const expiration = spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
  if (typeof expiration !== 'number' || !Number.isInteger(expiration) || expiration < MIN_EXPIRATION_SECONDS) {
    errors.push(FieldErrors.invalid('spec.expirationSeconds', expiration, `may not specify a duration less than ${MIN_EXPIRATION_SECONDS / 60} minutes`));
  } else if (expiration > MAX_EXPIRATION_SECONDS) {
    errors.push(FieldErrors.invalid('spec.expirationSeconds', expiration, 'may not specify a duration larger than 2^32 seconds'));
  }
  const audiences = spec.audiences ?? [];
  if (!Array.isArray(audiences) || audiences.some((a) => typeof a !== 'string' || a === '')) {
    errors.push(FieldErrors.invalid('spec.audiences', audiences, 'must be a list of non-empty strings'));
  }
  const bound = boundObject(store, namespace, spec.boundObjectRef, errors);
  if (errors.length > 0) throw invalid('TokenRequest', 'authentication.k8s.io', name, errors);
  const wanted = (audiences as string[]).length > 0 ? (audiences as string[]) : [DEFAULT_AUDIENCE];
  const issued = tokens.issue({ namespace, name, uid: sa.metadata.uid!, audiences: wanted, expirationSeconds: expiration as number, ...(bound ? { bound } : {}) });
  return {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    metadata: { name, namespace, creationTimestamp: null as unknown as string },
    spec: { audiences: wanted, expirationSeconds: expiration, boundObjectRef: spec.boundObjectRef ?? null },
    status: { token: issued.token, expirationTimestamp: issued.expires.toISOString().replace(/\.\d{3}Z$/, 'Z') },
  };
}

function boundObject(store: GenericStore, namespace: string, ref: unknown, errors: FieldError[]): BoundObject | undefined {
  if (ref === undefined || ref === null) return undefined;
  const r = record(ref);
  if (r.kind !== 'Pod' && r.kind !== 'Secret') {
    errors.push(FieldErrors.notSupported('spec.boundObjectRef.kind', r.kind ?? '', ['Pod', 'Secret']));
    return undefined;
  }
  if (typeof r.name !== 'string' || r.name === '') {
    errors.push(FieldErrors.required('spec.boundObjectRef.name'));
    return undefined;
  }
  const def = store.registry.lookup('', 'v1', r.kind === 'Pod' ? 'pods' : 'secrets')!;
  const obj = store.get(def, namespace, r.name);
  if (r.uid !== undefined && r.uid !== '' && r.uid !== obj.metadata.uid) {
    errors.push(FieldErrors.invalid('spec.boundObjectRef.uid', r.uid, `the UID in the bound object reference (${JSON.stringify(r.uid)}) does not match the UID in record: ${obj.metadata.uid}`));
    return undefined;
  }
  return { kind: r.kind, name: r.name, uid: obj.metadata.uid! };
}
