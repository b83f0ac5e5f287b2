// Worker SDK metrics: a joint-inference edge worker counts inferences, hard examples and cloud
// failures and times both models; with METRICS_PORT and METRICS_TOKEN it serves them, and only to
// a caller with the token.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { CloudClient } from '../../src/features/jointinference/cloud-client.ts';
import { JointInference } from '../../src/features/jointinference/worker.ts';
import { workerContext } from '../../src/lib/context.ts';
import type { Estimator } from '../../src/lib/estimator.ts';
import { CrossEntropy } from '../../src/lib/hem/algorithms.ts';
import { workerMetrics, workerMetricsUrl } from '../../src/lib/worker-metrics.ts';

const EASY = [0.96, 0.02, 0.02];
const HARD = [0.34, 0.33, 0.33];

class Edge implements Estimator<number[], number[]> {
  predict(data: number[]): number[] {
    return data[0] === 1 ? [...HARD] : [...EASY];
  }
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function value(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await workerMetrics().registry.getMetricsAsJSON()).find((m) => m.name === name);
  const match = (metric?.values ?? []).find((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l));
  return match?.value ?? 0;
}

describe('worker SDK metrics', () => {
  it('counts inferences, hard examples and unreachable-cloud failures, and times the edge model', async () => {
    const env = { METRICS_PORT: '0', METRICS_TOKEN: 'scrape-token-0123456789' };
    const port = await closedPort();
    const before = { inferences: await value('sedna_worker_inferences_total'), hard: await value('sedna_worker_hard_examples_total'), unreachable: await value('sedna_worker_cloud_failures_total', { cause: 'unreachable' }) };
    const ji = new JointInference<number[], number[]>({
      estimator: new Edge(),
      hardExampleMining: new CrossEntropy(),
      env,
      context: workerContext(env),
      cloud: new CloudClient({ host: '127.0.0.1', port, jobName: 'svc', timeoutMs: 1000 }),
      cloudRetryMs: 0,
      report: false,
    });
    try {
      await ji.inference([0, 0]);
      await ji.inference([1, 0]);
      await ji.inference([1, 0]);
    } finally {
      ji.close();
    }
    assert.equal(await value('sedna_worker_inferences_total') - before.inferences, 3);
    assert.equal(await value('sedna_worker_hard_examples_total') - before.hard, 2);
    assert.equal(await value('sedna_worker_cloud_failures_total', { cause: 'unreachable' }) - before.unreachable, 2);
    const text = await workerMetrics().registry.metrics();
    assert.match(text, /^sedna_worker_edge_inference_duration_seconds_count \d+$/m);
    assert.match(text, /^sedna_worker_cloud_inference_duration_seconds_count\{result="failed"\} \d+$/m);
    // Served at METRICS_PORT, to the token only.
    const url = await workerMetricsUrl()!;
    assert.equal((await fetch(url)).status, 401);
    assert.equal((await fetch(url, { headers: { Authorization: 'Bearer wrong' } })).status, 401);
    const served = await fetch(url, { headers: { Authorization: `Bearer ${env.METRICS_TOKEN}` } });
    assert.equal(served.status, 200);
    assert.match(await served.text(), /^sedna_worker_inferences_total \d+$/m);
  });

  it('refuses to serve without a token, and a bad port', () => {
    assert.throws(() => workerMetrics({ METRICS_PORT: '9999' }), /METRICS_TOKEN/);
    assert.throws(() => workerMetrics({ METRICS_PORT: 'http', METRICS_TOKEN: 't' }), /METRICS_PORT must be a port number/);
  });
});
