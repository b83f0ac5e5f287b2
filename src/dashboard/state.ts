// The dashboard's picture of the cluster, fed by watch events (collector.ts) and read as a bounded
// snapshot (the pages) or as Prometheus metrics (metrics.ts). Pure: no I/O, an injected clock, so
// the series rules are unit-tested without a server.
import type { ConditionRow, DashboardSnapshot, EventRow, NodeRow, PodRow, ResourceRow } from '../api/dashboard.ts';
import { record, text } from './fields.ts';
import { SeriesSet } from './history.ts';
import { knowledgeBaseOf, learningCycles, learningView } from './learning.ts';

/** The kinds whose rows carry their cycles. */
export const LEARNING_KINDS = new Set(['IncrementalLearningJob', 'LifelongLearningJob']);

/** The parts of a Kubernetes object the dashboard reads. */
export interface AnyObject {
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; creationTimestamp?: string | Date; deletionTimestamp?: string | Date; labels?: Record<string, string> };
  spec?: unknown;
  status?: unknown;
  [field: string]: unknown;
}

export interface StateLimits {
  /** Points kept per series. */
  points: number;
  /** Events kept (newest). */
  events: number;
  /** Resources of one kind, and pods, listed in a snapshot. */
  rows: number;
}

export const DEFAULT_LIMITS: StateLimits = { points: 500, events: 200, rows: 1000 };

type Metrics = Record<string, string>;

