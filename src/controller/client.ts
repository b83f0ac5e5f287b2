// The seam between controllers and the API server. Reconcilers, the status writer, the event
// recorder and the apply helpers speak only this small interface, so the GM runs them over
// RestKubeClient (the official client's KubeConfig: its auth, TLS and current context) and unit
// tests run them over FakeKubeClient without a process or a socket. Errors keep the API server's
// meaning: a missing object is ApiError 404, a conflict ApiError 409, on both implementations.
import { KubeConfig } from '@kubernetes/client-node';
import type { KubeList, KubeObject } from '../api/meta.ts';
import { resourcePath } from './informer.ts';
import { requestJson } from './rest.ts';

/** A resource collection: `apiVersion` + `plural`, namespaced or not. */
export interface ResourceRef {
  apiVersion: string;
  plural: string;
  /** '' or absent: cluster-scoped, or every namespace for list(). */
  namespace?: string;
}

export interface ObjectRef extends ResourceRef {
  namespace: string;
  name: string;
}

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ListOptions extends CallOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export type PatchType = 'merge' | 'strategic' | 'json';

export interface DeleteOptions extends CallOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
}

export interface KubeClient {
  get<T extends KubeObject>(ref: ObjectRef, options?: CallOptions): Promise<T>;
  list<T extends KubeObject>(ref: ResourceRef, options?: ListOptions): Promise<KubeList<T>>;
  create<T extends KubeObject>(ref: ResourceRef, obj: T, options?: CallOptions): Promise<T>;
  /** PUT; `obj.metadata.resourceVersion`, when set, must match the stored one (else 409). */
  update<T extends KubeObject>(ref: ObjectRef, obj: T, options?: CallOptions): Promise<T>;
  /** PUT to the status subresource: only `status` changes. */
  updateStatus<T extends KubeObject>(ref: ObjectRef, obj: T, options?: CallOptions): Promise<T>;
  patch<T extends KubeObject>(ref: ObjectRef, patch: unknown, type: PatchType, options?: CallOptions): Promise<T>;
  delete(ref: ObjectRef, options?: DeleteOptions): Promise<void>;
}

export function objectPath(ref: ObjectRef): string {
  return `${resourcePath(ref)}/${encodeURIComponent(ref.name)}`;
}

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
};

const DEFAULT_TIMEOUT_MS = 10_000;

/** KubeClient over the API server's REST paths, authenticated by the official client's KubeConfig. */
export class RestKubeClient implements KubeClient {
  constructor(
    readonly kc: KubeConfig,
    private readonly defaultTimeoutMs = DEFAULT_TIMEOUT_MS,
  ) {}

  get<T extends KubeObject>(ref: ObjectRef, options: CallOptions = {}): Promise<T> {
    return requestJson<T>(this.kc, { path: objectPath(ref), ...this.call(options) });
  }

  list<T extends KubeObject>(ref: ResourceRef, options: ListOptions = {}): Promise<KubeList<T>> {
    const { labelSelector, fieldSelector, limit, continue: token, ...call } = options;
    return requestJson<KubeList<T>>(this.kc, { path: resourcePath(ref), query: { labelSelector, fieldSelector, limit, continue: token }, ...this.call(call) });
  }

  create<T extends KubeObject>(ref: ResourceRef, obj: T, options: CallOptions = {}): Promise<T> {
    return requestJson<T>(this.kc, { method: 'POST', path: resourcePath(ref), body: obj, ...this.call(options) });
  }

  update<T extends KubeObject>(ref: ObjectRef, obj: T, options: CallOptions = {}): Promise<T> {
    return requestJson<T>(this.kc, { method: 'PUT', path: objectPath(ref), body: obj, ...this.call(options) });
  }

  updateStatus<T extends KubeObject>(ref: ObjectRef, obj: T, options: CallOptions = {}): Promise<T> {
    return requestJson<T>(this.kc, { method: 'PUT', path: `${objectPath(ref)}/status`, body: obj, ...this.call(options) });
  }

  patch<T extends KubeObject>(ref: ObjectRef, patch: unknown, type: PatchType, options: CallOptions = {}): Promise<T> {
    return requestJson<T>(this.kc, { method: 'PATCH', path: objectPath(ref), body: patch, contentType: PATCH_CONTENT_TYPES[type], ...this.call(options) });
  }

  async delete(ref: ObjectRef, options: DeleteOptions = {}): Promise<void> {
    const { propagationPolicy, ...call } = options;
    const body = propagationPolicy ? { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy } : undefined;
    await requestJson(this.kc, { method: 'DELETE', path: objectPath(ref), body, ...this.call(call) });
  }

  private call(options: CallOptions): CallOptions {
    return { timeoutMs: options.timeoutMs ?? this.defaultTimeoutMs, ...(options.signal ? { signal: options.signal } : {}) };
  }
}

/** A client for callers that accept either a KubeConfig (the process's) or a client (a test's). */
export function asKubeClient(source: KubeConfig | KubeClient): KubeClient {
  return source instanceof KubeConfig ? new RestKubeClient(source) : source;
}
