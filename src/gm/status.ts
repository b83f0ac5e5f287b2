// Status writes for the GM: read the object, compute its next status, and PUT it through the
// status subresource with the resourceVersion read, retrying on conflict. A computed status equal
// to the current one is not written (no-op writes would wake every watcher for nothing).
import { isDeepStrictEqual } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from '../api/meta.ts';
import { isApiError, requestJson } from '../controller/index.ts';
import { resourcePath } from '../controller/index.ts';

export interface StatusTarget {
  apiVersion: string;
  plural: string;
  namespace: string;
  name: string;
}

/** Given the current object, the status to write, or undefined to leave it as it is. */
export type StatusMutation<T extends KubeObject> = (current: T) => Record<string, unknown> | undefined;

export type StatusWriteResult = 'written' | 'unchanged' | 'not-found';

export class StatusWriter {
  constructor(
    private readonly kc: KubeConfig,
    private readonly options: { maxAttempts?: number; timeoutMs?: number } = {},
  ) {}

  /**
   * `cached` (an informer's copy) saves the first read; if it is stale the write conflicts and
   * the object is read from the server.
   */
  async update<T extends KubeObject>(target: StatusTarget, mutate: StatusMutation<T>, cached?: T): Promise<StatusWriteResult> {
    const path = `${resourcePath({ apiVersion: target.apiVersion, plural: target.plural, namespace: target.namespace })}/${encodeURIComponent(target.name)}`;
    const attempts = this.options.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      let current: T;
      if (attempt === 1 && cached?.metadata.resourceVersion) {
        current = cached;
      } else {
        try {
          current = await requestJson<T>(this.kc, { path, timeoutMs: this.options.timeoutMs ?? 10_000 });
        } catch (err) {
          if (isApiError(err, 404)) return 'not-found';
          throw err;
        }
      }
      const fromCache = current === cached;
      let next: Record<string, unknown> | undefined;
      try {
        next = mutate(current);
      } catch (err) {
        if (fromCache) continue; // decided on a possibly stale copy: decide again on the server's
        throw err;
      }
      const previous = (current as { status?: unknown }).status;
      if (next === undefined || isDeepStrictEqual(next, previous)) {
        if (fromCache) continue; // as above: "nothing to do" must hold for the server's copy
        return 'unchanged';
      }
      try {
        await requestJson<T>(this.kc, { method: 'PUT', path: `${path}/status`, body: { ...current, status: next }, timeoutMs: this.options.timeoutMs ?? 10_000 });
        return 'written';
      } catch (err) {
        if (isApiError(err, 404) && !fromCache) return 'not-found';
        if ((isApiError(err, 409) || isApiError(err, 404)) && attempt < attempts) continue; // changed meanwhile (or stale cache): read again
        throw err;
      }
    }
  }
}
