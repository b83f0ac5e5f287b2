// The training worker's class (spec lib.md §8.1, `FederatedLearning(estimator, aggregation)`):
// each round trains the estimator on local data, sends its weights and sample count to the
// aggregation server, takes the aggregate, reports the round to the LocalController, and goes on
// until the server says `exit_flag: ok`.
//
// Where this differs from Sedna, on purpose:
// - weights go as binary frames (protocol.ts), and the bytes sent per round are counted;
// - a dropped socket or a restarted worker rejoins under the same WORKER_NAME: the server sends the
//   current round and global weights and training continues from there (Sedna raised);
// - FedProx's μ comes from the server's strategy (or the caller) and reaches estimator.train.
import { join } from 'node:path';
import { workerContext, type Env, type WorkerContext } from '../../lib/context.ts';
import type { TrainableEstimator } from '../../lib/estimator.ts';
import { removePathPrefix } from '../../lib/file-ops/index.ts';
import { formatLocalTime, LcClient } from '../../lib/lc-client.ts';
import { createLogger, type Logger } from '../../lib/logger.ts';
import { secondsSince, workerMetrics } from '../../lib/worker-metrics.ts';
import { AggregationConnection, type GlobalModel } from './connection.ts';
import { encodeWeightsFrame } from './protocol.ts';

export interface FederatedLearningOptions<D> {
  estimator: TrainableEstimator<D>;
  /** The route (and algorithm) name; default env `aggregation_algorithm`, else FedAvg. */
  aggregation?: string;
  /** The environment the worker contract and AGG_TOKEN come from; default process.env. */
  env?: Env;
  /** Default: the worker contract read from `env`. */
  context?: WorkerContext;
  /** Default env AGG_TOKEN. */
  token?: string;
  /** Default `{AGG_PROTOCOL}://{AGG_IP}:{AGG_PORT}/{aggregation}`. */
  url?: string;
  /** FedProx's μ; default what the server's strategy announces, else 0. */
  proximalMu?: number;
  /** Report each round to the LocalController (LC_SERVER); default true. */
  report?: boolean;
  /** Default LcClient.fromContext(context). */
  lcClient?: LcClient;
  /** Called after each round's aggregate was loaded (e.g. to evaluate it). */
  onRound?: (round: FederatedRound) => void | Promise<void>;
  logger?: Logger;
}

export interface FederatedTrainOptions {
  /** Samples in the local data; default `data.count` or `data.length`. */
  numSamples?: number;
  epochs?: number;
}

/** One round as this worker saw it. */
export interface FederatedRound {
  round: number;
  /** What estimator.train answered for the round. */
  metrics: Record<string, number>;
  /** This worker's samples. */
  numSamples: number;
  /** The samples of every update aggregated (Sedna's total_sample). */
  totalSample: number;
  /** Bytes of weights frames this worker sent in the round (resends included). */
  bytesSent: number;
  /** The clients aggregated; this one may be missing if the round closed without it. */
  clients: string[];
  exitFlag: 'ok' | 'continue';
}

const OWNER_KIND = 'federatedlearningjob';

