// HEM parameters arrive as strings (`HEM_PARAMETERS`); each is a number in [0,1] (Sedna's
// `data_check`). Absent or empty takes the default; anything else that is not such a number is a
// `ConfigError` naming the parameter (Sedna failed later, or compared a string with a float).
import { ConfigError } from '../context.ts';

export function unitParameter(param: Readonly<Record<string, string>>, key: string, fallback: number): number {
  const raw = param[key];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw.trim());
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new ConfigError(`hard example mining parameter ${key} must be a number in [0, 1], got ${JSON.stringify(raw)}`);
  }
  return value;
}
