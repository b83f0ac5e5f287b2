// What the workload controllers read from a pod's status: phase, readiness, availability, and the
// order in which surplus pods are deleted.
import type { KubeObject } from '../../api/meta.ts';
import type { PodStatus } from '../../api/workloads.ts';

function podStatusOf(pod: KubeObject): PodStatus {
  return pod.status ?? {};
}

function podSpecOf(pod: KubeObject): { nodeName?: string } {
  return pod.spec ?? {};
}

export function phaseOf(pod: KubeObject): string | undefined {
  return podStatusOf(pod).phase;
}

export function isTerminal(pod: KubeObject): boolean {
  const phase = phaseOf(pod);
  return phase === 'Succeeded' || phase === 'Failed';
}

/** Counts toward replicas: not finished and not marked for deletion. */
export function isActivePod(pod: KubeObject): boolean {
  return !pod.metadata.deletionTimestamp && !isTerminal(pod);
}

export function isPodReady(pod: KubeObject): boolean {
  return (podStatusOf(pod).conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function readySince(pod: KubeObject): string | undefined {
  return (podStatusOf(pod).conditions ?? []).find((c) => c.type === 'Ready' && c.status === 'True')?.lastTransitionTime;
}

/** Ready for at least minReadySeconds (at once when it is 0). */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = readySince(pod);
  return since !== undefined && Date.parse(since) + minReadySeconds * 1000 < now;
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * Which surplus pod goes first (upstream's ActivePods order): unscheduled before scheduled,
 * Pending before Unknown before Running, not ready before ready, ready for less time first,
 * more restarts first, newer first.
 */
export function deletionOrder(a: KubeObject, b: KubeObject): number {
  const nodeA = podSpecOf(a).nodeName ? 1 : 0;
  const nodeB = podSpecOf(b).nodeName ? 1 : 0;
  if (nodeA !== nodeB) return nodeA - nodeB;
  const phaseA = PHASE_RANK[phaseOf(a) ?? 'Pending'] ?? 0;
  const phaseB = PHASE_RANK[phaseOf(b) ?? 'Pending'] ?? 0;
  if (phaseA !== phaseB) return phaseA - phaseB;
  const readyA = isPodReady(a) ? 1 : 0;
  const readyB = isPodReady(b) ? 1 : 0;
  if (readyA !== readyB) return readyA - readyB;
  if (readyA && readyB) {
    const sinceA = readySince(a) ?? '';
    const sinceB = readySince(b) ?? '';
    if (sinceA !== sinceB) return sinceA > sinceB ? -1 : 1;
  }
  const restartsA = restarts(a);
  const restartsB = restarts(b);
  if (restartsA !== restartsB) return restartsB - restartsA;
  const createdA = a.metadata.creationTimestamp ?? '';
  const createdB = b.metadata.creationTimestamp ?? '';
  if (createdA !== createdB) return createdA > createdB ? -1 : 1;
  return 0;
}

function restarts(pod: KubeObject): number {
  return (podStatusOf(pod).containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
}
