// How long the supervisor waits before restarting a component that exited on its own: the first
// restart at once (a one-off crash costs no waiting: every second counts toward recovery), then
// 0.5 s doubling up to a cap, and back to the start once a run lasted long enough to count as
// healthy (as the kubelet's CrashLoopBackOff does for containers, whose first restart is immediate).

export interface RestartBackoffOptions {
  initialMs: number;
  maxMs: number;
  /** A run at least this long resets the back-off. */
  resetAfterMs: number;
}

export const DEFAULT_RESTART_BACKOFF: RestartBackoffOptions = { initialMs: 500, maxMs: 30_000, resetAfterMs: 60_000 };

export class RestartBackoff {
  private failures = 0;

  constructor(private readonly options: RestartBackoffOptions = DEFAULT_RESTART_BACKOFF) {}

  /** The delay before the next start, given how long the run that just ended lasted. */
  next(ranMs: number): number {
    if (ranMs >= this.options.resetAfterMs) this.failures = 0;
    const delay = this.failures === 0 ? 0 : Math.min(this.options.initialMs * 2 ** (this.failures - 1), this.options.maxMs);
    this.failures++;
    return delay;
  }
}
