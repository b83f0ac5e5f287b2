// Container probes (readiness, liveness, startup) with the real kubelet's semantics. Three parts:
// - pure decisions: defaults, port resolution, first-probe delay, and the threshold counters that
//   turn single probe outcomes into ready / started / kill (as pkg/kubelet/prober/worker.go does:
//   a result counts only once it repeated successThreshold or failureThreshold times in a row);
// - the I/O of one probe: tcpSocket, httpGet (HTTP only), exec; grpc and HTTPS are reported as
//   unsupported in the probe's failure message;
// - ContainerProber: the timers of one running container, fed into the pure decisions. The
//   pod worker makes one per container run and stops it when the process exits.
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import type { Logger } from '../../lib/logger.ts';
import type { Container, Probe, ProbePort } from '../../api/workloads.ts';

export type ProbeKind = 'readiness' | 'liveness' | 'startup';

/** A probe's timing with the Kubernetes defaults applied, in milliseconds. */
export interface ProbeSettings {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

export type ProbeResult = 'success' | 'failure';

/** One probe's outcome: success, or failure with the reason that goes into the Unhealthy event. */
export type ProbeOutcome = { ok: true } | { ok: false; message: string };

/** A container's probes by kind; a kind the spec does not set is absent. */
export type ContainerProbes = Partial<Record<ProbeKind, Probe>>;

// ---------------------------------------------------------------------------------------------
// Pure decisions

/** The kubelet's defaults: a missing, zero or negative field takes its default. */
export function probeSettings(kind: ProbeKind, probe: Probe): ProbeSettings {
  const positive = (value: number | undefined, fallback: number): number => (value !== undefined && value > 0 ? value : fallback);
  return {
    initialDelayMs: Math.max(0, probe.initialDelaySeconds ?? 0) * 1000,
    periodMs: positive(probe.periodSeconds, 10) * 1000,
    timeoutMs: positive(probe.timeoutSeconds, 1) * 1000,
    // The API server rejects anything but 1 for liveness and startup probes.
    successThreshold: kind === 'readiness' ? positive(probe.successThreshold, 1) : 1,
    failureThreshold: positive(probe.failureThreshold, 3),
  };
}

export function containerProbes(container: Container): ContainerProbes {
  return {
    ...(container.startupProbe ? { startup: container.startupProbe } : {}),
    ...(container.readinessProbe ? { readiness: container.readinessProbe } : {}),
    ...(container.livenessProbe ? { liveness: container.livenessProbe } : {}),
  };
}

/** How long after now the first probe runs: initialDelaySeconds count from the container's start. */
export function firstProbeDelayMs(settings: ProbeSettings, startedAtMs: number, nowMs: number): number {
  return Math.max(0, startedAtMs + settings.initialDelayMs - nowMs);
}

/**
 * The host port a probe connects to on 127.0.0.1: a named port resolves to its containerPort, and
 * a containerPort to the host port the kubelet mapped it to (ports.ts). A number the container
 * does not declare is used as is. Throws naming the port when a name matches no port.
 */
export function resolveProbePort(container: Container, port: ProbePort, hostPorts: Readonly<Record<string, number>>): number {
  let containerPort: number;
  if (typeof port === 'number') containerPort = port;
  else if (/^\d+$/.test(port)) containerPort = Number(port);
  else {
    const named = container.ports?.find((p) => p.name === port);
    if (!named) throw new Error(`port "${port}" is not a named port of container "${container.name}"`);
    containerPort = named.containerPort;
  }
  return hostPorts[`${container.name}/${containerPort}`] ?? containerPort;
}

/** Consecutive outcomes of one probe, and the result they settled on. */
export interface ProbeTally {
  /** What the probe reports; changes only once an outcome repeated its threshold. */
  settled: ProbeResult;
  /** The latest outcome and how many times in a row it came. */
  last?: ProbeResult;
  run: number;
}

export function initialTally(kind: ProbeKind): ProbeTally {
  // The kubelet's initial values: not ready, alive, not started.
  return { settled: kind === 'liveness' ? 'success' : 'failure', run: 0 };
}

/** Counts one outcome; the settled result flips only at successThreshold/failureThreshold in a row. */
export function tally(previous: ProbeTally, outcome: ProbeResult, settings: ProbeSettings): ProbeTally {
  const run = previous.last === outcome ? previous.run + 1 : 1;
  const threshold = outcome === 'success' ? settings.successThreshold : settings.failureThreshold;
  return { settled: run >= threshold ? outcome : previous.settled, last: outcome, run };
}

/** What the probes say about one run of a container. */
export interface ContainerProbeState {
  /** The startup probe succeeded, or there is none. */
  started: boolean;
  /** Started, and the readiness probe settled on success, or there is none. */
  ready: boolean;
  tallies: Partial<Record<ProbeKind, ProbeTally>>;
}

export function initialProbeState(probes: ContainerProbes): ContainerProbeState {
  const started = !probes.startup;
  const tallies: Partial<Record<ProbeKind, ProbeTally>> = {};
  for (const kind of Object.keys(probes) as ProbeKind[]) tallies[kind] = initialTally(kind);
  return { started, ready: started && !probes.readiness, tallies };
}

/** The probes that run now: only the startup probe until it succeeded, then readiness and liveness. */
export function activeProbeKinds(probes: ContainerProbes, state: ContainerProbeState): ProbeKind[] {
  if (!state.started) return probes.startup ? ['startup'] : [];
  return (['readiness', 'liveness'] as const).filter((kind) => probes[kind] !== undefined);
}

export interface ProbeDecision {
  state: ContainerProbeState;
  /** Set when a liveness or startup probe failed failureThreshold times in a row: kill the container. */
  kill?: ProbeKind;
}

/** Applies one outcome of probe `kind` to a container's probe state. */
export function applyProbeResult(probes: ContainerProbes, state: ContainerProbeState, kind: ProbeKind, outcome: ProbeResult): ProbeDecision {
  const probe = probes[kind];
  if (!probe) return { state };
  const counted = tally(state.tallies[kind] ?? initialTally(kind), outcome, probeSettings(kind, probe));
  const tallies = { ...state.tallies, [kind]: counted };
  if (kind === 'readiness') return { state: { ...state, tallies, ready: state.started && counted.settled === 'success' } };
  if (counted.settled === 'failure') return { state: { ...state, tallies }, kill: kind };
  if (kind === 'startup') return { state: { tallies, started: true, ready: !probes.readiness } };
  return { state: { ...state, tallies } };
}

// ---------------------------------------------------------------------------------------------
// Running one probe

/** What a probe of one container needs to reach it. */
export interface ProbeTarget {
  container: Container;
  /** `<container>/<containerPort>` → host port (ports.ts). */
  hostPorts: Readonly<Record<string, number>>;
  /** How an exec probe runs: the container's argv mapping, env and working directory. */
  exec: { argv: (command: readonly string[]) => string[]; env: Record<string, string>; cwd: string };
}

const OUTPUT_LIMIT = 10 * 1024;
const DEFAULT_HOST = '127.0.0.1';

/** Runs one probe with its timeout; never rejects. */
export async function runProbe(probe: Probe, target: ProbeTarget, timeoutMs: number, signal?: AbortSignal): Promise<ProbeOutcome> {
  try {
    if (probe.exec) return await execProbe(probe.exec.command ?? [], target, timeoutMs, signal);
    if (probe.httpGet) return await httpProbe(probe.httpGet, target, timeoutMs, signal);
    if (probe.tcpSocket) return await tcpProbe(probe.tcpSocket, target, timeoutMs, signal);
    if (probe.grpc) return { ok: false, message: 'gRPC probes are not supported by the embedded kubelet' };
    return { ok: false, message: 'the probe has no handler (exec, httpGet, tcpSocket or grpc)' };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

/** Where a tcpSocket or httpGet probe connects: the pod's address with its mapped port unless `host` names another. */
function probeAddress(handler: { port: ProbePort; host?: string }, target: ProbeTarget): { host: string; port: number } {
  const host = handler.host || DEFAULT_HOST;
  const own = host === DEFAULT_HOST || host === 'localhost';
  return { host, port: resolveProbePort(target.container, handler.port, own ? target.hostPorts : {}) };
}

/** Go's wording for common socket errors, as the real kubelet's messages read. */
function socketError(err: NodeJS.ErrnoException): string {
  if (err.code === 'ECONNREFUSED') return 'connect: connection refused';
  if (err.code === 'ECONNRESET') return 'read: connection reset by peer';
  return err.message;
}

function tcpProbe(handler: { port: ProbePort; host?: string }, target: ProbeTarget, timeoutMs: number, signal?: AbortSignal): Promise<ProbeOutcome> {
  const { host, port } = probeAddress(handler, target);
  const dial = `dial tcp ${host}:${port}`;
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (outcome: ProbeOutcome): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(outcome);
    };
    const onAbort = (): void => finish({ ok: false, message: `${dial}: aborted` });
    const timer = setTimeout(() => finish({ ok: false, message: `${dial}: i/o timeout` }), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish({ ok: true }));
    socket.once('error', (err) => finish({ ok: false, message: `${dial}: ${socketError(err)}` }));
  });
}

