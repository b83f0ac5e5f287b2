// What the incremental- and lifelong-learning pages show, read from a job's status: its cycles
// (train → eval → deploy, each from a Train/Waiting that is not a retry to the next), the Eval
// stage's metric per cycle, and a lifelong job's knowledge base (spec §2.4.4, §2.4.5). Lenient:
// a condition whose `data` is not Sedna's shape loses its metric, never the page.
import type { CycleMetric, CycleStage, KnowledgeBaseView, LearningCycle, LearningView } from '../api/dashboard.ts';
import { record, text as fieldText } from './fields.ts';

/** Lists in the knowledge-base view are cut to this many entries. */
export const MAX_KB_ENTRIES = 200;
const STAGES = ['Train', 'Eval', 'Deploy'] as const;
/** The controller's reason on a Train/Waiting that retries a stage (not a new cycle). */
const RETRY = 'Retry';
/** Metric keys preferred for the plot, in this order; otherwise the first numeric one. */
const PREFERRED_METRICS = ['accuracy', 'acc', 'f1_score', 'f1', 'precision_score', 'precision', 'recall_score', 'recall', 'mAP', 'map'];

interface Condition {
  type?: unknown;
  stage?: unknown;
  reason?: unknown;
  message?: unknown;
  lastTransitionTime?: unknown;
  data?: unknown;
}

/** A string field, with '' as absent (a condition's empty reason or message). */
function text(value: unknown): string | undefined {
  return fieldText(value) || undefined;
}

