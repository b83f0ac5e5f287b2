// The evaluation's task filter (lib.md §10.5 step 3): env `operator` and `model_threshold`; a task
// is dropped when any of its scores satisfies `score <operator> threshold`, as in Sedna. Two fixes:
// the default operator is `<` (Sedna's default `>` with 0.1 drops every task that scores well), and
// an operator outside `>` `<` `=` `>=` `<=` is a ConfigError naming it (Sedna silently used `<`).
import { ConfigError } from '../../lib/context.ts';
import type { Task } from './tasks.ts';

export type FilterOperator = '>' | '<' | '=' | '>=' | '<=';

const comparisons: Record<FilterOperator, (score: number, threshold: number) => boolean> = {
  '>': (s, t) => s > t,
  '<': (s, t) => s < t,
  '=': (s, t) => Math.abs(s - t) < 1e-9,
  '>=': (s, t) => s >= t,
  '<=': (s, t) => s <= t,
};

export const DEFAULT_FILTER_OPERATOR: FilterOperator = '<';

export function filterOperator(raw: string | undefined): FilterOperator {
  const value = (raw ?? '').trim() || DEFAULT_FILTER_OPERATOR;
  if (!(value in comparisons)) throw new ConfigError(`operator must be one of ${Object.keys(comparisons).join(' ')}, got ${JSON.stringify(raw)}`);
  return value as FilterOperator;
}

export interface FilteredTasks {
  kept: Task[];
  dropped: Task[];
}

/** Splits evaluated tasks; a task without scores is kept (nothing says it is bad). */
export function filterTasks(tasks: readonly Task[], operator: FilterOperator, threshold: number): FilteredTasks {
  if (!Number.isFinite(threshold)) throw new ConfigError(`model_threshold must be a number, got ${threshold}`);
  const compare = comparisons[operator];
  const kept: Task[] = [];
  const dropped: Task[] = [];
  for (const task of tasks) {
    const scores = Object.values(task.scores ?? {});
    (scores.some((score) => compare(score, threshold)) ? dropped : kept).push(task);
  }
  return { kept, dropped };
}
