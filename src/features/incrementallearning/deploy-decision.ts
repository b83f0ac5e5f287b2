// The deploy decision (spec §4.6 deployTask, lib.md §9.3), exactly as Sedna's LC computes it: the
// latest Eval/Completed condition's output models carry `metrics` maps of number lists, the newly
// trained model's first and the deployed one's second; exactly two are required. The stats are
// `{m: new[m], m + "_delta": [new[m][i] - old[m][i] …]}` for every metric m of the new model, and the
// job's deploy trigger is evaluated on them. Where Sedna silently did not deploy, this says why.
import type { StageCondition } from '../../api/sedna/incremental-learning-job.ts';
import { compare, lookupMetric, parseCondition, type Stats, type Trigger } from '../../lc/triggers.ts';
import { dataOf, latestOf, outputModels } from './data.ts';

/** `unevaluable`: the deploy condition cannot be evaluated on these metrics (a fix to the job or the eval worker is needed). */
export type Decision = { deploy: true; stats: Stats } | { deploy: false; reason: string; stats?: Stats; unevaluable?: boolean };

function metricLists(metrics: unknown, which: string): Record<string, number[]> {
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) throw new Error(`the ${which} model's metrics are not a map of number lists`);
  const out: Record<string, number[]> = {};
  for (const [name, value] of Object.entries(metrics)) {
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'number')) throw new Error(`the ${which} model's metric ${name} is not a list of numbers`);
    out[name] = value;
  }
  return out;
}

/** `{m: new[m], m_delta: new[m][i] - old[m][i]}`; a metric the old model lacks gets no delta entries. */
export function deployStats(trained: Record<string, number[]>, deployed: Record<string, number[]>): Stats {
  const stats: Record<string, number[]> = {};
  for (const [name, values] of Object.entries(trained)) {
    stats[name] = values;
    const old = deployed[name] ?? [];
    const delta: number[] = [];
    for (let i = 0; i < values.length && i < old.length; i++) delta.push(values[i]! - old[i]!);
    stats[`${name}_delta`] = delta;
  }
  return stats;
}

/**
 * Why the trigger's condition cannot be evaluated on `stats`, if it cannot: a metric the evaluation
 * did not report (or a list index beyond it), a value that is not a number, an unknown operator.
 * Sedna's trigger is then simply false, so a typo in the job never deploys and never says why.
 */
export function conditionProblem(triggerSpec: unknown, stats: Stats): string | undefined {
  const condition = (triggerSpec as { condition?: unknown } | null | undefined)?.condition;
  if (condition === undefined) return undefined;
  let parsed: ReturnType<typeof parseCondition>;
  try {
    parsed = parseCondition(condition);
  } catch (err) {
    return (err as Error).message;
  }
  // Every operator Sedna knows answers true for one of 0 vs 0, 0 vs 1 and 1 vs 0.
  if (!compare(parsed.operator, 0, 0) && !compare(parsed.operator, 0, 1) && !compare(parsed.operator, 1, 0)) return `unknown operator ${JSON.stringify(parsed.operator)}`;
  const value = lookupMetric(parsed.metric, stats);
  const known = Object.entries(stats).map(([name, v]) => (Array.isArray(v) ? `${name}[${v.length}]` : name)).join(', ');
  if (value === undefined) return `metric ${JSON.stringify(parsed.metric)} is not in the evaluation's metrics (${known || 'none'})`;
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  if (!Number.isFinite(number)) return `metric ${JSON.stringify(parsed.metric)} is ${JSON.stringify(value)}, not a number (a list needs an index, e.g. ${parsed.metric}[0])`;
  return undefined;
}

export function decideDeploy(conditions: readonly StageCondition[] | undefined, trigger: Trigger, now: Date, triggerSpec?: unknown): Decision {
  const evalDone = latestOf(conditions, 'Eval', 'Completed');
  const models = outputModels(dataOf(evalDone));
  if (models.length !== 2) return { deploy: false, reason: `the evaluation reported ${models.length} model result(s); the deploy decision needs exactly 2 (trained, deployed)` };
  let stats: Stats;
  try {
    stats = deployStats(metricLists(models[0]!.metrics, 'trained'), metricLists(models[1]!.metrics, 'deployed'));
  } catch (err) {
    return { deploy: false, reason: (err as Error).message };
  }
  const problem = conditionProblem(triggerSpec, stats);
  if (problem) return { deploy: false, reason: `the deploy trigger cannot be evaluated: ${problem}`, stats, unevaluable: true };
  if (!trigger.trigger(stats, now)) return { deploy: false, reason: 'the deploy trigger did not fire', stats };
  return { deploy: true, stats };
}
