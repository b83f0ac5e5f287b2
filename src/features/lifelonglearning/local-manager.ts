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
import { dirname } from 'node:path';
import type { StageCondition } from '../../api/sedna/incremental-learning-job.ts';
import { LL_DEPLOY_INDEX } from '../../api/sedna/lifelong-learning-job.ts';
import type { Trigger } from '../../lc/triggers.ts';
import { dataOf, latestOf, outputModels } from '../incrementallearning/data.ts';
import { type SampleState, select, trimEvalVersions } from '../incrementallearning/samples.ts';
import { conditionsOf, type StageJob, StageJobManager, type StageJobSpec, type StageJobState } from '../incrementallearning/stage-job-manager.ts';

export const JOB_KIND = 'lifelonglearningjob';
export { JOB_LOOP_MS } from '../incrementallearning/stage-job-manager.ts';

/** What the database keeps per job. */
export type LlJobState = StageJobState;

type Job = StageJob<StageJobSpec, { train: Trigger }>;

type Task = { state: LlJobState; report?: Record<string, unknown> } | undefined;

const isRemote = (url: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(url);

export class LifelongLearningManager extends StageJobManager<StageJobSpec, { train: Trigger }> {
  protected readonly kind = JOB_KIND;
  protected readonly resourceKind = 'LifelongLearningJob';
  protected readonly feature = 'lifelong learning';
  protected readonly invalidTriggerLog = 'invalid train trigger; the job is kept but not run';

  protected compileTriggers(spec: StageJobSpec): { train: Trigger } {
    return { train: this.compileTrainTrigger(spec) };
  }

  protected stageTask(job: Job, latest: StageCondition, state: LlJobState): Promise<Task> {
    if (latest.type !== 'Waiting') return Promise.resolve(undefined);
    if (latest.stage === 'Train') return this.trainTask(job, state);
    if (latest.stage === 'Eval') return this.evalTask(job, state);
    return this.deployTask(job, state);
  }

  private async trainTask(job: Job, state: LlJobState): Promise<Task> {
    if (!this.trainFires(job, state)) return undefined;
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

}
