// The kubelet's probes: /healthz and /readyz answer without credentials (kubelet probes carry
// none) on the GM's metrics listener and the LC's worker API, and say why when not ready; every
// other path keeps its credential check.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { WorkerServer } from '../../src/lc/server.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { MetricsServer } from '../../src/lib/net/metrics-server.ts';

test('the metrics listener answers probes without a token, readiness from its check, and /metrics only with the token', async (t) => {
  let ready = false;
  const server = new MetricsServer(new Registry(), 'secret', () => (ready ? { ready: true } : { ready: false, reason: 'not leading' }));
  const port = await server.start(0, '127.0.0.1');
  t.after(() => server.stop());
  const get = (path: string, init?: RequestInit): Promise<Response> => fetch(`http://127.0.0.1:${port}${path}`, init);
  assert.equal((await get('/healthz')).status, 200);
  const notReady = await get('/readyz');
  assert.equal(notReady.status, 503);
  assert.equal(await notReady.text(), 'not ready: not leading\n');
  ready = true;
  assert.equal((await get('/readyz')).status, 200);
  assert.equal((await get('/healthz', { method: 'POST' })).status, 405);
  assert.equal((await get('/metrics')).status, 401);
  assert.equal((await get('/metrics', { headers: { Authorization: 'Bearer secret' } })).status, 200);
});

test('the LC worker API answers /healthz to anyone, and still wants the worker token for reports from outside loopback', async (t) => {
  const server = new WorkerServer({ address: '127.0.0.1', port: 0, workerToken: 'w', requireToken: true, accept: () => undefined, logger: silentLogger() });
  const port = await server.start();
  t.after(() => server.stop());
  assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
  const report = await fetch(`http://127.0.0.1:${port}/sedna/workers/w/info`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
  assert.equal(report.status, 401);
});
