// Runs one pod's containers as local processes: one process per container, stdout+stderr to
// <podLogDir>/<ns>/<pod>/<container>.log (the previous run's file renamed to .previous.log on a
// restart), restarts by restartPolicy with CrashLoopBackOff back-off, SIGTERM → grace → SIGKILL.
// Init containers run the same way, one after another, each to completion, before any main
// container starts; a failed one is retried unless restartPolicy is Never. Each run of a main
// container with probes gets a ContainerProber (probes.ts): its readiness and startup results go
// into the process state, and a failed liveness or startup probe kills the run (then restartPolicy
// applies).
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { constants as osConstants } from 'node:os';
import type { Logger } from '../../lib/logger.ts';
import { identify, type ProcessIdentity } from '../../lib/proc.ts';
import type { ProcessRecords } from './process-records.ts';
import { ContainerConfigError, containerEnv, expand, type KeyLookup } from './env.ts';
import { containerArgv, type ImageRuntime, type ImageRuntimes, resolveImage } from './images.ts';
import { ContainerProber, containerProbes, type ProbeKind, type ProbeTarget } from './probes.ts';
import type { ContainerProcessState, TerminationRecord } from './status.ts';
import type { Container, Pod } from '../../api/workloads.ts';
import { type HostPathMap, mapHostPath } from '../node-paths.ts';

export interface BackoffOptions {
  /** Delay before the second restart; doubles per further crash (Kubernetes: 10 s). */
  initialMs: number;
  /** Longest delay (Kubernetes: 300 s). */
  maxMs: number;
  /** A run longer than this resets the back-off (default 2 × maxMs). */
  resetMs?: number;
}

export interface PodWorkerDeps {
  podLogDir: string;
  workDir: string;
  imageRuntimes: ImageRuntimes;
  lcServerUrl: string;
  lookup: KeyLookup;
  logger: Logger;
  clock: () => Date;
  backoff: BackoffOptions;
  /** How long to wait before retrying a container whose config (Secret/ConfigMap) is missing. */
  configRetryMs: number;
  /** Host port per `<container>/<containerPort>`; see ports.ts. */
  hostPorts: Record<string, number>;
  /** Called whenever a container's state changed. */
  onChange: () => void;
  /** Records a core/v1 Event on the pod (Started, Killing, BackOff, Failed, Unhealthy), as the kubelet does. */
  event?: (type: 'Normal' | 'Warning', reason: string, message: string) => void;
  /** Where each running process is recorded (pid and start time), so a later kubelet finds it. */
  records?: ProcessRecords;
  /** Restarts a previous kubelet already counted, per container name (they go on counting). */
  initialRestarts?: Record<string, number>;
  /** The run a previous kubelet started and this one replaced, per container name: its lastState. */
  initialLastTermination?: Record<string, TerminationRecord>;
  /** hostPath prefixes mapped to local folders (the LC's map). */
  hostPathMap?: HostPathMap;
}

/** Where a pod's files live on the host. */
export function podDir(workDir: string, pod: Pod): string {
  return join(workDir, 'pods', pod.metadata.uid ?? `${pod.metadata.namespace}_${pod.metadata.name}`);
}

export function podLogPath(podLogDir: string, pod: Pod): string {
  return join(podLogDir, pod.metadata.namespace ?? 'default', pod.metadata.name!);
}

