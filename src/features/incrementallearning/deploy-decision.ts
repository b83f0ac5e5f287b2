// The deploy decision (spec §4.6 deployTask, lib.md §9.3), exactly as Sedna's LC computes it: the
// latest Eval/Completed condition's output models carry `metrics` maps of number lists, the newly
// trained model's first and the deployed one's second; exactly two are required. The stats are
// `{m: new[m], m + "_delta": [new[m][i] - old[m][i] …]}` for every metric m of the new model, and the
// job's deploy trigger is evaluated on them. Where Sedna silently did not deploy, this says why.
import type { StageCondition } from '../../api/sedna/incremental-learning-job.ts';
import type { Stats, Trigger } from '../../lc/triggers.ts';
import { dataOf, latestOf, outputModels } from './data.ts';

export type Decision = { deploy: true; stats: Stats } | { deploy: false; reason: string; stats?: Stats };

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

export function decideDeploy(conditions: readonly StageCondition[] | undefined, trigger: Trigger, now: Date): Decision {
  const evalDone = latestOf(conditions, 'Eval', 'Completed');
  const models = outputModels(dataOf(evalDone));
  if (models.length !== 2) return { deploy: false, reason: `the evaluation reported ${models.length} model result(s); the deploy decision needs exactly 2 (trained, deployed)` };
  let stats: Stats;
  try {
    stats = deployStats(metricLists(models[0]!.metrics, 'trained'), metricLists(models[1]!.metrics, 'deployed'));
  } catch (err) {
    return { deploy: false, reason: (err as Error).message };
  }
  if (!trigger.trigger(stats, now)) return { deploy: false, reason: 'the deploy trigger did not fire', stats };
  return { deploy: true, stats };
}
