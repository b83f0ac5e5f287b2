// What the LC's incremental- and lifelong-learning managers share (spec §4.6, §4.11), as
// stage-reconciler.ts is what their GM controllers share: the jobs the GM sent, kept in the LC's
// SQLite database and resumed from it; a loop per job every JOB_LOOP_MS on the injected clock, never
// two at once for a job; the Dataset's new samples split into train samples and eval versions
// (samples.ts); then, once per condition the GM sent, the feature's task for the job's latest
// condition (stageTask), whose new state is saved before its report is queued. Lifelong learning is
// "the same structure as IL", so both managers extend this class and differ in the triggers they
// compile and the tasks they run.
import { join } from 'node:path';
import type { EdgeMessage } from '../../api/edge-protocol.ts';
import type { StageCondition } from '../../api/sedna/incremental-learning-job.ts';
import { type CancelTimer, dateOf } from '../../lib/clock.ts';
import type { LocalJobManager, LocalManagerContext } from '../../lc/edge-feature.ts';
import { resourceKey, type SednaObject } from '../../lc/objects.ts';
import { compileTrigger, type Trigger } from '../../lc/triggers.ts';
import { countOf, emptySamples, type SampleState, split } from './samples.ts';

/** Sedna's job and data loop period. */
export const JOB_LOOP_MS = 10_000;

/** The part of a job's spec the shared loop reads. */
export interface StageJobSpec {
  dataset: { name: string; trainProb: number };
  trainSpec: { trigger?: { checkPeriodSeconds?: number } & Record<string, unknown> };
  outputDir: string;
}

/** What the database keeps per job. */
export interface StageJobState extends SampleState {
  round: number;
  /** `<stage>/<type>/<lastTransitionTime>` of the condition last acted on. */
  handled?: string;
}

/** A job the manager runs, with the triggers its feature compiled (`T`, at least the train trigger). */
export type StageJob<S extends StageJobSpec, T extends { train: Trigger }> = T & {
  object: SednaObject;
  spec: S;
  cancel: CancelTimer;
  lastTrainCheck: number;
  busy: boolean;
};

/** A Dataset as the LC's dataset manager holds it. */
export interface HeldDataset {
  object?: SednaObject;
  source: { samples: string[]; numberOfSamples: number; header?: string } | undefined;
}

interface DatasetSource {
  get(namespace: string, name: string): HeldDataset | undefined;
}

/** A task's outcome: the job's new state and the report to send upstream, if any. */
export type StageTask = { state: StageJobState; report?: unknown } | undefined;

export function conditionsOf(job: SednaObject): StageCondition[] {
  return ((job.status as { conditions?: StageCondition[] } | undefined)?.conditions ?? []).slice();
}

export function conditionKey(condition: StageCondition): string {
  return `${condition.stage}/${condition.type}/${condition.lastTransitionTime ?? ''}`;
}

export abstract class StageJobManager<S extends StageJobSpec, T extends { train: Trigger }> implements LocalJobManager {
  private readonly jobs = new Map<string, StageJob<S, T>>();
  private stopped = false;
  /** Loops and file work running now (real I/O, not timers). */
  private readonly running = new Set<Promise<void>>();

  constructor(protected readonly ctx: LocalManagerContext) {}

  /** The job kind, lower case: the database key. */
  protected abstract readonly kind: string;
  /** The kind upstream messages name (`IncrementalLearningJob`). */
  protected abstract readonly resourceKind: string;
  /** The feature's name in log messages (`incremental learning`). */
  protected abstract readonly feature: string;
  /** What the log says when a job's trigger does not compile. */
  protected abstract readonly invalidTriggerLog: string;

  /** Compiles the job's triggers; throws on an invalid one. */
  protected abstract compileTriggers(spec: S): T;

  /** The task of the job's latest condition, run once per condition; undefined: nothing yet. */
  protected abstract stageTask(job: StageJob<S, T>, latest: StageCondition, state: StageJobState, held: HeldDataset | undefined): Promise<StageTask>;

  /** Work of the feature when a job is deleted (its files, say); none by default. */
  protected onDelete(_object: SednaObject): void {}

  insert(object: SednaObject): void {
    const key = resourceKey(object, this.kind);
    this.ctx.db.saveResource(key, object as unknown as Record<string, unknown>);
    const spec = object.spec as S | undefined;
    const existing = this.jobs.get(key);
    if (!spec?.dataset?.name || !spec.outputDir) {
      this.ctx.logger.warn({ job: key }, `${this.feature} job without dataset or outputDir; kept, not run`);
      return;
    }
    let triggers: T;
    try {
      triggers = this.compileTriggers(spec);
    } catch (err) {
      this.ctx.logger.warn({ job: key, err: (err as Error).message }, this.invalidTriggerLog);
      existing?.cancel();
      this.jobs.delete(key);
      return;
    }
    // Later copies refresh the object and triggers; the loop and its timing carry on.
    if (existing) {
      Object.assign(existing, { object, spec, ...triggers });
      return;
    }
    const job: StageJob<S, T> = { ...triggers, object, spec, cancel: () => undefined, lastTrainCheck: Number.NEGATIVE_INFINITY, busy: false };
    this.jobs.set(key, job);
    this.schedule(key, job);
  }