export class FederatedLearning<D> {
  readonly aggregation: string;
  private readonly estimator: TrainableEstimator<D>;
  private readonly ctx: WorkerContext;
  private readonly token: string | undefined;
  private readonly url: string;
  private readonly lc: LcClient | undefined;
  private readonly logger: Logger;
  /** The job's uid (JOB_UID from the GM), sent with each report. */
  private readonly jobUid: string | undefined;
  private reports: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: FederatedLearningOptions<D>) {
    const env = options.env ?? process.env;
    this.ctx = options.context ?? workerContext(env);
    this.estimator = options.estimator;
    this.aggregation = options.aggregation ?? (env.aggregation_algorithm || env.AGGREGATION_ALGORITHM || 'FedAvg');
    this.token = options.token ?? (env.AGG_TOKEN || undefined);
    this.url = options.url ?? `${this.ctx.aggProtocol}://${this.ctx.aggIp}:${this.ctx.aggPort}/${encodeURIComponent(this.aggregation)}`;
    this.lc = (options.report ?? true) ? (options.lcClient ?? LcClient.fromContext(this.ctx)) : undefined;
    this.logger = options.logger ?? createLogger('sedna-federated-learning');
    this.jobUid = env.JOB_UID || undefined;
  }

  /** Sedna's `train(train_data)`: rounds until the server's exit flag; answers every round seen. */
  async train(data: D, options: FederatedTrainOptions = {}): Promise<FederatedRound[]> {
    const numSamples = options.numSamples ?? sampleCount(data);
    const connection = new AggregationConnection({
      url: this.url,
      clientId: this.ctx.workerName,
      jobName: this.ctx.jobName,
      token: this.token,
      connectTimeoutMs: this.ctx.connectTimeoutSeconds * 1000,
      onServerError: (message) => this.logger.warn({ server: this.url }, `aggregation server: ${message}`),
    });
    try {
      return await this.rounds(connection, data, numSamples, options.epochs);
    } finally {
      connection.close();
      await this.reports;
    }
  }

  private async rounds(connection: AggregationConnection, data: D, numSamples: number, epochs: number | undefined): Promise<FederatedRound[]> {
    const ack = await connection.open();
    const proximalMu = this.options.proximalMu ?? ack.proximal_mu ?? 0;
    // A (re)joining worker starts from the server's current global model and round.
    let global: GlobalModel | undefined = ack.has_weights ? await connection.nextGlobal(-1) : undefined;
    let round = ack.round;
    const history: FederatedRound[] = [];
    if (global) {
      this.estimator.setWeights(global.weights);
      round = global.round;
      if (global.exitFlag === 'ok') return history;
    }
    const timings = workerMetrics(this.options.env);
    for (;;) {
      const startTime = new Date();
      const trainStart = process.hrtime.bigint();
      const metrics = await this.estimator.train(data, { globalWeights: global?.weights, proximalMu, epochs });
      timings.trainSeconds.observe(secondsSince(trainStart));
      const exchangeStart = process.hrtime.bigint();
      const bytesBefore = connection.bytesSent;
      const header = { type: 'update_weight' as const, client: this.ctx.workerName, job_name: this.ctx.jobName, data: { num_samples: numSamples, round: round + 1, metrics } };
      await connection.sendUpdate(round + 1, encodeWeightsFrame(header, this.estimator.getWeights()));
      global = await connection.nextGlobal(round);
      this.estimator.setWeights(global.weights);
      round = global.round;
      const record: FederatedRound = { round, metrics, numSamples, totalSample: global.totalSample, bytesSent: connection.bytesSent - bytesBefore, clients: global.clients, exitFlag: global.exitFlag };
      timings.exchangeSeconds.observe(secondsSince(exchangeStart));
      timings.rounds.inc();
      timings.round.set(round);
      timings.bytesSent.inc(record.bytesSent);
      history.push(record);
      await this.finishRound(record, startTime);
      if (global.exitFlag === 'ok') return history;
    }
  }

  /** Saves the model, queues the LC report (in order, not blocking training) and tells the caller. */
  private async finishRound(record: FederatedRound, startTime: Date): Promise<void> {
    const savedPath = await this.saveModel();
    const report = this.reportRound(record, startTime, savedPath);
    this.reports = this.reports.then(() => report());
    if (record.exitFlag === 'ok') await this.reports;
    await this.options.onRound?.(record);
  }

  private async saveModel(): Promise<string | undefined> {
    if (!this.estimator.save || !this.ctx.modelUrl) return undefined;
    const path = this.ctx.modelName ? join(this.ctx.modelUrl, this.ctx.modelName) : this.ctx.modelUrl;
    await this.estimator.save(path);
    return path;
  }

  private reportRound(record: FederatedRound, startTime: Date, savedPath: string | undefined): () => Promise<unknown> {
    const lc = this.lc;
    if (!lc) return () => Promise.resolve();
    const url = savedPath === undefined ? '' : removePathPrefix(savedPath, this.ctx.dataPathPrefix);
    const task = {
      ownerKind: OWNER_KIND,
      kind: 'train',
      status: record.exitFlag === 'ok' ? 'completed' : 'running',
      // How the round's model was made rides with its quality, so the aggregation Model's status
      // (and the dashboard's per-round plots) can show clients and bytes per round.
      results: [{ format: modelFormat(savedPath), url, metrics: { ...record.metrics, clients: record.clients.length, bytesSent: record.bytesSent } }],
      ownerInfo: { currentRound: record.round, sampleCount: record.totalSample, startTime: formatLocalTime(startTime), updateTime: formatLocalTime(new Date()) },
      ...(this.jobUid ? { ownerUid: this.jobUid } : {}),
    };
    return () => lc.reportTaskInfo(task);
  }
}

/** Sedna's `model_info` format: the file extension, or tfjs for a model folder. */
function modelFormat(path: string | undefined): string {
  const extension = path?.match(/\.([A-Za-z0-9]+)$/)?.[1];
  return extension ? extension.toLowerCase() : 'tfjs';
}

function sampleCount(data: unknown): number {
  const candidate = data as { count?: unknown; length?: unknown } | null;
  const count = candidate?.count ?? candidate?.length;
  if (typeof count === 'number' && Number.isInteger(count) && count >= 0) return count;
  throw new TypeError('train: cannot tell how many samples the data holds; pass options.numSamples or data with a numeric count or length');
}
