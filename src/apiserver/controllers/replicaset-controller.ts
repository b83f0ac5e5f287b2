// apps/v1 ReplicaSet controller: keeps spec.replicas live pods that match spec.selector and that
// the ReplicaSet controls (ownerReference controller: true). It adopts matching orphans, releases
// pods whose labels no longer match, creates pods from spec.template, deletes surplus pods (the
// least useful first) and replaces pods that were deleted or finished, then reports counts in
// status. Reads go straight to the store, which is always current, so unlike upstream no
// "expectations" are needed to avoid double creation.
//
// The controller runs inside the API server, so it works in bounded slices: pods are read a page
// at a time, created in Kubernetes' slow-start batches (1, 2, 4, ... so a failing template costs
// one pod, not 500), and every pod written is followed by a turn of the event loop, so requests
// (/healthz, SIGTERM) are served while a 20,000-replica ReplicaSet fills up or drains.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import type { Condition, KubeObject } from '../../api/meta.ts';
import type { Logger } from '../../lib/logger.ts';
import { type GenericStore, nowTimestamp } from '../registry/generic-store.ts';


import { appsControllerRef, claimObjects, selectorOf } from './controller-ref.ts';
import { deletionOrder, isActivePod, isPodAvailable, isPodReady, isTerminal } from './pods.ts';
import { ignoreNotFound, isNamespaceTerminating, objectKey, splitKey } from './store-controller.ts';
import { PodOwnerController } from './pod-owner-controller.ts';
import type { PodTemplateSpec, ReplicaSetSpec, ReplicaSetStatus } from '../../api/workloads.ts';

/** Most pods one sync creates or deletes; the next sync does the rest (upstream's burstReplicas). */
const BURST_REPLICAS = 500;
/** The first slow-start batch (upstream's SlowStartInitialBatchSize). */
const SLOW_START_INITIAL_BATCH = 1;

export class ReplicaSetController extends PodOwnerController {

  constructor(store: GenericStore, log: Logger) {
    super(store, log, 'replicaset', { group: 'apps', version: 'v1', plural: 'replicasets', kind: 'ReplicaSet' });
  }

  // ---- sync ------------------------------------------------------------------------------

  protected override async sync(key: string): Promise<void> {
    const [namespace, name] = splitKey(key);
    const rs = this.store.tryGet(this.ownerDef, namespace, name);
    if (!rs) return;
    const spec = (rs.spec ?? {}) as ReplicaSetSpec;
    const selector = selectorOf(spec.selector);
    const pods: KubeObject[] = [];
    for await (const page of this.store.pages(this.podDef, namespace)) pods.push(...page);
    // The ReplicaSet may have changed or gone while the pages were read.
    const current = this.store.tryGet(this.ownerDef, namespace, name);
    if (current?.metadata.resourceVersion !== rs.metadata.resourceVersion) {
      if (current) this.queue.add(key);
      return;
    }
    const owned = claimObjects(this.store, this.podDef, rs, appsControllerRef('ReplicaSet', rs), pods, (pod) => selector.matches(pod.metadata.labels));
    let active = owned.filter(isActivePod);
    let failure: ManageError | undefined;
    if (!rs.metadata.deletionTimestamp) {
      try {
        // A finished pod never runs again: make room for its replacement.
        await this.deletePods(owned.filter((p) => !p.metadata.deletionTimestamp && isTerminal(p)).slice(0, BURST_REPLICAS));
        active = await this.manageReplicas(rs, active);
      } catch (err) {
        if (!(err instanceof ManageError)) throw err;
        failure = err;
      }
    }
    this.writeStatus(rs, active, failure);
    // Thrown after the status write, so the failure is visible while the queue retries.
    if (failure) throw failure.cause;
  }

  /** Creates or deletes pods until `replicas` are active; returns the active pods afterwards. */
  private async manageReplicas(rs: KubeObject, active: KubeObject[]): Promise<KubeObject[]> {
    const wanted = (rs.spec as ReplicaSetSpec).replicas ?? 1;
    const diff = active.length - wanted;
    if (diff < 0) {
      // More remain: the next sync (a fresh turn of the queue) creates the next burst.
      if (-diff > BURST_REPLICAS) this.queue.add(objectKey(rs));
      return [...active, ...(await this.createPods(rs, Math.min(-diff, BURST_REPLICAS)))];
    }
    if (diff === 0) return active;
    if (diff > BURST_REPLICAS) this.queue.add(objectKey(rs));
    const victims = [...active].sort(deletionOrder).slice(0, Math.min(diff, BURST_REPLICAS));
    await this.deletePods(victims);
    const gone = new Set(victims.map((p) => p.metadata.uid));
    return active.filter((p) => !gone.has(p.metadata.uid));
  }

