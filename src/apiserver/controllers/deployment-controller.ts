// apps/v1 Deployment controller, after upstream's pkg/controller/deployment: a Deployment owns
// one ReplicaSet per pod template (named <deployment>-<pod-template-hash>, the hash label added
// to its selector, template and pods), numbered by the deployment.kubernetes.io/revision
// annotation. A template change creates a new ReplicaSet and moves replicas to it, either all at
// once (Recreate: old ones to zero first, the new one up once their pods are gone) or gradually
// (RollingUpdate: never more than replicas+maxSurge pods, never fewer than
// replicas-maxUnavailable available). A scaling while a rollout is under way is shared out in
// proportion; a paused Deployment scales but does not roll. Old ReplicaSets beyond
// revisionHistoryLimit are deleted once scaled down. Status (counts and the Available and
// Progressing conditions) is computed from the ReplicaSets' status and written only on change.
//
// Rollouts progress as pods become ready: nothing runs pods inside the API server alone, so a
// node agent (or a test acting as one) must report them Running and Ready.
import { isDeepStrictEqual } from 'node:util';
import type { Condition, KubeObject, LabelSelector, OwnerReference } from '../../api/meta.ts';
import { WorkQueue } from '../../controller/work-queue.ts';
import type { Logger } from '../../lib/logger.ts';
import { StatusError } from '../errors.ts';
import { type GenericStore, nowTimestamp } from '../registry/generic-store.ts';
import type { ResourceDef } from '../registry/types.ts';
import type { StoredEvent } from '../storage/types.ts';
import {
  claimObjects,
  controllerRefOf,
  ignoreNotFound,
  objectKey,
  type PodTemplate,
  type ReplicaSetSpec,
  type ReplicaSetStatus,
  selectorOf,
  splitKey,
} from './replicaset-controller.ts';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
/** Deployment annotations that are not copied to its ReplicaSets. */
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  'deprecated.deployment.rollback.to',
]);
const REVISION_HISTORY_MAX_CHARS = 2000;
/** progressDeadlineSeconds meaning "no deadline". */
const NO_DEADLINE = 2147483647;

type IntOrString = number | string;

export interface DeploymentSpec {
  replicas?: number;
  selector?: LabelSelector;
  template?: PodTemplate;
  strategy?: { type?: string; rollingUpdate?: { maxSurge?: IntOrString; maxUnavailable?: IntOrString } };
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  paused?: boolean;
  progressDeadlineSeconds?: number;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: Condition[];
  collisionCount?: number;
}

/** One sync's view of a Deployment; upstream mutates d.Status in place, this keeps a working copy. */
interface Rollout {
  d: KubeObject;
  spec: DeploymentSpec;
  /** Status as stored: the baseline for "progress" and for "nothing changed". */
  stored: DeploymentStatus;
  /** Working status: conditions and collisionCount set along the way. */
  status: DeploymentStatus;
  /** The ReplicaSets the Deployment controls, replaced as this sync writes them. */
  replicaSets: KubeObject[];
  newUid: string | undefined;
}

export class DeploymentController {
  private readonly queue: WorkQueue;
  private readonly deployDef: ResourceDef;
  private readonly rsDef: ResourceDef;
  private readonly podDef: ResourceDef;
  private readonly prefixes: { deploy: string; rs: string; pod: string };
  /** Keys noted by storage listeners, handed to the queue once the writing call stack is done. */
  private readonly pending = new Set<string>();
  private unsubscribe: (() => void) | undefined;
  private syncs = 0;

  constructor(
    private readonly store: GenericStore,
    private readonly log: Logger,
  ) {
    this.deployDef = store.registry.lookup('apps', 'v1', 'deployments')!;
    this.rsDef = store.registry.lookup('apps', 'v1', 'replicasets')!;
    this.podDef = store.registry.lookup('', 'v1', 'pods')!;
    this.prefixes = { deploy: store.prefix(this.deployDef), rs: store.prefix(this.rsDef), pod: store.prefix(this.podDef) };
    this.queue = new WorkQueue({ onError: (key, err) => log.warn({ deployment: key, err: String(err) }, 'deployment sync failed') });
  }

