// The store reads and writes a Deployment sync makes. Writes carry the object's uid as a
// precondition (a namesake created meanwhile is left alone) and keep the Rollout's view current.
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../../api/meta.ts';
import type { Logger } from '../../../lib/logger.ts';
import type { GenericStore } from '../../registry/generic-store.ts';
import type { ResourceDef } from '../../registry/types.ts';
import type { LabelSelectorMatcher } from '../../../api/selectors/labels.ts';
import { appsControllerRef, claimObjects } from '../controller-ref.ts';
import { ignoreNotFound, objectKey } from '../store-controller.ts';
import type { DeploymentStatus } from '../../../api/workloads.ts';
import { DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, replicasOf, type Rollout } from './rollout.ts';
import { maxSurge } from './strategy.ts';

export interface DeploymentDefs {
  deploy: ResourceDef;
  rs: ResourceDef;
  pod: ResourceDef;
}

export class DeploymentClient {
  constructor(
    private readonly store: GenericStore,
    private readonly log: Logger,
    private readonly defs: DeploymentDefs,
    /** Syncs the Deployment again after a delay. */
    private readonly requeue: (key: string, delayMs: number) => void,
  ) {}

  /** The ReplicaSets the Deployment controls, after adopting matching orphans and releasing the rest. */
  claimReplicaSets(d: KubeObject, selector: LabelSelectorMatcher): KubeObject[] {
    const candidates = this.store.listObjects(this.defs.rs, d.metadata.namespace);
    return claimObjects(this.store, this.defs.rs, d, appsControllerRef('Deployment', d), candidates, (rs) => selector.matches(rs.metadata.labels));
  }

  getReplicaSet(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.store.tryGet(this.defs.rs, namespace, name);
  }

  podsIn(namespace: string | undefined): KubeObject[] {
    return this.store.listObjects(this.defs.pod, namespace);
  }

  /** Creates a ReplicaSet; store errors (AlreadyExists, a terminating namespace) propagate. */
  createReplicaSet(r: Rollout, rs: KubeObject): KubeObject {
    const created = this.store.create(this.defs.rs, r.d.metadata.namespace, rs);
    this.log.debug({ deployment: objectKey(r.d), replicaset: created.metadata.name }, 'created new replica set');
    return created;
  }

  /** Scales when the size differs; returns whether it did. */
  scaleTo(r: Rollout, rs: KubeObject, replicas: number): boolean {
    if (replicasOf(rs) === replicas) return false;
    this.scaleReplicaSet(r, rs, replicas);
    return true;
  }

  /** Sets spec.replicas and the desired/max-replicas annotations (which tell a later sync what size it was made for). */
  scaleReplicaSet(r: Rollout, rs: KubeObject, replicas: number): void {
    const desired = String(replicasOf(r.d));
    const max = String(replicasOf(r.d) + maxSurge(r.d));
    const annotations = rs.metadata.annotations ?? {};
    if (replicasOf(rs) === replicas && annotations[DESIRED_REPLICAS_ANNOTATION] === desired && annotations[MAX_REPLICAS_ANNOTATION] === max) return;
    this.log.debug({ deployment: objectKey(r.d), replicaset: rs.metadata.name, from: replicasOf(rs), to: replicas }, 'scaling replica set');
    this.updateReplicaSet(r, rs, (current) => {
      current.spec = { ...(current.spec as object), replicas };
      current.metadata.annotations = { ...current.metadata.annotations, [DESIRED_REPLICAS_ANNOTATION]: desired, [MAX_REPLICAS_ANNOTATION]: max };
    });
  }

  updateReplicaSet(r: Rollout, rs: KubeObject, change: (current: KubeObject) => void): void {
    const updated = this.store.guaranteedUpdate(this.defs.rs, rs.metadata.namespace, rs.metadata.name!, (current) => {
      current.metadata.uid = rs.metadata.uid!; // precondition: still the same ReplicaSet
      change(current);
      return current;
    });
    r.replicaSets = r.replicaSets.map((x) => (x.metadata.uid === updated.metadata.uid ? updated : x));
  }

  deleteReplicaSet(rs: KubeObject): void {
    ignoreNotFound(() =>
      this.store.delete(this.defs.rs, rs.metadata.namespace, rs.metadata.name!, { propagationPolicy: 'Background', preconditions: { uid: rs.metadata.uid! } }),
    );
  }

  /** Records an annotation on the Deployment (its revision); the Rollout sees the new metadata. */
  annotateDeployment(r: Rollout, key: string, value: string): void {
    const updated = this.store.guaranteedUpdate(this.defs.deploy, r.d.metadata.namespace, r.d.metadata.name!, (current) => {
      current.metadata.uid = r.d.metadata.uid!; // precondition: still the same Deployment
      current.metadata.annotations = { ...current.metadata.annotations, [key]: value };
      return current;
    });
    r.d = { ...r.d, metadata: updated.metadata };
  }

  /** Writes status when it differs from the stored one; returns whether it wrote. */
  writeStatus(r: Rollout, status: DeploymentStatus): boolean {
    if (isDeepStrictEqual(status, r.stored)) return false;
    ignoreNotFound(() =>
      this.store.guaranteedUpdate(
        this.defs.deploy,
        r.d.metadata.namespace,
        r.d.metadata.name!,
        (current) => {
          current.metadata.uid = r.d.metadata.uid!;
          current.status = status;
          return current;
        },
        { subresource: 'status' },
      ),
    );
    r.stored = status;
    return true;
  }

  /** Syncs the Deployment again after `delayMs`. */
  recheckAfter(r: Rollout, delayMs: number): void {
    this.requeue(objectKey(r.d), delayMs);
  }
}
