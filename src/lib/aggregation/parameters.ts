// Aggregation parameters arrive as strings (env `aggregation_parameters`, JSON {key: value}).
// Absent or empty takes the strategy's default; a key the strategy does not know (a typo would
// otherwise be ignored silently) or a value that is not a number is a `ConfigError` naming it.
import { ConfigError, type Env } from '../context.ts';

export type AggregationParams = Readonly<Record<string, string>>;

export function rejectUnknownParameters(strategy: string, params: AggregationParams, known: readonly string[]): void {
  for (const key of Object.keys(params)) {
    if (!known.includes(key)) {
      const expected = known.length > 0 ? `known: ${known.join(', ')}` : 'it takes none';
      throw new ConfigError(`unknown aggregation parameter ${JSON.stringify(key)} for ${strategy} (${expected})`);
    }
  }
}

/** The number under `key`, or undefined when absent or empty (the strategy's default applies). */
export function numberParameter(strategy: string, params: AggregationParams, key: string): number | undefined {
  const raw = params[key];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw.trim());
  if (!Number.isFinite(value)) throw new ConfigError(`aggregation parameter ${key} of ${strategy} must be a number, got ${JSON.stringify(raw)}`);
  return value;
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Parses `aggregation_parameters`: a JSON object {key: value}, or Sedna's list of {key, value}
 * objects. Values become strings. Undefined or empty is no parameters.
 */
export function parseAggregationParameters(raw: string | undefined, variable = 'aggregation_parameters'): Record<string, string> {
  if (raw === undefined || raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(`${variable} is not valid JSON (${(err as Error).message}); expected an object {"key": value}`);
  }
  const params: Record<string, string> = {};
  if (Array.isArray(parsed)) {
    for (const entry of parsed as unknown[]) {
      const { key, value } = (entry ?? {}) as { key?: unknown; value?: unknown };
      if (typeof key !== 'string' || key === '') throw new ConfigError(`${variable}: every list entry needs a "key" string`);
      params[key] = value === undefined || value === null ? '' : asText(value);
    }
    return params;
  }
  if (typeof parsed !== 'object' || parsed === null) throw new ConfigError(`${variable} must be a JSON object {"key": value}`);
  for (const [key, value] of Object.entries(parsed)) params[key] = value === undefined || value === null ? '' : asText(value);
  return params;
}

/** Reads a variable by its lower-case name, then its upper-case one (Sedna's fallback). */
export function envValue(env: Env, name: string): string | undefined {
  return env[name] ?? env[name.toUpperCase()];
}
