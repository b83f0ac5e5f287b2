// Node lifecycle decisions, as Kubernetes' node-lifecycle controller makes them, kept pure so they
// are tested against plain objects and a given time: a node is healthy while its kubelet renews
// its Lease (kube-node-lease/<node>) or posts its Ready heartbeat; one not heard from within the
// grace period (kube-controller-manager's --node-monitor-grace-period, 40 s) has every condition
// set to Unknown ("Kubelet stopped posting node status."). The taints follow the Ready condition:
// Unknown → node.kubernetes.io/unreachable, False → node.kubernetes.io/not-ready, each both
// NoSchedule and NoExecute; True → neither. Pods of a node that is not Ready get Ready=False.
import type { Condition, KubeObject } from '../../api/meta.ts';
import type { Taint } from '../../api/taints.ts';

export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';
export const NOT_READY_TAINT = 'node.kubernetes.io/not-ready';
const LIFECYCLE_TAINTS = [UNREACHABLE_TAINT, NOT_READY_TAINT];

export type { Taint } from '../../api/taints.ts';

/** When the controller last saw the node's kubelet alive: the newest of Lease renewTime and Ready heartbeat. */
export function lastHeard(node: KubeObject, lease: KubeObject | undefined): string | undefined {
  const renew = (lease?.spec as { renewTime?: string } | undefined)?.renewTime;
  const heartbeat = readyCondition(node)?.lastHeartbeatTime;
  return [renew, heartbeat].filter((t): t is string => typeof t === 'string').sort((a, b) => Date.parse(b) - Date.parse(a))[0];
}

export function readyCondition(node: KubeObject): Condition | undefined {
  return ((node.status as { conditions?: Condition[] } | undefined)?.conditions ?? []).find((c) => c.type === 'Ready');
}

/**
 * The observation the controller keeps per node: the last "heard" value and when (by its own
 * clock) it changed. Like upstream, the controller's clock decides, not the kubelet's timestamps,
 * so clock skew between the two does not matter; a node first seen gets a full grace period.
 */
export interface NodeHealth {
  heard: string | undefined;
  observedAtMs: number;
}

export function observe(previous: NodeHealth | undefined, heard: string | undefined, nowMs: number): NodeHealth {
  if (previous && previous.heard === heard) return previous;
  return { heard, observedAtMs: nowMs };
}

export function isStale(health: NodeHealth, nowMs: number, gracePeriodMs: number): boolean {
  return nowMs - health.observedAtMs > gracePeriodMs;
}

/** The conditions of a node not heard from: every one Unknown, transition time set where it changed. */
export function unknownConditions(conditions: readonly Condition[] | undefined, now: string): Condition[] {
  const list = conditions && conditions.length > 0 ? conditions : [{ type: 'Ready', status: 'Unknown' } as Condition];
  return list.map((c) =>
    c.status === 'Unknown' && c.reason === 'NodeStatusUnknown'
      ? c
      : { ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: c.status === 'Unknown' ? (c.lastTransitionTime ?? now) : now },
  );
}

/** The node's taints with the lifecycle ones matching its Ready status; others are kept as they are. */
export function lifecycleTaints(taints: readonly Taint[] | undefined, ready: Condition['status'] | undefined, now: string): Taint[] {
  const key = ready === 'Unknown' ? UNREACHABLE_TAINT : ready === 'False' ? NOT_READY_TAINT : undefined;
  const kept = (taints ?? []).filter((t) => !LIFECYCLE_TAINTS.includes(t.key) || t.key === key);
  if (!key) return kept;
  const out = [...kept];
  if (!out.some((t) => t.key === key && t.effect === 'NoSchedule')) out.push({ key, effect: 'NoSchedule' });
  if (!out.some((t) => t.key === key && t.effect === 'NoExecute')) out.push({ key, effect: 'NoExecute', timeAdded: now });
  return out;
}

/** A pod's conditions with Ready=False (MarkPodsNotReady), or undefined when Ready is not True. */
export function podNotReady(pod: KubeObject, now: string): Condition[] | undefined {
  const conditions = (pod.status as { conditions?: Condition[] } | undefined)?.conditions ?? [];
  const ready = conditions.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return undefined;
  return conditions.map((c) => (c.type === 'Ready' ? { ...c, status: 'False', reason: 'NodeNotReady', message: 'The node running this pod is not ready.', lastTransitionTime: now } : c));
}
