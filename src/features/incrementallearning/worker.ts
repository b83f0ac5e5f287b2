// The incremental-learning worker SDK (spec lib.md §9): one class for the three workers the GM
// runs for an IncrementalLearningJob.
//
//   const il = new IncrementalLearning({ load: (path) => ModelEstimator.load(path, [784]) });
//   // train worker: train from BASE_MODEL_URL on TRAIN_DATASET_URL, save under MODEL_URL, report
//   await il.train({ train: (data) => model.train(data), save: (path) => model.save(path) }, data, undefined, { format: 'tfjs' });
//   // eval worker: every model of MODEL_URLS (the new one first), metrics as lists, report
//   await il.evaluate({ evaluate: (data, modelPath) => scoreOf(modelPath, data) }, testData);
//   // inference worker: serve MODEL_URL, mine hard examples into HE_SAVED_URL, hot-swap deploys
//   await il.start();
//   const [raw, result, isHard] = await il.inference(image);
//
// Where this differs from Sedna, on purpose:
// - a deployed model arrives by the LC's push as well as by Sedna's poll of model_config.json, is
//   loaded beside the serving one and swapped in one step: no inference fails or waits for a load,
//   and a model that fails to load leaves the old one serving (reported `deploy`/`failed` with the
//   cause, where Sedna's worker kept no model);
// - a worker restarted after a hot update serves the deployed model at once (the config's), not
//   the stale MODEL_URL;
// - metrics must be numbers or lists of numbers (the LC's deploy decision reads lists); a metric
//   that is neither is an error naming it, not a deploy condition that can never be evaluated;
// - a train or eval worker whose estimator throws reports `failed` (the GM retries the stage with
//   backoff) before rethrowing, instead of leaving the GM to notice a failed pod.
import { mkdir } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { ConfigError, type Env, workerContext, type WorkerContext } from '../../lib/context.ts';
import type { Clock } from '../../lib/clock.ts';
import { mountedPath, removePathPrefix } from '../../lib/file-ops/paths.ts';
import { hemFromEnv, type HardExampleMining } from '../../lib/hem/index.ts';
import { HotSwapSlot, HotUpdater, type HotUpdateResult, type Swappable } from '../../lib/hot-update/index.ts';
import { LcClient } from '../../lib/lc-client.ts';
import { createLogger, type Logger } from '../../lib/logger.ts';
import { type HardExampleEncoder, HardExampleFolder } from './hard-examples.ts';

const OWNER_KIND = 'incrementallearningjob';

/** What workers report: each metric a number or a list of numbers (reported as lists, as Sedna needs). */
export type Metrics = Record<string, number | readonly number[]>;
/** Sedna's `model_info` entry. */
export interface ModelInfo {
  format: string;
  url: string;
  metrics: Record<string, number[]>;
}

/** The train worker's model: trains on the new samples, saves where the SDK says. */
export interface IncrementalTrainer<D> {
  train(trainData: D, validData?: D): Metrics | void | Promise<Metrics | void>;
  save(path: string): void | Promise<void>;
}

/** The eval worker's model: the metrics of the model at `modelPath` on `data`. */
export interface IncrementalEvaluator<D> {
  evaluate(data: D, modelPath: string): Metrics | Promise<Metrics>;
}

/** A loaded model the inference worker serves; `dispose` runs once no request uses it. */
export interface ServingModel<I, O> extends Swappable {
  predict(data: I): O | Promise<O>;
}

export type ModelLoader<I, O> = (path: string) => Promise<ServingModel<I, O>>;

export interface IncrementalLearningOptions<I = unknown, O = unknown> {
  /** Loads a model file for inference (needed by `start`/`inference`). */
  load?: ModelLoader<I, O>;
  /** Default: HEM_NAME / HEM_PARAMETERS; none → never hard. */
  hardExampleMining?: HardExampleMining;
  /** Folder for hard examples; default env HE_SAVED_URL; none → not written. */
  hardExampleDir?: string;
  /** How a hard example becomes a file (default JSON of {data, result}). */
  encodeHardExample?: HardExampleEncoder<I, O>;
  env?: Env;
  context?: WorkerContext;
  /** Report to the LC (default true). */
  report?: boolean;
  lcClient?: LcClient;
  /** Hot update: listen for the LC's push (default true) besides Sedna's poll. */
  push?: boolean;
  /** Timer of the config poll (tests inject a FakeClock). */
  clock?: Clock;
  logger?: Logger;
}

export interface TrainOptions {
  /** `format` of the reported model: must equal the deploy Model's spec.format (the LC matches them); default the saved path's extension. */
  format?: string;
}

export interface SwapRecord {
  version: string;
  via: string;
  ok: boolean;
  swapMs: number;
  error?: string;
}