  start(): void {
    this.unsubscribe = this.store.storage.subscribe((event) => this.observe(event));
    for (const d of this.store.listObjects(this.deployDef)) this.queue.add(objectKey(d));
    this.queue.run((key) => this.sync(key));
  }

  stop(): void {
    this.unsubscribe?.();
    this.queue.shutdown();
  }

  idle(): Promise<void> {
    this.flush();
    return this.queue.idle();
  }

  syncCount(): number {
    return this.syncs;
  }

  // ---- events ----------------------------------------------------------------------------

  /**
   * Listeners only note keys. A sync started inside a storage listener would write while the
   * store is still handing out the event that caused it, so the remaining listeners (watches)
   * would see the newer event first.
   */
  private enqueue(key: string): void {
    if (this.pending.size === 0) queueMicrotask(() => this.flush());
    this.pending.add(key);
  }

  private flush(): void {
    const keys = [...this.pending];
    this.pending.clear();
    for (const key of keys) this.queue.add(key);
  }

  private observe(event: StoredEvent): void {
    const prev = event.type === 'MODIFIED' && event.prev !== undefined ? (JSON.parse(event.prev) as KubeObject) : undefined;
    if (event.key.startsWith(this.prefixes.deploy)) this.enqueue(objectKey(JSON.parse(event.value) as KubeObject));
    else if (event.key.startsWith(this.prefixes.rs)) this.replicaSetChanged(JSON.parse(event.value) as KubeObject, prev, event.type === 'DELETED');
    else if (event.key.startsWith(this.prefixes.pod)) this.podChanged(JSON.parse(event.value) as KubeObject, prev, event.type === 'DELETED');
  }

  /** Wakes the controlling Deployment (before and after), or those that could adopt an orphan. */
  private replicaSetChanged(rs: KubeObject, prev: KubeObject | undefined, deleted: boolean): void {
    const ns = rs.metadata.namespace!;
    const ref = controllerRefOf(rs, 'Deployment');
    const prevRef = prev && controllerRefOf(prev, 'Deployment');
    if (ref) this.enqueue(`${ns}/${ref.name}`);
    if (prevRef && prevRef.uid !== ref?.uid) this.enqueue(`${ns}/${prevRef.name}`);
    if (ref || deleted || controllerRefOf(rs)) return;
    for (const d of this.store.listObjects(this.deployDef, ns)) {
      if (selectorOf((d.spec as DeploymentSpec).selector).matches(rs.metadata.labels)) this.enqueue(objectKey(d));
    }
  }

  /** Recreate waits for old pods to stop: a pod that goes away or changes phase wakes its Deployment. */
  private podChanged(pod: KubeObject, prev: KubeObject | undefined, deleted: boolean): void {
    if (!deleted && (!prev || phaseOf(pod) === phaseOf(prev))) return;
    const ref = controllerRefOf(pod, 'ReplicaSet');
    if (!ref) return;
    const rs = this.store.tryGet(this.rsDef, pod.metadata.namespace, ref.name);
    const owner = rs && rs.metadata.uid === ref.uid ? controllerRefOf(rs, 'Deployment') : undefined;
    if (owner) this.enqueue(`${pod.metadata.namespace}/${owner.name}`);
  }

  // ---- sync ------------------------------------------------------------------------------

  private sync(key: string): void {
    this.syncs++;
    const [namespace, name] = splitKey(key);
    const d = this.store.tryGet(this.deployDef, namespace, name);
    if (!d) return;
    const spec = (d.spec ?? {}) as DeploymentSpec;
    const selector = selectorOf(spec.selector);
    if (selector.empty) return; // would select every pod; validation refuses it anyway
    const stored = (d.status ?? {}) as DeploymentStatus;
    const replicaSets = claimObjects(this.store, this.rsDef, d, deploymentRef(d), this.store.listObjects(this.rsDef, namespace), (rs) =>
      selector.matches(rs.metadata.labels),
    );
    const rollout: Rollout = { d, spec, stored, status: structuredClone(stored), replicaSets, newUid: undefined };
    if (d.metadata.deletionTimestamp) return this.syncStatusOnly(rollout);
    this.checkPausedConditions(rollout);
    if (spec.paused || this.isScalingEvent(rollout)) return this.syncScaling(rollout);
    if (spec.strategy?.type === 'Recreate') return this.rolloutRecreate(rollout);
    return this.rolloutRolling(rollout);
  }

