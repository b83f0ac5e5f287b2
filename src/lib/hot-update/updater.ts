// A worker's hot-update loop: Sedna's polling of the config file (lib.md §9.4: every period, a new
// `model_update_time` means a new model) plus the LC's push (push.ts), both feeding one queue, so
// a version is applied once whichever way it arrives first, and versions are applied in order.
// The first config seen is always applied (Sedna's initial version is "latest"), so a worker
// restarted after a deploy serves the deployed model, not the one its MODEL_URL names.
import { dirname } from 'node:path';
import { type CancelTimer, type Clock, realClock } from '../clock.ts';
import { type HotUpdateConfig, localModelPath, readHotUpdateConfig } from './config-file.ts';
import { type PushOutcome, PushReceiver } from './push.ts';

/** A config with its model's local path, as the worker reads it. */
export interface HotUpdate extends HotUpdateConfig {
  localPath: string;
  via: 'poll' | 'push' | 'start';
}

export interface HotUpdateResult {
  update: HotUpdate;
  ok: boolean;
  error?: Error;
  /** Milliseconds from the update's arrival to the new model serving (or the failure). */
  swapMs: number;
}

export interface HotUpdaterOptions {
  /** The worker's local path of model_config.json (MODEL_HOT_UPDATE_CONFIG as mapped). */
  configPath: string;
  /** Sedna's MODEL_POLL_PERIOD_SECONDS in ms; below 1 s Sedna uses 60 s. */
  pollPeriodMs: number;
  /** Loads the update's model beside the serving one and swaps; throws when it cannot. */
  apply: (update: HotUpdate) => Promise<void>;
  /** After each applied or failed version (the IL worker reports `kind=deploy` here). */
  onResult?: (result: HotUpdateResult) => void;
  /** Listen for the LC's push (default true). */
  push?: boolean;
  clock?: Clock;
  /** A poll that cannot read the config (bad JSON, missing keys): Sedna logs and skips. */
  onPollError?: (err: Error) => void;
}

export class HotUpdater {
  private applied: string | undefined;
  /** Versions tried and failed: the poll does not retry them; a push (a new deploy) may. */
  private readonly failed = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();
  private cancel: CancelTimer = () => undefined;
  private receiver: PushReceiver | undefined;
  private stopped = false;
  private readonly clock: Clock;
  private readonly periodMs: number;

  constructor(private readonly options: HotUpdaterOptions) {
    this.clock = options.clock ?? realClock;
    this.periodMs = options.pollPeriodMs >= 1000 ? options.pollPeriodMs : 60_000;
  }

  /** The version serving, once one was applied. */
  get version(): string | undefined {
    return this.applied;
  }

  /** The push endpoint's URL, when listening. */
  pushUrl: string | undefined;

  /** Starts the push endpoint, then checks the config once now and every period after. */
  async start(): Promise<void> {
    if (this.options.push ?? true) {
      this.receiver = new PushReceiver((config) => this.onPush(config));
      this.pushUrl = await this.receiver.start(dirname(this.options.configPath));
    }
    await this.check('start');
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancel();
    await this.receiver?.stop();
    await this.queue;
  }

  /** Reads the config now and applies it when its version is new. */
  async check(via: 'poll' | 'start' = 'poll'): Promise<HotUpdateResult | undefined> {
    let config: HotUpdateConfig | undefined;
    try {
      config = await readHotUpdateConfig(this.options.configPath);
    } catch (err) {
      this.options.onPollError?.(err as Error);
      return undefined;
    }
    if (!config || config.updateTime === this.applied || this.failed.has(config.updateTime)) return undefined;
    return this.enqueue(config, via);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.cancel = this.clock.setTimeout(() => void this.check().finally(() => this.schedule()), this.periodMs, { background: true });
  }

  private async onPush(config: HotUpdateConfig): Promise<PushOutcome> {
    if (config.updateTime === this.applied) return { version: config.updateTime, swapMs: 0 };
    this.failed.delete(config.updateTime);
    const result = await this.enqueue(config, 'push');
    if (!result.ok) throw result.error ?? new Error(`model ${config.modelPath} was not applied`);
    return { version: config.updateTime, swapMs: result.swapMs };
  }

  private enqueue(config: HotUpdateConfig, via: HotUpdate['via']): Promise<HotUpdateResult> {
    const arrived = performance.now();
    const run = this.queue.then(() => this.applyOnce(config, via, arrived));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyOnce(config: HotUpdateConfig, via: HotUpdate['via'], arrived: number): Promise<HotUpdateResult> {
    const update: HotUpdate = { ...config, localPath: localModelPath(config.modelPath, this.options.configPath), via };
    // The same version may have arrived both ways while the first was loading.
    if (config.updateTime === this.applied) return { update, ok: true, swapMs: 0 };
    let result: HotUpdateResult;
    try {
      await this.options.apply(update);
      this.applied = config.updateTime;
      result = { update, ok: true, swapMs: performance.now() - arrived };
    } catch (err) {
      this.failed.add(config.updateTime);
      result = { update, ok: false, error: err as Error, swapMs: performance.now() - arrived };
    }
    this.options.onResult?.(result);
    return result;
  }
}