export interface IncrementalLearningCounters {
  inferences: number;
  hardExamples: number;
  swaps: number;
  failedSwaps: number;
}

/** `MODEL_URL` split as Sedna's `model_path` rule (lib.md §1.3). */
export function modelSavePath(ctx: WorkerContext, env: Env): string {
  const url = ctx.modelUrl;
  if (!url) throw new ConfigError('MODEL_URL is not set: the train worker saves its model there');
  if (ctx.modelLoadMode !== 'file') return url;
  if (existsSync(url) && statSync(url).isFile()) return url;
  return env.model_path || join(url, ctx.modelName || 'model');
}

/** Each metric as a list of finite numbers; anything else names the metric. */
export function metricLists(metrics: Metrics | void): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [name, value] of Object.entries(metrics ?? {})) {
    const list = typeof value === 'number' ? [value] : Array.isArray(value) ? [...(value as number[])] : undefined;
    if (!list || list.some((v) => typeof v !== 'number' || !Number.isFinite(v))) throw new ConfigError(`metric ${name} must be a finite number or a list of them, got ${JSON.stringify(value)}`);
    out[name] = list;
  }
  return out;
}

const SWAP_HISTORY = 100;

export class IncrementalLearning<I = unknown, O = unknown> {
  readonly context: WorkerContext;
  readonly counters: IncrementalLearningCounters = { inferences: 0, hardExamples: 0, swaps: 0, failedSwaps: 0 };
  /** The latest hot swaps, newest last. */
  readonly swapHistory: SwapRecord[] = [];
  private readonly env: Env;
  private readonly hem: HardExampleMining | undefined;
  private readonly lc: LcClient | undefined;
  private readonly slot: HotSwapSlot<ServingModel<I, O>>;
  private readonly hardExamples: HardExampleFolder<I, O> | undefined;
  private readonly logger: Logger;
  private updater: HotUpdater | undefined;
  private starting: Promise<void> | undefined;

  constructor(private readonly options: IncrementalLearningOptions<I, O> = {}) {
    this.env = options.env ?? process.env;
    this.context = options.context ?? workerContext(this.env);
    this.logger = options.logger ?? createLogger('sedna-worker');
    this.hem = options.hardExampleMining ?? hemFromEnv(this.env);
    if (options.report ?? true) this.lc = options.lcClient ?? LcClient.fromContext(this.context);
    this.slot = new HotSwapSlot({ onDisposeError: (err) => this.logger.warn({ err: (err as Error).message }, 'disposing a replaced model failed') });
    const dir = options.hardExampleDir ?? this.env.HE_SAVED_URL;
    if (dir) {
      this.hardExamples = new HardExampleFolder<I, O>({
        dir,
        ...(options.encodeHardExample ? { encode: options.encodeHardExample } : {}),
        onError: (err) => this.logger.warn({ dir, err: err.message }, 'writing a hard example failed'),
      });
    }
  }

  /** Where `train` saves the model. */
  get modelPath(): string {
    return modelSavePath(this.context, this.env);
  }

  /** The version of the model serving now (`initial` for MODEL_URL, else the deploy's update time). */
  get modelVersion(): string | undefined {
    return this.slot.version;
  }

  /** The hot-update push endpoint, when listening. */
  get pushUrl(): string | undefined {
    return this.updater?.pushUrl;
  }

  /** Sedna's `train`: trains, saves to `modelPath`, reports `train`/`completed` with the model. */
  async train<D>(trainer: IncrementalTrainer<D>, trainData: D, validData?: D, options: TrainOptions = {}): Promise<ModelInfo> {
    try {
      const metrics = metricLists(await trainer.train(trainData, validData));
      const path = this.modelPath;
      // Sedna's IncrementalLearning creates the MODEL_URL folder; the LC made only its parent.
      await mkdir(dirname(path), { recursive: true });
      await trainer.save(path);
      const info = this.modelInfo(path, metrics, options.format);
      await this.report('train', 'completed', [info]);
      return info;
    } catch (err) {
      await this.report('train', 'failed', null, err as Error);
      throw err;
    }
  }

  /** Sedna's `evaluate`: every model of MODEL_URLS (else MODEL_URL), reported `eval`/`completed`. */
  async evaluate<D>(evaluator: IncrementalEvaluator<D>, data: D, options: TrainOptions = {}): Promise<ModelInfo[]> {
    try {
      const urls = (this.context.modelUrls ?? '').split(';').map((u) => u.trim()).filter((u) => u !== '');
      if (urls.length === 0 && this.context.modelUrl) urls.push(this.context.modelUrl);
      if (urls.length === 0) throw new ConfigError('neither MODEL_URLS nor MODEL_URL is set: nothing to evaluate');
      const results: ModelInfo[] = [];
      for (const url of urls) results.push(this.modelInfo(url, metricLists(await evaluator.evaluate(data, mountedPath(url, this.env))), options.format));
      await this.report('eval', 'completed', results);
      return results;
    } catch (err) {
      await this.report('eval', 'failed', null, err as Error);
      throw err;
    }
  }

