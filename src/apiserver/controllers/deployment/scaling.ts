// Scaling without rolling: when a Deployment is paused, or its replica count changed while its
// ReplicaSets were sized for another. One active ReplicaSet takes the new size; several share
// the difference in proportion to their size, as upstream does.
import type { KubeObject } from '../../../api/meta.ts';
import type { DeploymentClient } from './client.ts';
import { cleanupOldReplicaSets } from './history.ts';
import { syncRevision } from './new-replicaset.ts';
import { activeSets, byCreation, compareCreation, DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, newSet, oldSets, replicasOf, type Rollout, statusOf, sumSpec } from './rollout.ts';
import { calculateStatus } from './status.ts';
import { isRollingUpdate, maxSurge } from './strategy.ts';

/** A replica count differs from what the active ReplicaSets were sized for. */
export function isScalingEvent(client: DeploymentClient, r: Rollout): boolean {
  syncRevision(client, r, false);
  return activeSets(r.replicaSets).some((rs) => {
    const desired = rs.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION];
    return desired !== undefined && Number(desired) !== replicasOf(r.d);
  });
}

/** Scales without rolling (paused, or a scaling event), then reports status. */
export function syncScaling(client: DeploymentClient, r: Rollout): void {
  syncRevision(client, r, false);
  scale(client, r);
  if (r.spec.paused) cleanupOldReplicaSets(client, r);
  client.writeStatus(r, calculateStatus(r));
}

/** One active ReplicaSet takes it all; a saturated new one leaves the old at zero; else they share in proportion. */
function scale(client: DeploymentClient, r: Rollout): void {
  const only = activeOrLatest(r);
  if (only) {
    client.scaleTo(r, only, replicasOf(r.d));
    return;
  }
  const rs = newSet(r);
  if (rs && isSaturated(r.d, rs)) {
    for (const old of activeSets(oldSets(r))) client.scaleTo(r, old, 0);
    return;
  }
  if (isRollingUpdate(r.spec)) scaleProportionally(client, r);
}

/** The one active ReplicaSet, or the newest when none is active; undefined when several are. */
function activeOrLatest(r: Rollout): KubeObject | undefined {
  const rs = newSet(r);
  const old = byCreation(oldSets(r)).reverse();
  const active = activeSets(rs ? [...old, rs] : old);
  if (active.length === 1) return active[0];
  if (active.length > 1) return undefined;
  return rs ?? old[0];
}

function isSaturated(d: KubeObject, rs: KubeObject): boolean {
  const desired = Number(rs.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION]);
  const wanted = replicasOf(d);
  return replicasOf(rs) === wanted && desired === wanted && (statusOf(rs).availableReplicas ?? 0) === wanted;
}

/** Upstream's proportional scaling: the replicas to add (or remove) go to each active ReplicaSet by its share. */
function scaleProportionally(client: DeploymentClient, r: Rollout): void {
  const wanted = replicasOf(r.d);
  const active = activeSets(r.replicaSets);
  const allowed = wanted > 0 ? wanted + maxSurge(r.d) : 0;
  const toAdd = allowed - sumSpec(active);
  const ordered = toAdd > 0 ? [...active].sort(bySizeNewerFirst) : toAdd < 0 ? [...active].sort(bySizeOlderFirst) : active;
  const sizes = proportionalSizes(r, ordered, toAdd);
  ordered.forEach((rs, i) => client.scaleReplicaSet(r, rs, sizes[i]!));
}

/** The new size of each ReplicaSet (largest first); rounding leftovers go to the largest. */
function proportionalSizes(r: Rollout, ordered: KubeObject[], toAdd: number): number[] {
  let added = 0;
  const sizes = ordered.map((rs) => {
    const share = toAdd === 0 ? 0 : proportion(r, rs, toAdd, added);
    added += share;
    return replicasOf(rs) + share;
  });
  if (sizes.length > 0 && toAdd !== 0) sizes[0] = Math.max(0, sizes[0]! + toAdd - added);
  return sizes;
}

/** A ReplicaSet's share of `toAdd`, from the size it had relative to the size it was made for. */
function proportion(r: Rollout, rs: KubeObject, toAdd: number, added: number): number {
  if (replicasOf(rs) === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(r, rs);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

function replicaSetFraction(r: Rollout, rs: KubeObject): number {
  const wanted = replicasOf(r.d);
  if (wanted === 0) return -replicasOf(rs);
  const deploymentReplicas = wanted + maxSurge(r.d);
  const annotated = Number(rs.metadata.annotations?.[MAX_REPLICAS_ANNOTATION]);
  const base = Number.isInteger(annotated) && annotated > 0 ? annotated : (r.stored.replicas ?? 0);
  if (base === 0) return 0;
  return roundHalfAway((replicasOf(rs) * deploymentReplicas) / base) - replicasOf(rs);
}

function bySizeNewerFirst(a: KubeObject, b: KubeObject): number {
  return replicasOf(b) - replicasOf(a) || compareCreation(b, a);
}

function bySizeOlderFirst(a: KubeObject, b: KubeObject): number {
  return replicasOf(b) - replicasOf(a) || compareCreation(a, b);
}

/** Go's math.Round: halves away from zero. */
function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}