type HttpGet = NonNullable<Probe['httpGet']>;

function httpProbe(handler: HttpGet, target: ProbeTarget, timeoutMs: number, signal?: AbortSignal): Promise<ProbeOutcome> {
  const scheme = (handler.scheme ?? 'HTTP').toUpperCase();
  if (scheme !== 'HTTP') return Promise.resolve({ ok: false, message: `httpGet scheme ${scheme} is not supported by the embedded kubelet (HTTP only)` });
  const { host, port } = probeAddress(handler, target);
  const path = handler.path ? (handler.path.startsWith('/') ? handler.path : `/${handler.path}`) : '/';
  const url = `http://${host}:${port}${path}`;
  const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.31', Accept: '*/*' };
  for (const h of handler.httpHeaders ?? []) headers[h.name] = h.value;
  return new Promise((resolve) => {
    // agent: false — no keep-alive socket outlives the probe.
    const req = request({ host, port, path, method: 'GET', headers, agent: false });
    const finish = (outcome: ProbeOutcome): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      req.destroy();
      resolve(outcome);
    };
    const onAbort = (): void => finish({ ok: false, message: `Get "${url}": aborted` });
    const timer = setTimeout(() => finish({ ok: false, message: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` }), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    req.once('response', (res) => {
      const code = res.statusCode ?? 0;
      res.resume();
      // As the kubelet: 2xx and 3xx (a redirect it does not follow) are success.
      finish(code >= 200 && code < 400 ? { ok: true } : { ok: false, message: `HTTP probe failed with statuscode: ${code}` });
    });
    req.once('error', (err) => finish({ ok: false, message: `Get "${url}": dial tcp ${host}:${port}: ${socketError(err)}` }));
    req.end();
  });
}

function execProbe(command: readonly string[], target: ProbeTarget, timeoutMs: number, signal?: AbortSignal): Promise<ProbeOutcome> {
  if (command.length === 0) return Promise.resolve({ ok: false, message: 'exec probe has no command' });
  const argv = target.exec.argv(command);
  const shown = command.join(' ');
  return new Promise((resolve) => {
    // Its own process group, so a timeout also ends whatever the command started.
    const child = spawn(argv[0]!, argv.slice(1), { cwd: target.exec.cwd, env: target.exec.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const collect = (chunk: Buffer): void => {
      if (output.length < OUTPUT_LIMIT) output += chunk.toString('utf8').slice(0, OUTPUT_LIMIT - output.length);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let done = false;
    const finish = (outcome: ProbeOutcome, kill: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (kill) killGroup(child.pid);
      resolve(outcome);
    };
    const onAbort = (): void => finish({ ok: false, message: `command "${shown}" aborted` }, true);
    const timer = setTimeout(() => finish({ ok: false, message: `command "${shown}" timed out` }, true), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err) => finish({ ok: false, message: `command "${shown}": ${err.message}` }, false));
    child.once('close', (code, sig) => {
      if (code === 0) return finish({ ok: true }, false);
      const trimmed = output.trim();
      finish({ ok: false, message: trimmed || `command "${shown}" exited with ${code ?? sig}` }, false);
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

// ---------------------------------------------------------------------------------------------
// The timers of one container run

export interface ContainerProberOptions {
  target: ProbeTarget;
  /** When the container's process started: initial delays count from here. */
  startedAt: Date;
  clock: () => Date;
  logger: Logger;
  /** ready or started changed. */
  onChange: () => void;
  /** A probe failed (every failure, as the kubelet's Unhealthy events). */
  onFailure: (kind: ProbeKind, message: string) => void;
  /** A liveness or startup probe failed failureThreshold times in a row; probing has stopped. */
  onKill: (kind: ProbeKind, message: string) => void;
}

