// The rolling-update bounds: how many pods above replicas (maxSurge) and how many unavailable
// below it (maxUnavailable) a rollout may reach.
import type { KubeObject } from '../../../api/meta.ts';
import type { IntOrString } from '../../../api/workloads.ts';
import { replicasOf, type StoredDeploymentSpec } from './rollout.ts';

export function isRollingUpdate(spec: StoredDeploymentSpec): boolean {
  return (spec.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

/** maxSurge rounds up, maxUnavailable down; when both come to 0, one pod may be unavailable. */
export function resolveFenceposts(maxSurgeValue: IntOrString | undefined, maxUnavailableValue: IntOrString | undefined, desired: number): [number, number] {
  const surge = scaledValue(maxSurgeValue ?? 0, desired, true);
  const unavailable = scaledValue(maxUnavailableValue ?? 0, desired, false);
  return surge === 0 && unavailable === 0 ? [0, 1] : [surge, unavailable];
}

/** An int, or a percentage of `total`; anything else counts as 0 (validation refuses it). */
function scaledValue(value: IntOrString, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return Number.isInteger(value) ? value : 0;
  const match = /^(\d+)%$/.exec(value);
  if (!match) return 0;
  const exact = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

export function maxSurge(d: KubeObject): number {
  const spec = (d.spec ?? {}) as StoredDeploymentSpec;
  if (!isRollingUpdate(spec)) return 0;
  const rolling = spec.strategy?.rollingUpdate;
  return resolveFenceposts(rolling?.maxSurge, rolling?.maxUnavailable, replicasOf(d))[0];
}

export function maxUnavailable(d: KubeObject): number {
  const spec = (d.spec ?? {}) as StoredDeploymentSpec;
  const wanted = replicasOf(d);
  if (!isRollingUpdate(spec) || wanted === 0) return 0;
  const rolling = spec.strategy?.rollingUpdate;
  return Math.min(resolveFenceposts(rolling?.maxSurge, rolling?.maxUnavailable, wanted)[1], wanted);
}
