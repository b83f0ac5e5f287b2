// The one logger: pino, JSON lines on stderr so stdout stays free for a command's own output.
import type { Logger as PinoLogger } from 'pino';
import { requireCjs } from './require-cjs.ts';

const { pino } = requireCjs('pino') as typeof import('pino');

export type Logger = PinoLogger;

export function createLogger(name: string, level = process.env.SEDNA_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level }, pino.destination(2));
}

/** A logger that drops everything, for tests and benches that embed components. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
