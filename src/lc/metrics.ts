// The LocalController's and its embedded kubelet's Prometheus metrics. Gauges read the LC at
// scrape time (GM link, outbox, containers); counters are fed through the LcMetrics and
// KubeletMetrics hooks. Label values are bounded: an owner kind a worker made up counts as "other".
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { KubeletMetrics } from './kubelet/index.ts';
import type { LcMetrics, LocalController } from './lc.ts';

const OWNER_KINDS = new Set(['jointinferenceservice', 'federatedlearningjob', 'incrementallearningjob', 'lifelonglearningjob', 'dataset', 'model']);
const EVENT_REASONS = new Set(['Started', 'Killing', 'BackOff', 'Failed', 'Unhealthy']);

export interface LcMetricsSet {
  registry: Registry;
  lc: LcMetrics;
  kubelet: KubeletMetrics;
  /** Where the scrape-time gauges read from, once the LC exists. */
  attach(lc: LocalController): void;
}

export function lcMetrics(node: string): LcMetricsSet {
  const registry = new Registry();
  registry.setDefaultLabels({ node });
  collectDefaultMetrics({ register: registry });
  let lc: LocalController | undefined;
  new Gauge({
    name: 'sedna_lc_gm_connected',
    help: '1 while the LC holds its link to the GM edge hub, else 0.',
    registers: [registry],
    collect() {
      this.set(lc?.connected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'sedna_lc_outbox_pending_messages',
    help: 'Upstream messages committed to the outbox and not yet acknowledged by the GM.',
    registers: [registry],
    collect() {
      this.set(lc?.pending ?? 0);
    },
  });
  const messages = new Counter<'owner_kind' | 'result'>({
    name: 'sedna_lc_worker_messages_total',
    help: 'Worker reports received, by owner kind and outcome (relayed to the GM, dropped, refused when the outbox is full).',
    labelNames: ['owner_kind', 'result'],
    registers: [registry],
  });
  new Gauge<'state'>({
    name: 'sedna_kubelet_containers',
    help: 'Containers of the pods this kubelet runs, by state.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const state of ['running', 'waiting', 'terminated']) this.set({ state }, 0);
      for (const c of lc?.kubelet?.containerStates() ?? []) this.inc({ state: c.state });
    },
  });
  new Gauge({
    name: 'sedna_kubelet_pods',
    help: 'Pods this kubelet runs.',
    registers: [registry],
    collect() {
      this.set(new Set((lc?.kubelet?.containerStates() ?? []).map((c) => c.pod)).size);
    },
  });
  new Gauge({
    name: 'sedna_kubelet_container_restarts',
    help: 'Restarts of the containers this kubelet runs (sum of restartCount).',
    registers: [registry],
    collect() {
      this.set((lc?.kubelet?.containerStates() ?? []).reduce((n, c) => n + c.restartCount, 0));
    },
  });
  const events = new Counter<'type' | 'reason'>({
    name: 'sedna_kubelet_container_events_total',
    help: 'Container events the kubelet recorded (Started, Killing, BackOff, Failed, Unhealthy).',
    labelNames: ['type', 'reason'],
    registers: [registry],
  });
  const syncs = new Histogram<'result'>({
    name: 'sedna_kubelet_pod_sync_duration_seconds',
    help: 'Time per pod sync (start, status report, deletion), by result.',
    labelNames: ['result'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    registry,
    lc: { workerMessage: (kind, result) => messages.inc({ owner_kind: OWNER_KINDS.has(kind.toLowerCase()) ? kind.toLowerCase() : 'other', result }) },
    kubelet: {
      containerEvent: (type, reason) => events.inc({ type, reason: EVENT_REASONS.has(reason) ? reason : 'other' }),
      podSync: (seconds, ok) => syncs.observe({ result: ok ? 'ok' : 'error' }, seconds),
    },
    attach(target) {
      lc = target;
    },
  };
}
