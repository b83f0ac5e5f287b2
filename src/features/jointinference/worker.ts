// The edge worker's class (spec lib.md §7, `JointInference`): infer locally, ask the hard-example
// miner, send hard examples to the big model in the cloud, and return Sedna's result tuple
// `[isHardExample, finalResult, edgeResult, cloudResult]`.
//
// Where this differs from Sedna, on purpose:
// - a cloud that is unreachable, refuses, or is slower than the deadline never holds an answer
//   back: the edge result is returned and the failure counted (Sedna retried 5 times, 3 s apart);
// - after the cloud was unreachable, offloading pauses for `cloudRetryMs` (the edge answers alone
//   and counts the skipped offloads), then resumes by itself when the cloud is back;
// The counters reported to the LC keep Sedna's meaning (an offload adds to both inferenceNumber
// and hardExampleNumber), so dashboards built for Sedna read them the same way.
import { numberParameter, workerContext, type Env, type WorkerContext } from '../../lib/context.ts';
import type { Estimator } from '../../lib/estimator.ts';
import { hemFromEnv, type HardExampleMining } from '../../lib/hem/index.ts';
import { LcClient } from '../../lib/lc-client.ts';
import { secondsSince, type WorkerMetrics, workerMetrics } from '../../lib/worker-metrics.ts';
import { InferenceReporter } from './inference-reporter.ts';
import { CloudClient, CloudError, type CloudFailure } from './cloud-client.ts';

export type InferenceResult<O> = [isHardExample: boolean, finalResult: unknown, edgeResult: O | null, cloudResult: unknown];

export type MiningMode = 'inference-then-mining' | 'mining-then-inference';

export interface JointInferenceOptions<I, O> {
  estimator: Estimator<I, O>;
  /** Default: HEM_NAME / HEM_PARAMETERS; none means nothing is ever offloaded. */
  hardExampleMining?: HardExampleMining;
  /** The environment the worker contract, HEM_*, BIG_MODEL_TOKEN and BIG_MODEL_TIMEOUT_MS come from; default process.env. */
  env?: Env;
  /** Default: the worker contract read from `env`. */
  context?: WorkerContext;
  /** Default: BIG_MODEL_IP:BIG_MODEL_PORT with BIG_MODEL_TOKEN. */
  cloud?: CloudClient;
  /** Deadline of one offload, ms; default BIG_MODEL_TIMEOUT_MS or 2000. */
  cloudTimeoutMs?: number;
  /** Pause after the cloud was unreachable, ms; default 1000. */
  cloudRetryMs?: number;
  /** Report counters to the LocalController every LC_PERIOD seconds; default true. */
  report?: boolean;
  now?: () => number;
}

export interface JointInferenceCounters {
  inferences: number;
  hardExamples: number;
  /** Offloads answered by the cloud. */
  cloudAnswers: number;
  /** Offloads that failed, by cause. */
  cloudFailures: Record<CloudFailure, number>;
  /** Hard examples answered by the edge because offloading was paused. */
  cloudSkipped: number;
}

const DEFAULT_CLOUD_TIMEOUT_MS = 2000;
const DEFAULT_CLOUD_RETRY_MS = 1000;

export class JointInference<I, O> {
  readonly counters: JointInferenceCounters = {
    inferences: 0,
    hardExamples: 0,
    cloudAnswers: 0,
    cloudFailures: { timeout: 0, unreachable: 0, rejected: 0 },
    cloudSkipped: 0,
  };
  private readonly estimator: Estimator<I, O>;
  private readonly hem: HardExampleMining | undefined;
  private readonly cloud: CloudClient;
  private readonly mode: MiningMode;
  private readonly retryMs: number;
  private readonly now: () => number;
  private readonly reporter: InferenceReporter | undefined;
  private pausedUntil = 0;
  private readonly metrics: WorkerMetrics;

