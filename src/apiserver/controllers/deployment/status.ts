// Deployment status: the counts summed from the ReplicaSets' status, the Available condition, and
// the Progressing condition a rollout reports (with its deadline), written only on change.
import type { Condition, KubeObject } from '../../../api/meta.ts';
import type { DeploymentClient } from './client.ts';
import { condition, findCondition, hasProgressDeadline, removeCondition, setCondition } from './conditions.ts';
import type { DeploymentStatus } from '../../../api/workloads.ts';
import { newSet, oldSets, replicasOf, type Rollout, statusOf, type StoredDeploymentSpec, sumSpec } from './rollout.ts';
import { maxUnavailable } from './strategy.ts';

/** Counts from the ReplicaSets' status, plus the Available condition; zeros are omitted like omitempty. */
export function calculateStatus(r: Rollout): DeploymentStatus {
  const sets = r.replicaSets;
  const rs = newSet(r);
  const available = sets.reduce((n, x) => n + (statusOf(x).availableReplicas ?? 0), 0);
  const unavailable = Math.max(sumSpec(sets) - available, 0);
  const counts: DeploymentStatus = {
    observedGeneration: r.d.metadata.generation,
    replicas: sets.reduce((n, x) => n + (statusOf(x).replicas ?? 0), 0),
    updatedReplicas: rs ? (statusOf(rs).replicas ?? 0) : 0,
    readyReplicas: sets.reduce((n, x) => n + (statusOf(x).readyReplicas ?? 0), 0),
    availableReplicas: available,
    unavailableReplicas: unavailable,
  };
  const status: DeploymentStatus = {};
  for (const [k, v] of Object.entries(counts) as [keyof DeploymentStatus, number | undefined][]) if (v) (status as Record<string, number>)[k] = v;
  status.conditions = structuredClone(r.status.conditions ?? []);
  if (r.status.collisionCount !== undefined) status.collisionCount = r.status.collisionCount;
  if (available >= replicasOf(r.d) - maxUnavailable(r.d)) {
    setCondition(status, condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'));
  } else {
    setCondition(status, condition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'));
  }
  return status;
}

export function deploymentComplete(d: KubeObject, status: DeploymentStatus): boolean {
  const wanted = replicasOf(d);
  return (
    (status.updatedReplicas ?? 0) === wanted &&
    (status.replicas ?? 0) === wanted &&
    (status.availableReplicas ?? 0) === wanted &&
    (status.observedGeneration ?? 0) >= (d.metadata.generation ?? 0)
  );
}

/** Progressing Unknown while paused (DeploymentPaused), and once on resume (DeploymentResumed). */
export function checkPausedConditions(r: Rollout): void {
  if (!hasProgressDeadline(r.spec)) return;
  const current = findCondition(r.status, 'Progressing');
  if (current?.reason === 'ProgressDeadlineExceeded') return;
  const pausedShown = current?.reason === 'DeploymentPaused';
  if (r.spec.paused && !pausedShown) setCondition(r.status, condition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused'));
  else if (!r.spec.paused && pausedShown) setCondition(r.status, condition('Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed'));
}

/** Writes status plus the Progressing condition, as a rollout sees it; with no visible progress, looks again at the deadline. */
export function syncRolloutStatus(client: DeploymentClient, r: Rollout): void {
  const next = calculateStatus(r);
  if (hasProgressDeadline(r.spec)) updateProgressing(r, next);
  else removeCondition(next, 'Progressing');
  const failure = replicaFailure(r);
  if (failure) setCondition(next, condition('ReplicaFailure', failure.status, failure.reason ?? '', failure.message ?? ''));
  else removeCondition(next, 'ReplicaFailure');
  if (client.writeStatus(r, next)) return;
  const delay = stuckRecheckDelay(r, next);
  if (delay !== undefined) client.recheckAfter(r, delay);
}

/** Progressing: NewReplicaSetAvailable once complete, ReplicaSetUpdated on progress, ProgressDeadlineExceeded on timeout. */
function updateProgressing(r: Rollout, next: DeploymentStatus): void {
  const rs = newSet(r);
  const what = rs ? `ReplicaSet "${rs.metadata.name}"` : `Deployment "${r.d.metadata.name}"`;
  const current = findCondition(next, 'Progressing');
  if (next.replicas === next.updatedReplicas && current?.reason === 'NewReplicaSetAvailable') return;
  if (deploymentComplete(r.d, next)) {
    setCondition(next, condition('Progressing', 'True', 'NewReplicaSetAvailable', `${what} has successfully progressed.`));
  } else if (deploymentProgressing(r.stored, next)) {
    // Progress refreshes lastUpdateTime even with an unchanged reason; the transition time stays.
    const progressing = condition('Progressing', 'True', 'ReplicaSetUpdated', `${what} is progressing.`);
    if (current?.status === 'True') progressing.lastTransitionTime = current.lastTransitionTime!;
    removeCondition(next, 'Progressing');
    setCondition(next, progressing);
  } else if (timedOut(r.spec, next)) {
    setCondition(next, condition('Progressing', 'False', 'ProgressDeadlineExceeded', `${what} has timed out progressing.`));
  }
}

/** More updated, fewer old, more ready or more available pods than the stored status says. */
function deploymentProgressing(old: DeploymentStatus, next: DeploymentStatus): boolean {
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (next.replicas ?? 0) - (next.updatedReplicas ?? 0);
  return (
    (next.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (next.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (next.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

function timedOut(spec: StoredDeploymentSpec, status: DeploymentStatus): boolean {
  const current = findCondition(status, 'Progressing');
  if (!current || current.reason === 'NewReplicaSetAvailable') return false;
  if (current.reason === 'ProgressDeadlineExceeded') return true;
  const from = Date.parse(current.lastUpdateTime ?? '');
  return !Number.isNaN(from) && from + (spec.progressDeadlineSeconds ?? 600) * 1000 < Date.now();
}

/** When a rollout without visible progress should be looked at again: once its progress deadline has passed. */
function stuckRecheckDelay(r: Rollout, status: DeploymentStatus): number | undefined {
  const current = findCondition(status, 'Progressing');
  if (!hasProgressDeadline(r.spec) || !current || deploymentComplete(r.d, status) || current.reason === 'ProgressDeadlineExceeded') return undefined;
  const deadline = Date.parse(current.lastUpdateTime ?? '') + (r.spec.progressDeadlineSeconds ?? 600) * 1000;
  if (Number.isNaN(deadline)) return undefined;
  return Math.max(deadline - Date.now(), 0) + 1000;
}

/** A ReplicaFailure the new ReplicaSet (else any) reports. */
function replicaFailure(r: Rollout): Condition | undefined {
  const rs = newSet(r);
  const ordered = rs ? [rs, ...oldSets(r)] : r.replicaSets;
  for (const x of ordered) {
    const found = (statusOf(x).conditions ?? []).find((c) => c.type === 'ReplicaFailure');
    if (found) return found;
  }
  return undefined;
}
