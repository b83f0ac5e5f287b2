// Sedna's trigger package (spec §4.7), with its exact semantics: a trigger spec compiles into an AND
// of an optional condition and an optional timer; an empty spec always fires. Pure: the caller
// passes the stats and the time. Where Sedna's Go code panicked (missing operator/metric, a
// negative index) this compiles to an error or evaluates to false instead.

export type Stats = Readonly<Record<string, unknown>>;

export interface Trigger {
  /** Whether the trigger fires for these stats at `now` (local time, as Sedna's LC). */
  trigger(stats: Stats, now: Date): boolean;
}

export class TriggerSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TriggerSpecError';
  }
}

export interface ConditionSpec {
  operator: string;
  threshold: number;
  metric: string;
}

export interface TimerSpec {
  start: string;
  end: string;
  type?: string;
}

/** Compiles a trigger spec (the CR's `trigger` object). `checkPeriodSeconds` is read and ignored. */
export function compileTrigger(spec: unknown): Trigger {
  if (spec === null || spec === undefined) return always;
  if (!isRecord(spec)) throw new TriggerSpecError('invalid trigger value');
  const parts: Trigger[] = [];
  if ('condition' in spec) parts.push(conditionTrigger(parseCondition(spec.condition)));
  if ('timer' in spec) parts.push(timerTrigger(parseTimer(spec.timer)));
  if (parts.length === 0) return always;
  return { trigger: (stats, now) => parts.every((part) => part.trigger(stats, now)) };
}

const always: Trigger = { trigger: () => true };

export function parseCondition(value: unknown): ConditionSpec {
  if (!isRecord(value)) throw new TriggerSpecError('invalid condition value');
  const { operator, metric } = value;
  if (typeof operator !== 'string') throw new TriggerSpecError('condition.operator must be a string');
  if (typeof metric !== 'string') throw new TriggerSpecError('condition.metric must be a string');
  return { operator, metric, threshold: parseThreshold(value.threshold) };
}

/** Numbers and numeric strings convert; an unparsable string is an error; anything else is 0. */
function parseThreshold(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const parsed = parseNumber(value);
    if (parsed === undefined) throw new TriggerSpecError(`invalid threshold ${JSON.stringify(value)}`);
    return parsed;
  }
  return 0;
}

export function parseTimer(value: unknown): TimerSpec {
  if (!isRecord(value)) throw new TriggerSpecError('invalid timer');
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  const timer: TimerSpec = { start: text(value.start), end: text(value.end) };
  if (typeof value.type === 'string') timer.type = value.type;
  return timer;
}

export function conditionTrigger(condition: ConditionSpec): Trigger {
  return { trigger: (stats) => evaluateCondition(condition, stats) };
}

export function timerTrigger(timer: TimerSpec): Trigger {
  return { trigger: (_stats, now) => evaluateTimer(timer, timerNow(timer, now)) };
}

/** Sedna formats `now` as local `HH:MM`, except with `type: daily`, where its format is empty. */
export function timerNow(timer: TimerSpec, now: Date): string {
  return timer.type === 'daily' ? '' : formatHHMM(now);
}

export function formatHHMM(date: Date): string {
  return `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
}

/** Lexicographic, inclusive; `start > end` is a window across midnight. */
export function evaluateTimer(timer: Pick<TimerSpec, 'start' | 'end'>, now: string): boolean {
  const { start, end } = timer;
  if (start > end) return start <= now || now <= end;
  return start <= now && now <= end;
}

export function evaluateCondition(condition: ConditionSpec, stats: Stats): boolean {
  const raw = lookupMetric(condition.metric, stats);
  if (raw === undefined) return false;
  const value = toFloat(raw);
  if (value === undefined) return false;
  return compare(condition.operator, value, condition.threshold);
}

export function compare(operator: string, value: number, threshold: number): boolean {
  const isEqual = Math.abs(value - threshold) < 1e-6;
  switch (operator) {
    case 'gt':
    case '>':
      return !isEqual && value > threshold;
    case 'ge':
    case '>=':
      return isEqual || value >= threshold;
    case 'eq':
    case '=':
    case '==':
      return isEqual;
    case 'ne':
    case '!=':
      return !isEqual;
    case 'le':
    case '<=':
      return isEqual || value <= threshold;
    case 'lt':
    case '<':
      return !isEqual && value < threshold;
    default:
      return false;
  }
}

/** `name` or `name[i]` (the stat must then be a list with more than i items); undefined = missing. */
export function lookupMetric(metric: string, stats: Stats): unknown {
  const open = metric.indexOf('[');
  if (open < 0) return Object.hasOwn(stats, metric) ? stats[metric] : undefined;
  const base = metric.slice(0, open).trim();
  const close = metric.lastIndexOf(']');
  if (close <= open) return undefined;
  const indexText = metric.slice(open + 1, close);
  if (!/^[+-]?\d+$/.test(indexText)) return undefined;
  const index = Number(indexText);
  const list = Object.hasOwn(stats, base) ? stats[base] : undefined;
  if (!Array.isArray(list) || index < 0 || index >= list.length) return undefined;
  return list[index] as unknown;
}

/** Numbers as they are, numeric strings parsed (unparsable: undefined), anything else 0. */
function toFloat(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') return parseNumber(value);
  return 0;
}

/** Go's strconv.ParseFloat, roughly: the whole string must be a number. */
function parseNumber(text: string): number | undefined {
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?(?:inf|infinity|nan)$/i.test(text)) return undefined;
  const lower = text.toLowerCase().replace(/^\+/, '');
  if (lower === 'nan' || lower === '-nan') return NaN;
  if (lower.endsWith('inf') || lower.endsWith('infinity')) return lower.startsWith('-') ? -Infinity : Infinity;
  return Number(text);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