export class PodWorker {
  /** spec.initContainers, in order; each starts once the one before it succeeded. */
  private initContainers: ContainerRunner[] = [];
  private readonly containers = new Map<string, ContainerRunner>();
  private pod: Pod;
  private terminating = false;
  private configError: string | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    pod: Pod,
    private readonly deps: PodWorkerDeps,
  ) {
    this.pod = pod;
  }

  get uid(): string | undefined {
    return this.pod.metadata.uid;
  }

  get currentPod(): Pod {
    return this.pod;
  }

  get isTerminating(): boolean {
    return this.terminating;
  }

  update(pod: Pod): void {
    this.pod = pod;
  }

  processStates(): ContainerProcessState[] {
    if (this.configError !== undefined) {
      const all = [...(this.pod.spec?.initContainers ?? []), ...(this.pod.spec?.containers ?? [])];
      return all.map((c) => ({ name: c.name, state: 'waiting', reason: 'CreateContainerConfigError', message: this.configError, restartCount: 0 }));
    }
    return [...this.initContainers, ...this.containers.values()].map((c) => c.snapshot());
  }

  /** Prepares volumes and starts the first init container, or every container when there is none. */
  async start(): Promise<void> {
    const dir = podDir(this.deps.workDir, this.pod);
    mkdirSync(dir, { recursive: true });
    mkdirSync(podLogPath(this.deps.podLogDir, this.pod), { recursive: true });
    let volumes: Map<string, string>;
    try {
      volumes = await this.prepareVolumes(dir);
    } catch (err) {
      if (!(err instanceof ContainerConfigError)) throw err;
      this.configError = err.message;
      this.deps.onChange();
      this.retryTimer = setTimeout(() => {
        if (!this.terminating) void this.start().catch((e: unknown) => this.deps.logger.error({ err: e }, 'pod start failed'));
      }, this.deps.configRetryMs);
      return;
    }
    this.configError = undefined;
    if (this.terminating) return;
    const initContainers = this.pod.spec?.initContainers ?? [];
    // The real kubelet's waiting reason for a container not created yet.
    const notCreated = initContainers.length > 0 ? 'PodInitializing' : 'ContainerCreating';
    const runner = (container: Container, role: ContainerRole): ContainerRunner =>
      new ContainerRunner(this.pod, container, volumes, dir, this.deps, () => this.pod, role, notCreated);
    this.initContainers = initContainers.map((c, i) =>
      runner(c, { init: true, onSucceeded: () => void this.startFrom(i + 1).catch((err: unknown) => this.deps.logger.error({ err }, 'pod start failed')) }),
    );
    for (const container of this.pod.spec?.containers ?? []) this.containers.set(container.name, runner(container, { init: false }));
    await this.startFrom(0);
  }

  /** Starts init container `index`, or every main container once all init containers succeeded. */
  private async startFrom(index: number): Promise<void> {
    if (this.terminating) return;
    const init = this.initContainers[index];
    if (init) return init.start();
    for (const runner of this.containers.values()) await runner.start();
  }

  /** SIGTERM every process, SIGKILL whatever is left after `graceMs`. */
  async terminate(graceMs: number): Promise<void> {
    this.terminating = true;
    clearTimeout(this.retryTimer);
    await Promise.all([...this.initContainers, ...this.containers.values()].map((c) => c.stop(graceMs)));
  }

  /** Stops probing without stopping the processes (for a kubelet that leaves its pods running). */
  detach(): void {
    clearTimeout(this.retryTimer);
    for (const runner of [...this.initContainers, ...this.containers.values()]) runner.detachProbes();
  }

  /** Removes the pod's work directory and log directory. */
  cleanup(): void {
    rmSync(podDir(this.deps.workDir, this.pod), { recursive: true, force: true });
    rmSync(podLogPath(this.deps.podLogDir, this.pod), { recursive: true, force: true });
  }

  /** Volume name → host path. hostPath as is, emptyDir/configMap/secret under the pod directory. */
  private async prepareVolumes(dir: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const namespace = this.pod.metadata.namespace ?? 'default';
    for (const volume of this.pod.spec?.volumes ?? []) {
      if (volume.hostPath) {
        const path = mapHostPath(volume.hostPath.path, this.deps.hostPathMap);
        if (volume.hostPath.type === 'DirectoryOrCreate') mkdirSync(path, { recursive: true });
        out.set(volume.name, path);
        continue;
      }
      if (volume.persistentVolumeClaim) {
        // The embedded API server binds every claim to a directory on this machine.
        const claimName = volume.persistentVolumeClaim.claimName;
        const path = await this.deps.lookup.claimPath?.(namespace, claimName);
        if (!path) throw new ContainerConfigError(`persistentvolumeclaim "${claimName}" not found or not bound`);
        out.set(volume.name, path);
        continue;
      }
      const path = join(dir, 'volumes', volume.name);
      mkdirSync(path, { recursive: true });
      out.set(volume.name, path);
      const source = volume.configMap
        ? { kind: 'ConfigMap' as const, name: volume.configMap.name, optional: volume.configMap.optional, items: volume.configMap.items }
        : volume.secret
          ? { kind: 'Secret' as const, name: volume.secret.secretName, optional: volume.secret.optional, items: volume.secret.items }
          : undefined;
      if (!source) continue; // emptyDir and anything else: an empty directory
      const data = await this.deps.lookup(source.kind, namespace, source.name);
      if (!data) {
        if (source.optional) continue;
        throw new ContainerConfigError(`${source.kind.toLowerCase()} "${source.name}" not found`);
      }
      const items = source.items ?? Object.keys(data).map((key) => ({ key, path: key }));
      for (const item of items) {
        if (data[item.key] === undefined) continue;
        const file = join(path, item.path);
        mkdirSync(join(file, '..'), { recursive: true });
        writeFileSync(file, data[item.key]!);
      }
    }
    return out;
  }
}

