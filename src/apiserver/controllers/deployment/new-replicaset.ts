// The new ReplicaSet: the one running the Deployment's current template, named
// <deployment>-<pod-template-hash>. Found (or created), given the next revision, and that revision
// recorded on the Deployment.
import type { KubeObject } from '../../../api/meta.ts';
import { StatusError } from '../../errors.ts';
import { appsControllerRef, controllerRefOf } from '../controller-ref.ts';
import { isNamespaceTerminating } from '../store-controller.ts';
import type { ReplicaSetSpec } from '../../../api/workloads.ts';
import type { DeploymentClient } from './client.ts';
import { condition, findCondition, hasProgressDeadline, setCondition } from './conditions.ts';
import { maxRevision, REVISION_ANNOTATION, setNewReplicaSetAnnotations } from './history.ts';
import { byCreation, newSet, replicasOf, type Rollout, sumSpec } from './rollout.ts';
import { isRollingUpdate, maxSurge } from './strategy.ts';
import { equalIgnoreHash, POD_TEMPLATE_HASH_LABEL, type PodTemplate, podTemplateHash } from './template-hash.ts';

/** The oldest owned ReplicaSet whose template is the Deployment's (ignoring the hash label). */
export function findNewReplicaSet(r: Rollout): KubeObject | undefined {
  return byCreation(r.replicaSets).find((rs) => equalIgnoreHash((rs.spec as ReplicaSetSpec).template, r.spec.template));
}

/**
 * Finds the ReplicaSet running the current template (creating it when `create`), gives it the
 * next revision if it was an old one, and records that revision on the Deployment.
 */
export function syncRevision(client: DeploymentClient, r: Rollout, create: boolean): void {
  const existing = findNewReplicaSet(r);
  r.newUid = existing?.metadata.uid;
  const newRevision = String(maxRevision(r.replicaSets.filter((rs) => rs !== existing)) + 1);
  if (existing) {
    refreshNewReplicaSet(client, r, existing, newRevision);
    if (hasProgressDeadline(r.spec) && !findCondition(r.status, 'Progressing')) {
      setCondition(r.status, condition('Progressing', 'True', 'FoundNewReplicaSet', `Found new replica set "${existing.metadata.name}"`));
    }
  } else if (create) {
    createNewReplicaSet(client, r, newRevision);
  } else {
    return;
  }
  const revision = newSet(r)?.metadata.annotations?.[REVISION_ANNOTATION];
  if (revision !== undefined && r.d.metadata.annotations?.[REVISION_ANNOTATION] !== revision) client.annotateDeployment(r, REVISION_ANNOTATION, revision);
}

/** Brings an existing new ReplicaSet's annotations (revision included) and minReadySeconds up to date. */
function refreshNewReplicaSet(client: DeploymentClient, r: Rollout, rs: KubeObject, newRevision: string): void {
  const next = structuredClone(rs);
  const annotationsChanged = setNewReplicaSetAnnotations(r, next, newRevision, true);
  const minReadySeconds = r.spec.minReadySeconds ?? 0;
  const minReadyChanged = ((rs.spec as ReplicaSetSpec).minReadySeconds ?? 0) !== minReadySeconds;
  if (!annotationsChanged && !minReadyChanged) return;
  client.updateReplicaSet(r, rs, (current) => {
    current.metadata.annotations = next.metadata.annotations!;
    current.spec = { ...(current.spec as object), minReadySeconds };
  });
}

function createNewReplicaSet(client: DeploymentClient, r: Rollout, newRevision: string): void {
  const rs = newReplicaSetFor(r);
  (rs.spec as ReplicaSetSpec).replicas = newReplicaSetReplicas(r, [...r.replicaSets, rs], rs);
  setNewReplicaSetAnnotations(r, rs, newRevision, false);
  let created: KubeObject;
  try {
    created = client.createReplicaSet(r, rs);
  } catch (err) {
    const existing = afterFailedCreate(client, r, rs.metadata.name!, err);
    if (existing) useAsNew(r, existing);
    return;
  }
  useAsNew(r, created);
  if (hasProgressDeadline(r.spec)) {
    setCondition(r.status, condition('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${created.metadata.name}"`));
  }
}

/**
 * Creating failed. A terminating namespace refuses new content: the Deployment itself is about to
 * go (undefined). The hashed name is taken: ours with the same template (a previous sync created
 * it) is used; anything else is a hash collision, which bumps status.collisionCount so the next
 * hash differs, and fails the sync.
 */
function afterFailedCreate(client: DeploymentClient, r: Rollout, name: string, err: unknown): KubeObject | undefined {
  if (isNamespaceTerminating(err)) return undefined;
  if (!(err instanceof StatusError && err.reason === 'AlreadyExists')) throw err;
  const existing = client.getReplicaSet(r.d.metadata.namespace, name);
  const template = (existing?.spec as ReplicaSetSpec | undefined)?.template;
  if (existing && controllerRefOf(existing)?.uid === r.d.metadata.uid && equalIgnoreHash(template, r.spec.template)) return existing;
  r.status.collisionCount = (r.status.collisionCount ?? 0) + 1;
  client.writeStatus(r, { ...r.stored, collisionCount: r.status.collisionCount });
  throw err;
}

function useAsNew(r: Rollout, rs: KubeObject): void {
  r.replicaSets.push(rs);
  r.newUid = rs.metadata.uid;
}

function newReplicaSetFor(r: Rollout): KubeObject {
  const hash = podTemplateHash(r.spec.template ?? {}, r.status.collisionCount);
  const template: PodTemplate = structuredClone(r.spec.template ?? {});
  template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, [POD_TEMPLATE_HASH_LABEL]: hash } };
  const selector = structuredClone(r.spec.selector ?? {});
  selector.matchLabels = { ...selector.matchLabels, [POD_TEMPLATE_HASH_LABEL]: hash };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${r.d.metadata.name}-${hash}`,
      namespace: r.d.metadata.namespace!,
      labels: { ...template.metadata.labels },
      ownerReferences: [appsControllerRef('Deployment', r.d)],
    },
    spec: { replicas: 0, minReadySeconds: r.spec.minReadySeconds ?? 0, selector, template },
  };
}

/** RollingUpdate: how far the new ReplicaSet may grow now; Recreate: all the way. */
export function newReplicaSetReplicas(r: Rollout, all: KubeObject[], rs: KubeObject): number {
  const wanted = replicasOf(r.d);
  if (!isRollingUpdate(r.spec)) return wanted;
  const maxTotal = wanted + maxSurge(r.d);
  const current = sumSpec(all);
  if (current >= maxTotal) return replicasOf(rs);
  return replicasOf(rs) + Math.min(maxTotal - current, wanted - replicasOf(rs));
}
