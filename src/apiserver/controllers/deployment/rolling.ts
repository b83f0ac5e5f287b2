// The RollingUpdate strategy: the new ReplicaSet grows and the old ones shrink step by step,
// never above replicas+maxSurge pods and never below replicas-maxUnavailable available ones.
import type { DeploymentClient } from './client.ts';
import { cleanupOldReplicaSets } from './history.ts';
import { newReplicaSetReplicas, syncRevision } from './new-replicaset.ts';
import { activeSets, availableOf, byCreation, newSet, oldSets, replicasOf, type Rollout, statusOf, sumSpec } from './rollout.ts';
import { deploymentComplete, syncRolloutStatus } from './status.ts';
import { maxUnavailable } from './strategy.ts';

export function rolloutRolling(client: DeploymentClient, r: Rollout): void {
  syncRevision(client, r, true);
  if (reconcileNewReplicaSet(client, r) || reconcileOldReplicaSets(client, r)) return syncRolloutStatus(client, r);
  if (deploymentComplete(r.d, r.stored)) cleanupOldReplicaSets(client, r);
  syncRolloutStatus(client, r);
}

/** Scales the new ReplicaSet toward replicas, within replicas+maxSurge pods; returns whether it scaled. */
function reconcileNewReplicaSet(client: DeploymentClient, r: Rollout): boolean {
  const rs = newSet(r);
  if (!rs) return false;
  const wanted = replicasOf(r.d);
  if (replicasOf(rs) === wanted) return false;
  if (replicasOf(rs) > wanted) return client.scaleTo(r, rs, wanted);
  return client.scaleTo(r, rs, newReplicaSetReplicas(r, r.replicaSets, rs));
}

/** Scales old ReplicaSets down, never below replicas-maxUnavailable available; returns whether it scaled. */
function reconcileOldReplicaSets(client: DeploymentClient, r: Rollout): boolean {
  const rs = newSet(r);
  const old = activeSets(oldSets(r));
  if (!rs || sumSpec(old) === 0) return false;
  const minAvailable = replicasOf(r.d) - maxUnavailable(r.d);
  const newUnavailable = replicasOf(rs) - (statusOf(rs).availableReplicas ?? 0);
  const maxScaledDown = sumSpec(r.replicaSets) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;
  // Unhealthy old replicas go first: they cost no availability, and would block the rollout.
  const cleaned = scaleDownUnhealthy(client, r, maxScaledDown);
  const scaled = scaleDownForRollingUpdate(client, r, minAvailable);
  return cleaned + scaled > 0;
}

/** Removes up to `maxCleanup` unavailable replicas from old ReplicaSets, oldest first; returns how many. */
function scaleDownUnhealthy(client: DeploymentClient, r: Rollout, maxCleanup: number): number {
  let total = 0;
  for (const rs of byCreation(activeSets(oldSets(r)))) {
    if (total >= maxCleanup) break;
    const unhealthy = replicasOf(rs) - availableOf(rs);
    if (unhealthy <= 0) continue;
    const count = Math.min(maxCleanup - total, unhealthy);
    client.scaleTo(r, rs, replicasOf(rs) - count);
    total += count;
  }
  return total;
}

/** Removes old replicas, oldest ReplicaSet first, as far as availability above `minAvailable` allows; returns how many. */
function scaleDownForRollingUpdate(client: DeploymentClient, r: Rollout, minAvailable: number): number {
  const available = r.replicaSets.reduce((n, rs) => n + availableOf(rs), 0);
  if (available <= minAvailable) return 0;
  const wanted = available - minAvailable;
  let total = 0;
  for (const rs of byCreation(activeSets(oldSets(r)))) {
    if (total >= wanted) break;
    const count = Math.min(replicasOf(rs), wanted - total);
    client.scaleTo(r, rs, replicasOf(rs) - count);
    total += count;
  }
  return total;
}