/** A main container, or an init container that reports its success so the next one can start. */
type ContainerRole = { init: false } | { init: true; onSucceeded: () => void };

class ContainerRunner {
  private state: ContainerProcessState;
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private crashes = 0;
  private stopped = false;
  /** How this container's probes reach it; set once its config resolved. */
  private probeTarget: ProbeTarget | undefined;
  /** The current run's probes, while it runs. */
  private prober: ContainerProber | undefined;
  private probesDetached = false;
  private readonly logger: Logger;

  constructor(
    private readonly pod: Pod,
    private readonly container: Container,
    private readonly volumes: Map<string, string>,
    private readonly dir: string,
    private readonly deps: PodWorkerDeps,
    private readonly currentPod: () => Pod,
    private readonly role: ContainerRole,
    notCreatedReason: string,
  ) {
    const lastTermination = deps.initialLastTermination?.[container.name];
    this.state = { name: container.name, state: 'waiting', reason: notCreatedReason, restartCount: deps.initialRestarts?.[container.name] ?? 0, ...(lastTermination ? { lastTermination } : {}) };
    this.logger = deps.logger.child({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, container: container.name });
  }

  snapshot(): ContainerProcessState {
    const prober = this.prober;
    if (!prober || this.state.state !== 'running') return { ...this.state };
    return { ...this.state, ready: prober.ready, started: prober.started };
  }

  private set(next: ContainerProcessState): void {
    this.state = next;
    this.deps.onChange();
  }

  private wait(reason: string, message: string | undefined): void {
    const { lastTermination, restartCount } = this.state;
    this.set({ name: this.container.name, state: 'waiting', reason, ...(message ? { message } : {}), restartCount, ...(lastTermination ? { lastTermination } : {}) });
  }

