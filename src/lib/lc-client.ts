// The worker's client of its node's LocalController (lib.md §2, control-plane §4.2):
// `POST {LC_SERVER}/sedna/workers/{WORKER_NAME}/info`. Like Sedna's `http_request` it retries a
// failed report (5 attempts, 3 s apart by default), logs failures and answers false instead of
// throwing, so a worker keeps working while its LC restarts. Ours adds the node's worker token
// (`Authorization: Bearer`) for an LC that is not on loopback.
import type { WorkerMessage as LcWorkerMessage } from '../api/worker-message.ts';
import type { WorkerContext } from './context.ts';
import { createLogger, type Logger } from './logger.ts';

/**
 * A report as sent: the LC's `WorkerMessage` (control-plane appendix D) where `status`, `ownerInfo`
 * and `results` may be left out (Sedna omits empty ones; the JI reporter sends no status).
 */
export type WorkerMessage = Omit<LcWorkerMessage, 'status' | 'ownerInfo' | 'results'> & {
  status?: string;
  ownerInfo?: Record<string, unknown> | null;
  results?: Record<string, unknown>[] | null;
};

export interface LcClientOptions {
  server: string;
  workerName: string;
  token?: string;
  /** Default 5, as Sedna. */
  attempts?: number;
  /** Default 3000, as Sedna. */
  retryDelayMs?: number;
  /** Defaults for `reportTaskInfo`. */
  namespace?: string;
  ownerName?: string;
  logger?: Logger;
}

/** What `JobBase.report_task_info` takes; name/namespace/ownerName default to the client's. */
export interface TaskInfo {
  ownerKind: string;
  status: string;
  kind?: string;
  results?: Record<string, unknown>[] | null;
  ownerInfo?: Record<string, unknown> | null;
  namespace?: string;
  ownerName?: string;
}

let defaultLogger: Logger | undefined;

export class LcClient {
  private readonly attempts: number;
  private readonly retryDelayMs: number;
  private readonly logger: Logger;

  constructor(private readonly options: LcClientOptions) {
    this.attempts = Math.max(1, options.attempts ?? 5);
    this.retryDelayMs = Math.max(0, options.retryDelayMs ?? 3000);
    this.logger = options.logger ?? (defaultLogger ??= createLogger('sedna-worker'));
  }

  static fromContext(ctx: WorkerContext, extra: Partial<LcClientOptions> = {}): LcClient {
    return new LcClient({
      server: ctx.lcServer,
      workerName: ctx.workerName,
      token: ctx.workerToken,
      namespace: ctx.namespace,
      ownerName: ctx.jobName,
      ...extra,
    });
  }

  get workerName(): string {
    return this.options.workerName;
  }

  get url(): string {
    return `${this.options.server.replace(/\/+$/, '')}/sedna/workers/${encodeURIComponent(this.options.workerName)}/info`;
  }