function keyOf(kind: string, o: AnyObject): string {
  return `${kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/** status.metrics ([{key, value}]) as a map. */
export function metricsOf(status: unknown): Metrics {
  const list = record(status).metrics;
  const out: Metrics = {};
  if (!Array.isArray(list)) return out;
  for (const m of list) {
    const { key, value } = record(m);
    if (typeof key === 'string' && typeof value === 'string') out[key] = value;
  }
  return out;
}

function numberOf(metrics: Metrics, ...keys: string[]): number | undefined {
  for (const key of keys) {
    const raw = metrics[key];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (raw.trim() !== '' && Number.isFinite(n)) return n;
  }
  return undefined;
}

function conditionsOf(status: unknown): ConditionRow[] {
  const list = record(status).conditions;
  if (!Array.isArray(list)) return [];
  return list.map((c) => {
    const r = record(c);
    const row: ConditionRow = { type: text(r.type) ?? '', status: text(r.status) ?? '' };
    for (const field of ['stage', 'reason', 'message', 'lastTransitionTime'] as const) {
      const v = text(r[field]);
      if (v !== undefined) row[field] = v;
    }
    return row;
  });
}

export function nodeRow(node: AnyObject): NodeRow {
  const conditions = record(node.status).conditions;
  const ready = Array.isArray(conditions) ? conditions.map(record).find((c) => c.type === 'Ready') : undefined;
  const row: NodeRow = {
    name: node.metadata?.name ?? '',
    ready: ready?.status === 'True',
    roles: Object.keys(node.metadata?.labels ?? {})
      .filter((l) => l.startsWith('node-role.kubernetes.io/'))
      .map((l) => l.slice('node-role.kubernetes.io/'.length)),
  };
  if (!row.ready) row.reason = text(ready?.message) ?? text(ready?.reason) ?? 'no Ready condition';
  return row;
}

export function podRow(pod: AnyObject): PodRow {
  const spec = record(pod.spec);
  const status = record(pod.status);
  const containers = Array.isArray(spec.containers) ? spec.containers.map((c) => text(record(c).name) ?? '') : [];
  const statuses = Array.isArray(status.containerStatuses) ? status.containerStatuses.map(record) : [];
  return {
    namespace: pod.metadata?.namespace ?? 'default',
    name: pod.metadata?.name ?? '',
    phase: pod.metadata?.deletionTimestamp ? 'Terminating' : (text(status.phase) ?? 'Pending'),
    node: text(spec.nodeName) ?? '',
    containers,
    restarts: statuses.reduce((n, c) => n + (typeof c.restartCount === 'number' ? c.restartCount : 0), 0),
  };
}

export function eventRow(event: AnyObject): EventRow {
  const involved = record(event.involvedObject);
  return {
    namespace: event.metadata?.namespace ?? '',
    name: event.metadata?.name ?? '',
    type: text(event.type) ?? 'Normal',
    reason: text(event.reason) ?? '',
    message: text(event.message) ?? '',
    object: `${text(involved.kind) ?? ''}/${text(involved.name) ?? ''}`,
    count: typeof event.count === 'number' ? event.count : 1,
    last: text(event.lastTimestamp) ?? text(event.eventTime) ?? text(event.firstTimestamp) ?? text(event.metadata?.creationTimestamp) ?? '',
  };
}

export function resourceRow(kind: string, o: AnyObject): ResourceRow {
  const status = record(o.status);
  const conditions = conditionsOf(status);
  const last = conditions[conditions.length - 1];
  const row: ResourceRow = {
    kind,
    namespace: o.metadata?.namespace ?? '',
    name: o.metadata?.name ?? '',
    phase: text(status.phase) ?? last?.type ?? 'Unknown',
    conditions,
    status,
    key: keyOf(kind, o),
  };
  if (last?.stage) row.stage = last.stage;
  const created = text(o.metadata?.creationTimestamp);
  if (created) row.created = created;
  if (LEARNING_KINDS.has(kind)) row.learning = learningView(kind, o.status);
  return row;
}

export class DashboardState {
  readonly nodes = new Map<string, AnyObject>();
  readonly pods = new Map<string, AnyObject>();
  readonly events = new Map<string, AnyObject>();
  /** Sedna resources by kind, then namespace/name. */
  readonly resources = new Map<string, Map<string, AnyObject>>();
  private readonly series = new Map<string, SeriesSet>();
  private readonly synced = new Set<string>();

  constructor(
    private readonly watched: readonly string[],
    private readonly limits: StateLimits = DEFAULT_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  markSynced(resource: string): void {
    this.synced.add(resource);
  }

  get isSynced(): boolean {
    return this.watched.every((w) => this.synced.has(w));
  }

  /** An added or modified object of `kind` (Node, Pod, Event or a Sedna kind). */
  upsert(kind: string, o: AnyObject): void {
    const id = `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
    if (kind === 'Node') this.nodes.set(id, o);
    else if (kind === 'Pod') this.pods.set(id, o);
    else if (kind === 'Event') this.upsertEvent(id, o);
    else {
      this.kindMap(kind).set(id, o);
      this.observe(kind, o);
    }
  }

  remove(kind: string, o: AnyObject): void {
    const id = `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
    if (kind === 'Node') this.nodes.delete(id);
    else if (kind === 'Pod') this.pods.delete(id);
    else if (kind === 'Event') this.events.delete(id);
    else {
      this.kindMap(kind).delete(id);
      // A deleted resource's history goes with it: a new one of the same name starts afresh.
      this.series.delete(keyOf(kind, o));
    }
  }

  seriesOf(key: string): SeriesSet | undefined {
    return this.series.get(key);
  }

  snapshot(): DashboardSnapshot {
    const byName = <T extends { namespace?: string; name: string }>(a: T, b: T): number => `${a.namespace ?? ''}/${a.name}`.localeCompare(`${b.namespace ?? ''}/${b.name}`);
    const resources: Record<string, ResourceRow[]> = {};
    for (const [kind, objects] of this.resources) resources[kind] = [...objects.values()].map((o) => resourceRow(kind, o)).sort(byName).slice(0, this.limits.rows);
    const events = [...this.events.values()].map(eventRow).sort((a, b) => b.last.localeCompare(a.last)).slice(0, this.limits.events);
    const series: DashboardSnapshot['series'] = {};
    for (const [key, set] of this.series) series[key] = set.toJSON();
    return {
      at: this.now(),
      synced: this.isSynced,
      nodes: [...this.nodes.values()].map(nodeRow).sort(byName),
      pods: [...this.pods.values()].map(podRow).sort(byName).slice(0, this.limits.rows),
      resources,
      events,
      series,
    };
  }

  private kindMap(kind: string): Map<string, AnyObject> {
    let m = this.resources.get(kind);
    if (!m) {
      m = new Map();
      this.resources.set(kind, m);
    }
    return m;
  }

  private upsertEvent(id: string, o: AnyObject): void {
    this.events.set(id, o);
    // Keep the newest events only: the informer holds them all, the dashboard need not.
    if (this.events.size > this.limits.events * 2) {
      const oldest = [...this.events].map(([k, e]) => [k, eventRow(e).last] as const).sort((a, b) => a[1].localeCompare(b[1]));
      for (const [k] of oldest.slice(0, this.events.size - this.limits.events)) this.events.delete(k);
    }
  }

  private set(key: string): SeriesSet {
    let s = this.series.get(key);
    if (!s) {
      s = new SeriesSet(this.limits.points);
      this.series.set(key, s);
    }
    return s;
  }

  /** Adds a time point when the value differs from the series' last one (a resync adds nothing). */
  private addChanged(key: string, name: string, value: number | undefined): void {
    if (value === undefined) return;
    const set = this.set(key);
    if (set.get(name)?.last?.[1] === value) return;
    set.add(name, this.now(), value);
  }

  /** A point per cycle: the latest cycle's is updated, an older one already plotted is kept. */
  private addPerCycle(key: string, name: string, cycle: number, value: number | undefined): void {
    if (value === undefined) return;
    const set = this.set(key);
    const lastCycle = set.get(name)?.last?.[0];
    if (lastCycle === undefined || cycle >= lastCycle) set.add(name, cycle, value);
  }

  private observe(kind: string, o: AnyObject): void {
    const key = keyOf(kind, o);
    if (kind === 'JointInferenceService') this.observeJointInference(key, o);
    else if (kind === 'FederatedLearningJob') this.addChanged(key, 'round', numberOrUndefined(record(o.status).round));
    else if (kind === 'Model') this.observeModel(o);
    else if (kind === 'Dataset') this.addChanged(key, 'samples', numberOrUndefined(record(o.status).numberOfSamples));
    else if (LEARNING_KINDS.has(kind)) this.observeLearning(key, o);
  }

  /**
   * A learning job: the cycle it is in over time, the Eval metric per cycle (kept by the dashboard
   * beyond the job's bounded conditions), and a lifelong job's knowledge base over time.
   */
  private observeLearning(key: string, o: AnyObject): void {
    const cycles = learningCycles(o.status);
    this.addChanged(key, 'cycle', cycles[cycles.length - 1]?.cycle);
    for (const c of cycles) {
      this.addPerCycle(key, 'trainedMetric', c.cycle, c.metric?.trained);
      this.addPerCycle(key, 'deployedMetric', c.cycle, c.metric?.deployed);
    }
    const kb = knowledgeBaseOf(o.status);
    if (!kb) return;
    this.addChanged(key, 'kbModels', kb.numberOfModels);
    this.addChanged(key, 'unseenSamples', kb.unseenSamples);
    this.addChanged(key, 'labeledUnseenSamples', kb.labeledUnseenSamples);
  }

  private observeJointInference(key: string, o: AnyObject): void {
    const m = metricsOf(o.status);
    const inferences = numberOf(m, 'inferenceNumber');
    const hard = numberOf(m, 'hardExampleNumber');
    this.addChanged(key, 'inferences', inferences);
    this.addChanged(key, 'hardExamples', hard);
    const share = numberOf(m, 'uploadCloudRatio') ?? (inferences && hard !== undefined ? hard / inferences : undefined);
    this.addChanged(key, 'offloadShare', share);
    this.addChanged(key, 'cloudFailures', numberOf(m, 'cloudFailureNumber'));
  }

  /** The aggregation Model of a federated job carries the round's metrics; they are plotted per round. */
  private observeModel(model: AnyObject): void {
    const m = metricsOf(model.status);
    if (Object.keys(m).length === 0) return;
    const ns = model.metadata?.namespace ?? '';
    for (const job of this.kindMap('FederatedLearningJob').values()) {
      if ((job.metadata?.namespace ?? '') !== ns) continue;
      const aggregation = record(record(job.spec).aggregationWorker);
      if (record(aggregation.model).name !== model.metadata?.name) continue;
      const round = numberOrUndefined(record(job.status).round);
      if (round === undefined) continue;
      const set = this.set(keyOf('FederatedLearningJob', job));
      for (const [name, keys] of FL_METRIC_KEYS) {
        const value = numberOf(m, ...keys);
        if (value !== undefined) set.add(name, round, value);
      }
    }
  }
}

/** Which report keys feed which per-round series (Sedna's trainers report accuracy and loss). */
const FL_METRIC_KEYS: [string, string[]][] = [
  ['accuracy', ['accuracy', 'acc', 'val_accuracy']],
  ['loss', ['loss', 'val_loss']],
  ['clients', ['clients']],
  ['bytes', ['bytesSent', 'bytes']],
];

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
