// The lifelong-learning manager of the LC on the Dataset's node (spec §4.11), on the
// LocalJobManager seam. Every JOB_LOOP_MS on the injected clock, per job: the Dataset's new
// samples are split into train samples and eval versions (incremental learning's samples.ts), then,
// once per condition the GM sent, the task of the job's latest condition:
// - Train/Waiting: the train trigger on {num_of_samples} every checkPeriodSeconds; when it fires,
//   `<out>/data/train/<N>/data.{txt,csv}` (csv: the Dataset's header line first) and
//   `{phase: Train, status: Ready, input: {dataURL, dataIndexURL, outputDir: <out>/train/<N>}}`;
// - Eval/Waiting: the output models of the latest Train/Completed and the eval file; with none,
//   `Eval/Failed` saying so (Sedna sent a `null` the GM refused and the job stuck in Eval/Waiting);
// - Deploy/Waiting: the latest Eval/Completed's index copied to `<out>/deploy/index.json`, then
//   `Deploy/Ready` naming it; no evaluated index: `Deploy/Completed` (nothing to deploy); a copy
//   that fails: `Deploy/Failed` with the cause (Sedna reported nothing and the job stuck).
// The round, the sample split and the condition last acted on are in the LC's SQLite database,
// written before the report is queued in the durable outbox, so an LC restarted mid-cycle neither
// repeats a task nor loses or double-counts a sample.
import { copyFile, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { EdgeMessage } from '../../api/edge-protocol.ts';
import type { StageCondition } from '../../api/sedna/incremental-learning-job.ts';
import { LL_DEPLOY_INDEX } from '../../api/sedna/lifelong-learning-job.ts';
import { type CancelTimer, dateOf } from '../../lib/clock.ts';
import type { LocalJobManager, LocalManagerContext } from '../../lc/edge-feature.ts';
import { resourceKey, type SednaObject } from '../../lc/objects.ts';
import { compileTrigger, type Trigger } from '../../lc/triggers.ts';
import { dataOf, latestOf, outputModels } from '../incrementallearning/data.ts';
import { countOf, emptySamples, type SampleState, select, split, trimEvalVersions } from '../incrementallearning/samples.ts';

export const JOB_KIND = 'lifelonglearningjob';
/** Sedna's job loop period. */
export const JOB_LOOP_MS = 10_000;

interface JobSpec {
  dataset: { name: string; trainProb: number };
  trainSpec: { trigger?: { checkPeriodSeconds?: number } & Record<string, unknown> };
  outputDir: string;
}

/** What the database keeps per job. */
export interface LlJobState extends SampleState {
  round: number;
  /** `<stage>/<type>/<lastTransitionTime>` of the condition last acted on. */
  handled?: string;
}

interface Job {
  object: SednaObject;
  spec: JobSpec;
  train: Trigger;
  cancel: CancelTimer;
  lastTrainCheck: number;
  busy: boolean;
}

interface DatasetSource {
  get(namespace: string, name: string): { object?: SednaObject; source: { samples: string[]; numberOfSamples: number; header?: string } | undefined } | undefined;
}

type Task = { state: LlJobState; report?: Record<string, unknown> } | undefined;

const conditionsOf = (job: SednaObject): StageCondition[] => ((job.status as { conditions?: StageCondition[] } | undefined)?.conditions ?? []).slice();
const conditionKey = (c: StageCondition): string => `${c.stage}/${c.type}/${c.lastTransitionTime ?? ''}`;
const isRemote = (url: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(url);

export class LifelongLearningManager implements LocalJobManager {
  private readonly jobs = new Map<string, Job>();
  private stopped = false;
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly ctx: LocalManagerContext) {}

  insert(object: SednaObject): void {
    const key = resourceKey(object, JOB_KIND);
    this.ctx.db.saveResource(key, object as unknown as Record<string, unknown>);
    const spec = object.spec as JobSpec | undefined;
    const existing = this.jobs.get(key);
    if (!spec?.dataset?.name || !spec.outputDir) {
      this.ctx.logger.warn({ job: key }, 'lifelong learning job without dataset or outputDir; kept, not run');
      return;
    }
    let train: Trigger;
    try {
      train = compileTrigger(spec.trainSpec?.trigger);
    } catch (err) {
      this.ctx.logger.warn({ job: key, err: (err as Error).message }, 'invalid train trigger; the job is kept but not run');
      existing?.cancel();
      this.jobs.delete(key);
      return;
    }
    if (existing) {
      Object.assign(existing, { object, spec, train });
      return;
    }
    const job: Job = { object, spec, train, cancel: () => undefined, lastTrainCheck: Number.NEGATIVE_INFINITY, busy: false };
    this.jobs.set(key, job);
    this.schedule(key, job);
  }

  delete(object: SednaObject): void {
    const key = resourceKey(object, JOB_KIND);
    this.jobs.get(key)?.cancel();
    this.jobs.delete(key);
    this.ctx.db.deleteResource(key);
    this.ctx.db.deleteJobState(key);
  }

  resume(): void {
    for (const row of this.ctx.db.listResources()) {
      if (row.name.split('/')[1] !== JOB_KIND) continue;
      this.insert({ ...row.typeMeta, metadata: row.objectMeta, spec: row.spec });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const job of this.jobs.values()) job.cancel();
    this.jobs.clear();
    await this.settled();
  }

  /** Resolves when the loops running now have finished. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  state(object: SednaObject): LlJobState {
    return this.ctx.db.jobState<LlJobState>(resourceKey(object, JOB_KIND)) ?? { round: 0, ...emptySamples() };
  }

  /** Runs one loop of a job now (the timer runs it every JOB_LOOP_MS); failures are logged. */
  tick(object: SednaObject): Promise<void> {
    const key = resourceKey(object, JOB_KIND);
    const job = this.jobs.get(key);
    if (!job || job.busy) return Promise.resolve();
    job.busy = true;
    const run = this.loop(key, job)
      .catch((err: unknown) => this.ctx.logger.warn({ job: key, err: (err as Error).message }, 'lifelong learning loop failed; retried next loop'))
      .finally(() => {
        job.busy = false;
      });
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return run;
  }

  private schedule(key: string, job: Job): void {
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

  private dataset(job: Job): ReturnType<DatasetSource['get']> {
    return (this.ctx.manager('dataset') as DatasetSource | undefined)?.get(job.object.metadata?.namespace ?? 'default', job.spec.dataset.name);
  }

  private async loop(key: string, job: Job): Promise<void> {
    const before = this.state(job.object);
    const dataset = this.dataset(job)?.source;
    const splitState = dataset ? split(before, dataset.numberOfSamples, job.spec.dataset.trainProb) : before;
    let state: LlJobState = splitState === before ? before : { ...before, ...splitState };
    if (state !== before) this.ctx.db.saveJobState(key, state);
    const latest = conditionsOf(job.object).at(-1);
    if (!latest || state.handled === conditionKey(latest)) return;
    const next = await this.stageTask(job, latest, state);
    if (!next) return;
    state = { ...next.state, handled: conditionKey(latest) };
    // State first: a crash between the two loses at most this report, never repeats the task.
    this.ctx.db.saveJobState(key, state);
    if (next.report) this.ctx.send(this.message(job, next.report));
  }

  private stageTask(job: Job, latest: StageCondition, state: LlJobState): Promise<Task> {
    if (latest.type !== 'Waiting') return Promise.resolve(undefined);
    if (latest.stage === 'Train') return this.trainTask(job, state);
    if (latest.stage === 'Eval') return this.evalTask(job, state);
    return this.deployTask(job, state);
  }

  private async trainTask(job: Job, state: LlJobState): Promise<Task> {
    const periodMs = (job.spec.trainSpec.trigger?.checkPeriodSeconds || JOB_LOOP_MS / 1000) * 1000;
    const now = this.ctx.clock.now();
    if (now - job.lastTrainCheck < periodMs) return undefined;
    job.lastTrainCheck = now;
    if (!job.train.trigger({ num_of_samples: countOf(state.train) }, dateOf(this.ctx.clock))) return undefined;
    const round = state.round + 1;
    const dataURL = await this.writeSamples(job, 'train', round, state.train);
    const input = { dataURL, dataIndexURL: '', outputDir: `${this.out(job)}/train/${round}` };
    return { state: { ...state, round, train: [] }, report: { phase: 'Train', status: 'Ready', input } };
  }

  private async evalTask(job: Job, state: LlJobState): Promise<Task> {
    const models = outputModels(dataOf(latestOf(conditionsOf(job.object), 'Train', 'Completed')));
    if (models.length === 0) return { state, report: { phase: 'Eval', status: 'Failed', message: 'the latest Train/Completed names no output model (knowledge-base index) to evaluate' } };
    const round = Math.max(state.round, 1);
    const dataURL = await this.writeSamples(job, 'eval', round, state.evalVersions);
    const input = { models, dataURL, dataIndexURL: '', outputDir: `${this.out(job)}/eval/${round}` };
    return { state: { ...state, ...trimEvalVersions(state) }, report: { phase: 'Eval', status: 'Ready', input } };
  }

  private async deployTask(job: Job, state: LlJobState): Promise<Task> {
    const [evaluated] = outputModels(dataOf(latestOf(conditionsOf(job.object), 'Eval', 'Completed')));
    if (!evaluated) return { state, report: { phase: 'Deploy', status: 'Completed', message: 'not deployed: the latest Eval/Completed names no evaluated index' } };
    const target = `${this.out(job)}/${LL_DEPLOY_INDEX}`;
    try {
      await this.copyIndex(evaluated.url, target);
    } catch (err) {
      this.ctx.logger.warn({ job: job.object.metadata?.name, err: (err as Error).message }, 'copying the evaluated index to the deploy folder failed');
      return { state, report: { phase: 'Deploy', status: 'Failed', message: `copying the evaluated index ${evaluated.url} to ${target} failed: ${(err as Error).message}` } };
    }
    return { state, report: { phase: 'Deploy', status: 'Ready', input: { models: [{ format: evaluated.format ?? 'json', url: target }] } } };
  }

  private out(job: Job): string {
    return job.spec.outputDir.replace(/\/+$/, '');
  }

  /** Writes `<out>/data/<set>/<round>/data.{txt,csv}` (csv: header first); returns the path workers see. */
  private async writeSamples(job: Job, set: 'train' | 'eval', round: number, ranges: SampleState['train']): Promise<string> {
    if (isRemote(this.out(job))) throw new Error(`outputDir ${this.out(job)}: only node paths are supported by this LC`);
    const source = this.dataset(job);
    const csv = source?.source?.header !== undefined;
    const lines = select(source?.source?.samples ?? [], ranges);
    const path = `${this.out(job)}/data/${set}/${round}/data.${csv ? 'csv' : 'txt'}`;
    await mkdir(this.local(dirname(path)), { recursive: true });
    const body = [...(csv ? [source.source!.header!] : []), ...lines];
    await writeFile(this.local(path), body.length > 0 ? `${body.join('\n')}\n` : '');
    for (const sub of ['train', 'eval', 'deploy']) await mkdir(this.local(`${this.out(job)}/${sub}`), { recursive: true });
    return path;
  }

  /** Copies the evaluated index (a node path) into place atomically: the inference worker never reads half a file. */
  private async copyIndex(from: string, to: string): Promise<void> {
    if (isRemote(from)) throw new Error('the evaluated index is not a node path');
    const local = this.local(to);
    await mkdir(dirname(local), { recursive: true });
    await copyFile(this.local(from), `${local}.tmp`);
    await rename(`${local}.tmp`, local);
  }

  private local(path: string): string {
    return this.ctx.rootfs ? join(this.ctx.rootfs, path) : path;
  }

  private message(job: Job, content: Record<string, unknown>): EdgeMessage {
    return {
      header: { namespace: job.object.metadata?.namespace ?? 'default', resourceKind: 'LifelongLearningJob', resourceName: job.object.metadata?.name ?? '', operation: 'status' },
      content,
    };
  }
}
