// Container probes of the embedded kubelet: the pure threshold logic, defaults, initial delay and
// port resolution (probes.ts), the status they feed (status.ts), and one probe of each handler
// against real loopback servers and processes.
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/lib/logger.ts';
import { type ContainerProcessState, type Pod, podStatusFor } from '../../src/lc/kubelet/index.ts';
import {
  activeProbeKinds,
  applyProbeResult,
  ContainerProber,
  type ContainerProbes,
  type ContainerProbeState,
  firstProbeDelayMs,
  initialProbeState,
  initialTally,
  type ProbeResult,
  probeSettings,
  type ProbeTarget,
  resolveProbePort,
  runProbe,
  tally,
} from '../../src/lc/kubelet/probes.ts';
import type { Container } from '../../src/api/workloads.ts';

/** Applies outcomes one by one, returning the state after each and any kill. */
function play(probes: ContainerProbes, kind: keyof ContainerProbes, outcomes: ProbeResult[], from = initialProbeState(probes)): { states: ContainerProbeState[]; kill: string | undefined } {
  const states: ContainerProbeState[] = [];
  let state = from;
  let kill: string | undefined;
  for (const outcome of outcomes) {
    const decision = applyProbeResult(probes, state, kind, outcome);
    state = decision.state;
    kill ??= decision.kill;
    states.push(state);
  }
  return { states, kill };
}

const tcp = { tcpSocket: { port: 8080 } };

describe('probe settings and counters', () => {
  it('applies the Kubernetes defaults; zero takes the default; liveness and startup succeed after one success', () => {
    assert.deepEqual(probeSettings('readiness', tcp), { initialDelayMs: 0, periodMs: 10_000, timeoutMs: 1_000, successThreshold: 1, failureThreshold: 3 });
    assert.deepEqual(probeSettings('readiness', { ...tcp, initialDelaySeconds: 5, periodSeconds: 0, timeoutSeconds: 2, successThreshold: 2, failureThreshold: 1 }), {
      initialDelayMs: 5_000,
      periodMs: 10_000,
      timeoutMs: 2_000,
      successThreshold: 2,
      failureThreshold: 1,
    });
    assert.equal(probeSettings('liveness', { ...tcp, successThreshold: 4 }).successThreshold, 1);
    assert.equal(probeSettings('startup', { ...tcp, successThreshold: 4 }).successThreshold, 1);
  });

  it('a result settles only after its threshold in a row; a different outcome restarts the run', () => {
    const settings = probeSettings('readiness', { ...tcp, successThreshold: 2, failureThreshold: 3 });
    let t = initialTally('readiness');
    assert.equal(t.settled, 'failure');
    t = tally(t, 'success', settings);
    assert.deepEqual(t, { settled: 'failure', last: 'success', run: 1 });
    t = tally(t, 'success', settings);
    assert.equal(t.settled, 'success');
    t = tally(tally(t, 'failure', settings), 'failure', settings);
    assert.equal(t.settled, 'success', 'two failures are below failureThreshold 3');
    t = tally(t, 'success', settings);
    assert.deepEqual(t, { settled: 'success', last: 'success', run: 1 });
    for (let i = 0; i < 3; i++) t = tally(t, 'failure', settings);
    assert.equal(t.settled, 'failure');
    assert.equal(initialTally('liveness').settled, 'success');
  });

  it('the first probe waits for initialDelaySeconds counted from the container start', () => {
    const settings = probeSettings('readiness', { ...tcp, initialDelaySeconds: 3 });
    assert.equal(firstProbeDelayMs(settings, 10_000, 10_000), 3_000);
    assert.equal(firstProbeDelayMs(settings, 10_000, 11_500), 1_500);
    assert.equal(firstProbeDelayMs(settings, 10_000, 20_000), 0);
    assert.equal(firstProbeDelayMs(probeSettings('liveness', tcp), 10_000, 10_000), 0);
  });
});

