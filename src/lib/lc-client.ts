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
  /** The job's uid (JOB_UID), so a report of a deleted job is never applied to a new one of the same name. */
  ownerUid?: string;
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
    if (task.ownerUid) message.ownerUid = task.ownerUid;
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

/** Python's `time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))`. */
export function formatLocalTime(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  return `${day} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}