/** Probes one run of a container until stop(), the kill it asks for, or the container's exit. */
export class ContainerProber {
  private readonly probes: ContainerProbes;
  private state: ContainerProbeState;
  private readonly timers = new Map<ProbeKind, NodeJS.Timeout>();
  private readonly abort = new AbortController();
  private stopped = false;

  constructor(private readonly options: ContainerProberOptions) {
    this.probes = containerProbes(options.target.container);
    this.state = initialProbeState(this.probes);
  }

  get ready(): boolean {
    return this.state.ready;
  }

  get started(): boolean {
    return this.state.started;
  }

  start(): void {
    this.scheduleActive();
  }

  /** Clears every timer and aborts a probe in flight; idempotent. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.abort.abort();
  }

  private scheduleActive(): void {
    const now = this.options.clock().getTime();
    for (const kind of activeProbeKinds(this.probes, this.state)) {
      this.schedule(kind, firstProbeDelayMs(this.settings(kind), this.options.startedAt.getTime(), now));
    }
  }

  private settings(kind: ProbeKind): ProbeSettings {
    return probeSettings(kind, this.probes[kind]!);
  }

  private schedule(kind: ProbeKind, delayMs: number): void {
    if (this.stopped) return;
    this.timers.set(kind, setTimeout(() => void this.probeOnce(kind), delayMs));
  }

  private async probeOnce(kind: ProbeKind): Promise<void> {
    this.timers.delete(kind);
    const settings = this.settings(kind);
    const began = Date.now();
    const outcome = await runProbe(this.probes[kind]!, this.options.target, settings.timeoutMs, this.abort.signal);
    if (this.stopped) return;
    if (!outcome.ok) this.options.onFailure(kind, outcome.message);
    const before = this.state;
    const decision = applyProbeResult(this.probes, before, kind, outcome.ok ? 'success' : 'failure');
    this.state = decision.state;
    if (decision.kill) {
      this.stop();
      this.options.onKill(kind, outcome.ok ? '' : outcome.message);
      return;
    }
    if (before.ready !== this.state.ready || before.started !== this.state.started) {
      this.options.logger.debug({ probe: kind, ready: this.state.ready, started: this.state.started }, 'probe result changed');
      this.options.onChange();
    }
    if (!before.started && this.state.started) return this.scheduleActive(); // startup done: readiness and liveness begin
    if (activeProbeKinds(this.probes, this.state).includes(kind)) this.schedule(kind, Math.max(0, settings.periodMs - (Date.now() - began)));
  }
}
