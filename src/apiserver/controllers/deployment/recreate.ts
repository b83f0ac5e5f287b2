// The Recreate strategy: every old ReplicaSet goes to zero first; the new one is created and
// scaled up only once no old pod is left running.
import { controllerRefOf } from '../controller-ref.ts';
import { isTerminal } from '../pods.ts';
import type { DeploymentClient } from './client.ts';
import { cleanupOldReplicaSets } from './history.ts';
import { syncRevision } from './new-replicaset.ts';
import { activeSets, newSet, oldSets, replicasOf, type Rollout, statusOf } from './rollout.ts';
import { deploymentComplete, syncRolloutStatus } from './status.ts';

export function rolloutRecreate(client: DeploymentClient, r: Rollout): void {
  syncRevision(client, r, false);
  let scaledDown = false;
  for (const rs of activeSets(oldSets(r))) scaledDown = client.scaleTo(r, rs, 0) || scaledDown;
  if (scaledDown || oldPodsRunning(client, r)) return syncRolloutStatus(client, r);
  if (!newSet(r)) syncRevision(client, r, true);
  const created = newSet(r);
  if (created) client.scaleTo(r, created, replicasOf(r.d));
  if (deploymentComplete(r.d, r.stored)) cleanupOldReplicaSets(client, r);
  syncRolloutStatus(client, r);
}

/** Old ReplicaSets still report replicas, or some of their pods have not finished. */
function oldPodsRunning(client: DeploymentClient, r: Rollout): boolean {
  const old = oldSets(r);
  if (old.some((rs) => (statusOf(rs).replicas ?? 0) > 0)) return true;
  const oldUids = new Set(old.map((rs) => rs.metadata.uid));
  return client.podsIn(r.d.metadata.namespace).some((pod) => oldUids.has(controllerRefOf(pod)?.uid) && !isTerminal(pod));
}
