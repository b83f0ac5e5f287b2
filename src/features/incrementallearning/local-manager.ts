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
import type { StageCondition } from '../../api/sedna/incremental-learning-job.ts';
import { dateOf } from '../../lib/clock.ts';
import type { SednaObject } from '../../lc/objects.ts';
import { compileTrigger, type Trigger } from '../../lc/triggers.ts';
import { dataOf, latestOf, outputModels, type StageModel } from './data.ts';
import { decideDeploy } from './deploy-decision.ts';
import { nodeRoles, taskNode } from './nodes.ts';
import { select, trimEvalVersions } from './samples.ts';
import { type HotUpdateConfig, pushHotUpdate, writeHotUpdateConfig } from '../../lib/hot-update/index.ts';
import { conditionsOf, type HeldDataset, type StageJob, StageJobManager, type StageJobSpec, type StageJobState } from './stage-job-manager.ts';
import { HOT_UPDATE_ANNOTATION, HOT_UPDATE_MOUNT } from './workers.ts';

export const JOB_KIND = 'incrementallearningjob';
export const MODEL_KIND = 'model';
export { JOB_LOOP_MS } from './stage-job-manager.ts';
/** How long the LC waits for the inference worker to load a pushed model. */
const PUSH_TIMEOUT_MS = 120_000;

interface JobSpec extends StageJobSpec {
  initialModel: { name: string };
  evalSpec?: { initialEvalModel?: { name: string } };
  deploySpec: { model: { name: string; hotUpdateEnabled?: boolean }; trigger?: unknown };
}

/** What the database keeps per job. */
export type IlJobState = StageJobState;

interface Triggers {
  train: Trigger;
  deploy: Trigger;
}

type Job = StageJob<JobSpec, Triggers>;

interface ModelSpec {
  url: string;
  format?: string;
}

function isS3(url: string): boolean {
  return /^s3:\/\//i.test(url);
}

export class IncrementalLearningManager extends StageJobManager<JobSpec, Triggers> {
  protected readonly kind = JOB_KIND;
  protected readonly resourceKind = 'IncrementalLearningJob';
  protected readonly feature = 'incremental learning';
  protected readonly invalidTriggerLog = 'invalid trigger; the job is kept but not run';

  protected compileTriggers(spec: JobSpec): Triggers {
    return { train: this.compileTrainTrigger(spec), deploy: compileTrigger(spec.deploySpec?.trigger) };
  }

  /** Removes the job's hot-update folder, which the LC made. */
  protected override onDelete(object: SednaObject): void {
    const config = object.metadata?.annotations?.[HOT_UPDATE_ANNOTATION];
    if (config?.startsWith('/var/lib/sedna/model-hot-update/')) void this.track(rm(this.local(dirname(config)), { recursive: true, force: true }));
  }

  /** A Model the GM sent this node, as the LC's model manager stored it. */
  private model(job: Job, name: string | undefined): StageModel | undefined {
    if (!name) return undefined;
    const spec = this.ctx.db.getResource(`${job.object.metadata?.namespace ?? 'default'}/${MODEL_KIND}/${name}`)?.spec as ModelSpec | null | undefined;
    return spec?.url ? { url: spec.url, format: spec.format ?? '' } : undefined;
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

  protected async stageTask(job: Job, latest: StageCondition, state: IlJobState, held: HeldDataset | undefined): Promise<{ state: IlJobState; report?: unknown } | undefined> {
    if (!this.runsTask(job, latest, held !== undefined)) return undefined;
    const samples = held?.source?.samples ?? [];
    await this.ensureOutputDirs(job);
    const hot = job.spec.deploySpec.model.hotUpdateEnabled === true;
    if (latest.type === 'Waiting' && latest.stage === 'Train') return this.trainTask(job, state, samples);
    if (latest.type === 'Waiting' && latest.stage === 'Eval') return this.evalTask(job, state, samples);
    if (latest.type === 'Waiting' && latest.stage === 'Deploy') return this.deployTask(job, state, hot);
    if (latest.type === 'Running' && latest.stage === 'Deploy' && hot) return this.hotUpdateTask(job, state);
    return undefined;
  }

  private async trainTask(job: Job, state: IlJobState, samples: string[]): Promise<{ state: IlJobState; report?: unknown } | undefined> {
    if (!this.trainFires(job, state)) return undefined;
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

}
