// (In src/api because the DaemonSet controller's placement and the node-lifecycle controller's
// NoExecute eviction both match tolerations against a node's taints.)
// Node taints and pod tolerations as core/v1 defines them, and the one matching rule
// (v1.Toleration.ToleratesTaint).

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  timeAdded?: string;
}

export interface Toleration {
  key?: string;
  /** `Equal` (the default) or `Exists`. */
  operator?: string;
  value?: string;
  /** Empty matches every effect. */
  effect?: string;
  /** Only for NoExecute: how long the pod stays bound after the taint is added; unset is forever. */
  tolerationSeconds?: number;
}

/** Whether `t` tolerates `taint`: same effect (or none given), and key/value by the operator. */
export function tolerates(t: Toleration, taint: Pick<Taint, 'key' | 'value' | 'effect'>): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if ((t.operator ?? 'Equal') === 'Exists') return !t.key || t.key === taint.key;
  return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
}
