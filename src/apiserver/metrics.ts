// Prometheus metrics of the API server, named as kube-apiserver names its own.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ApiServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'apiserver_request_total',
    help: 'Requests by verb, resource and HTTP code.',
    labelNames: ['verb', 'group', 'resource', 'code'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'apiserver_request_duration_seconds',
    help: 'Request latency by verb and resource (watches excluded).',
    labelNames: ['verb', 'resource'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly watchers = new Gauge({
    name: 'apiserver_registered_watchers',
    help: 'Open watch streams by resource.',
    labelNames: ['resource'] as const,
    registers: [this.registry],
  });
  readonly revision = new Gauge({
    name: 'apiserver_storage_revision',
    help: 'The newest resourceVersion in storage.',
    registers: [this.registry],
  });

  /** The in-memory replay ring (kube-apiserver's watch cache plays this part): what it holds now. */
  readonly watchCacheEvents = new Gauge({
    name: 'apiserver_watch_cache_events',
    help: 'Recent events held in memory for watch replay.',
    registers: [this.registry],
  });
  readonly watchCacheBytes = new Gauge({
    name: 'apiserver_watch_cache_bytes',
    help: 'Bytes of JSON text (object and previous state) the watch replay ring holds.',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