describe('probe decisions per container', () => {
  it('without probes a container is started and ready; with a readiness probe it starts unready', () => {
    assert.deepEqual(initialProbeState({}), { started: true, ready: true, tallies: {} });
    const state = initialProbeState({ readiness: tcp });
    assert.equal(state.started, true);
    assert.equal(state.ready, false);
  });

  it('readiness: ready after successThreshold successes, unready again after failureThreshold failures', () => {
    const probes = { readiness: { ...tcp, successThreshold: 2, failureThreshold: 2 } };
    const { states, kill } = play(probes, 'readiness', ['success', 'success', 'failure', 'failure', 'success', 'success']);
    assert.deepEqual(
      states.map((s) => s.ready),
      [false, true, true, false, false, true],
    );
    assert.equal(kill, undefined, 'readiness never kills');
  });

  it('liveness: failureThreshold failures in a row ask for a kill; a success in between resets the count', () => {
    const probes = { liveness: { ...tcp, failureThreshold: 3 } };
    assert.equal(play(probes, 'liveness', ['failure', 'failure', 'success', 'failure', 'failure']).kill, undefined);
    assert.equal(play(probes, 'liveness', ['failure', 'failure', 'failure']).kill, 'liveness');
    assert.equal(initialProbeState(probes).ready, true, 'liveness alone does not gate readiness');
  });

  it('startup: only the startup probe runs until it succeeded; then readiness and liveness; failing it kills', () => {
    const probes = { startup: { ...tcp, failureThreshold: 2 }, readiness: tcp, liveness: tcp };
    const initial = initialProbeState(probes);
    assert.deepEqual([initial.started, initial.ready], [false, false]);
    assert.deepEqual(activeProbeKinds(probes, initial), ['startup']);
    // Readiness outcomes before the start do not make the container ready.
    assert.equal(applyProbeResult(probes, initial, 'readiness', 'success').state.ready, false);
    const started = applyProbeResult(probes, initial, 'startup', 'success').state;
    assert.deepEqual([started.started, started.ready], [true, false]);
    assert.deepEqual(activeProbeKinds(probes, started), ['readiness', 'liveness']);
    assert.equal(applyProbeResult(probes, started, 'readiness', 'success').state.ready, true);
    assert.equal(play(probes, 'startup', ['failure', 'failure']).kill, 'startup');
    const onlyStartup = { startup: tcp };
    assert.equal(applyProbeResult(onlyStartup, initialProbeState(onlyStartup), 'startup', 'success').state.ready, true);
  });
});

describe('probe ports', () => {
  const container: Container = { name: 'web', ports: [{ name: 'http', containerPort: 8080 }, { containerPort: 9090 }] };
  const hostPorts = { 'web/8080': 41234, 'web/9090': 41235 };

  it('maps a containerPort, by number or by name, to its host port', () => {
    assert.equal(resolveProbePort(container, 8080, hostPorts), 41234);
    assert.equal(resolveProbePort(container, 'http', hostPorts), 41234);
    assert.equal(resolveProbePort(container, 9090, hostPorts), 41235);
    assert.equal(resolveProbePort(container, '9090', hostPorts), 41235);
  });

  it('falls back to the number itself when the container does not declare it; an unknown name is an error naming it', () => {
    assert.equal(resolveProbePort(container, 7000, hostPorts), 7000);
    assert.throws(() => resolveProbePort(container, 'metrics', hostPorts), /port "metrics" is not a named port of container "web"/);
  });
});

describe('probe results in the pod status', () => {
  const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u' }, spec: { containers: [{ name: 'main', image: 'node:20' }] } };
  const running = (extra: Partial<ContainerProcessState>): ContainerProcessState[] => [{ name: 'main', state: 'running', pid: 7, startedAt: new Date(0), restartCount: 0, ...extra }];
  const condition = (states: ContainerProcessState[], type: string): string | undefined => podStatusFor(pod, states, new Date(1000))!.conditions!.find((c) => c.type === type)?.status;

  it('a running container that its probes hold back is neither ready nor (before startup) started; the pod is not Ready', () => {
    const status = podStatusFor(pod, running({ ready: false, started: false }), new Date(1000))!;
    assert.equal(status.phase, 'Running');
    assert.deepEqual([status.containerStatuses![0]!.ready, status.containerStatuses![0]!.started], [false, false]);
    assert.equal(condition(running({ ready: false }), 'Ready'), 'False');
    assert.equal(condition(running({ ready: false }), 'ContainersReady'), 'False');
    assert.equal(condition(running({ ready: true, started: true }), 'Ready'), 'True');
    assert.equal(condition(running({}), 'Ready'), 'True', 'no probe result: ready while running');
  });
});

