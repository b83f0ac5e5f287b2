// Reconnect delays: exponential with jitter, so a GM restart is not met by every node at once.
// Sedna's LC retried every 5 s forever (§3.4); a fixed period synchronises a whole fleet. The cap
// (5 s by default) bounds how long a node stays away after the hub is back; reset() after a
// connection that opened starts the next outage from the shortest delay again.

export interface BackoffOptions {
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** In [0, 1); injectable for deterministic tests. */
  random?: () => number;
}

export class Backoff {
  private attempts = 0;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.initialDelayMs = options.initialDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 5_000;
    this.random = options.random ?? Math.random;
  }

  /** The delay before the next attempt: between half and all of initial·2^n, capped. */
  next(): number {
    const ceiling = Math.min(this.maxDelayMs, this.initialDelayMs * 2 ** this.attempts);
    this.attempts = Math.min(this.attempts + 1, 30);
    return Math.round(ceiling * (0.5 + this.random() / 2));
  }

  /** After a connection that worked. */
  reset(): void {
    this.attempts = 0;
  }
}
