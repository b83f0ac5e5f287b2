// controller-runtime's reconcile and work-queue metrics on a prom-client registry. Make one per
// registry and hand it to every controller: prom-client refuses a metric name registered twice.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ControllerMetrics, ReconcileOutcome } from './controller.ts';

export function prometheusControllerMetrics(registry: Registry): ControllerMetrics {
  const total = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Reconciles per controller and result.',
    labelNames: ['controller', 'result'],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Reconciles that failed (retried or terminal).',
    labelNames: ['controller'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Time per reconcile.',
    labelNames: ['controller'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const depths = new Map<string, () => number>();
  new Gauge({
    name: 'workqueue_depth',
    help: 'Keys waiting in the controller work queue.',
    labelNames: ['name'],
    registers: [registry],
    collect() {
      for (const [name, depth] of depths) this.set({ name }, depth());
    },
  });
  return {
    reconciled(controller: string, outcome: ReconcileOutcome, seconds: number) {
      total.inc({ controller, result: outcome });
      if (outcome === 'error' || outcome === 'terminal') errors.inc({ controller });
      duration.observe({ controller }, seconds);
    },
    queueDepth(controller: string, depth: () => number) {
      depths.set(controller, depth);
    },
  };
}
