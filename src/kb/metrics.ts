// The knowledge base's Prometheus metrics: requests by route and status code, upload bytes, and
// what the base holds (read from the database at scrape time). Route labels are the fixed route
// names, never the request path, so a caller cannot grow the label set.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { KbCounts } from './db.ts';

export interface KbMetrics {
  registry: Registry;
  request(route: string, code: number, seconds: number): void;
  uploaded(bytes: number): void;
}

export function kbMetrics(counts: () => KbCounts): KbMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter<'route' | 'code'>({
    name: 'sedna_kb_requests_total',
    help: 'Knowledge-base requests by route and HTTP status code.',
    labelNames: ['route', 'code'],
    registers: [registry],
  });
  const duration = new Histogram<'route'>({
    name: 'sedna_kb_request_duration_seconds',
    help: 'Knowledge-base request handling time by route.',
    labelNames: ['route'],
    buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10],
    registers: [registry],
  });
  const uploadBytes = new Counter({
    name: 'sedna_kb_upload_bytes_total',
    help: 'Bytes of model and sample files stored through file/upload.',
    registers: [registry],
  });
  const held: Array<[keyof KbCounts, string, string]> = [
    ['groups', 'sedna_kb_task_groups', 'Task groups the knowledge base holds.'],
    ['tasks', 'sedna_kb_tasks', 'Tasks the knowledge base holds.'],
    ['models', 'sedna_kb_models', 'Task models recorded (current and earlier).'],
    ['samples', 'sedna_kb_samples', 'Samples recorded over all tasks.'],
  ];
  for (const [key, name, help] of held) {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(counts()[key]);
      },
    });
  }
  return {
    registry,
    request(route, code, seconds) {
      requests.inc({ route, code: String(code) });
      duration.observe({ route }, seconds);
    },
    uploaded(bytes) {
      uploadBytes.inc(bytes);
    },
  };
}
