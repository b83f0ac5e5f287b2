// The worker SDK's Prometheus metrics: joint-inference counters and latencies, federated-learning
// round timings. One registry per worker process; it is served only when the worker is told where
// and with which token (METRICS_PORT and METRICS_TOKEN, loopback unless METRICS_ADDRESS says
// otherwise), so a worker opens no port it was not asked to open.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Env } from './context.ts';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const ROUND_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export class WorkerMetrics {
  readonly registry = new Registry();
  readonly inferences = new Counter({ name: 'sedna_worker_inferences_total', help: 'Inferences answered by this edge worker.', registers: [this.registry] });
  readonly hardExamples = new Counter({ name: 'sedna_worker_hard_examples_total', help: 'Inferences the hard-example miner sent towards the cloud.', registers: [this.registry] });
  readonly cloudFailures = new Counter<'cause'>({ name: 'sedna_worker_cloud_failures_total', help: 'Offloads the cloud did not answer, by cause (timeout, unreachable, rejected).', labelNames: ['cause'], registers: [this.registry] });
  readonly edgeLatency = new Histogram({ name: 'sedna_worker_edge_inference_duration_seconds', help: 'Time of one inference of the edge model.', buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly cloudLatency = new Histogram<'result'>({ name: 'sedna_worker_cloud_inference_duration_seconds', help: 'Time of one offload to the cloud, by result (answered, failed).', labelNames: ['result'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly rounds = new Counter({ name: 'sedna_worker_fl_rounds_total', help: 'Federated rounds this trainer finished.', registers: [this.registry] });
  readonly round = new Gauge({ name: 'sedna_worker_fl_round', help: 'The last federated round this trainer finished.', registers: [this.registry] });
  readonly trainSeconds = new Histogram({ name: 'sedna_worker_fl_train_duration_seconds', help: 'Local training time per round.', buckets: ROUND_BUCKETS, registers: [this.registry] });
  readonly exchangeSeconds = new Histogram({ name: 'sedna_worker_fl_exchange_duration_seconds', help: 'Time per round from sending the update to receiving the aggregated model.', buckets: ROUND_BUCKETS, registers: [this.registry] });
  readonly bytesSent = new Counter({ name: 'sedna_worker_fl_bytes_sent_total', help: 'Bytes this trainer sent to the aggregation server.', registers: [this.registry] });
}

let shared: WorkerMetrics | undefined;
let serving: Promise<string> | undefined;

/** The process's metrics; served at METRICS_PORT (with METRICS_TOKEN) from the first call that sees them set. */
export function workerMetrics(env: Env = process.env): WorkerMetrics {
  shared ??= new WorkerMetrics();
  const port = env.METRICS_PORT;
  if (port === undefined || port === '') return shared;
  const token = env.METRICS_TOKEN ?? '';
  if (token === '') throw new Error('METRICS_PORT is set but METRICS_TOKEN is empty: the worker\'s /metrics must be authenticated');
  const n = Number(port);
  if (!/^\d+$/.test(port) || n > 65535) throw new Error(`METRICS_PORT must be a port number, got ${JSON.stringify(port)}`);
  if (serving === undefined) {
    const registry = shared.registry;
    const address = env.METRICS_ADDRESS || '127.0.0.1';
    serving = import('./net/metrics-server.ts').then(async ({ MetricsServer }) => {
      const server = new MetricsServer(registry, token);
      const bound = await server.start(n, address);
      server.unref();
      const url = `http://${address}:${bound}/metrics`;
      process.stdout.write(`metrics listening on ${url}\n`);
      return url;
    });
    serving.catch((err: unknown) => process.stderr.write(`worker metrics: ${(err as Error).message}\n`));
  }
  return shared;
}

/** The URL the worker's /metrics listens on, once served (undefined when not asked to serve). */
export function workerMetricsUrl(): Promise<string> | undefined {
  return serving;
}

/** Seconds since `start` (process.hrtime.bigint()). */
export function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}
