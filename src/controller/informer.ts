// A list+watch loop that never silently stops. client-node 1.4.0's makeInformer stops for good on
// any watch error but a 410 and has no way to notice a stream that stays open but delivers
// nothing, so this drives k8s.Watch itself: re-watch after a clean end, re-list on 410 Gone and
// every resync period, back off 1 s → 30 s after failures, and abort a watch that has been silent
// for longer than the server's BOOKMARK interval allows (the watchdog).
import { setTimeout as delay } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import type { KubeList, KubeObject, Status } from '../api/meta.ts';
import { type Logger, silentLogger } from '../lib/logger.ts';
import { isApiError, requestJson } from './rest.ts';
import { type AddHandler, type DeleteHandler, type Informer, type Lister, ObjectStore, type UpdateHandler } from './store.ts';

export interface InformerOptions {
  /** Collection path, e.g. `/api/v1/namespaces/ns/pods`; see resourcePath(). */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Full re-list period, catching anything a watch could have missed (default 5 min). */
  resyncPeriodMs?: number;
  /** How often the server sends BOOKMARK events on an idle watch (ours: 30 s). */
  bookmarkIntervalMs?: number;
  /** Silence after which a watch is presumed dead (default 2 × bookmarkIntervalMs + 10 s). */
  stallTimeoutMs?: number;
  /** Server-side watch timeout; default random in [5, 10) min so informers do not re-watch in step. */
  watchTimeoutSeconds?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Per list request (default 60 s). */
  listTimeoutMs?: number;
  /** List page size (default 500). */
  pageSize?: number;
  logger?: Logger;
}

/** Counters for tests and diagnostics. */
export interface InformerStats {
  lists: number;
  watches: number;
  stalls: number;
  failures: number;
}

type WatchOutcome =
  | { kind: 'closed'; events: number; ms: number }
  | { kind: 'expired' }
  | { kind: 'resync' }
  | { kind: 'stalled' }
  | { kind: 'stopped' }
  | { kind: 'failed'; err: unknown };

const DEFAULT_BOOKMARK_INTERVAL_MS = 30_000;
/** A clean end sooner than this with no events counts as a failure, so a flapping server is backed off. */
const MIN_HEALTHY_WATCH_MS = 1_000;

