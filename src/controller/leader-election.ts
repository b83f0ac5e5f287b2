// Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection package:
// take the Lease only when it is unheld, already ours, or expired (renewTime + duration < now);
// every write carries the resourceVersion read, so of two candidates racing for one expired
// Lease exactly one wins and the other gets 409. The leader renews every retry period and gives up
// when it could not renew within the renew deadline; release() clears holderIdentity so a standby
// takes over at its next retry instead of waiting out the lease.
import { setTimeout as delay } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from '../api/meta.ts';
import { type Logger, silentLogger } from '../lib/logger.ts';
import { isApiError, requestJson } from './rest.ts';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  /** MicroTime: RFC3339 with microseconds. */
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

export interface LeaderElectionOptions {
  namespace: string;
  /** The Lease's name, one per elected component (e.g. `sedna-gm`). */
  name: string;
  /** Unique per candidate, e.g. hostname + pid. */
  identity: string;
  leaseDurationSeconds?: number;
  /** The leader steps down when it could not renew for this long (default 10 s). */
  renewDeadlineMs?: number;
  /** Between attempts to acquire or renew (default 2 s). */
  retryPeriodMs?: number;
  logger?: Logger;
  now?: () => Date;
}

export interface LeaderCallbacks {
  /** Leadership began; `signal` aborts when it ends. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Leadership ended: lost, or given up by stop()/release(). */
  onStoppedLeading?(): void;
  /** Another candidate (or this one) was seen holding the Lease. */
  onNewLeader?(identity: string): void;
}

type Attempt = 'held' | 'taken' | 'failed';

