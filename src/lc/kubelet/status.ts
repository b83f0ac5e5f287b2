// Pod status from process state, as a pure function: podStatusFor(pod, processStates, now) derives
// phase, conditions and containerStatuses from what the kubelet's processes did (spawned, exited,
// waiting to restart) and returns the new status, or undefined when it equals what the API server
// already holds — so the kubelet PATCHes /status only on change (the kwok pattern, style anchor 5).
import { isDeepStrictEqual } from 'node:util';
import type { Condition } from '../../api/meta.ts';
import { rfc3339, setCondition } from '../../controller/conditions.ts';
import type { ContainerState, ContainerStateTerminated, ContainerStatus, Pod, PodPhase, PodStatus } from './types.ts';

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
  /** For waiting: ContainerCreating, ImageNotMapped, CreateContainerConfigError, CrashLoopBackOff. */
  reason?: string;
  message?: string;
  /** For running. */
  pid?: number;
  startedAt?: Date;
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
  const containers = pod.spec?.containers ?? [];
  const byName = new Map((processStates ?? []).map((s) => [s.name, s]));
  const states = containers.map((c): ContainerProcessState => byName.get(c.name) ?? { name: c.name, state: 'waiting', reason: 'ContainerCreating', restartCount: 0 });
  const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
  const phase = phaseOf(states, restartPolicy);
  const containerStatuses: ContainerStatus[] = containers.map((c, i) => containerStatusOf(states[i]!, c.image ?? ''));
  const unready = containerStatuses.filter((s) => !s.ready).map((s) => s.name);

  const existing = pod.status?.conditions;
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const readyCondition = (type: string): Condition =>
    terminal
      ? { type, status: 'False', reason: 'PodCompleted' }
      : unready.length === 0
        ? { type, status: 'True' }
        : { type, status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` };
  let conditions: Condition[] = [];
  for (const condition of [
    { type: 'PodReadyToStartContainers', status: 'True' } as Condition,
    { type: 'Initialized', status: 'True' } as Condition,
    readyCondition('Ready'),
    readyCondition('ContainersReady'),
    { type: 'PodScheduled', status: 'True' } as Condition,
  ]) {
    const previous = existing?.find((c) => c.type === condition.type);
    const merged = setCondition(previous ? [previous] : [], { ...condition, lastProbeTime: null }, now)[0]!;
    conditions = [...conditions, merged];
  }

  const hostIP = options.hostIP ?? LOCAL_IP;
  const podIP = options.podIP ?? LOCAL_IP;
  return {
    phase,
    conditions,
    hostIP,
    hostIPs: [{ ip: hostIP }],
    podIP,
    podIPs: [{ ip: podIP }],
    startTime: pod.status?.startTime ?? rfc3339(now),
    containerStatuses,
  };
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

function containerStatusOf(s: ContainerProcessState, image: string): ContainerStatus {
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
    ready: s.state === 'running',
    started: s.state === 'running',
    restartCount: s.restartCount,
    image,
    imageID: image ? `local://${image}` : '',
    ...(id ? { containerID: id } : {}),
  };
}

function stripUndefined(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? {})) as unknown;
}
