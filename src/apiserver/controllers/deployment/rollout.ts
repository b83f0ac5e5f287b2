// One sync's view of a Deployment and the ReplicaSets it controls, and the small arithmetic over
// them that every rollout step shares.
import type { KubeObject } from '../../../api/meta.ts';
import type { DeploymentSpec, DeploymentStatus, ReplicaSetStatus } from '../../../api/workloads.ts';

/** The Deployment replicas a ReplicaSet was last sized for; a difference means a scaling event. */
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
/** replicas + maxSurge when a ReplicaSet was last sized: the base of proportional scaling. */
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';

/** A Deployment's spec as stored: the rollout code defaults every absent field. */
export type StoredDeploymentSpec = Partial<DeploymentSpec>;

/** One sync's view of a Deployment; upstream mutates d.Status in place, this keeps a working copy. */
export interface Rollout {
  d: KubeObject;
  spec: StoredDeploymentSpec;
  /** Status as stored: the baseline for "progress" and for "nothing changed". */
  stored: DeploymentStatus;
  /** Working status: conditions and collisionCount set along the way. */
  status: DeploymentStatus;
  /** The ReplicaSets the Deployment controls, replaced as this sync writes them. */
  replicaSets: KubeObject[];
  newUid: string | undefined;
}

// ---- ReplicaSet selection ------------------------------------------------------------------

export function newSet(r: Rollout): KubeObject | undefined {
  return r.newUid === undefined ? undefined : r.replicaSets.find((rs) => rs.metadata.uid === r.newUid);
}

export function oldSets(r: Rollout): KubeObject[] {
  return r.replicaSets.filter((rs) => rs.metadata.uid !== r.newUid);
}

export function activeSets(sets: KubeObject[]): KubeObject[] {
  return sets.filter((rs) => replicasOf(rs) > 0);
}

// ---- sizes ---------------------------------------------------------------------------------

export function replicasOf(obj: KubeObject): number {
  return (obj.spec as { replicas?: number } | undefined)?.replicas ?? 1;
}

export function statusOf(rs: KubeObject): ReplicaSetStatus {
  return rs.status ?? {};
}

/** Available pods, never more than the ReplicaSet is sized for (its status lags a scale-down). */
export function availableOf(rs: KubeObject): number {
  return Math.min(statusOf(rs).availableReplicas ?? 0, replicasOf(rs));
}

export function sumSpec(sets: KubeObject[]): number {
  return sets.reduce((n, rs) => n + replicasOf(rs), 0);
}

// ---- ordering ------------------------------------------------------------------------------

/** Oldest first; the same second is ordered by name, as upstream does. */
export function byCreation(sets: KubeObject[]): KubeObject[] {
  return [...sets].sort(compareCreation);
}

export function compareCreation(a: KubeObject, b: KubeObject): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
}
