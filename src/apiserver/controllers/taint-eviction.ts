// Taint-based eviction, as Kubernetes' NoExecute taint manager decides it (pure, so it is tested
// against plain objects and a given time). A pod on a node with NoExecute taints is evicted at
// once if one of them is not tolerated; when all are, at the earliest tolerationSeconds among the
// tolerations used (the first matching one per taint, as upstream's GetMatchingTolerations), or
// never when none of those sets tolerationSeconds. A pod created without tolerations for
// node.kubernetes.io/not-ready and /unreachable is treated as the DefaultTolerationSeconds admission
// plugin makes every pod: tolerating each for 300 s.
//
// One difference, on purpose: upstream counts from when its taint manager first saw the taint on
// the pod's node, so a controller restart starts the wait again; here it counts from the taint's
// timeAdded (written by the node-lifecycle controller), so an API server restart — one of the
// faults this system is tested against — neither shortens nor extends it.
import type { KubeObject } from '../../api/meta.ts';
import { type Taint, type Toleration, tolerates } from '../../api/taints.ts';
import { NOT_READY_TAINT, UNREACHABLE_TAINT } from './node-lifecycle.ts';

/** The DefaultTolerationSeconds admission plugin's default (--default-unreachable-toleration-seconds). */
export const DEFAULT_TOLERATION_SECONDS = 300;

/**
 * The pod's tolerations with the admission plugin's defaults added: a toleration of each of the
 * not-ready and unreachable NoExecute taints for `defaultSeconds`, unless the pod already has one
 * with that key (or an empty key) and the NoExecute effect (or an empty effect).
 */
export function withDefaultTolerations(tolerations: readonly Toleration[] | undefined, defaultSeconds = DEFAULT_TOLERATION_SECONDS): Toleration[] {
  const out = [...(tolerations ?? [])];
  for (const key of [NOT_READY_TAINT, UNREACHABLE_TAINT]) {
    const has = out.some((t) => (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect));
    if (!has) out.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: defaultSeconds });
  }
  return out;
}

/** When the pod must go: `now` (a taint not tolerated), a time in ms, or `never`. */
export type EvictionDecision = { at: 'now' } | { at: number } | { at: 'never' };

/**
 * The decision for one pod on a node with `taints` (only NoExecute ones count). `noticedAtMs` is
 * when the controller first saw a taint that lacks timeAdded.
 */
export function evictionDecision(tolerations: readonly Toleration[], taints: readonly Taint[], noticedAtMs: number): EvictionDecision {
  const noExecute = taints.filter((t) => t.effect === 'NoExecute');
  if (noExecute.length === 0) return { at: 'never' };
  let deadline = Number.POSITIVE_INFINITY;
  for (const taint of noExecute) {
    const used = tolerations.find((t) => tolerates(t, taint));
    if (!used) return { at: 'now' };
    if (used.tolerationSeconds === undefined || used.tolerationSeconds === null) continue;
    if (used.tolerationSeconds <= 0) return { at: 'now' };
    const added = taint.timeAdded ? Date.parse(taint.timeAdded) : Number.NaN;
    const since = Number.isFinite(added) ? added : noticedAtMs;
    deadline = Math.min(deadline, since + used.tolerationSeconds * 1000);
  }
  return Number.isFinite(deadline) ? { at: deadline } : { at: 'never' };
}

/** Whether the decision says the pod goes now (at `nowMs`). */
export function evictionDue(decision: EvictionDecision, nowMs: number): boolean {
  return decision.at === 'now' || (typeof decision.at === 'number' && decision.at <= nowMs);
}

/** The pods the taint manager looks at: bound to `node` and not already being deleted. */
export function podsOnNode(pods: readonly KubeObject[], node: string): KubeObject[] {
  return pods.filter((p) => (p.spec as { nodeName?: string } | undefined)?.nodeName === node && !p.metadata.deletionTimestamp);
}