  async start(): Promise<void> {
    if (this.stopped) return;
    const image = this.container.image ?? '';
    const runtime = resolveImage(image, this.deps.imageRuntimes);
    if (!runtime) {
      const message = `image "${image}" is not mapped to a local runtime (imageRuntimes)`;
      this.wait('ImageNotMapped', message);
      this.deps.event?.('Warning', 'Failed', `Error: ImageNotMapped: ${message}`);
      return;
    }
    let env: Record<string, string>;
    try {
      env = await this.environment(runtime);
    } catch (err) {
      if (!(err instanceof ContainerConfigError)) throw err;
      this.wait('CreateContainerConfigError', err.message);
      this.deps.event?.('Warning', 'Failed', `Error: ${err.message}`);
      this.restartTimer = setTimeout(() => void this.start(), this.deps.configRetryMs);
      return;
    }
    if (this.stopped) return;
    const mapPath = (value: string): string => mapMountPaths(value, this.mounts());
    const argv = containerArgv(
      runtime,
      this.container.command?.map((s) => mapPath(expand(s, env))),
      this.container.args?.map((s) => mapPath(expand(s, env))),
    );
    const cwd = this.workingDir(runtime, mapPath);
    this.probeTarget = {
      container: this.container,
      hostPorts: this.deps.hostPorts,
      // The kubelet expands $(VAR) in an exec probe's command too.
      exec: { argv: (command) => containerArgv(runtime, command.map((s) => mapPath(expand(s, env))), undefined), env, cwd },
    };
    this.spawn(argv, env, cwd);
  }

  /** mountPath → host path for this container. */
  private mounts(): [string, string][] {
    return (this.container.volumeMounts ?? [])
      .filter((m) => this.volumes.has(m.name))
      .map((m): [string, string] => [m.mountPath.replace(/\/+$/, ''), m.subPath ? join(this.volumes.get(m.name)!, m.subPath) : this.volumes.get(m.name)!])
      .sort((a, b) => b[0].length - a[0].length);
  }