  constructor(options: JointInferenceOptions<I, O>) {
    const env = options.env ?? process.env;
    this.metrics = workerMetrics(env);
    const ctx = options.context ?? workerContext(env);
    this.estimator = options.estimator;
    this.hem = options.hardExampleMining ?? hemFromEnv(env);
    this.mode = miningMode(ctx.miningMode);
    if (this.mode === 'mining-then-inference' && !this.hem) throw new Error('Hard example mining algorithm is not set: MINING_MODE=mining-then-inference needs HEM_NAME');
    const timeoutMs = options.cloudTimeoutMs ?? numberParameter('BIG_MODEL_TIMEOUT_MS', DEFAULT_CLOUD_TIMEOUT_MS, env, { positive: true });
    this.cloud =
      options.cloud ??
      new CloudClient({ host: ctx.bigModelIp ?? '127.0.0.1', port: ctx.bigModelPort, jobName: ctx.jobName, token: env.BIG_MODEL_TOKEN || undefined, timeoutMs });
    this.retryMs = options.cloudRetryMs ?? DEFAULT_CLOUD_RETRY_MS;
    this.now = options.now ?? Date.now;
    if (options.report ?? true) {
      this.reporter = new InferenceReporter({
        client: LcClient.fromContext(ctx),
        namespace: ctx.namespace,
        // The service the GM folds the counters into (Sedna's JOB_NAME default would say "sedna").
        ownerName: ctx.serviceName || ctx.jobName,
        periodSeconds: ctx.lcPeriodSeconds,
      });
      this.reporter.start();
    }
  }

  /** Sedna's `inference(data, post_process)`. */
  async inference(data: I, postProcess?: (edgeResult: O) => unknown): Promise<InferenceResult<O>> {
    this.counters.inferences++;
    this.metrics.inferences.inc();
    if (this.mode === 'mining-then-inference') return this.mineThenInfer(data, postProcess);
    const edgeResult = await this.predictOnEdge(data);
    this.reporter?.countEdgeInference();
    const processed = postProcess ? postProcess(edgeResult) : edgeResult;
    if (!this.hem?.isHard(processed)) return [false, processed, edgeResult, null];
    const cloud = await this.offload(data);
    return cloud.answered ? [true, cloud.result, edgeResult, cloud.result] : [true, processed, edgeResult, null];
  }

  private async mineThenInfer(data: I, postProcess?: (edgeResult: O) => unknown): Promise<InferenceResult<O>> {
    const hard = this.hem!.isHard(data);
    if (hard) {
      const cloud = await this.offload(data);
      if (cloud.answered) return [true, cloud.result, null, { result: cloud.result }];
    }
    // Not hard, or the cloud could not answer: the edge model answers.
    const edgeResult = await this.predictOnEdge(data);
    this.reporter?.countEdgeInference();
    const processed = postProcess ? postProcess(edgeResult) : edgeResult;
    return [hard, processed, edgeResult, null];
  }

  private async predictOnEdge(data: I): Promise<O> {
    const started = process.hrtime.bigint();
    const result = await this.estimator.predict(data);
    this.metrics.edgeLatency.observe(secondsSince(started));
    return result;
  }

  /** The cloud's result, or `answered: false` when the edge must answer alone. */
  private async offload(data: I): Promise<{ answered: true; result: unknown } | { answered: false }> {
    this.counters.hardExamples++;
    this.metrics.hardExamples.inc();
    this.reporter?.countHardExample();
    if (this.now() < this.pausedUntil) {
      this.counters.cloudSkipped++;
      return { answered: false };
    }
    const started = process.hrtime.bigint();
    try {
      const result = await this.cloud.predict(data);
      this.counters.cloudAnswers++;
      this.metrics.cloudLatency.observe({ result: 'answered' }, secondsSince(started));
      return { answered: true, result };
    } catch (error) {
      const failure = error instanceof CloudError ? error.failure : 'rejected';
      this.counters.cloudFailures[failure]++;
      this.metrics.cloudLatency.observe({ result: 'failed' }, secondsSince(started));
      this.metrics.cloudFailures.inc({ cause: failure });
      this.reporter?.countCloudFailure();
      if (failure === 'unreachable') this.pausedUntil = this.now() + this.retryMs;
      return { answered: false };
    }
  }

  close(): void {
    this.reporter?.stop();
    this.cloud.close();
  }
}

function miningMode(value: string): MiningMode {
  if (value === 'inference-then-mining' || value === 'mining-then-inference') return value;
  throw new Error(`Invalid MINING_MODE: ${value} (expected inference-then-mining or mining-then-inference)`);
}
