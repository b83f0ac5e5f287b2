// Pod status from process state, as a pure function: podStatusFor(pod, processStates, now) derives
// phase, conditions, initContainerStatuses and containerStatuses from what the kubelet's processes
// did (spawned, exited, waiting to restart) and returns the new status, or undefined when it equals
// what the API server already holds — so the kubelet PATCHes /status only on change (the kwok
// pattern, style anchor 5). Init containers follow the real kubelet: the pod is Pending with its
// main containers waiting in PodInitializing until every init container succeeded, and Failed when
// one failed under restartPolicy Never. Probe results come in with the process state: a running
// container is ready and started unless its `ready`/`started` (from probes.ts) say otherwise.
import { isDeepStrictEqual } from 'node:util';
import type { Condition } from '../../api/meta.ts';
import { rfc3339, setCondition } from '../../api/conditions.ts';
import type { Container, ContainerState, ContainerStateTerminated, ContainerStatus, Pod, PodPhase, PodStatus } from '../../api/workloads.ts';

/** One finished run of a container's process. */
export interface TerminationRecord {
  exitCode: number;
  /** Set when the process died of a signal (exitCode is then 128 + the signal number). */
  signal?: string;
  /** Completed (exit 0), Error, StartError. */
  reason: string;
  message?: string;
  startedAt: Date;
  finishedAt: Date;
  pid?: number;
}

/** What the kubelet knows about one container's process. */
export interface ContainerProcessState {
  name: string;
  /** waiting: not running and (re)start pending or impossible; running; terminated: done for good. */
  state: 'waiting' | 'running' | 'terminated';
  /** For waiting: ContainerCreating, PodInitializing, ImageNotMapped, CreateContainerConfigError, CrashLoopBackOff. */
  reason?: string;
  message?: string;
  /** For running. */
  pid?: number;
  startedAt?: Date;
  /** For running, from its probes: false until the readiness probe passed (absent: ready). */
  ready?: boolean;
  /** For running, from its probes: false until the startup probe passed (absent: started). */
  started?: boolean;
  /** For terminated: the final run. */
  terminated?: TerminationRecord;
  /** The run before the current state (lastState in the API). */
  lastTermination?: TerminationRecord;
  restartCount: number;
}

export interface PodStatusOptions {
  hostIP?: string;
  podIP?: string;
}

export const LOCAL_IP = '127.0.0.1';

/** The complete status for `pod`, or undefined when `pod.status` already says exactly that. */
export function podStatusFor(pod: Pod, processStates: readonly ContainerProcessState[] | undefined, now: Date, options: PodStatusOptions = {}): PodStatus | undefined {
  const next = computePodStatus(pod, processStates, now, options);
  const current = pod.status ?? {};
  const merged: PodStatus = { ...current, ...next };
  return isDeepStrictEqual(stripUndefined(merged), stripUndefined(current)) ? undefined : merged;
}

export function computePodStatus(pod: Pod, processStates: readonly ContainerProcessState[] | undefined, now: Date, options: PodStatusOptions = {}): PodStatus {
  const initContainers = pod.spec?.initContainers ?? [];
  const containers = pod.spec?.containers ?? [];
  const byName = new Map((processStates ?? []).map((s) => [s.name, s]));
  // The real kubelet's default for a container with no runtime state yet.
  const notCreated = initContainers.length > 0 ? 'PodInitializing' : 'ContainerCreating';
  const stateOf = (c: Container): ContainerProcessState => byName.get(c.name) ?? { name: c.name, state: 'waiting', reason: notCreated, restartCount: 0 };
  const initStates = initContainers.map(stateOf);
  const states = containers.map(stateOf);
  const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
  const init = initProgress(initStates, states, restartPolicy);
  const phase: PodPhase = init.failed ? 'Failed' : init.initialized ? phaseOf(states, restartPolicy) : 'Pending';
  const initContainerStatuses = initContainers.map((c, i) => containerStatusOf(initStates[i]!, c.image ?? '', 'init'));
  const containerStatuses = containers.map((c, i) => containerStatusOf(states[i]!, c.image ?? '', 'main'));
  const unready = containerStatuses.filter((s) => !s.ready).map((s) => s.name);

  const hostIP = options.hostIP ?? LOCAL_IP;
  const podIP = options.podIP ?? LOCAL_IP;
  return {
    phase,
    conditions: podConditions(pod.status?.conditions, phase, init, unready, now),
    hostIP,
    hostIPs: [{ ip: hostIP }],
    podIP,
    podIPs: [{ ip: podIP }],
    startTime: pod.status?.startTime ?? rfc3339(now),
    ...(initContainers.length > 0 ? { initContainerStatuses } : {}),
    containerStatuses,
  };
}

interface InitProgress {
  /** Every init container succeeded, or a main container already ran. */
  initialized: boolean;
  /** Init containers that have not succeeded, by name. */
  incomplete: string[];
  /** An init container failed and restartPolicy Never forbids another try: the pod failed. */
  failed: boolean;
}