describe('running one probe', () => {
  let listening: Server;
  let http: HttpServer;
  let freePort: number;
  let tcpPort: number;
  let httpPort: number;
  let slowAnswer: NodeJS.Timeout | undefined;
  const container: Container = { name: 'c', ports: [{ name: 'web', containerPort: 80 }, { containerPort: 81 }] };
  const target = (): ProbeTarget => ({
    container,
    hostPorts: { 'c/80': httpPort, 'c/81': tcpPort },
    exec: { argv: (command) => (command[0] === 'node' ? [process.execPath, ...command.slice(1)] : [...command]), env: { PATH: process.env.PATH ?? '', PROBE_VALUE: 'ok' }, cwd: tmpdir() },
  });

  before(async () => {
    listening = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => listening.listen(0, '127.0.0.1', r));
    tcpPort = (listening.address() as AddressInfo).port;
    http = createHttpServer((req, res) => {
      res.statusCode = req.url === '/healthz' && req.headers['x-probe'] === 'yes' ? 200 : req.url === '/slow' ? 200 : 500;
      if (req.url === '/slow') return void (slowAnswer = setTimeout(() => res.end(), 3_000));
      res.end();
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    httpPort = (http.address() as AddressInfo).port;
    // A port nothing listens on: bind, read, close.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    freePort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
  });

  after(async () => {
    clearTimeout(slowAnswer);
    http.closeAllConnections();
    await Promise.all([new Promise<void>((r) => listening.close(() => r())), new Promise<void>((r) => http.close(() => r()))]);
  });

  it('tcpSocket connects to the mapped host port; a closed port fails like the kubelet says', async () => {
    assert.deepEqual(await runProbe({ tcpSocket: { port: 81 } }, target(), 1_000), { ok: true });
    assert.deepEqual(await runProbe({ tcpSocket: { port: freePort } }, target(), 1_000), { ok: false, message: `dial tcp 127.0.0.1:${freePort}: connect: connection refused` });
  });

  it('httpGet: 2xx passes with the headers; 500 fails with its status code; a slow answer times out; HTTPS and gRPC are unsupported', async () => {
    const get = (path: string, headers = [{ name: 'X-Probe', value: 'yes' }]) => ({ httpGet: { path, port: 'web', httpHeaders: headers } });
    assert.deepEqual(await runProbe(get('/healthz'), target(), 1_000), { ok: true });
    assert.deepEqual(await runProbe(get('/healthz', []), target(), 1_000), { ok: false, message: 'HTTP probe failed with statuscode: 500' });
    const slow = await runProbe(get('/slow'), target(), 200);
    assert.equal(slow.ok, false);
    assert.match((slow as { message: string }).message, /context deadline exceeded/);
    const https = await runProbe({ httpGet: { port: 80, scheme: 'HTTPS' } }, target(), 1_000);
    assert.match((https as { message: string }).message, /scheme HTTPS is not supported/);
    const grpc = await runProbe({ grpc: { port: 80 } }, target(), 1_000);
    assert.match((grpc as { message: string }).message, /gRPC probes are not supported/);
    const named = await runProbe({ tcpSocket: { port: 'nope' } }, target(), 1_000);
    assert.match((named as { message: string }).message, /port "nope"/);
  });

  it('exec runs the command with the container env; a failure reports its output; a hung command times out', async () => {
    // Each starts a node process: a generous timeout, as a loaded CI machine can take seconds to start one.
    assert.deepEqual(await runProbe({ exec: { command: ['node', '-e', 'process.exit(process.env.PROBE_VALUE === "ok" ? 0 : 1)'] } }, target(), 30_000), { ok: true });
    assert.deepEqual(await runProbe({ exec: { command: ['node', '-e', 'console.log("not healthy"); process.exit(2)'] } }, target(), 30_000), { ok: false, message: 'not healthy' });
    const hung = await runProbe({ exec: { command: ['node', '-e', 'setInterval(() => {}, 1000)'] } }, target(), 300);
    assert.match((hung as { message: string }).message, /timed out/);
  });

  it('ContainerProber: a passing readiness probe makes the container ready; stop() ends probing', async () => {
    let changes = 0;
    const failures: string[] = [];
    const prober = new ContainerProber({
      target: { ...target(), container: { ...container, readinessProbe: { tcpSocket: { port: 81 }, periodSeconds: 1 } } },
      startedAt: new Date(),
      clock: () => new Date(),
      logger: silentLogger(),
      onChange: () => changes++,
      onFailure: (kind, message) => failures.push(`${kind}: ${message}`),
      onKill: () => assert.fail('readiness never kills'),
    });
    assert.equal(prober.ready, false);
    prober.start();
    const deadline = Date.now() + 3_000;
    while (!prober.ready && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    prober.stop();
    assert.equal(prober.ready, true);
    assert.equal(changes, 1);
    assert.deepEqual(failures, []);
  });
});
