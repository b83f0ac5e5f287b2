// The joint-inference edge worker's inference counters, reported to the LocalController each
// period (lib.md §2). Joint inference's own: the LC client in src/lib knows no feature.
import { type CancelTimer, type Clock, dateOf, realClock } from '../../lib/clock.ts';
import { formatLocalTime, type LcClient, type WorkerMessage } from '../../lib/lc-client.ts';

export interface InferenceReporterOptions {
  client: LcClient;
  /** Sent as is (Sedna sends `NAMESPACE` unchanged, even when empty). */
  namespace: string;
  ownerName: string;
  /** Default `jointinferenceservice`. */
  ownerKind?: string;
  /** `LC_PERIOD`, default 30; fractions allowed (tests). */
  periodSeconds?: number;
  /** Times the periods and stamps them (default: real time). */
  clock?: Clock;
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
  private cancelTimer: CancelTimer | undefined;
  private readonly clock: Clock;
  private running = false;

  constructor(private readonly options: InferenceReporterOptions) {
    this.clock = options.clock ?? realClock;
  }

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
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  private schedule(): void {
    const periodMs = (this.options.periodSeconds ?? 30) * 1000;
    this.cancelTimer = this.clock.setTimeout(() => void this.endPeriod(), periodMs, { background: true });
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
    return dateOf(this.clock);
  }
}