export class SharedInformer<T extends KubeObject> implements Informer<T> {
  readonly stats: InformerStats = { lists: 0, watches: 0, stalls: 0, failures: 0 };
  private readonly store: ObjectStore<T>;
  private readonly watcher: k8s.Watch;
  private readonly logger: Logger;
  private resourceVersion = '';
  private needList = true;
  private lastListAt = 0;
  private consecutiveFailures = 0;
  private stopper: AbortController | undefined;
  private loopDone: Promise<void> | undefined;

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly options: InformerOptions,
  ) {
    this.logger = (options.logger ?? silentLogger()).child({ informer: options.path });
    this.store = new ObjectStore<T>(this.logger);
    this.watcher = new k8s.Watch(kc);
  }

  get lister(): Lister<T> {
    return this.store;
  }

  onAdd(handler: AddHandler<T>): () => void {
    return this.store.onAdd(handler);
  }

  onUpdate(handler: UpdateHandler<T>): () => void {
    return this.store.onUpdate(handler);
  }

  onDelete(handler: DeleteHandler<T>): () => void {
    return this.store.onDelete(handler);
  }

  hasSynced(): boolean {
    return this.store.hasSynced();
  }

  waitForSync(signal?: AbortSignal): Promise<boolean> {
    return this.store.waitForSync(signal);
  }

  /** The resourceVersion the next watch resumes from. */
  lastSyncResourceVersion(): string {
    return this.resourceVersion;
  }

  start(): void {
    if (this.stopper) return;
    this.stopper = new AbortController();
    this.loopDone = this.loop(this.stopper.signal);
  }

  async stop(): Promise<void> {
    this.stopper?.abort();
    await this.loopDone;
    this.stopper = undefined;
    this.loopDone = undefined;
  }

  private async loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const healthy = await this.cycle(signal);
      if (healthy) this.consecutiveFailures = 0;
      else if (!signal.aborted) await delay(this.nextBackoff(), undefined, { signal }).catch(() => undefined); // stop() cuts it short
    }
  }

  /** One (re-list and) watch; false when it failed and the loop should back off. Never throws. */
  private async cycle(signal: AbortSignal): Promise<boolean> {
    try {
      if (this.needList || this.resyncDue()) await this.relist(signal);
      return this.settle(await this.watchOnce(signal));
    } catch (err) {
      if (signal.aborted) return true;
      if (isApiError(err, 410)) return this.expire();
      this.stats.failures++;
      this.logger.warn({ err }, 'list failed; retrying with backoff');
      return false;
    }
  }

  private settle(outcome: WatchOutcome): boolean {
    switch (outcome.kind) {
      case 'closed':
        if (outcome.events > 0 || outcome.ms >= MIN_HEALTHY_WATCH_MS) return true;
        this.stats.failures++;
        this.logger.warn('watch closed at once without events; re-watching with backoff');
        return false;
      case 'expired':
        return this.expire();
      case 'resync':
      case 'stopped':
        return true;
      case 'stalled':
        this.stats.stalls++;
        this.logger.warn({ stallTimeoutMs: this.stallTimeoutMs() }, 'watch delivered nothing, not even a bookmark; re-watching');
        return false;
      case 'failed':
        if (isGone(outcome.err)) return this.expire();
        this.stats.failures++;
        this.logger.warn({ err: outcome.err }, 'watch failed; re-watching with backoff');
        return false;
    }
  }

  private expire(): boolean {
    this.logger.info({ resourceVersion: this.resourceVersion }, 'resourceVersion expired (410); re-listing');
    this.needList = true;
    return true;
  }

  private async relist(signal: AbortSignal): Promise<void> {
    const { items, resourceVersion } = await this.listAll(signal);
    this.stats.lists++;
    this.store.replace(items);
    this.resourceVersion = resourceVersion;
    this.needList = false;
    this.lastListAt = Date.now();
    this.store.markSynced();
  }

  private async listAll(signal: AbortSignal): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page = await requestJson<KubeList<T>>(this.kc, {
        path: this.options.path,
        query: { ...this.selectors(), limit: this.options.pageSize ?? 500, continue: continueToken },
        signal,
        timeoutMs: this.options.listTimeoutMs,
      });
      items.push(...page.items);
      resourceVersion = page.metadata.resourceVersion ?? '';
      continueToken = page.metadata.continue || undefined;
    } while (continueToken);
    return { items, resourceVersion };
  }

  private watchOnce(signal: AbortSignal): Promise<WatchOutcome> {
    this.stats.watches++;
    const run = new WatchRun(this.stallTimeoutMs(), this.msUntilResync());
    const onStop = (): void => run.finish({ kind: 'stopped' });
    signal.addEventListener('abort', onStop, { once: true });
    if (signal.aborted) run.finish({ kind: 'stopped' });
    const query = { ...this.selectors(), resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: this.watchTimeoutSeconds() };
    this.watcher
      .watch(this.options.path, query, (type: string, obj: unknown) => this.onWatchEvent(run, type, obj), (err: unknown) => run.ended(err))
      .then((controller) => run.attach(controller), (err: unknown) => run.finish({ kind: 'failed', err }));
    return run.outcome.finally(() => signal.removeEventListener('abort', onStop));
  }

  private onWatchEvent(run: WatchRun, type: string, obj: unknown): void {
    // Lines already read when a watch was abandoned must not reach a cache that moved on.
    if (!run.active) return;
    run.heard();
    const object = obj as T | Status;
    switch (type) {
      case 'ADDED':
      case 'MODIFIED':
        this.store.upsert(object as T);
        break;
      case 'DELETED':
        this.store.remove(object as T);
        break;
      case 'BOOKMARK':
        break;
      case 'ERROR':
        run.finish((object as Status).code === 410 ? { kind: 'expired' } : { kind: 'failed', err: new Error(`watch ERROR event: ${JSON.stringify(object)}`) });
        return;
      default:
        return;
    }
    this.resourceVersion = (object as T).metadata?.resourceVersion || this.resourceVersion;
  }

  private selectors(): { labelSelector?: string; fieldSelector?: string } {
    return { labelSelector: this.options.labelSelector, fieldSelector: this.options.fieldSelector };
  }

  private stallTimeoutMs(): number {
    return this.options.stallTimeoutMs ?? 2 * (this.options.bookmarkIntervalMs ?? DEFAULT_BOOKMARK_INTERVAL_MS) + 10_000;
  }

  private watchTimeoutSeconds(): number {
    return this.options.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
  }

  private resyncPeriodMs(): number {
    return this.options.resyncPeriodMs ?? 5 * 60_000;
  }

  private resyncDue(): boolean {
    return this.resyncPeriodMs() > 0 && Date.now() - this.lastListAt >= this.resyncPeriodMs();
  }

  private msUntilResync(): number | undefined {
    if (this.resyncPeriodMs() <= 0) return undefined;
    return Math.max(0, this.lastListAt + this.resyncPeriodMs() - Date.now());
  }

  private nextBackoff(): number {
    const initial = this.options.initialBackoffMs ?? 1_000;
    const max = this.options.maxBackoffMs ?? 30_000;
    const ms = Math.min(initial * 2 ** this.consecutiveFailures, max);
    this.consecutiveFailures++;
    return ms;
  }
}

