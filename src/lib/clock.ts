// Time as an injected dependency. Everything in the control plane that waits or stamps a time
// (work-queue retries, requeues, status timestamps, dataset scans, trigger checks) asks a Clock,
// so unit tests drive time with FakeClock.advance() instead of sleeping for it.

/** Cancels a timer; calling it after the timer fired, or twice, does nothing. */
export type CancelTimer = () => void;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds; a `background` timer does not keep the process alive. */
  setTimeout(fn: () => void, ms: number, options?: { background?: boolean }): CancelTimer;
}

/** The wall clock and the event loop's timers. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms, options) => {
    const timer = setTimeout(fn, Math.max(0, ms));
    if (options?.background) timer.unref();
    return () => clearTimeout(timer);
  },
};

/** The clock's time as a Date (status and event timestamps). */
export function dateOf(clock: Clock): Date {
  return new Date(clock.now());
}

/** Resolves after `ms` on `clock`; rejects with the signal's reason if it aborts first. */
export function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      cancel();
      reject(signal!.reason as Error);
    };
    const cancel = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
