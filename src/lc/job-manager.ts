// The local job-manager seam for trigger-driven jobs (spec §4.6, §4.11): incremental and lifelong
// learning run on the LC of their Dataset's node. A TriggeredJobManager receives a feature's jobs
// from the GM, watches each job's Dataset through the dataset manager, evaluates the job's trigger
// (src/lc/triggers.ts) every checkPeriodSeconds on the injected clock with the new samples since
// the last firing, and when it fires reports upstream through the durable outbox. What it has
// decided (the sample count it last fired at) is in the LC's SQLite database, so an LC restarted in
// the middle of a trigger window resumes where it was: no sample is counted twice, no firing lost.
import type { EdgeMessage } from '../api/edge-protocol.ts';
import { type CancelTimer, dateOf } from '../lib/clock.ts';
import type { LocalJobManager, LocalManagerContext } from './edge-feature.ts';
import { resourceKey, type SednaObject } from './objects.ts';
import { compileTrigger, type Stats, type Trigger } from './triggers.ts';

/** Sedna's default trigger check period. */
export const DEFAULT_CHECK_PERIOD_SECONDS = 60;

/** What the manager needs from the dataset manager: a Dataset's current sample count. */
export interface DatasetSamples {
  get(namespace: string, name: string): { source: { numberOfSamples: number } | undefined } | undefined;
}

/** A job's watch: its Dataset (same namespace), its trigger spec and how often to check it. */
export interface JobWatch {
  dataset: string;
  trigger: unknown;
  checkPeriodSeconds?: number;
}

/** Kept per job in the database. */
export interface TriggerState {
  /** The Dataset's sample count when the trigger last fired (0 before the first firing). */
  baselineSamples: number;
  fired: number;
  lastFiredAt?: string;
}

export interface TriggeredJobOptions {
  /** The job kind, lower case (`incrementallearningjob`): the database key and the relay kind. */
  kind: string;
  /** The kind upstream messages name (`IncrementalLearningJob`). */
  resourceKind: string;
  /** What to watch for a job; undefined: nothing (the job is only kept). */
  watch(job: SednaObject): JobWatch | undefined;
  /** The upstream content when the trigger fires. */
  report(job: SednaObject, stats: Stats, samples: number): unknown;
}

interface WatchedJob {
  job: SednaObject;
  watch: JobWatch;
  trigger: Trigger;
  cancel: CancelTimer;
}

export class TriggeredJobManager implements LocalJobManager {
  private readonly jobs = new Map<string, WatchedJob>();
  private stopped = false;

  constructor(
    private readonly ctx: LocalManagerContext,
    private readonly options: TriggeredJobOptions,
  ) {}

  insert(job: SednaObject): void {
    const key = resourceKey(job, this.options.kind);
    this.ctx.db.saveResource(key, job as unknown as Record<string, unknown>);
    this.unwatch(key);
    const watch = this.options.watch(job);
    if (!watch) return;
    let trigger: Trigger;
    try {
      trigger = compileTrigger(watch.trigger);
    } catch (err) {
      this.ctx.logger.warn({ job: key, err: (err as Error).message }, 'invalid trigger; the job is kept but not triggered');
      return;
    }
    const entry: WatchedJob = { job, watch, trigger, cancel: () => undefined };
    this.jobs.set(key, entry);
    this.schedule(key, entry);
  }

  delete(job: SednaObject): void {
    const key = resourceKey(job, this.options.kind);
    this.unwatch(key);
    this.ctx.db.deleteResource(key);
    this.ctx.db.deleteJobState(key);
  }

  /** Resumes every job of this kind the database holds, with its stored trigger state. */
  resume(): void {
    for (const row of this.ctx.db.listResources()) {
      if (row.name.split('/')[1] !== this.options.kind) continue;
      this.insert({ ...row.typeMeta, metadata: row.objectMeta, spec: row.spec });
    }
  }

  stop(): void {
    this.stopped = true;
    for (const key of [...this.jobs.keys()]) this.unwatch(key);
  }

  state(job: SednaObject): TriggerState {
    return this.ctx.db.jobState<TriggerState>(resourceKey(job, this.options.kind)) ?? { baselineSamples: 0, fired: 0 };
  }

  private schedule(key: string, entry: WatchedJob): void {
    if (this.stopped) return;
    const periodMs = (entry.watch.checkPeriodSeconds || DEFAULT_CHECK_PERIOD_SECONDS) * 1000;
    entry.cancel = this.ctx.clock.setTimeout(
      () => {
        if (this.jobs.get(key) !== entry) return;
        this.check(key, entry);
        this.schedule(key, entry);
      },
      periodMs,
      { background: true },
    );
  }

  private check(key: string, entry: WatchedJob): void {
    const namespace = entry.job.metadata?.namespace ?? 'default';
    const datasets = this.ctx.manager('dataset') as DatasetSamples | undefined;
    const samples = datasets?.get(namespace, entry.watch.dataset)?.source?.numberOfSamples;
    if (samples === undefined) return; // not read yet (or not on this node): nothing to decide on
    const state = this.state(entry.job);
    const stats: Stats = { num_of_samples: samples - state.baselineSamples };
    const now = dateOf(this.ctx.clock);
    if (!entry.trigger.trigger(stats, now)) return;
    // State first: a crash between the two loses at most this report, never repeats a firing.
    this.ctx.db.saveJobState(key, { baselineSamples: samples, fired: state.fired + 1, lastFiredAt: now.toISOString() } satisfies TriggerState);
    this.ctx.send(this.message(entry.job, stats, samples));
  }

  private message(job: SednaObject, stats: Stats, samples: number): EdgeMessage {
    return {
      header: { namespace: job.metadata?.namespace ?? 'default', resourceKind: this.options.resourceKind, resourceName: job.metadata?.name ?? '', operation: 'status' },
      content: this.options.report(job, stats, samples),
    };
  }

  private unwatch(key: string): void {
    this.jobs.get(key)?.cancel();
    this.jobs.delete(key);
  }
}
