// The incremental-learning manager of the LC on the Dataset's node (spec §4.6), on the
// LocalJobManager seam. Every JOB_LOOP_MS on the injected clock, per job: the data loop splits
// the Dataset's new samples into train samples and eval versions (samples.ts); then, once per
// condition the GM sent, the task of the job's latest condition:
// - Train/Waiting: the train trigger on {num_of_samples} (checked every checkPeriodSeconds, with its
//   time window); when it fires, the round's train file and `{phase: Train, status: Ready, input}`;
// - Eval/Waiting: the eval file from the kept eval versions, `{phase: Eval, status: Ready}` with
//   [trained, deployed] models;
// - Deploy/Waiting: the deploy decision (deploy-decision.ts); the trained model copied onto the
//   deploy Model's URL (without hot update), then Deploy Ready, Failed or Completed (no deploy);
// - Deploy/Running with hot update: the model copied into the hot-update folder and
//   model_config.json rewritten, which the polling inference worker reloads; and pushed to the
//   local inference worker (src/lib/hot-update/push.ts), which swaps at once.
// The round, the sample split and the condition last acted on are in the LC's SQLite database,
// written before a report is queued, so an LC restarted mid-cycle resumes without counting a
// sample twice, losing one, or acting on the same condition again (Sedna's double train trigger).
import { copyFile, cp, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { EdgeMessage } from '../../api/edge-protocol.ts';
import type { StageCondition } from '../../api/sedna/incremental-learning-job.ts';
import { type CancelTimer, dateOf } from '../../lib/clock.ts';
import type { LocalJobManager, LocalManagerContext } from '../../lc/edge-feature.ts';
import { resourceKey, type SednaObject } from '../../lc/objects.ts';
import { compileTrigger, type Trigger } from '../../lc/triggers.ts';
import { dataOf, latestOf, outputModels, type StageModel } from './data.ts';
import { decideDeploy } from './deploy-decision.ts';
import { nodeRoles, taskNode } from './nodes.ts';
import { countOf, emptySamples, type SampleState, select, split, trimEvalVersions } from './samples.ts';
import { type HotUpdateConfig, pushHotUpdate, writeHotUpdateConfig } from '../../lib/hot-update/index.ts';
import { HOT_UPDATE_ANNOTATION, HOT_UPDATE_MOUNT } from './workers.ts';

export const JOB_KIND = 'incrementallearningjob';
export const MODEL_KIND = 'model';
/** Sedna's job and data loop period. */
export const JOB_LOOP_MS = 10_000;
/** How long the LC waits for the inference worker to load a pushed model. */
const PUSH_TIMEOUT_MS = 120_000;

interface JobSpec {
  dataset: { name: string; trainProb: number };
  initialModel: { name: string };
  trainSpec: { trigger?: { checkPeriodSeconds?: number } & Record<string, unknown> };
  evalSpec?: { initialEvalModel?: { name: string } };
  deploySpec: { model: { name: string; hotUpdateEnabled?: boolean }; trigger?: unknown };
  outputDir: string;
}

/** What the database keeps per job. */
export interface IlJobState extends SampleState {
  round: number;
  /** `<stage>/<type>/<lastTransitionTime>` of the condition last acted on. */
  handled?: string;
}

interface ModelSpec {
  url: string;
  format?: string;
}

interface Job {
  object: SednaObject;
  spec: JobSpec;
  train: Trigger;
  deploy: Trigger;
  cancel: CancelTimer;
  lastTrainCheck: number;
  busy: boolean;
}

interface DatasetSource {
  get(namespace: string, name: string): { source: { samples: string[]; numberOfSamples: number } | undefined } | undefined;
}

function conditionsOf(job: SednaObject): StageCondition[] {
  return ((job.status as { conditions?: StageCondition[] } | undefined)?.conditions ?? []).slice();
}

function conditionKey(condition: StageCondition): string {
  return `${condition.stage}/${condition.type}/${condition.lastTransitionTime ?? ''}`;
}

function isS3(url: string): boolean {
  return /^s3:\/\//i.test(url);
}

export class IncrementalLearningManager implements LocalJobManager {
  private readonly jobs = new Map<string, Job>();
  private stopped = false;
  /** Loops running now (their file writes are real I/O, not timers). */
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly ctx: LocalManagerContext) {}

  insert(object: SednaObject): void {
    const key = resourceKey(object, JOB_KIND);
    this.ctx.db.saveResource(key, object as unknown as Record<string, unknown>);
    const spec = object.spec as JobSpec | undefined;
    const existing = this.jobs.get(key);
    if (!spec?.dataset?.name || !spec.outputDir) {
      this.ctx.logger.warn({ job: key }, 'incremental learning job without dataset or outputDir; kept, not run');
      return;
    }
    let train: Trigger;
    let deploy: Trigger;
    try {
      train = compileTrigger(spec.trainSpec?.trigger);
      deploy = compileTrigger(spec.deploySpec?.trigger);
    } catch (err) {
      this.ctx.logger.warn({ job: key, err: (err as Error).message }, 'invalid trigger; the job is kept but not run');
      existing?.cancel();
      this.jobs.delete(key);
      return;
    }
    // Later copies refresh the object and triggers; the loop and its timing carry on.
    if (existing) {
      Object.assign(existing, { object, spec, train, deploy });
      return;
    }
    const job: Job = { object, spec, train, deploy, cancel: () => undefined, lastTrainCheck: Number.NEGATIVE_INFINITY, busy: false };
    this.jobs.set(key, job);
    this.schedule(key, job);
  }

  delete(object: SednaObject): void {
    const key = resourceKey(object, JOB_KIND);
    this.jobs.get(key)?.cancel();
    this.jobs.delete(key);
    this.ctx.db.deleteResource(key);
    this.ctx.db.deleteJobState(key);
    const config = object.metadata?.annotations?.[HOT_UPDATE_ANNOTATION];
    if (config?.startsWith('/var/lib/sedna/model-hot-update/')) void this.track(rm(this.local(dirname(config)), { recursive: true, force: true }));
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

  state(object: SednaObject): IlJobState {
    return this.ctx.db.jobState<IlJobState>(resourceKey(object, JOB_KIND)) ?? { round: 0, ...emptySamples() };
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
  private track(work: Promise<void>): Promise<void> {
    const run = work.catch((err: unknown) => this.ctx.logger.warn({ err: (err as Error).message }, 'incremental learning file work failed'));
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return run;
  }

  private async runLoop(object: SednaObject): Promise<void> {
    const key = resourceKey(object, JOB_KIND);
    const job = this.jobs.get(key);
    if (!job || job.busy) return;
    job.busy = true;
    try {
      await this.loop(key, job);
    } catch (err) {
      this.ctx.logger.warn({ job: key, err: (err as Error).message }, 'incremental learning loop failed; retried next loop');
    } finally {
      job.busy = false;
    }
  }

  /** A Model the GM sent this node, as the LC's model manager stored it. */
  private model(job: Job, name: string | undefined): StageModel | undefined {
    if (!name) return undefined;
    const spec = this.ctx.db.getResource(`${job.object.metadata?.namespace ?? 'default'}/${MODEL_KIND}/${name}`)?.spec as ModelSpec | null | undefined;
    return spec?.url ? { url: spec.url, format: spec.format ?? '' } : undefined;
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

  private async loop(key: string, job: Job): Promise<void> {
    const before = this.state(job.object);
    const held = (this.ctx.manager('dataset') as DatasetSource | undefined)?.get(job.object.metadata?.namespace ?? 'default', job.spec.dataset.name);
    const dataset = held?.source;
    const splitState = dataset ? split(before, dataset.numberOfSamples, job.spec.dataset.trainProb) : before;
    let state: IlJobState = splitState === before ? before : { ...before, ...splitState };
    if (state !== before) this.ctx.db.saveJobState(key, state);
    const latest = conditionsOf(job.object).at(-1);
    // Until the GM's copy with conditions arrives (after an LC restart, for one) nothing is decided.
    if (!latest || state.handled === conditionKey(latest)) return;
    if (!this.runsTask(job, latest, held !== undefined)) return;
    const samples = dataset?.samples ?? [];
    await this.ensureOutputDirs(job);
    const next = await this.stageTask(job, latest, state, samples);
    if (!next) return;
    state = { ...next.state, handled: conditionKey(latest) };
    // State first: a crash between the two loses at most this report, never repeats the task.
    this.ctx.db.saveJobState(key, state);
    if (next.report) this.ctx.send(this.message(job, next.report));
  }

  /**
   * Whether this node runs the task of `latest` (the job may be held by several nodes, nodes.ts):
   * train trigger and eval set where the Dataset is, the deploy decision on the eval node, the hot
   * update on the deploy node (each falling back to the Dataset's node when unknown).
   */
  private runsTask(job: Job, latest: StageCondition, holdsDataset: boolean): boolean {
    if (latest.stage !== 'Deploy') return holdsDataset;
    const roles = nodeRoles({ metadata: job.object.metadata ?? {}, spec: job.object.spec as Parameters<typeof nodeRoles>[0]['spec'] }, undefined);
    const node = taskNode(roles, latest.type === 'Waiting' ? 'eval' : 'deploy');
    return node === undefined ? holdsDataset : node === this.ctx.nodeName;
  }

  private async stageTask(job: Job, latest: StageCondition, state: IlJobState, samples: string[]): Promise<{ state: IlJobState; report?: unknown } | undefined> {
    const hot = job.spec.deploySpec.model.hotUpdateEnabled === true;
    if (latest.type === 'Waiting' && latest.stage === 'Train') return this.trainTask(job, state, samples);
    if (latest.type === 'Waiting' && latest.stage === 'Eval') return this.evalTask(job, state, samples);
    if (latest.type === 'Waiting' && latest.stage === 'Deploy') return this.deployTask(job, state, hot);
    if (latest.type === 'Running' && latest.stage === 'Deploy' && hot) return this.hotUpdateTask(job, state);
    return undefined;
  }

  private async trainTask(job: Job, state: IlJobState, samples: string[]): Promise<{ state: IlJobState; report?: unknown } | undefined> {
    const periodMs = (job.spec.trainSpec.trigger?.checkPeriodSeconds || JOB_LOOP_MS / 1000) * 1000;
    const now = this.ctx.clock.now();
    if (now - job.lastTrainCheck < periodMs) return undefined;
    job.lastTrainCheck = now;
    if (!job.train.trigger({ num_of_samples: countOf(state.train) }, dateOf(this.ctx.clock))) return undefined;
    const initial = this.model(job, job.spec.initialModel.name);
    if (!initial) {
      this.ctx.logger.warn({ job: job.object.metadata?.name, model: job.spec.initialModel.name }, 'the initial model has not reached this node; training waits');
      return undefined;
    }
    const round = state.round + 1;
    const base = round === 1 ? initial : (this.trainedModel(job, initial) ?? initial);
    const dataURL = await this.writeSamples(job, 'train', round, select(samples, state.train));
    const input = { models: [base], dataURL, dataIndexURL: '', outputDir: `${job.spec.outputDir.replace(/\/+$/, '')}/train/${round}` };
    return { state: { ...state, round, train: [] }, report: { phase: 'Train', status: 'Ready', input, output: null } };
  }

  private async evalTask(job: Job, state: IlJobState, samples: string[]): Promise<{ state: IlJobState; report: unknown }> {
    const evalModel = this.model(job, job.spec.evalSpec?.initialEvalModel?.name) ?? this.model(job, job.spec.deploySpec.model.name);
    const trained = evalModel && this.trainedModel(job, evalModel);
    if (!evalModel || !trained) {
      // Sedna dereferenced a nil model here; the GM retries the stage after its backoff.
      this.ctx.logger.warn({ job: job.object.metadata?.name, evalModel: Boolean(evalModel) }, 'no trained model of the eval model\'s format, or the eval model has not reached this node');
      const message = evalModel ? 'no trained model of the eval model\'s format in the latest Train/Completed' : 'the eval model has not reached this node';
      return { state, report: { phase: 'Eval', status: 'Failed', message } };
    }
    const dataURL = await this.writeSamples(job, 'eval', Math.max(state.round, 1), select(samples, state.evalVersions));
    return { state: { ...state, ...trimEvalVersions(state) }, report: { phase: 'Eval', status: 'Ready', input: { models: [trained, evalModel], dataURL, dataIndexURL: '' } } };
  }

  private async deployTask(job: Job, state: IlJobState, hot: boolean): Promise<{ state: IlJobState; report: unknown }> {
    const deployModel = this.model(job, job.spec.deploySpec.model.name);
    const trained = deployModel && this.trainedModel(job, deployModel);
    const decision = decideDeploy(conditionsOf(job.object), job.deploy, dateOf(this.ctx.clock), job.spec.deploySpec.trigger);
    if (!decision.deploy && decision.unevaluable) {
      // Failed, not Completed: the GM retries the decision (backoff) once the job or the metrics are fixed.
      this.ctx.logger.warn({ job: job.object.metadata?.name, reason: decision.reason }, 'the deploy condition cannot be evaluated');
      return { state, report: { phase: 'Deploy', status: 'Failed', message: decision.reason } };
    }
    if (!decision.deploy || !deployModel || !trained) {
      const reason = decision.deploy ? 'no trained model of the deploy model\'s format' : decision.reason;
      this.ctx.logger.info({ job: job.object.metadata?.name, reason }, 'no deploy this round');
      return { state, report: { phase: 'Deploy', status: 'Completed', message: `not deployed: ${reason}` } };
    }
    const input = { models: [trained, deployModel] };
    if (hot) return { state, report: { phase: 'Deploy', status: 'Ready', input } };
    try {
      await this.copyModel(trained.url, deployModel.url);
      return { state, report: { phase: 'Deploy', status: 'Ready', input } };
    } catch (err) {
      this.ctx.logger.warn({ job: job.object.metadata?.name, err: (err as Error).message }, 'copying the trained model onto the deploy model failed');
      return { state, report: { phase: 'Deploy', status: 'Failed', input, message: `copying the trained model onto the deploy model failed: ${(err as Error).message}` } };
    }
  }

  /** Copies the trained model beside the hot-update config and points the config at it. */
  private async hotUpdateTask(job: Job, state: IlJobState): Promise<{ state: IlJobState; report?: unknown } | undefined> {
    const config = job.object.metadata?.annotations?.[HOT_UPDATE_ANNOTATION];
    const ready = latestOf(conditionsOf(job.object), 'Deploy', 'Ready');
    const trained = dataOf(ready)?.input?.models?.[0];
    if (!config || !trained) return undefined;
    const file = basename(trained.url.replace(/\/+$/, ''));
    await this.copyTo(trained.url, this.local(join(dirname(config), file)));
    const update = { modelPath: `${HOT_UPDATE_MOUNT}/${file}`, updateTime: new Date(this.ctx.clock.now()).toISOString() };
    await writeHotUpdateConfig(this.local(config), update);
    // The push: the local inference worker swaps now rather than at its next poll. Not awaited by
    // the loop (the worker answers once it serves the model); a worker that is not listening
    // still finds the config at its next poll, and reports the deploy either way.
    void this.track(this.push(job, this.local(dirname(config)), update));
    return { state };
  }

  private async push(job: Job, dir: string, update: HotUpdateConfig): Promise<void> {
    const result = await pushHotUpdate(dir, update, { timeoutMs: PUSH_TIMEOUT_MS });
    const name = job.object.metadata?.name;
    if (result.pushed) this.ctx.logger.info({ job: name, version: update.updateTime, swapMs: result.outcome.swapMs }, 'the inference worker serves the deployed model (pushed)');
    else this.ctx.logger.info({ job: name, version: update.updateTime, reason: result.reason }, 'hot update not pushed; the worker picks it up at its next poll');
  }

  /** The output model of the latest Train/Completed with the reference's format (Sedna's match). */
  private trainedModel(job: Job, reference: StageModel): StageModel | undefined {
    const candidates = outputModels(dataOf(latestOf(conditionsOf(job.object), 'Train', 'Completed')));
    return candidates.find((m) => (m.format ?? '') === (reference.format ?? ''));
  }

  /**
   * Sedna's initJob folders: `<out>/data/{train,eval}` for the samples and `<out>/{train,eval}` for
   * the workers' output (the pods mount the parent folder of their MODEL_URL, which must exist).
   */
  private async ensureOutputDirs(job: Job): Promise<void> {
    const out = job.spec.outputDir.replace(/\/+$/, '');
    if (isS3(out)) return;
    for (const sub of ['data/train', 'data/eval', 'train', 'eval']) await mkdir(this.local(`${out}/${sub}`), { recursive: true });
  }

  /** Writes `<out>/data/<set>/<round>/data.txt`; returns its path as the workers see it (no rootfs). */
  private async writeSamples(job: Job, set: 'train' | 'eval', round: number, lines: string[]): Promise<string> {
    const out = job.spec.outputDir.replace(/\/+$/, '');
    if (isS3(out)) throw new Error('an s3:// outputDir is not supported by this LC yet');
    const path = `${out}/data/${set}/${round}/data.txt`;
    await mkdir(this.local(dirname(path)), { recursive: true });
    await writeFile(this.local(path), lines.length > 0 ? `${lines.join('\n')}\n` : '');
    return path;
  }

  /** Copies a model file or folder onto another node path (both under the rootfs, unlike Sedna). */
  private async copyModel(from: string, to: string): Promise<void> {
    if (isS3(from) || isS3(to)) throw new Error('s3:// model URLs are not supported by this LC yet');
    await this.copyTo(from, this.local(to));
  }

  private async copyTo(from: string, localTo: string): Promise<void> {
    const source = this.local(from);
    await mkdir(dirname(localTo), { recursive: true });
    if ((await stat(source)).isDirectory()) await cp(source, localTo, { recursive: true });
    else await copyFile(source, localTo);
  }

  private local(path: string): string {
    if (this.ctx.nodePath) return this.ctx.nodePath(path);
    return this.ctx.rootfs ? join(this.ctx.rootfs, path) : path;
  }

  private message(job: Job, content: unknown): EdgeMessage {
    return {
      header: { namespace: job.object.metadata?.namespace ?? 'default', resourceKind: 'IncrementalLearningJob', resourceName: job.object.metadata?.name ?? '', operation: 'status' },
      content,
    };
  }
}