  /**
   * Upstream's slowStartBatch: batches of 1, 2, 4, ... pods; the first failure ends the sync, so a
   * template the server refuses costs one request, not `count`.
   */
  private async createPods(rs: KubeObject, count: number): Promise<KubeObject[]> {
    const created: KubeObject[] = [];
    let batch = SLOW_START_INITIAL_BATCH;
    while (created.length < count) {
      const size = Math.min(batch, count - created.length);
      for (let i = 0; i < size; i++) {
        if (this.stopped) return created;
        try {
          created.push(this.store.create(this.podDef, rs.metadata.namespace, podFromTemplate(rs)));
        } catch (err) {
          // A terminating namespace refuses new content; there is nothing to retry.
          if (isNamespaceTerminating(err)) return created;
          throw new ManageError('FailedCreate', err);
        }
        await yieldToEventLoop();
      }
      batch *= 2;
    }
    if (created.length > 0) this.log.debug({ replicaset: objectKey(rs), created: created.length }, 'created pods');
    return created;
  }

  private async deletePods(pods: KubeObject[]): Promise<void> {
    for (const pod of pods) {
      if (this.stopped) return;
      try {
        ignoreNotFound(() => this.store.delete(this.podDef, pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid! } }));
      } catch (err) {
        throw new ManageError('FailedDelete', err);
      }
      await yieldToEventLoop();
    }
  }

  /** Writes status only when it differs; re-checks when pods wait out minReadySeconds. */
  private writeStatus(rs: KubeObject, active: KubeObject[], failure: ManageError | undefined): void {
    const spec = (rs.spec ?? {}) as ReplicaSetSpec;
    const current = (rs.status ?? {}) as ReplicaSetStatus;
    const next = replicaSetStatus(rs, active, Date.now());
    const conditions = failureConditions(current.conditions ?? [], failure);
    if (conditions.length > 0) next.conditions = conditions;
    const minReady = spec.minReadySeconds ?? 0;
    if (minReady > 0 && (next.readyReplicas ?? 0) > (next.availableReplicas ?? 0)) this.queue.addAfter(objectKey(rs), minReady * 1000);
    if (isDeepStrictEqual(next, current)) return;
    ignoreNotFound(() =>
      this.store.guaranteedUpdate(
        this.ownerDef,
        rs.metadata.namespace,
        rs.metadata.name!,
        (obj) => {
          if (obj.metadata.uid !== rs.metadata.uid) return obj;
          obj.status = next;
          return obj;
        },
        { subresource: 'status' },
      ),
    );
  }
}

/** A failure of one manageReplicas step, with the condition reason it maps to. */
class ManageError extends Error {
  constructor(
    readonly reason: 'FailedCreate' | 'FailedDelete',
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** The ReplicaFailure condition: set while creating or deleting pods fails, removed once it works. */
function failureConditions(existing: Condition[], failure: ManageError | undefined): Condition[] {
  const others = existing.filter((c) => c.type !== 'ReplicaFailure');
  if (!failure) return others;
  const previous = existing.find((c) => c.type === 'ReplicaFailure');
  return [...others, { type: 'ReplicaFailure', status: 'True', reason: failure.reason, message: failure.message, lastTransitionTime: previous?.lastTransitionTime ?? nowTimestamp() }];
}

/** Status as upstream computes it; zero counts are omitted, as omitempty does on the wire. */
export function replicaSetStatus(rs: KubeObject, active: KubeObject[], now: number): ReplicaSetStatus {
  const spec = (rs.spec ?? {}) as ReplicaSetSpec;
  const templateLabels = spec.template?.metadata?.labels ?? {};
  const fullyLabeled = active.filter((p) => Object.entries(templateLabels).every(([k, v]) => p.metadata.labels?.[k] === v)).length;
  const ready = active.filter(isPodReady).length;
  const available = active.filter((p) => isPodAvailable(p, spec.minReadySeconds ?? 0, now)).length;
  const status: ReplicaSetStatus = { replicas: active.length };
  if (fullyLabeled) status.fullyLabeledReplicas = fullyLabeled;
  if (ready) status.readyReplicas = ready;
  if (available) status.availableReplicas = available;
  if (rs.metadata.generation !== undefined) status.observedGeneration = rs.metadata.generation;
  return status;
}

function podFromTemplate(rs: KubeObject): KubeObject {
  const template: Partial<PodTemplateSpec> = (rs.spec as ReplicaSetSpec).template ?? {};
  const meta = template.metadata ?? {};
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      // 5 random characters follow; a pod name may have 253.
      generateName: `${rs.metadata.name}-`.slice(0, 248),
      namespace: rs.metadata.namespace!,
      labels: { ...(meta.labels ?? {}) },
      ownerReferences: [appsControllerRef('ReplicaSet', rs)],
    },
    spec: structuredClone(template.spec ?? {}),
  };
  if (meta.annotations && Object.keys(meta.annotations).length > 0) pod.metadata.annotations = { ...meta.annotations };
  if (meta.finalizers && meta.finalizers.length > 0) pod.metadata.finalizers = [...meta.finalizers];
  return pod;
}
