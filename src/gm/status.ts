// Status writes for the GM: read the object, compute its next status, and PUT it through the
// status subresource with the resourceVersion read, retrying on conflict. A computed status equal
// to the current one is not written (no-op writes would wake every watcher for nothing). The
// mutation is handed the writer's clock time, so condition timestamps follow an injected clock.
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../api/meta.ts';
import { type Clock, dateOf, isApiError, type KubeClient, type ObjectRef, realClock } from '../controller/index.ts';

export type StatusTarget = ObjectRef;

/** Given the current object and the time, the status to write, or undefined to leave it as it is. */
export type StatusMutation<T extends KubeObject> = (current: T, now: Date) => Record<string, unknown> | undefined;

export type StatusWriteResult = 'written' | 'unchanged' | 'not-found';

export class StatusWriter {
  constructor(
    private readonly client: KubeClient,
    private readonly options: { maxAttempts?: number; timeoutMs?: number; clock?: Clock } = {},
  ) {}

  /**
   * `cached` (an informer's copy) saves the first read; if it is stale the write conflicts and
   * the object is read from the server.
   */
  async update<T extends KubeObject>(target: StatusTarget, mutate: StatusMutation<T>, cached?: T): Promise<StatusWriteResult> {
    const call = { timeoutMs: this.options.timeoutMs ?? 10_000 };
    const attempts = this.options.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      let current: T;
      if (attempt === 1 && cached?.metadata.resourceVersion) {
        current = cached;
      } else {
        try {
          current = await this.client.get<T>(target, call);
        } catch (err) {
          if (isApiError(err, 404)) return 'not-found';
          throw err;
        }
      }
      const fromCache = current === cached;
      let next: Record<string, unknown> | undefined;
      try {
        next = mutate(current, dateOf(this.options.clock ?? realClock));
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
        await this.client.updateStatus<T>(target, { ...current, status: next }, call);
        return 'written';
      } catch (err) {
        if (isApiError(err, 404) && !fromCache) return 'not-found';
        if ((isApiError(err, 409) || isApiError(err, 404)) && attempt < attempts) continue; // changed meanwhile (or stale cache): read again
        throw err;
      }
    }
  }
}
