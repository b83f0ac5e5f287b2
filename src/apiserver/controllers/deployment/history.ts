// Revision history: the revision annotation that numbers a Deployment's ReplicaSets (and the
// revisions an old ReplicaSet had before it came back), the annotations a ReplicaSet copies from
// its Deployment, and deleting old ReplicaSets beyond revisionHistoryLimit.
import type { KubeObject } from '../../../api/meta.ts';
import type { DeploymentClient } from './client.ts';
import { compareCreation, DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, oldSets, replicasOf, type Rollout, statusOf } from './rollout.ts';
import { maxSurge } from './strategy.ts';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
const REVISION_HISTORY_MAX_CHARS = 2000;
/** Deployment annotations that are not copied to its ReplicaSets. */
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  'deprecated.deployment.rollback.to',
]);

/**
 * Copies the Deployment's annotations, raises the revision (remembering the one it replaces in
 * revision-history when an old ReplicaSet comes back) and, for a new ReplicaSet, records the
 * sizes it is made for. Returns whether anything changed.
 */
export function setNewReplicaSetAnnotations(r: Rollout, rs: KubeObject, newRevision: string, exists: boolean): boolean {
  const annotations = { ...rs.metadata.annotations };
  let changed = copyAnnotations(r.d, annotations);
  const oldRevision = annotations[REVISION_ANNOTATION];
  const oldNumber = oldRevision === undefined ? 0 : Number(oldRevision);
  if (oldRevision !== undefined && !Number.isInteger(oldNumber)) return false;
  if (oldNumber < Number(newRevision)) {
    annotations[REVISION_ANNOTATION] = newRevision;
    changed = true;
    if (oldRevision !== undefined) annotations[REVISION_HISTORY_ANNOTATION] = appendHistory(annotations[REVISION_HISTORY_ANNOTATION], oldRevision);
  }
  if (!exists) {
    annotations[DESIRED_REPLICAS_ANNOTATION] = String(replicasOf(r.d));
    annotations[MAX_REPLICAS_ANNOTATION] = String(replicasOf(r.d) + maxSurge(r.d));
    changed = true;
  }
  rs.metadata.annotations = annotations;
  return changed;
}

/** Copies the Deployment's own annotations into `annotations`; returns whether any changed. */
function copyAnnotations(d: KubeObject, annotations: Record<string, string>): boolean {
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (NOT_COPIED.has(k) || annotations[k] === v) continue;
    annotations[k] = v;
    changed = true;
  }
  return changed;
}

function appendHistory(history: string | undefined, revision: string): string {
  const entries = history ? history.split(',') : [];
  entries.push(revision);
  while (entries.join(',').length > REVISION_HISTORY_MAX_CHARS && entries.length > 1) entries.shift();
  return entries.join(',');
}

export function maxRevision(sets: KubeObject[]): number {
  return sets.reduce((max, rs) => Math.max(max, revisionOf(rs)), 0);
}

function revisionOf(rs: KubeObject): number {
  const n = Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? 0);
  return Number.isInteger(n) ? n : 0;
}

function byRevision(a: KubeObject, b: KubeObject): number {
  return revisionOf(a) - revisionOf(b) || compareCreation(a, b);
}

/** Deletes the oldest fully scaled-down ReplicaSets beyond revisionHistoryLimit. */
export function cleanupOldReplicaSets(client: DeploymentClient, r: Rollout): void {
  const limit = r.spec.revisionHistoryLimit;
  if (limit === undefined) return;
  const cleanable = oldSets(r).filter((rs) => !rs.metadata.deletionTimestamp);
  const surplus = cleanable.length - limit;
  if (surplus <= 0) return;
  for (const rs of [...cleanable].sort(byRevision).slice(0, surplus)) {
    if (isScaledDown(rs)) client.deleteReplicaSet(rs);
  }
}

/** Sized to zero, reporting zero, and its controller has seen that size. */
function isScaledDown(rs: KubeObject): boolean {
  const settled = (statusOf(rs).observedGeneration ?? 0) >= (rs.metadata.generation ?? 0);
  return (statusOf(rs).replicas ?? 0) === 0 && replicasOf(rs) === 0 && settled;
}