function finite(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** A reported metric value: a number, or the mean of a list of numbers (Sedna's `{name: [float, …]}`). */
export function metricValue(value: unknown): number | undefined {
  if (!Array.isArray(value)) return finite(value);
  const numbers = value.map(finite).filter((n): n is number => n !== undefined);
  return numbers.length === 0 ? undefined : numbers.reduce((a, b) => a + b, 0) / numbers.length;
}

/** The output models of a condition's `data` JSON ({output: {model} | {models: [...]}}). */
function outputModels(data: unknown): Record<string, unknown>[] {
  if (typeof data !== 'string') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return [];
  }
  const output = record(record(parsed).output);
  if (Array.isArray(output.models)) return output.models.map(record);
  return output.model === undefined ? [] : [record(output.model)];
}

/** The metric to plot from a model's metrics: a preferred key, else the first numeric one. */
function pickMetric(metrics: Record<string, unknown>): string | undefined {
  const keys = Object.keys(metrics);
  return PREFERRED_METRICS.find((k) => metricValue(metrics[k]) !== undefined) ?? keys.find((k) => metricValue(metrics[k]) !== undefined);
}

/** The Eval stage's report: [trained, deployed] models for incremental learning, one KB index for lifelong. */
export function evalMetric(data: unknown): CycleMetric | undefined {
  const [trained, deployed] = outputModels(data).map((m) => record(m.metrics));
  if (!trained) return undefined;
  const name = pickMetric(trained);
  if (!name) return undefined;
  const metric: CycleMetric = { name };
  const t = metricValue(trained[name]);
  if (t !== undefined) metric.trained = t;
  const d = deployed ? metricValue(deployed[name]) : undefined;
  if (d !== undefined) metric.deployed = d;
  return metric;
}

function startsCycle(c: Condition): boolean {
  return c.stage === 'Train' && c.type === 'Waiting' && c.reason !== RETRY;
}

/** The conditions cut into cycles, oldest first (a leading part without its Train/Waiting is a cycle too). */
function spans(conditions: readonly Condition[]): Condition[][] {
  const out: Condition[][] = [];
  for (const c of conditions) {
    if (startsCycle(c) || out.length === 0) out.push([]);
    out[out.length - 1]!.push(c);
  }
  return out;
}

function stageOf(span: readonly Condition[], stage: string): CycleStage | undefined {
  const mine = span.filter((c) => c.stage === stage);
  const last = mine[mine.length - 1];
  if (!last) return undefined;
  const row: CycleStage = { stage, state: text(last.type) ?? '', failures: mine.filter((c) => c.type === 'Failed').length };
  const at = text(last.lastTransitionTime);
  if (at) row.at = at;
  const message = text(last.message);
  if (message) row.message = message;
  return row;
}

function cycleOf(span: readonly Condition[], cycle: number, isLatest: boolean): LearningCycle {
  const stages = STAGES.map((s) => stageOf(span, s)).filter((s): s is CycleStage => s !== undefined);
  const deployDone = span.findLastIndex((c) => c.stage === 'Deploy' && c.type === 'Completed');
  const deployReady = span.findLastIndex((c) => c.stage === 'Deploy' && c.type === 'Ready');
  const row: LearningCycle = { cycle, stages, outcome: 'in progress' };
  const started = text(span[0]?.lastTransitionTime);
  if (started) row.started = started;
  if (deployDone >= 0) {
    row.ended = text(span[deployDone]!.lastTransitionTime);
    // Sedna's GM completes Deploy after the LC's Ready; a Completed without a Ready is the LC's "no deploy".
    row.outcome = deployReady >= 0 && deployReady < deployDone ? 'deployed' : 'not deployed';
    const why = text(span[deployDone]!.message);
    if (row.outcome === 'not deployed' && why) row.reason = why;
  } else if (!isLatest) {
    row.outcome = 'not deployed';
    row.reason = 'the cycle ended before a deploy';
  }
  if (row.ended === undefined) delete row.ended;
  const evalDone = span.findLast((c) => c.stage === 'Eval' && c.type === 'Completed');
  const metric = evalDone ? evalMetric(evalDone.data) : undefined;
  if (metric) row.metric = metric;
  const trainDone = span.findLast((c) => c.stage === 'Train' && c.type === 'Completed');
  const trained = trainDone ? text(outputModels(trainDone.data)[0]?.url) : undefined;
  if (trained) row.trainedModel = trained;
  return row;
}

/**
 * The cycles of a learning job's status. Numbered back from status.round (the incremental-learning
 * controller keeps it; conditions are bounded, so the oldest kept one may be mid-cycle), else from 1.
 */
export function learningCycles(status: unknown): LearningCycle[] {
  const list = record(status).conditions;
  if (!Array.isArray(list)) return [];
  const parts = spans(list.map(record));
  const round = finite(record(status).round);
  const first = round !== undefined && round >= parts.length ? round - parts.length + 1 : 1;
  return parts.map((span, i) => cycleOf(span, first + i, i === parts.length - 1));
}

/** status.knowledgeBase (Sedna's keys, capitals included) as the page's view, lists bounded. */
export function knowledgeBaseOf(status: unknown): KnowledgeBaseView | undefined {
  const kb = record(status).knowledgeBase;
  if (kb === undefined || kb === null) return undefined;
  const models = record(record(kb).AIModels);
  const classes = record(record(kb).AIClasses);
  const samples = record(record(kb).samples);
  const list = Array.isArray(models.listOfAIModels) ? models.listOfAIModels.map(record) : [];
  const names = Array.isArray(classes.listOfAIClasses) ? classes.listOfAIClasses.filter((c): c is string => typeof c === 'string') : [];
  return {
    classes: names.slice(0, MAX_KB_ENTRIES),
    numberOfClasses: finite(classes.numberOfAIClasses) ?? names.length,
    models: list.slice(0, MAX_KB_ENTRIES).map((m) => {
      const precision = finite(m.averagePrecision);
      return { modelID: text(m.modelID) ?? '', ...(precision !== undefined ? { averagePrecision: precision } : {}), numberOfTrainSamples: finite(m.numberOfTrainSamples) ?? 0 };
    }),
    numberOfModels: finite(models.numberOfAIModels) ?? list.length,
    unseenSamples: finite(samples.numberOfUnseenSample) ?? 0,
    labeledUnseenSamples: finite(samples.numberOfLabeledUnseenSample) ?? 0,
  };
}

export function learningView(kind: string, status: unknown): LearningView {
  const view: LearningView = { cycles: learningCycles(status) };
  if (kind === 'LifelongLearningJob') {
    const kb = knowledgeBaseOf(status);
    if (kb) view.knowledgeBase = kb;
  }
  return view;
}