/** MicroTime as Kubernetes writes it: `2026-01-02T03:04:05.000000Z`. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private readonly logger: Logger;
  private readonly stopper = new AbortController();
  private leading = false;
  private releaseOnStop = false;
  private observedHolder: string | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly kc: KubeConfig,
    private readonly options: LeaderElectionOptions,
  ) {
    this.logger = (options.logger ?? silentLogger()).child({ lease: `${options.namespace}/${options.name}`, identity: options.identity });
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Campaigns until leading, then leads until the Lease is lost or stop()/release() is called. */
  run(callbacks: LeaderCallbacks): Promise<void> {
    if (this.running) throw new Error('LeaderElector.run() was already called');
    this.running = this.campaign(callbacks);
    return this.running;
  }

  /** Stops campaigning and renewing without releasing: the Lease runs out on its own. */
  async stop(): Promise<void> {
    this.stopper.abort();
    await this.running;
  }

  /** Stops, and if leading clears holderIdentity so a standby can take over at once. */
  async release(): Promise<void> {
    this.releaseOnStop = true;
    await this.stop();
  }

  private async campaign(callbacks: LeaderCallbacks): Promise<void> {
    const signal = this.stopper.signal;
    if (!(await this.acquire(callbacks, signal))) return;
    const leadership = new AbortController();
    this.leading = true;
    this.logger.info('acquired the lease; leading');
    this.startLeading(callbacks, leadership.signal);
    try {
      await this.renewUntilLost(callbacks, signal);
    } finally {
      this.leading = false;
      leadership.abort();
      if (this.releaseOnStop) await this.releaseLease();
      callbacks.onStoppedLeading?.();
    }
  }

  private async acquire(callbacks: LeaderCallbacks, signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      if ((await this.attempt(callbacks, this.renewDeadlineMs())) === 'held') return true;
      await delay(this.retryPeriodMs(), undefined, { signal }).catch(() => undefined); // stop() cuts it short
    }
    return false;
  }

  private async renewUntilLost(callbacks: LeaderCallbacks, signal: AbortSignal): Promise<void> {
    let lastRenew = performance.now();
    for (;;) {
      await delay(this.retryPeriodMs(), undefined, { signal }).catch(() => undefined); // stop() cuts it short
      if (signal.aborted) return;
      const remaining = this.renewDeadlineMs() - (performance.now() - lastRenew);
      const result = remaining > 0 ? await this.attempt(callbacks, remaining) : 'failed';
      if (result === 'held') {
        lastRenew = performance.now();
      } else if (result === 'taken') {
        this.logger.warn('another candidate holds the lease; stepping down');
        return;
      } else if (performance.now() - lastRenew >= this.renewDeadlineMs()) {
        this.logger.warn('could not renew the lease within the renew deadline; stepping down');
        return;
      }
    }
  }

  private startLeading(callbacks: LeaderCallbacks, signal: AbortSignal): void {
    void Promise.resolve()
      .then(() => callbacks.onStartedLeading(signal))
      .catch((err: unknown) => this.logger.error({ err }, 'onStartedLeading failed'));
  }

  /** One read-and-write of the Lease, bounded by `timeoutMs`. Never throws. */
  private async attempt(callbacks: LeaderCallbacks, timeoutMs: number): Promise<Attempt> {
    try {
      const signal = AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs)));
      const lease = await this.readLease(signal);
      if (!lease) return (await this.createLease(signal)) ? 'held' : 'failed';
      this.observe(callbacks, lease.spec?.holderIdentity);
      if (!this.mayTake(lease.spec ?? {})) return 'taken';
      await this.writeLease(this.claimed(lease), signal);
      this.observe(callbacks, this.options.identity);
      return 'held';
    } catch (err) {
      if (isApiError(err, 409)) this.logger.debug('lost a race for the lease (409)');
      else this.logger.warn({ err }, 'could not read or write the lease');
      return 'failed';
    }
  }

  private mayTake(spec: LeaseSpec): boolean {
    if (!spec.holderIdentity || spec.holderIdentity === this.options.identity) return true;
    const renewed = spec.renewTime ? Date.parse(spec.renewTime) : NaN;
    if (Number.isNaN(renewed)) return true;
    const durationMs = (spec.leaseDurationSeconds ?? this.leaseDurationSeconds()) * 1000;
    return renewed + durationMs < this.now().getTime();
  }

  /** The Lease as it looks with this candidate holding it (renewed, or newly acquired). */
  private claimed(lease: Lease): Lease {
    const spec = lease.spec ?? {};
    const now = microTime(this.now());
    const renewing = spec.holderIdentity === this.options.identity;
    return {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: this.options.identity,
        leaseDurationSeconds: this.leaseDurationSeconds(),
        acquireTime: renewing ? (spec.acquireTime ?? now) : now,
        renewTime: now,
        leaseTransitions: renewing ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    };
  }

  private async createLease(signal: AbortSignal): Promise<boolean> {
    const now = microTime(this.now());
    const lease: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.options.name, namespace: this.options.namespace },
      spec: { holderIdentity: this.options.identity, leaseDurationSeconds: this.leaseDurationSeconds(), acquireTime: now, renewTime: now, leaseTransitions: 0 },
    };
    try {
      await requestJson<Lease>(this.kc, { method: 'POST', path: this.leasesPath(), body: lease, signal });
      return true;
    } catch (err) {
      if (isApiError(err, 409)) return false; // another candidate created it first
      throw err;
    }
  }

  private async releaseLease(): Promise<void> {
    try {
      const lease = await this.readLease(AbortSignal.timeout(this.renewDeadlineMs()));
      if (!lease || lease.spec?.holderIdentity !== this.options.identity) return;
      const now = microTime(this.now());
      const released: Lease = { ...lease, spec: { leaseTransitions: lease.spec.leaseTransitions, leaseDurationSeconds: 1, acquireTime: now, renewTime: now } };
      await this.writeLease(released, AbortSignal.timeout(this.renewDeadlineMs()));
      this.logger.info('released the lease');
    } catch (err) {
      this.logger.warn({ err }, 'could not release the lease; it will expire instead');
    }
  }

  private async readLease(signal: AbortSignal): Promise<Lease | undefined> {
    try {
      return await requestJson<Lease>(this.kc, { path: `${this.leasesPath()}/${this.options.name}`, signal });
    } catch (err) {
      if (isApiError(err, 404)) return undefined;
      throw err;
    }
  }

  /** A PUT carrying the resourceVersion that was read: a concurrent change makes it 409. */
  private async writeLease(lease: Lease, signal: AbortSignal): Promise<void> {
    await requestJson<Lease>(this.kc, { method: 'PUT', path: `${this.leasesPath()}/${this.options.name}`, body: lease, signal });
  }

  private observe(callbacks: LeaderCallbacks, holder: string | undefined): void {
    if (!holder || holder === this.observedHolder) return;
    this.observedHolder = holder;
    callbacks.onNewLeader?.(holder);
  }

  private leasesPath(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.options.namespace)}/leases`;
  }

  private leaseDurationSeconds(): number {
    return this.options.leaseDurationSeconds ?? 15;
  }

  private renewDeadlineMs(): number {
    return this.options.renewDeadlineMs ?? 10_000;
  }

  private retryPeriodMs(): number {
    return this.options.retryPeriodMs ?? 2_000;
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }
}
