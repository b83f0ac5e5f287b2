// core/v1 Events about the objects a controller manages, as `kubectl describe` shows them.
// Repeats of the same (object, type, reason, message) bump `count` and `lastTimestamp` on one
// Event instead of piling up new ones, like client-go's EventCorrelator. The Event's name is
// derived from that identity, so aggregation also survives a restart of the recorder. Recording is
// best effort: a failure is logged and never reaches the reconciler.
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from '../api/meta.ts';
import { type Logger, silentLogger } from '../lib/logger.ts';
import { rfc3339 } from '../api/conditions.ts';
import { asKubeClient, type KubeClient, type ObjectRef } from './client.ts';
import { type Clock, dateOf } from '../lib/clock.ts';
import { isApiError } from './rest.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  /** source.component and reportingComponent, e.g. `sedna-gm`. */
  component: string;
  /** source.host and reportingInstance (default: this machine's hostname). */
  host?: string;
  logger?: Logger;
  now?: () => Date;
  /** Used when `now` is not given. */
  clock?: Clock;
  /** Identities remembered for aggregation (default 4096, least recently used dropped). */
  cacheSize?: number;
  /** Per API request (default 10 s). */
  timeoutMs?: number;
}

export interface CoreEvent extends KubeObject {
  involvedObject: { apiVersion?: string; kind?: string; name?: string; namespace?: string; uid?: string; resourceVersion?: string };
  reason: string;
  message: string;
  type: EventType;
  source: { component: string; host?: string };
  reportingComponent: string;
  reportingInstance: string;
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
}

interface Occurrence {
  obj: KubeObject;
  type: EventType;
  reason: string;
  message: string;
  namespace: string;
  name: string;
}

export class EventRecorder {
  /** Last known count per identity; Map order doubles as the LRU order. */
  private readonly counts = new Map<string, number>();
  /** One write at a time per identity, so repeats increment instead of racing to create. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly logger: Logger;
  private readonly client: KubeClient;

  constructor(
    source: KubeConfig | KubeClient,
    private readonly options: EventRecorderOptions,
  ) {
    this.client = asKubeClient(source);
    this.logger = (options.logger ?? silentLogger()).child({ component: 'event-recorder' });
  }

  /** Records an Event; the promise resolves once written (or given up on) and never rejects. */
  event(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const identity = [obj.metadata.uid ?? '', obj.kind ?? '', obj.metadata.namespace ?? '', obj.metadata.name ?? '', type, reason, message].join('\u0000');
    const occurrence: Occurrence = { obj, type, reason, message, namespace: obj.metadata.namespace || 'default', name: eventName(obj, identity) };
    const previous = this.chains.get(identity) ?? Promise.resolve();
    const next = previous.then(() => this.record(identity, occurrence));
    this.chains.set(identity, next);
    void next.then(() => {
      if (this.chains.get(identity) === next) this.chains.delete(identity);
    });
    return next;
  }

  /** Waits for every Event recorded so far to be written. */
  async flush(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  private async record(identity: string, occurrence: Occurrence): Promise<void> {
    try {
      this.remember(identity, await this.write(this.counts.get(identity), occurrence));
    } catch (err) {
      this.logger.warn({ err, reason: occurrence.reason, object: `${occurrence.namespace}/${occurrence.obj.metadata.name}` }, 'could not record event');
    }
  }

  /** Writes the occurrence and returns the Event's count afterwards. */
  private async write(known: number | undefined, occurrence: Occurrence): Promise<number> {
    if (known !== undefined) {
      try {
        return await this.bump(occurrence, known + 1);
      } catch (err) {
        if (!isApiError(err, 404)) throw err; // the Event expired meanwhile: start a new one
      }
    }
    try {
      await this.client.create(eventRef(occurrence), this.newEvent(occurrence), this.call());
      return 1;
    } catch (err) {
      if (!isApiError(err, 409)) throw err;
      // Recorded before this recorder's memory (a restart, or an identity it had forgotten).
      const existing = await this.client.get<CoreEvent>(eventRef(occurrence), this.call());
      return this.bump(occurrence, (existing.count ?? 1) + 1);
    }
  }

  private async bump(occurrence: Occurrence, count: number): Promise<number> {
    await this.client.patch(eventRef(occurrence), { count, lastTimestamp: rfc3339(this.now()) }, 'merge', this.call());
    return count;
  }

  private newEvent(occurrence: Occurrence): CoreEvent {
    const { obj } = occurrence;
    const now = rfc3339(this.now());
    const host = this.options.host ?? hostname();
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: occurrence.name, namespace: occurrence.namespace },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: obj.metadata.name,
        namespace: obj.metadata.namespace,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
      reason: occurrence.reason,
      message: occurrence.message,
      type: occurrence.type,
      source: { component: this.options.component, host },
      reportingComponent: this.options.component,
      reportingInstance: host,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
  }

  private call(): { timeoutMs: number } {
    return { timeoutMs: this.options.timeoutMs ?? 10_000 };
  }

  private remember(identity: string, count: number): void {
    this.counts.delete(identity);
    this.counts.set(identity, count);
    const limit = this.options.cacheSize ?? 4096;
    for (const oldest of this.counts.keys()) {
      if (this.counts.size <= limit) break;
      this.counts.delete(oldest);
    }
  }

  private now(): Date {
    return this.options.now?.() ?? (this.options.clock ? dateOf(this.options.clock) : new Date());
  }
}

function eventRef(occurrence: Occurrence): ObjectRef {
  return { apiVersion: 'v1', plural: 'events', namespace: occurrence.namespace, name: occurrence.name };
}

/** `<object>.<hash of the identity>`, within the 253 characters a name may have. */
function eventName(obj: KubeObject, identity: string): string {
  const hash = createHash('sha256').update(identity).digest('hex').slice(0, 16);
  return `${(obj.metadata.name ?? 'object').slice(0, 236)}.${hash}`;
}