function initProgress(initStates: readonly ContainerProcessState[], states: readonly ContainerProcessState[], restartPolicy: string): InitProgress {
  const succeeded = (s: ContainerProcessState): boolean => s.state === 'terminated' && s.terminated?.exitCode === 0;
  const incomplete = initStates.filter((s) => !succeeded(s)).map((s) => s.name);
  // As in the kubelet: once a main container has run, the pod counts as initialized.
  const mainStarted = states.some((s) => s.state !== 'waiting' || s.lastTermination !== undefined);
  const failed = restartPolicy === 'Never' && initStates.some((s) => s.state === 'terminated' && (s.terminated?.exitCode ?? 1) !== 0);
  return { initialized: incomplete.length === 0 || mainStarted, incomplete, failed };
}

/** The pod conditions the kubelet owns, each keeping its lastTransitionTime while its status holds. */
function podConditions(existing: readonly Condition[] | undefined, phase: PodPhase, init: InitProgress, unready: readonly string[], now: Date): Condition[] {
  const wanted: Condition[] = [
    { type: 'PodReadyToStartContainers', status: 'True' },
    initializedCondition(phase, init),
    readyCondition('Ready', phase, unready),
    readyCondition('ContainersReady', phase, unready),
    { type: 'PodScheduled', status: 'True' },
  ];
  return wanted.map((condition) => {
    const previous = existing?.find((c) => c.type === condition.type);
    return setCondition(previous ? [previous] : [], { ...condition, lastProbeTime: null }, now)[0]!;
  });
}

function initializedCondition(phase: PodPhase, init: InitProgress): Condition {
  const type = 'Initialized';
  if (!init.initialized) return { type, status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: [${init.incomplete.join(' ')}]` };
  return phase === 'Succeeded' ? { type, status: 'True', reason: 'PodCompleted' } : { type, status: 'True' };
}

function readyCondition(type: string, phase: PodPhase, unready: readonly string[]): Condition {
  if (phase === 'Failed') return { type, status: 'False', reason: 'PodFailed' };
  if (phase === 'Succeeded') return { type, status: 'False', reason: 'PodCompleted' };
  if (unready.length === 0) return { type, status: 'True' };
  return { type, status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` };
}

function phaseOf(states: readonly ContainerProcessState[], restartPolicy: string): PodPhase {
  if (states.length === 0) return 'Pending';
  let neverStarted = 0;
  let active = 0;
  let failed = 0;
  for (const s of states) {
    if (s.state === 'running') active++;
    else if (s.state === 'waiting') {
      if (s.restartCount === 0 && !s.lastTermination) neverStarted++;
      else active++; // waiting to restart after a run
    } else if ((s.terminated?.exitCode ?? 1) !== 0) failed++;
  }
  if (neverStarted > 0) return 'Pending';
  if (active > 0) return 'Running';
  // Every container has terminated for good.
  if (restartPolicy === 'Always') return 'Running'; // only while the kubelet is tearing the pod down
  return failed > 0 ? 'Failed' : 'Succeeded';
}

function terminatedOf(record: TerminationRecord): ContainerStateTerminated {
  return {
    exitCode: record.exitCode,
    reason: record.reason,
    ...(record.message ? { message: record.message } : {}),
    startedAt: rfc3339(record.startedAt),
    finishedAt: rfc3339(record.finishedAt),
    ...(record.pid !== undefined ? { containerID: containerID(record.pid) } : {}),
  };
}

/** containerID of a local process: `process://<pid>`. */
export function containerID(pid: number): string {
  return `process://${pid}`;
}

/** An init container is ready once it succeeded; a main container while it runs and its probes allow. */
function containerStatusOf(s: ContainerProcessState, image: string, kind: 'init' | 'main'): ContainerStatus {
  let state: ContainerState;
  let id: string | undefined;
  if (s.state === 'running') {
    state = { running: { startedAt: rfc3339(s.startedAt ?? new Date(0)) } };
    if (s.pid !== undefined) id = containerID(s.pid);
  } else if (s.state === 'terminated' && s.terminated) {
    state = { terminated: terminatedOf(s.terminated) };
    if (s.terminated.pid !== undefined) id = containerID(s.terminated.pid);
  } else {
    state = { waiting: { reason: s.reason ?? 'ContainerCreating', ...(s.message ? { message: s.message } : {}) } };
  }
  return {
    name: s.name,
    state,
    lastState: s.lastTermination ? { terminated: terminatedOf(s.lastTermination) } : {},
    ready: kind === 'init' ? s.state === 'terminated' && s.terminated?.exitCode === 0 : s.state === 'running' && s.ready !== false,
    started: s.state === 'running' && s.started !== false,
    restartCount: s.restartCount,
    image,
    imageID: image ? `local://${image}` : '',
    ...(id ? { containerID: id } : {}),
  };
}

function stripUndefined(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? {})) as unknown;
}