  private async environment(runtime: ImageRuntime): Promise<Record<string, string>> {
    const pod = this.currentPod();
    const base: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: process.env.HOME ?? this.dir,
      HOSTNAME: pod.metadata.name ?? '',
      ...runtime.env,
      ...portEnv(this.container, this.deps.hostPorts),
    };
    const env = await containerEnv(pod, this.container, this.deps.lookup, base);
    for (const key of Object.keys(env)) env[key] = mapMountPaths(env[key]!, this.mounts());
    env.LC_SERVER = this.deps.lcServerUrl;
    const mounts = this.mounts();
    if (mounts.length > 0) env.SEDNA_VOLUME_MOUNTS = JSON.stringify(Object.fromEntries(mounts));
    return env;
  }

  private workingDir(runtime: ImageRuntime, mapPath: (s: string) => string): string {
    const wanted = this.container.workingDir ?? runtime.workingDir;
    if (!wanted) return this.dir;
    const mapped = mapPath(wanted);
    if (mapped !== wanted || (isAbsolute(wanted) && existsSync(wanted) && this.container.workingDir === undefined)) return mapped;
    // An image path that is not a mount: a directory of the same name under the pod's root.
    const local = join(this.dir, 'rootfs', wanted);
    mkdirSync(local, { recursive: true });
    return local;
  }

  private spawn(argv: string[], env: Record<string, string>, cwd: string): void {
    const logDir = podLogPath(this.deps.podLogDir, this.pod);
    const log = join(logDir, `${this.container.name}.log`);
    mkdirSync(logDir, { recursive: true });
    if (existsSync(log)) renameSync(log, join(logDir, `${this.container.name}.previous.log`));
    const fd = openSync(log, 'a');
    const startedAt = this.deps.clock();
    let child: ChildProcess;
    try {
      // detached: the container is its own process group, so signals reach whatever it started.
      child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['ignore', fd, fd], detached: true });
    } catch (err) {
      closeSync(fd);
      this.onExit({ exitCode: 128, reason: 'StartError', message: (err as Error).message, startedAt, finishedAt: this.deps.clock() });
      return;
    }
    closeSync(fd);
    this.child = child;
    let spawned = false;
    let identity: ProcessIdentity | undefined;
    this.exited = new Promise<void>((resolve) => {
      child.once('spawn', () => {
        spawned = true;
        identity = this.record(child.pid!);
        this.logger.info({ pid: child.pid, argv }, 'container started');
        this.deps.event?.('Normal', 'Started', `Started container ${this.container.name}`);
        this.startProber(startedAt);
        this.set({ name: this.container.name, state: 'running', pid: child.pid!, startedAt, restartCount: this.state.restartCount, ...(this.state.lastTermination ? { lastTermination: this.state.lastTermination } : {}) });
      });
      child.once('error', (err) => {
        if (spawned) return;
        this.child = undefined;
        this.stopProber();
        this.onExit({ exitCode: 128, reason: 'StartError', message: err.message, startedAt, finishedAt: this.deps.clock() });
        resolve();
      });
      child.once('exit', (code, signal) => {
        this.child = undefined;
        if (identity) this.deps.records?.remove(identity.pid, identity.startTime);
        this.stopProber();
        const exitCode = code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
        this.logger.info({ pid: child.pid, exitCode, signal }, 'container exited');
        this.onExit({
          exitCode,
          ...(signal ? { signal } : {}),
          reason: exitCode === 0 ? 'Completed' : 'Error',
          startedAt,
          finishedAt: this.deps.clock(),
          pid: child.pid!,
        });
        resolve();
      });
    });
  }

  /** Records the new process's identity; a failure to record only loses the clean-up after an LC crash. */
  private record(pid: number): ProcessIdentity | undefined {
    const records = this.deps.records;
    const id = records ? identify(pid) : undefined;
    if (!records || !id) return undefined;
    try {
      records.add({ ...id, podUid: this.pod.metadata.uid ?? '', namespace: this.pod.metadata.namespace ?? 'default', pod: this.pod.metadata.name ?? '', container: this.container.name });
    } catch (err) {
      this.logger.warn({ err, pid }, 'could not record the container process');
    }
    return id;
  }

  /** Whether restartPolicy asks for another run. An init container that succeeded is done for good. */
  private restartsAfter(exitCode: number): boolean {
    const policy = this.pod.spec?.restartPolicy ?? 'Always';
    if (this.role.init) return policy !== 'Never' && exitCode !== 0;
    return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
  }

  private onExit(record: TerminationRecord): void {
    if (this.stopped || !this.restartsAfter(record.exitCode)) {
      const { lastTermination, restartCount } = this.state;
      this.set({ name: this.container.name, state: 'terminated', terminated: record, restartCount, ...(lastTermination ? { lastTermination } : {}) });
      if (this.role.init && record.exitCode === 0 && !this.stopped) this.role.onSucceeded();
      return;
    }
    const ranMs = record.finishedAt.getTime() - record.startedAt.getTime();
    if (ranMs > (this.deps.backoff.resetMs ?? 2 * this.deps.backoff.maxMs)) this.crashes = 0;
    this.crashes++;
    // Kubernetes: the first restart is immediate, then 10 s, 20 s, … up to 5 min.
    const delayMs = this.crashes <= 1 ? 0 : Math.min(this.deps.backoff.initialMs * 2 ** (this.crashes - 2), this.deps.backoff.maxMs);
    const pod = this.pod.metadata;
    this.state = { name: this.container.name, state: 'waiting', reason: 'CrashLoopBackOff', restartCount: this.state.restartCount, lastTermination: record };
    if (delayMs > 0) this.deps.event?.('Warning', 'BackOff', `Back-off restarting failed container ${this.container.name} in pod ${pod.name}_${pod.namespace}(${pod.uid})`);
    this.wait('CrashLoopBackOff', `back-off ${formatDelay(delayMs)} restarting failed container=${this.container.name} pod=${pod.name}_${pod.namespace}(${pod.uid})`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopped) return;
      this.state = { ...this.state, restartCount: this.state.restartCount + 1 };
      void this.start().catch((err: unknown) => this.logger.error({ err }, 'restart failed'));
    }, delayMs);
  }

  /** A new run starts unready: only main containers with probes get a prober (init containers have none). */
  private startProber(startedAt: Date): void {
    this.stopProber();
    if (this.role.init || this.probesDetached || !this.probeTarget || Object.keys(containerProbes(this.container)).length === 0) return;
    this.prober = new ContainerProber({
      target: this.probeTarget,
      startedAt,
      clock: this.deps.clock,
      logger: this.logger,
      onChange: () => this.deps.onChange(),
      onFailure: (kind, message) => this.deps.event?.('Warning', 'Unhealthy', `${PROBE_TITLES[kind]} probe failed: ${message}`),
      onKill: (kind, message) => void this.killUnhealthy(kind, message).catch((err: unknown) => this.logger.error({ err }, 'killing an unhealthy container failed')),
    });
    this.prober.start();
    this.logger.debug('probes started');
  }

  /** No more probes for this container, in this run or any later one. */
  detachProbes(): void {
    this.probesDetached = true;
    this.stopProber();
  }

  private stopProber(): void {
    this.prober?.stop();
    this.prober = undefined;
  }

  /** A failed liveness or startup probe: kill the run; its exit then goes through restartPolicy. */
  private async killUnhealthy(kind: ProbeKind, message: string): Promise<void> {
    if (this.stopped) return;
    const probe = kind === 'liveness' ? this.container.livenessProbe : this.container.startupProbe;
    const graceSeconds = probe?.terminationGracePeriodSeconds ?? this.currentPod().spec?.terminationGracePeriodSeconds ?? 30;
    this.logger.info({ probe: kind, message }, 'container unhealthy; killing it');
    await this.kill(graceSeconds * 1000, `Container ${this.container.name} failed ${kind} probe, will be restarted`);
  }

  /** SIGTERM, wait up to graceMs, SIGKILL; resolves once the process is gone. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.stopProber();
    await this.kill(graceMs, `Stopping container ${this.container.name}`);
  }

  /** SIGTERM → graceMs → SIGKILL of the current run, with a Killing event. */
  private async kill(graceMs: number, message: string): Promise<void> {
    const child = this.child;
    const exited = this.exited;
    if (!child || !exited) return;
    this.deps.event?.('Normal', 'Killing', message);
    signal(child, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs)))]);
    clearTimeout(timer);
    if (timedOut) {
      signal(child, 'SIGKILL');
      await exited;
    }
    // The group may still hold children the container started.
    signal(child, 'SIGKILL');
  }
}