/**
 * One watch request: settles exactly once, with whatever happens first — the stream ends, the
 * watchdog fires, the resync is due, or the informer stops — and then aborts the request.
 */
class WatchRun {
  readonly outcome: Promise<WatchOutcome>;
  private resolve!: (outcome: WatchOutcome) => void;
  private controller: AbortController | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private readonly resyncTimer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  private events = 0;
  private settled = false;

  constructor(
    private readonly stallTimeoutMs: number,
    resyncInMs: number | undefined,
  ) {
    this.outcome = new Promise((resolve) => (this.resolve = resolve));
    this.armWatchdog();
    if (resyncInMs !== undefined) this.resyncTimer = setTimeout(() => this.finish({ kind: 'resync' }), resyncInMs);
  }

  get active(): boolean {
    return !this.settled;
  }

  /** Any line from the server, bookmarks included, proves the stream alive. */
  heard(): void {
    this.events++;
    this.armWatchdog();
  }

  private armWatchdog(): void {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.finish({ kind: 'stalled' }), this.stallTimeoutMs);
  }

  /**
   * k8s.Watch hands out its AbortController only once the response headers arrived; a run that
   * already settled (say, the watchdog fired while connecting) aborts the late request at once.
   */
  attach(controller: AbortController): void {
    this.controller = controller;
    if (this.settled) controller.abort();
  }

  /** k8s.Watch's done callback: a clean end, or the error that ended the stream. */
  ended(err: unknown): void {
    if (err) this.finish({ kind: 'failed', err });
    else this.finish({ kind: 'closed', events: this.events, ms: Date.now() - this.startedAt });
  }

  finish(outcome: WatchOutcome): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.watchdog);
    clearTimeout(this.resyncTimer);
    this.controller?.abort();
    this.resolve(outcome);
  }
}

/** client-node reports an HTTP 410 on the watch request as an Error with statusCode. */
function isGone(err: unknown): boolean {
  return typeof err === 'object' && err !== null && ((err as { statusCode?: unknown }).statusCode === 410 || isApiError(err, 410));
}


/** The collection path for a resource: `v1` → `/api/v1/...`, `group/version` → `/apis/group/version/...`. */
export function resourcePath(ref: { apiVersion: string; plural: string; namespace?: string }): string {
  const prefix = ref.apiVersion.includes('/') ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
  return ref.namespace ? `${prefix}/namespaces/${encodeURIComponent(ref.namespace)}/${ref.plural}` : `${prefix}/${ref.plural}`;
}