  /** Posts one report; true once the LC answered 200, false after the last failed attempt. */
  async report(message: WorkerMessage): Promise<boolean> {
    const body = JSON.stringify(message);
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      const failure = await this.post(body);
      if (failure === undefined) return true;
      this.logger.warn({ url: this.url, attempt, attempts: this.attempts, failure }, 'report to the LocalController failed');
      if (attempt < this.attempts) await sleep(this.retryDelayMs);
    }
    this.logger.error({ url: this.url, attempts: this.attempts }, 'giving up reporting to the LocalController');
    return false;
  }

  /** `JobBase.report_task_info`: empty results and ownerInfo are left out. */
  reportTaskInfo(task: TaskInfo): Promise<boolean> {
    return this.report(this.taskInfoMessage(task));
  }

  taskInfoMessage(task: TaskInfo): WorkerMessage {
    const message: WorkerMessage = {
      name: this.options.workerName,
      namespace: task.namespace ?? this.options.namespace ?? '',
      ownerName: task.ownerName ?? this.options.ownerName ?? '',
      ownerKind: task.ownerKind,
      kind: task.kind ?? 'train',
      status: task.status,
    };
    if (task.ownerInfo && Object.keys(task.ownerInfo).length > 0) message.ownerInfo = task.ownerInfo;
    if (task.results && task.results.length > 0) message.results = task.results;
    return message;
  }

  /** One attempt: undefined on success, else why it failed. */
  private async post(body: string): Promise<string | undefined> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    try {
      const response = await fetch(this.url, { method: 'POST', headers, body });
      const text = await response.text();
      return response.status === 200 ? undefined : `HTTP ${response.status}: ${text.slice(0, 500)}`;
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message;
      return cause ? `${(err as Error).message}: ${cause}` : (err as Error).message;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface InferenceReporterOptions {
  client: LcClient;
  /** Sent as is (Sedna sends `NAMESPACE` unchanged, even when empty). */
  namespace: string;
  ownerName: string;
  /** Default `jointinferenceservice`. */
  ownerKind?: string;
  /** `LC_PERIOD`, default 30; fractions allowed (tests). */
  periodSeconds?: number;
  /** Injectable clock for tests. */
  now?: () => Date;
}

/**
 * The joint-inference edge reporter (lib.md §2): counts since start; every period with new
 * inferences posts `kind: "inference"`, `results: []` and `ownerInfo` with the counters, the
 * period's start and end (`%Y-%m-%d %H:%M:%S`, local time) and `uploadCloudRatio = hard / total`,
 * plus `cloudFailureNumber` (offloads the cloud did not answer), which Sedna does not send.
 * Like Sedna's thread the next period starts after the report finished, so reports never overlap.
 */
export class InferenceReporter {
  private inferenceNumber = 0;
  private hardExampleNumber = 0;
  private cloudFailureNumber = 0;
  private reportedInferenceNumber = 0;
  private periodStart: Date | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly options: InferenceReporterOptions) {}

  /** An inference answered on the edge (`update_for_edge_inference`). */
  countEdgeInference(): void {
    this.inferenceNumber += 1;
  }

  /** An offload to the cloud, attempted even if it failed (`update_for_collaboration_inference`). */
  countHardExample(): void {
    this.inferenceNumber += 1;
    this.hardExampleNumber += 1;
  }

  /** An offload the cloud did not answer (our addition to Sedna's counters, for the dashboard). */
  countCloudFailure(): void {
    this.cloudFailureNumber += 1;
  }

  get counters(): { inferenceNumber: number; hardExampleNumber: number } {
    return { inferenceNumber: this.inferenceNumber, hardExampleNumber: this.hardExampleNumber };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.periodStart = this.now();
    this.schedule();
  }

  /** Clears the timer; nothing is flushed (as Sedna, whose thread just dies with the process). */
  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    const periodMs = (this.options.periodSeconds ?? 30) * 1000;
    this.timer = setTimeout(() => void this.endPeriod(), periodMs);
    this.timer.unref();
  }

  private async endPeriod(): Promise<void> {
    const start = this.periodStart ?? this.now();
    const end = this.now();
    this.periodStart = end;
    if (this.inferenceNumber > this.reportedInferenceNumber) {
      this.reportedInferenceNumber = this.inferenceNumber;
      await this.options.client.report(this.message(start, end));
    }
    if (this.running) this.schedule();
  }

  private message(start: Date, end: Date): WorkerMessage {
    return {
      name: this.options.client.workerName,
      namespace: this.options.namespace,
      ownerName: this.options.ownerName,
      ownerKind: this.options.ownerKind ?? 'jointinferenceservice',
      kind: 'inference',
      results: [],
      ownerInfo: {
        startTime: formatLocalTime(start),
        updateTime: formatLocalTime(end),
        inferenceNumber: this.inferenceNumber,
        hardExampleNumber: this.hardExampleNumber,
        uploadCloudRatio: this.hardExampleNumber / this.inferenceNumber,
        cloudFailureNumber: this.cloudFailureNumber,
      },
    };
  }

  private now(): Date {
    return this.options.now ? this.options.now() : new Date();
  }
}

/** Python's `time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))`. */
export function formatLocalTime(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  return `${day} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}