const PROBE_TITLES: Record<ProbeKind, string> = { readiness: 'Readiness', liveness: 'Liveness', startup: 'Startup' };

function signal(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    try {
      child.kill(sig);
    } catch {
      // already gone
    }
  }
}

function formatDelay(ms: number): string {
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m0s`;
  return `${ms / 1000}s`;
}

/** Rewrites a path under a mountPath (the whole value, each of a `;`-separated list as Sedna's MODEL_URLS, or after `=`) to its host path. */
export function mapMountPaths(value: string, mounts: readonly (readonly [string, string])[]): string {
  const mapOne = (s: string): string => {
    for (const [mountPath, hostPath] of mounts) {
      if (s === mountPath || s.startsWith(mountPath + '/')) return hostPath + s.slice(mountPath.length);
    }
    return s;
  };
  if (value.startsWith('/') && value.includes(';')) return value.split(';').map(mapOne).join(';');
  const eq = value.indexOf('=');
  if (!value.startsWith('/') && eq > 0) return value.slice(0, eq + 1) + mapOne(value.slice(eq + 1));
  return mapOne(value);
}

/** PORT (the first port), PORT_<containerPort> and PORT_<NAME> → the host port. */
export function portEnv(container: Container, hostPorts: Record<string, number>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const port of container.ports ?? []) {
    const host = hostPorts[`${container.name}/${port.containerPort}`];
    if (host === undefined) continue;
    env.PORT ??= String(host);
    env[`PORT_${port.containerPort}`] = String(host);
    if (port.name) env[`PORT_${port.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`] = String(host);
  }
  return env;
}