  /**
   * Loads the model to serve (the hot-update config's when one was deployed, else MODEL_URL) and,
   * with MODEL_HOT_UPDATE, starts the poll and the push endpoint. `inference` calls it once.
   */
  start(): Promise<void> {
    this.starting ??= this.startServing();
    return this.starting;
  }

  /** Sedna's `inference`: `[raw result, post-processed result, is hard example]`. */
  async inference(data: I, postProcess?: (result: O) => unknown): Promise<[O, unknown, boolean]> {
    if (!this.slot.loaded) await this.start();
    const raw = await this.slot.use((model) => model.predict(data));
    this.counters.inferences++;
    const processed = postProcess ? postProcess(structuredClone(raw)) : raw;
    const hard = this.hem?.isHard(processed) ?? false;
    if (hard) {
      this.counters.hardExamples++;
      await this.hardExamples?.save({ data, result: raw, processed });
    }
    return [raw, processed, hard];
  }

  /** Loads `path` beside the serving model and swaps to it (what a push or a poll does). */
  async swapModel(path: string, version: string): Promise<void> {
    const load = this.loader();
    await this.slot.swap(version, () => load(path));
  }

  /** Waits for queued hard examples to be written. */
  flushHardExamples(): Promise<void> {
    return this.hardExamples?.flush() ?? Promise.resolve();
  }

  async close(): Promise<void> {
    await this.updater?.stop();
    await this.flushHardExamples();
    await this.slot.close();
  }

  private loader(): ModelLoader<I, O> {
    if (!this.options.load) throw new ConfigError('IncrementalLearning needs a `load` option to serve a model');
    return this.options.load;
  }

  private async startServing(): Promise<void> {
    const configPath = this.context.modelHotUpdateConfig;
    if (this.context.modelHotUpdate && !configPath) this.logger.error('MODEL_HOT_UPDATE is true but MODEL_HOT_UPDATE_CONFIG is not set; no hot update');
    if (this.context.modelHotUpdate && configPath) {
      this.updater = new HotUpdater({
        configPath,
        pollPeriodMs: this.context.modelPollPeriodSeconds * 1000,
        push: this.options.push ?? true,
        apply: (update) => this.swapModel(update.localPath, update.updateTime),
        onResult: (result) => this.onSwap(result),
        onPollError: (err) => this.logger.warn({ config: configPath, err: err.message }, 'the hot-update config cannot be read; skipped'),
        ...(this.options.clock ? { clock: this.options.clock } : {}),
      });
      await this.updater.start();
    }
    // No deployed model (or it failed to load): the one the GM named.
    if (!this.slot.loaded) {
      const url = this.context.modelUrl;
      if (!url) throw new ConfigError('MODEL_URL is not set: the inference worker has no model to serve');
      await this.swapModel(url, 'initial');
    }
  }

  private onSwap(result: HotUpdateResult): void {
    const record: SwapRecord = { version: result.update.updateTime, via: result.update.via, ok: result.ok, swapMs: result.swapMs, ...(result.error ? { error: result.error.message } : {}) };
    this.swapHistory.push(record);
    if (this.swapHistory.length > SWAP_HISTORY) this.swapHistory.shift();
    if (result.ok) this.counters.swaps++;
    else this.counters.failedSwaps++;
    if (result.ok) this.logger.info({ version: record.version, via: record.via, swapMs: Math.round(result.swapMs) }, 'deployed model now serving');
    else this.logger.warn({ version: record.version, model: result.update.localPath, err: record.error }, 'the deployed model failed to load; the previous model keeps serving');
    // Sedna's ModelLoadingThread reports every reload; not awaited: serving does not wait for the LC.
    void this.report('deploy', result.ok ? 'completed' : 'failed', null, result.error);
  }

  private modelInfo(path: string, metrics: Record<string, number[]>, format?: string): ModelInfo {
    return { format: format ?? extname(path).replace(/^\./, '').toLowerCase(), url: removePathPrefix(path, this.context.dataPathPrefix), metrics };
  }

  /** Reports to the LC; a failure carries its cause in ownerInfo.message (Sedna sends none). */
  private async report(kind: string, status: string, results: ModelInfo[] | null, error?: Error): Promise<void> {
    if (!this.lc) return;
    await this.lc.reportTaskInfo({
      ownerKind: OWNER_KIND,
      kind,
      status,
      results: results as unknown as Record<string, unknown>[] | null,
      ...(error ? { ownerInfo: { message: `${kind} failed: ${error.message}`.slice(0, 1000) } } : {}),
    });
  }
}