  private syncStatusOnly(r: Rollout): void {
    r.newUid = findNewReplicaSet(r)?.metadata.uid;
    this.writeStatus(r, calculateStatus(r));
  }

  /** A replica count differs from what the active ReplicaSets were sized for. */
  private isScalingEvent(r: Rollout): boolean {
    this.syncRevision(r, false);
    return activeSets(r.replicaSets).some((rs) => {
      const desired = rs.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION];
      return desired !== undefined && Number(desired) !== replicasOf(r.d);
    });
  }

  /** Scales without rolling (paused, or a scaling event), then reports status. */
  private syncScaling(r: Rollout): void {
    this.syncRevision(r, false);
    this.scale(r);
    if (r.spec.paused) this.cleanup(r);
    this.writeStatus(r, calculateStatus(r));
  }

  private rolloutRolling(r: Rollout): void {
    this.syncRevision(r, true);
    if (this.reconcileNewReplicaSet(r) || this.reconcileOldReplicaSets(r)) return this.syncRolloutStatus(r);
    if (deploymentComplete(r.d, r.stored)) this.cleanup(r);
    this.syncRolloutStatus(r);
  }

  private rolloutRecreate(r: Rollout): void {
    this.syncRevision(r, false);
    let scaledDown = false;
    for (const rs of activeSets(oldSets(r))) scaledDown = this.scaleTo(r, rs, 0) || scaledDown;
    if (scaledDown || this.oldPodsRunning(r)) return this.syncRolloutStatus(r);
    if (!newSet(r)) this.syncRevision(r, true);
    const created = newSet(r);
    if (created) this.scaleTo(r, created, replicasOf(r.d));
    if (deploymentComplete(r.d, r.stored)) this.cleanup(r);
    this.syncRolloutStatus(r);
  }

  /** Recreate: old ReplicaSets still report replicas, or some of their pods have not finished. */
  private oldPodsRunning(r: Rollout): boolean {
    const old = oldSets(r);
    if (old.some((rs) => (statusOf(rs).replicas ?? 0) > 0)) return true;
    const oldUids = new Set(old.map((rs) => rs.metadata.uid));
    return this.store
      .listObjects(this.podDef, r.d.metadata.namespace)
      .some((pod) => oldUids.has(controllerRefOf(pod)?.uid) && phaseOf(pod) !== 'Succeeded' && phaseOf(pod) !== 'Failed');
  }

  // ---- the new ReplicaSet and revisions --------------------------------------------------

  /**
   * Finds the ReplicaSet running the current template (creating it when `create`), gives it the
   * next revision if it was an old one, and records that revision on the Deployment.
   */
  private syncRevision(r: Rollout, create: boolean): void {
    const existing = findNewReplicaSet(r);
    r.newUid = existing?.metadata.uid;
    const newRevision = String(maxRevision(r.replicaSets.filter((rs) => rs !== existing)) + 1);
    if (existing) {
      this.refreshNewReplicaSet(r, existing, newRevision);
      if (hasProgressDeadline(r.spec) && !findCondition(r.status, 'Progressing')) {
        setCondition(r.status, condition('Progressing', 'True', 'FoundNewReplicaSet', `Found new replica set "${existing.metadata.name}"`));
      }
    } else if (create) {
      this.createNewReplicaSet(r, newRevision);
    } else {
      return;
    }
    const revision = newSet(r)?.metadata.annotations?.[REVISION_ANNOTATION];
    if (revision !== undefined) this.setDeploymentRevision(r, revision);
  }

  private refreshNewReplicaSet(r: Rollout, rs: KubeObject, newRevision: string): void {
    const next = structuredClone(rs);
    const annotationsChanged = setNewReplicaSetAnnotations(r, next, newRevision, true);
    const minReadySeconds = r.spec.minReadySeconds ?? 0;
    const minReadyChanged = ((rs.spec as ReplicaSetSpec).minReadySeconds ?? 0) !== minReadySeconds;
    if (!annotationsChanged && !minReadyChanged) return;
    this.updateReplicaSet(r, rs, (current) => {
      current.metadata.annotations = next.metadata.annotations!;
      current.spec = { ...(current.spec as object), minReadySeconds };
    });
  }

  private createNewReplicaSet(r: Rollout, newRevision: string): void {
    const rs = newReplicaSetFor(r);
    (rs.spec as ReplicaSetSpec).replicas = newReplicaSetReplicas(r, [...r.replicaSets, rs], rs);
    setNewReplicaSetAnnotations(r, rs, newRevision, false);
    let created: KubeObject;
    try {
      created = this.store.create(this.rsDef, r.d.metadata.namespace, rs);
    } catch (err) {
      // A terminating namespace refuses new content; the Deployment itself is about to go.
      if (err instanceof StatusError && err.code === 403 && /being terminated/.test(err.message)) return;
      if (!(err instanceof StatusError && err.reason === 'AlreadyExists')) throw err;
      created = this.adoptExisting(r, rs.metadata.name!, err);
      r.replicaSets.push(created);
      r.newUid = created.metadata.uid;
      return;
    }
    this.log.debug({ deployment: objectKey(r.d), replicaset: created.metadata.name }, 'created new replica set');
    r.replicaSets.push(created);
    r.newUid = created.metadata.uid;
    if (hasProgressDeadline(r.spec)) {
      setCondition(r.status, condition('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${created.metadata.name}"`));
    }
  }

  /**
   * The hashed name is taken. Ours with the same template (a previous sync created it): use it.
   * Anything else is a hash collision: bump status.collisionCount so the next hash differs.
   */
  private adoptExisting(r: Rollout, name: string, err: StatusError): KubeObject {
    const existing = this.store.tryGet(this.rsDef, r.d.metadata.namespace, name);
    const template = (existing?.spec as ReplicaSetSpec | undefined)?.template;
    if (existing && controllerRefOf(existing)?.uid === r.d.metadata.uid && equalIgnoreHash(template, r.spec.template)) return existing;
    r.status.collisionCount = (r.status.collisionCount ?? 0) + 1;
    this.writeStatus(r, { ...r.stored, collisionCount: r.status.collisionCount });
    throw err;
  }

  private setDeploymentRevision(r: Rollout, revision: string): void {
    if (r.d.metadata.annotations?.[REVISION_ANNOTATION] === revision) return;
    const updated = this.store.guaranteedUpdate(this.deployDef, r.d.metadata.namespace, r.d.metadata.name!, (current) => {
      current.metadata.uid = r.d.metadata.uid!; // precondition: still the same Deployment
      current.metadata.annotations = { ...current.metadata.annotations, [REVISION_ANNOTATION]: revision };
      return current;
    });
    r.d = { ...r.d, metadata: updated.metadata };
  }

  // ---- scaling ---------------------------------------------------------------------------

  /** RollingUpdate: scale the new ReplicaSet toward replicas, within replicas+maxSurge pods. */
  private reconcileNewReplicaSet(r: Rollout): boolean {
    const rs = newSet(r);
    if (!rs) return false;
    const wanted = replicasOf(r.d);
    if (replicasOf(rs) === wanted) return false;
    if (replicasOf(rs) > wanted) return this.scaleTo(r, rs, wanted);
    return this.scaleTo(r, rs, newReplicaSetReplicas(r, r.replicaSets, rs));
  }

  /** RollingUpdate: scale old ReplicaSets down, never below replicas-maxUnavailable available. */
  private reconcileOldReplicaSets(r: Rollout): boolean {
    const rs = newSet(r);
    const old = activeSets(oldSets(r));
    if (!rs || sumSpec(old) === 0) return false;
    const minAvailable = replicasOf(r.d) - maxUnavailable(r.d);
    const newUnavailable = replicasOf(rs) - (statusOf(rs).availableReplicas ?? 0);
    const maxScaledDown = sumSpec(r.replicaSets) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    // Unhealthy old replicas go first: they cost no availability, and would block the rollout.
    const cleaned = this.scaleDownUnhealthy(r, maxScaledDown);
    const scaled = this.scaleDownForRollingUpdate(r, minAvailable);
    return cleaned + scaled > 0;
  }

  private scaleDownUnhealthy(r: Rollout, maxCleanup: number): number {
    let total = 0;
    for (const rs of byCreation(activeSets(oldSets(r)))) {
      if (total >= maxCleanup) break;
      const unhealthy = replicasOf(rs) - availableOf(rs);
      if (unhealthy <= 0) continue;
      const count = Math.min(maxCleanup - total, unhealthy);
      this.scaleTo(r, rs, replicasOf(rs) - count);
      total += count;
    }
    return total;
  }

  private scaleDownForRollingUpdate(r: Rollout, minAvailable: number): number {
    const available = r.replicaSets.reduce((n, rs) => n + availableOf(rs), 0);
    if (available <= minAvailable) return 0;
    const wanted = available - minAvailable;
    let total = 0;
    for (const rs of byCreation(activeSets(oldSets(r)))) {
      if (total >= wanted) break;
      const count = Math.min(replicasOf(rs), wanted - total);
      this.scaleTo(r, rs, replicasOf(rs) - count);
      total += count;
    }
    return total;
  }

  /** Scaling without a rollout: one active ReplicaSet takes it all; several share it in proportion. */
  private scale(r: Rollout): void {
    const wanted = replicasOf(r.d);
    const only = activeOrLatest(r);
    if (only) {
      this.scaleTo(r, only, wanted);
      return;
    }
    const rs = newSet(r);
    if (rs && isSaturated(r.d, rs)) {
      for (const old of activeSets(oldSets(r))) this.scaleTo(r, old, 0);
      return;
    }
    if (isRollingUpdate(r.spec)) this.scaleProportionally(r);
  }

  /** Upstream's proportional scaling: the replicas to add (or remove) go to each active ReplicaSet by its share. */
  private scaleProportionally(r: Rollout): void {
    const wanted = replicasOf(r.d);
    const active = activeSets(r.replicaSets);
    const allowed = wanted > 0 ? wanted + maxSurge(r.d) : 0;
    const toAdd = allowed - sumSpec(active);
    const ordered = toAdd > 0 ? [...active].sort(bySizeNewerFirst) : toAdd < 0 ? [...active].sort(bySizeOlderFirst) : active;
    const sizes = new Map<string, number>();
    let added = 0;
    for (const rs of ordered) {
      const share = toAdd === 0 ? 0 : proportion(r, rs, toAdd, added);
      sizes.set(rs.metadata.uid!, replicasOf(rs) + share);
      added += share;
    }
    ordered.forEach((rs, i) => {
      let size = sizes.get(rs.metadata.uid!)!;
      // Rounding leftovers go to the largest ReplicaSet.
      if (i === 0 && toAdd !== 0) size = Math.max(0, size + toAdd - added);
      this.scaleReplicaSet(r, rs, size);
    });
  }

  /** Scales when the size differs; returns whether it did. */
  private scaleTo(r: Rollout, rs: KubeObject, replicas: number): boolean {
    if (replicasOf(rs) === replicas) return false;
    this.scaleReplicaSet(r, rs, replicas);
    return true;
  }

  /** Sets spec.replicas and the desired/max-replicas annotations (which tell a later sync what size it was made for). */
  private scaleReplicaSet(r: Rollout, rs: KubeObject, replicas: number): void {
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

  private updateReplicaSet(r: Rollout, rs: KubeObject, change: (current: KubeObject) => void): void {
    const updated = this.store.guaranteedUpdate(this.rsDef, rs.metadata.namespace, rs.metadata.name!, (current) => {
      current.metadata.uid = rs.metadata.uid!; // precondition: still the same ReplicaSet
      change(current);
      return current;
    });
    r.replicaSets = r.replicaSets.map((x) => (x.metadata.uid === updated.metadata.uid ? updated : x));
  }

  /** Deletes the oldest fully scaled-down ReplicaSets beyond revisionHistoryLimit. */
  private cleanup(r: Rollout): void {
    const limit = r.spec.revisionHistoryLimit;
    if (limit === undefined) return;
    const cleanable = oldSets(r).filter((rs) => !rs.metadata.deletionTimestamp);
    const surplus = cleanable.length - limit;
    if (surplus <= 0) return;
    for (const rs of [...cleanable].sort(byRevision).slice(0, surplus)) {
      const settled = (statusOf(rs).observedGeneration ?? 0) >= (rs.metadata.generation ?? 0);
      if ((statusOf(rs).replicas ?? 0) !== 0 || replicasOf(rs) !== 0 || !settled) continue;
      ignoreNotFound(() =>
        this.store.delete(this.rsDef, rs.metadata.namespace, rs.metadata.name!, { propagationPolicy: 'Background', preconditions: { uid: rs.metadata.uid! } }),
      );
    }
  }

  // ---- status ----------------------------------------------------------------------------

  /** Progressing Unknown while paused (DeploymentPaused), and once on resume (DeploymentResumed). */
  private checkPausedConditions(r: Rollout): void {
    if (!hasProgressDeadline(r.spec)) return;
    const current = findCondition(r.status, 'Progressing');
    if (current?.reason === 'ProgressDeadlineExceeded') return;
    const pausedShown = current?.reason === 'DeploymentPaused';
    if (r.spec.paused && !pausedShown) setCondition(r.status, condition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused'));
    else if (!r.spec.paused && pausedShown) setCondition(r.status, condition('Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed'));
  }

  /** Status plus the Progressing condition, as a rollout sees it. */
  private syncRolloutStatus(r: Rollout): void {
    const next = calculateStatus(r);
    const rs = newSet(r);
    const what = rs ? `ReplicaSet "${rs.metadata.name}"` : `Deployment "${r.d.metadata.name}"`;
    if (!hasProgressDeadline(r.spec)) removeCondition(next, 'Progressing');
    const current = findCondition(next, 'Progressing');
    const complete = next.replicas === next.updatedReplicas && current?.reason === 'NewReplicaSetAvailable';
    if (hasProgressDeadline(r.spec) && !complete) {
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
    const failure = replicaFailure(r);
    if (failure) setCondition(next, condition('ReplicaFailure', failure.status, failure.reason ?? '', failure.message ?? ''));
    else removeCondition(next, 'ReplicaFailure');
    if (!this.writeStatus(r, next)) this.requeueStuck(r, next);
  }

  /** No visible progress: look again when the progress deadline passes. */
  private requeueStuck(r: Rollout, status: DeploymentStatus): void {
    const current = findCondition(status, 'Progressing');
    if (!hasProgressDeadline(r.spec) || !current || deploymentComplete(r.d, status) || current.reason === 'ProgressDeadlineExceeded') return;
    const deadline = Date.parse(current.lastUpdateTime ?? '') + (r.spec.progressDeadlineSeconds ?? 600) * 1000;
    if (Number.isNaN(deadline)) return;
    this.queue.addAfter(objectKey(r.d), Math.max(deadline - Date.now(), 0) + 1000);
  }

  /** Writes status when it differs from the stored one; returns whether it wrote. */
  private writeStatus(r: Rollout, status: DeploymentStatus): boolean {
    if (isDeepStrictEqual(status, r.stored)) return false;
    ignoreNotFound(() =>
      this.store.guaranteedUpdate(
        this.deployDef,
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
}

// ---- ReplicaSet selection ------------------------------------------------------------------

function newSet(r: Rollout): KubeObject | undefined {
  return r.newUid === undefined ? undefined : r.replicaSets.find((rs) => rs.metadata.uid === r.newUid);
}

function oldSets(r: Rollout): KubeObject[] {
  return r.replicaSets.filter((rs) => rs.metadata.uid !== r.newUid);
}

/** The oldest owned ReplicaSet whose template is the Deployment's (ignoring the hash label). */
function findNewReplicaSet(r: Rollout): KubeObject | undefined {
  return byCreation(r.replicaSets).find((rs) => equalIgnoreHash((rs.spec as ReplicaSetSpec).template, r.spec.template));
}

function activeSets(sets: KubeObject[]): KubeObject[] {
  return sets.filter((rs) => replicasOf(rs) > 0);
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

function newReplicaSetFor(r: Rollout): KubeObject {
  const hash = podTemplateHash(r.spec.template ?? {}, r.status.collisionCount);
  const template = structuredClone(r.spec.template ?? {});
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
      ownerReferences: [deploymentRef(r.d)],
    },
    spec: { replicas: 0, minReadySeconds: r.spec.minReadySeconds ?? 0, selector, template },
  };
}

/** RollingUpdate: how far the new ReplicaSet may grow now; Recreate: all the way. */
function newReplicaSetReplicas(r: Rollout, all: KubeObject[], rs: KubeObject): number {
  const wanted = replicasOf(r.d);
  if (!isRollingUpdate(r.spec)) return wanted;
  const maxTotal = wanted + maxSurge(r.d);
  const current = sumSpec(all);
  if (current >= maxTotal) return replicasOf(rs);
  return replicasOf(rs) + Math.min(maxTotal - current, wanted - replicasOf(rs));
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

// ---- annotations and revisions -------------------------------------------------------------

/**
 * Copies the Deployment's annotations, raises the revision (remembering the one it replaces in
 * revision-history when an old ReplicaSet comes back) and, for a new ReplicaSet, records the
 * sizes it is made for. Returns whether anything changed.
 */
function setNewReplicaSetAnnotations(r: Rollout, rs: KubeObject, newRevision: string, exists: boolean): boolean {
  const annotations = { ...rs.metadata.annotations };
  let changed = false;
  for (const [k, v] of Object.entries(r.d.metadata.annotations ?? {})) {
    if (NOT_COPIED.has(k) || annotations[k] === v) continue;
    annotations[k] = v;
    changed = true;
  }
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

function appendHistory(history: string | undefined, revision: string): string {
  const entries = history ? history.split(',') : [];
  entries.push(revision);
  while (entries.join(',').length > REVISION_HISTORY_MAX_CHARS && entries.length > 1) entries.shift();
  return entries.join(',');
}

function maxRevision(sets: KubeObject[]): number {
  return sets.reduce((max, rs) => Math.max(max, revisionOf(rs)), 0);
}

function revisionOf(rs: KubeObject): number {
  const n = Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? 0);
  return Number.isInteger(n) ? n : 0;
}

// ---- status computations -------------------------------------------------------------------

/** Counts from the ReplicaSets' status, plus the Available condition; zeros are omitted like omitempty. */
function calculateStatus(r: Rollout): DeploymentStatus {
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

function deploymentComplete(d: KubeObject, status: DeploymentStatus): boolean {
  const wanted = replicasOf(d);
  return (
    (status.updatedReplicas ?? 0) === wanted &&
    (status.replicas ?? 0) === wanted &&
    (status.availableReplicas ?? 0) === wanted &&
    (status.observedGeneration ?? 0) >= (d.metadata.generation ?? 0)
  );
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

function timedOut(spec: DeploymentSpec, status: DeploymentStatus): boolean {
  const current = findCondition(status, 'Progressing');
  if (!current || current.reason === 'NewReplicaSetAvailable') return false;
  if (current.reason === 'ProgressDeadlineExceeded') return true;
  const from = Date.parse(current.lastUpdateTime ?? '');
  return !Number.isNaN(from) && from + (spec.progressDeadlineSeconds ?? 600) * 1000 < Date.now();
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

function hasProgressDeadline(spec: DeploymentSpec): boolean {
  return spec.progressDeadlineSeconds !== undefined && spec.progressDeadlineSeconds !== NO_DEADLINE;
}

// ---- conditions ----------------------------------------------------------------------------

function condition(type: string, status: Condition['status'], reason: string, message: string): Condition {
  const now = nowTimestamp();
  return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}

function findCondition(status: DeploymentStatus, type: string): Condition | undefined {
  return (status.conditions ?? []).find((c) => c.type === type);
}

/** Upstream's SetDeploymentCondition: same status and reason is no change; same status keeps the transition time. */
function setCondition(status: DeploymentStatus, next: Condition): void {
  const current = findCondition(status, next.type);
  if (current && current.status === next.status && current.reason === next.reason) return;
  if (current && current.status === next.status) next.lastTransitionTime = current.lastTransitionTime!;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== next.type), next];
}

function removeCondition(status: DeploymentStatus, type: string): void {
  if (!status.conditions) return;
  status.conditions = status.conditions.filter((c) => c.type !== type);
}

// ---- strategy arithmetic -------------------------------------------------------------------

function isRollingUpdate(spec: DeploymentSpec): boolean {
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

function maxSurge(d: KubeObject): number {
  const spec = (d.spec ?? {}) as DeploymentSpec;
  if (!isRollingUpdate(spec)) return 0;
  const rolling = spec.strategy?.rollingUpdate;
  return resolveFenceposts(rolling?.maxSurge, rolling?.maxUnavailable, replicasOf(d))[0];
}

function maxUnavailable(d: KubeObject): number {
  const spec = (d.spec ?? {}) as DeploymentSpec;
  const wanted = replicasOf(d);
  if (!isRollingUpdate(spec) || wanted === 0) return 0;
  const rolling = spec.strategy?.rollingUpdate;
  return Math.min(resolveFenceposts(rolling?.maxSurge, rolling?.maxUnavailable, wanted)[1], wanted);
}

// ---- hashing -------------------------------------------------------------------------------

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * A short, stable name for a pod template: fnv-1a (32 bit) over its canonical JSON (plus the
 * collision count), the decimal digits mapped through upstream's "safe" alphabet (no vowels, so
 * no words), as rand.SafeEncodeString does. At most 10 characters.
 */
export function podTemplateHash(template: PodTemplate, collisionCount?: number): string {
  let text = canonicalJson(withoutHashLabel(template));
  if (collisionCount !== undefined) text += `#${collisionCount}`;
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return [...String(hash)].map((c) => SAFE_ALPHABET[c.charCodeAt(0) % SAFE_ALPHABET.length]).join('');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The template as upstream compares it: without the pod-template-hash label, and with null, empty
 * maps and empty lists dropped. Go decodes those to the same struct as an absent field, and
 * clients send them (`kubectl rollout undo` writes creationTimestamp: null and resources: {}).
 */
function withoutHashLabel(template: PodTemplate | undefined): PodTemplate {
  const copy = structuredClone(template ?? {});
  delete copy.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL];
  return withoutEmpty(copy) ?? {};
}

function withoutEmpty(value: unknown): unknown {
  if (value === null) return undefined;
  if (Array.isArray(value)) {
    const items = value.map((v) => withoutEmpty(v) ?? {});
    return items.length > 0 ? items : undefined;
  }
  if (typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const kept = withoutEmpty(v);
    if (kept !== undefined) out[k] = kept;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function equalIgnoreHash(a: PodTemplate | undefined, b: PodTemplate | undefined): boolean {
  return isDeepStrictEqual(withoutHashLabel(a), withoutHashLabel(b));
}

// ---- small helpers -------------------------------------------------------------------------

function deploymentRef(d: KubeObject): OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name!, uid: d.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

function replicasOf(obj: KubeObject): number {
  return (obj.spec as { replicas?: number } | undefined)?.replicas ?? 1;
}

function statusOf(rs: KubeObject): ReplicaSetStatus {
  return rs.status ?? {};
}

/** Available pods, never more than the ReplicaSet is sized for (its status lags a scale-down). */
function availableOf(rs: KubeObject): number {
  return Math.min(statusOf(rs).availableReplicas ?? 0, replicasOf(rs));
}

function sumSpec(sets: KubeObject[]): number {
  return sets.reduce((n, rs) => n + replicasOf(rs), 0);
}

function phaseOf(pod: KubeObject): string | undefined {
  return (pod.status as { phase?: string } | undefined)?.phase;
}

/** Oldest first; the same second is ordered by name, as upstream does. */
function byCreation(sets: KubeObject[]): KubeObject[] {
  return [...sets].sort(compareCreation);
}

function compareCreation(a: KubeObject, b: KubeObject): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
}

function bySizeNewerFirst(a: KubeObject, b: KubeObject): number {
  return replicasOf(b) - replicasOf(a) || compareCreation(b, a);
}

function bySizeOlderFirst(a: KubeObject, b: KubeObject): number {
  return replicasOf(b) - replicasOf(a) || compareCreation(a, b);
}

function byRevision(a: KubeObject, b: KubeObject): number {
  return revisionOf(a) - revisionOf(b) || compareCreation(a, b);
}

/** Go's math.Round: halves away from zero. */
function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}
