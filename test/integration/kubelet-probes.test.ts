// End to end: container probes in the embedded kubelet, against a real API server process, an LC
// with its kubelet and the real kubectl. A tcpSocket readiness probe holds READY at 0/1 until the
// process listens on its PORT; an httpGet probe answered 500 keeps it 0/1 with "Readiness probe
// failed" events; a failing liveness probe restarts the container; an exec probe runs a command.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, kubectl, kubectlOk, type RunningApiServer, startApiServer } from '../helpers/apiserver.ts';
import { parseTable } from '../helpers/kubectl-table.ts';
import { type RunningLc, startLcWithKubelet } from '../helpers/lc.ts';
import type { Container, Pod } from '../../src/lc/kubelet/index.ts';

const NODE = 'edge-probes-1';

function podManifest(name: string, container: Container): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName: NODE, restartPolicy: 'Always', terminationGracePeriodSeconds: 1, containers: [container] },
  });
}

const nodeContainer = (script: string, extra: Partial<Container> = {}): Container => ({ name: 'main', image: 'node:20', command: ['node', '-e', script], ...extra });

// Listens on PORT only once the file LISTEN_WHEN exists: the test says when, after it has seen the
// pod Running and not ready (a fixed delay raced kubectl's start-up on a loaded machine).
const LATE_LISTENER = `const t = setInterval(() => { if (!require('node:fs').existsSync(process.env.LISTEN_WHEN)) return; clearInterval(t); require('node:net').createServer((s) => s.end()).listen(Number(process.env.PORT), '127.0.0.1'); }, 100)`;
// Answers every request with 500.
const ALWAYS_500 = `require('node:http').createServer((q, r) => { r.statusCode = 500; r.end('no'); }).listen(Number(process.env.PORT), '127.0.0.1')`;
const IDLE = 'setInterval(() => {}, 1000)';

describe('embedded kubelet: container probes', () => {
  let api: RunningApiServer;
  let lc: RunningLc;
  let listenWhen = '';
  const kc = (args: string[], input?: string): Promise<string> => kubectlOk(api.kubeconfig, args, input);
  const row = async (name: string): Promise<Record<string, string> | undefined> => parseTable(await kc(['get', 'pod', name])).rows[0];
  const getPod = async (name: string): Promise<Pod> => JSON.parse(await kc(['get', 'pod', name, '-o', 'json'])) as Pod;
  const columnBecomes = (name: string, column: string, matches: (value: string) => boolean, timeoutMs = 15_000): Promise<string> =>
    eventually(async () => {
      const value = (await row(name))?.[column];
      return value !== undefined && matches(value) ? value : undefined;
    }, timeoutMs, `${name} ${column}`);

  before(async () => {
    api = await startApiServer();
    lc = await startLcWithKubelet(api, NODE);
    // The pods run side by side to keep the test short.
    listenWhen = join(mkdtempSync(join(tmpdir(), 'sedna-probes-')), 'listen');
    await Promise.all([
      kc(
        ['apply', '-f', '-'],
        podManifest('web500', nodeContainer(ALWAYS_500, { ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 1 } })),
      ),
      kc(['apply', '-f', '-'], podManifest('dead', nodeContainer(IDLE, { ports: [{ containerPort: 8080 }], livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1, failureThreshold: 2 } }))),
      kc(['apply', '-f', '-'], podManifest('exec', nodeContainer(IDLE, { readinessProbe: { exec: { command: ['node', '-e', 'process.exit(0)'] }, periodSeconds: 1 } }))),
    ]);
    await kc(['apply', '-f', '-'], podManifest('late', nodeContainer(LATE_LISTENER, { env: [{ name: 'LISTEN_WHEN', value: listenWhen }], ports: [{ containerPort: 8080 }], readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } })));
  });

  after(async () => {
    if (api) await kubectl(api.kubeconfig, ['delete', 'pod', '--all', '--wait=true', '--timeout=20s']);
    await lc?.stop();
    await api?.stop();
    if (listenWhen) rmSync(dirname(listenWhen), { recursive: true, force: true });
  });

  it('a tcpSocket readiness probe shows READY 0/1 until the process listens on its PORT, then 1/1', async () => {
    await columnBecomes('late', 'STATUS', (s) => s === 'Running');
    const early = (await row('late'))!;
    assert.equal(early.READY, '0/1', 'running but not yet listening');
    const pod = await getPod('late');
    assert.equal(pod.status!.containerStatuses![0]!.ready, false);
    assert.equal(pod.status!.conditions!.find((c) => c.type === 'Ready')!.status, 'False');
    writeFileSync(listenWhen, '');
    await columnBecomes('late', 'READY', (r) => r === '1/1', 15_000);
    const ready = await getPod('late');
    assert.equal(ready.status!.conditions!.find((c) => c.type === 'ContainersReady')!.status, 'True');
    assert.equal(ready.status!.containerStatuses![0]!.restartCount, 0);
  });

  it('an httpGet probe answered 500 keeps the pod 0/1 and records "Readiness probe failed" events', async () => {
    const events = await eventually(async () => {
      const text = await kc(['get', 'events', '--field-selector', 'involvedObject.name=web500']);
      return text.includes('Readiness probe failed') ? text : undefined;
    }, 15_000, 'a Readiness probe failed event');
    assert.match(events, /Unhealthy/);
    assert.match(events, /HTTP probe failed with statuscode: 500/);
    const current = (await row('web500'))!;
    assert.equal(current.STATUS, 'Running');
    assert.equal(current.READY, '0/1');
  });

  it('a failing liveness probe kills the container and restartPolicy restarts it (RESTARTS 1)', async () => {
    await columnBecomes('dead', 'RESTARTS', (r) => /^[1-9]/.test(r), 20_000);
    const pod = await getPod('dead');
    const status = pod.status!.containerStatuses![0]!;
    assert.ok(status.restartCount >= 1);
    assert.ok(status.lastState.terminated, 'the killed run is the last state');
    const events = await kc(['get', 'events', '--field-selector', 'involvedObject.name=dead']);
    assert.match(events, /Liveness probe failed/);
    assert.match(events, /failed liveness probe, will be restarted/);
  });

  it('an exec probe runs its command: node -e "process.exit(0)" makes the container ready', async () => {
    await columnBecomes('exec', 'READY', (r) => r === '1/1', 10_000);
  });
});