  delete(object: SednaObject): void {
    const key = resourceKey(object, this.kind);
    this.jobs.get(key)?.cancel();
    this.jobs.delete(key);
    this.ctx.db.deleteResource(key);
    this.ctx.db.deleteJobState(key);
    this.onDelete(object);
  }

  resume(): void {
    for (const row of this.ctx.db.listResources()) {
      if (row.name.split('/')[1] !== this.kind) continue;
      this.insert({ ...row.typeMeta, metadata: row.objectMeta, spec: row.spec });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const job of this.jobs.values()) job.cancel();
    this.jobs.clear();
    await this.settled();
  }

  state(object: SednaObject): StageJobState {
    return this.ctx.db.jobState<StageJobState>(resourceKey(object, this.kind)) ?? { round: 0, ...emptySamples() };
  }

  /** Resolves when the loops running now have finished. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** Runs one loop of a job now (the timer runs it every JOB_LOOP_MS). */
  tick(object: SednaObject): Promise<void> {
    return this.track(this.runLoop(object));
  }

  /** Work settled() waits for; a failure is logged, never thrown into a timer. */
  /** Where this LC reads and writes a node path of the job (the hot-update folder, the outputDir). */
  protected local(path: string): string {
    if (this.ctx.nodePath) return this.ctx.nodePath(path);
    return this.ctx.rootfs ? join(this.ctx.rootfs, path) : path;
  }

  protected track(work: Promise<void>): Promise<void> {
    const run = work.catch((err: unknown) => this.ctx.logger.warn({ err: (err as Error).message }, `${this.feature} file work failed`));
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return run;
  }

  /** The job's Dataset as the dataset manager holds it (undefined: not on this node, or not read yet). */
  protected dataset(job: StageJob<S, T>): HeldDataset | undefined {
    return (this.ctx.manager('dataset') as DatasetSource | undefined)?.get(job.object.metadata?.namespace ?? 'default', job.spec.dataset.name);
  }

  /** Whether the train trigger fires on the job's train samples, checked every checkPeriodSeconds. */
  protected trainFires(job: StageJob<S, T>, state: StageJobState): boolean {
    const periodMs = (job.spec.trainSpec.trigger?.checkPeriodSeconds || JOB_LOOP_MS / 1000) * 1000;
    const now = this.ctx.clock.now();
    if (now - job.lastTrainCheck < periodMs) return false;
    job.lastTrainCheck = now;
    return job.train.trigger({ num_of_samples: countOf(state.train) }, dateOf(this.ctx.clock));
  }

  /** The train trigger of a spec (throws on an invalid one). */
  protected compileTrainTrigger(spec: S): Trigger {
    return compileTrigger(spec.trainSpec?.trigger);
  }

  private async runLoop(object: SednaObject): Promise<void> {
    const key = resourceKey(object, this.kind);
    const job = this.jobs.get(key);
    if (!job || job.busy) return;
    job.busy = true;
    try {
      await this.loop(key, job);
    } catch (err) {
      this.ctx.logger.warn({ job: key, err: (err as Error).message }, `${this.feature} loop failed; retried next loop`);
    } finally {
      job.busy = false;
    }
  }

  private schedule(key: string, job: StageJob<S, T>): void {
    if (this.stopped) return;
    job.cancel = this.ctx.clock.setTimeout(
      () => {
        if (this.jobs.get(key) !== job) return;
        void this.tick(job.object).finally(() => this.schedule(key, job));
      },
      JOB_LOOP_MS,
      { background: true },
    );
  }

  private async loop(key: string, job: StageJob<S, T>): Promise<void> {
    const before = this.state(job.object);
    const held = this.dataset(job);
    const dataset = held?.source;
    const splitState = dataset ? split(before, dataset.numberOfSamples, job.spec.dataset.trainProb) : before;
    let state: StageJobState = splitState === before ? before : { ...before, ...splitState };
    if (state !== before) this.ctx.db.saveJobState(key, state);
    const latest = conditionsOf(job.object).at(-1);
    // Until the GM's copy with conditions arrives (after an LC restart, for one) nothing is decided.
    if (!latest || state.handled === conditionKey(latest)) return;
    const next = await this.stageTask(job, latest, state, held);
    if (!next) return;
    state = { ...next.state, handled: conditionKey(latest) };
    // State first: a crash between the two loses at most this report, never repeats the task.
    this.ctx.db.saveJobState(key, state);
    if (next.report) this.ctx.send(this.message(job, next.report));
  }

  private message(job: StageJob<S, T>, content: unknown): EdgeMessage {
    return {
      header: { namespace: job.object.metadata?.namespace ?? 'default', resourceKind: this.resourceKind, resourceName: job.object.metadata?.name ?? '', operation: 'status' },
      content,
    };
  }
}
