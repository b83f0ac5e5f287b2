// How a long-running `sedna` command ends: SIGINT or SIGTERM stops the component cleanly, then
// the process exits 0, or 1 if stopping failed.
import type { Logger } from '../lib/logger.ts';

export function stopOnSignal(log: Logger, stop: () => Promise<void>): void {
  const shutdown = (signal: string): void => {
    log.info({ signal }, 'shutting down');
    void stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}
