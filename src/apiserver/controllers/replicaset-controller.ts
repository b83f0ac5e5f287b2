// apps/v1 ReplicaSet controller: keeps spec.replicas live pods that match spec.selector and that
// the ReplicaSet controls (ownerReference controller: true). It adopts matching orphans, releases
// pods whose labels no longer match, creates pods from spec.template, deletes surplus pods (the
// least useful first) and replaces pods that were deleted or finished, then reports counts in
// status. Reads go straight to the store, which is always current, so unlike upstream no
// "expectations" are needed to avoid double creation.
//
// Also home of the controller-ref and pod-readiness helpers the Deployment controller shares.
import { isDeepStrictEqual } from 'node:util';
import type { Condition, KubeObject, LabelSelector, OwnerReference } from '../../api/meta.ts';
import { WorkQueue } from '../../controller/work-queue.ts';
import type { Logger } from '../../lib/logger.ts';
import { StatusError } from '../errors.ts';
import { type GenericStore, nowTimestamp } from '../registry/generic-store.ts';
import type { ResourceDef } from '../registry/types.ts';
import { labelSelectorFromObject, type LabelSelectorMatcher } from '../selectors/labels.ts';
import type { StoredEvent } from '../storage/types.ts';

/** Most pods one sync creates; the next sync creates the rest (upstream's burst limit). */
const BURST_REPLICAS = 500;

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[] };
  spec?: unknown;
}

export interface ReplicaSetSpec {
  replicas?: number;
  minReadySeconds?: number;
  selector?: LabelSelector;
  template?: PodTemplate;
}

export interface ReplicaSetStatus {
  replicas?: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: Condition[];
}

interface PodStatus {
  phase?: string;
  conditions?: Condition[];
  containerStatuses?: { restartCount?: number }[];
}

export class ReplicaSetController {
  private readonly queue: WorkQueue;
  private readonly rsDef: ResourceDef;
  private readonly podDef: ResourceDef;
  private readonly rsPrefix: string;
  private readonly podPrefix: string;
  /** Keys noted by storage listeners, handed to the queue once the writing call stack is done. */
  private readonly pending = new Set<string>();
  private unsubscribe: (() => void) | undefined;
  private syncs = 0;

  constructor(
    private readonly store: GenericStore,
    private readonly log: Logger,
  ) {
    this.rsDef = store.registry.lookup('apps', 'v1', 'replicasets')!;
    this.podDef = store.registry.lookup('', 'v1', 'pods')!;
    this.rsPrefix = store.prefix(this.rsDef);
    this.podPrefix = store.prefix(this.podDef);
    this.queue = new WorkQueue({ onError: (key, err) => log.warn({ replicaset: key, err: String(err) }, 'replicaset sync failed') });
  }

  start(): void {
    this.unsubscribe = this.store.storage.subscribe((event) => this.observe(event));
    for (const rs of this.store.listObjects(this.rsDef)) this.queue.add(objectKey(rs));
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
    if (event.key.startsWith(this.rsPrefix)) {
      this.enqueue(objectKey(JSON.parse(event.value) as KubeObject));
    } else if (event.key.startsWith(this.podPrefix)) {
      this.podChanged(JSON.parse(event.value) as KubeObject, event.prev !== undefined && event.type === 'MODIFIED' ? (JSON.parse(event.prev) as KubeObject) : undefined, event.type === 'DELETED');
    }
  }

  /** Wakes the ReplicaSet controlling the pod (before and after), or those that could adopt it. */
  private podChanged(pod: KubeObject, prev: KubeObject | undefined, deleted: boolean): void {
    const ns = pod.metadata.namespace!;
    const ref = controllerRefOf(pod, 'ReplicaSet');
    const prevRef = prev && controllerRefOf(prev, 'ReplicaSet');
    if (ref) this.enqueue(`${ns}/${ref.name}`);
    if (prevRef && prevRef.uid !== ref?.uid) this.enqueue(`${ns}/${prevRef.name}`);
    if (ref || deleted || controllerRefOf(pod)) return;
    for (const rs of this.store.listObjects(this.rsDef, ns)) {
      if (selectorOf((rs.spec as ReplicaSetSpec).selector).matches(pod.metadata.labels)) this.enqueue(objectKey(rs));
    }
  }

  // ---- sync ------------------------------------------------------------------------------

  private sync(key: string): void {
    this.syncs++;
    const [namespace, name] = splitKey(key);
    const rs = this.store.tryGet(this.rsDef, namespace, name);
    if (!rs) return;
    const spec = (rs.spec ?? {}) as ReplicaSetSpec;
    const selector = selectorOf(spec.selector);
    const owned = claimObjects(this.store, this.podDef, rs, replicaSetRef(rs), this.store.listObjects(this.podDef, namespace), (pod) =>
      selector.matches(pod.metadata.labels),
    );
    let active = owned.filter(isActivePod);
    let failure: ManageError | undefined;
    if (!rs.metadata.deletionTimestamp) {
      try {
        // A finished pod never runs again: make room for its replacement.
        this.deletePods(owned.filter((p) => !p.metadata.deletionTimestamp && isTerminal(p)));
        active = this.manageReplicas(rs, active);
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
  private manageReplicas(rs: KubeObject, active: KubeObject[]): KubeObject[] {
    const wanted = (rs.spec as ReplicaSetSpec).replicas ?? 1;
    const diff = active.length - wanted;
    if (diff < 0) return [...active, ...this.createPods(rs, Math.min(-diff, BURST_REPLICAS))];
    if (diff === 0) return active;
    const victims = [...active].sort(deletionOrder).slice(0, diff);
    this.deletePods(victims);
    const gone = new Set(victims.map((p) => p.metadata.uid));
    return active.filter((p) => !gone.has(p.metadata.uid));
  }

  private createPods(rs: KubeObject, count: number): KubeObject[] {
    const created: KubeObject[] = [];
    for (let i = 0; i < count; i++) {
      try {
        created.push(this.store.create(this.podDef, rs.metadata.namespace, podFromTemplate(rs)));
      } catch (err) {
        // A terminating namespace refuses new content; there is nothing to retry.
        if (err instanceof StatusError && err.code === 403 && /being terminated/.test(err.message)) break;
        throw new ManageError('FailedCreate', err);
      }
    }
    if (created.length > 0) this.log.debug({ replicaset: objectKey(rs), created: created.length }, 'created pods');
    return created;
  }

  private deletePods(pods: KubeObject[]): void {
    for (const pod of pods) {
      try {
        ignoreNotFound(() => this.store.delete(this.podDef, pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid! } }));
      } catch (err) {
        throw new ManageError('FailedDelete', err);
      }
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
        this.rsDef,
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
  const template = (rs.spec as ReplicaSetSpec).template ?? {};
  const meta = template.metadata ?? {};
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      // 5 random characters follow; a pod name may have 253.
      generateName: `${rs.metadata.name}-`.slice(0, 248),
      namespace: rs.metadata.namespace!,
      labels: { ...(meta.labels ?? {}) },
      ownerReferences: [replicaSetRef(rs)],
    },
    spec: structuredClone(template.spec ?? {}),
  };
  if (meta.annotations && Object.keys(meta.annotations).length > 0) pod.metadata.annotations = { ...meta.annotations };
  if (meta.finalizers && meta.finalizers.length > 0) pod.metadata.finalizers = [...meta.finalizers];
  return pod;
}

function replicaSetRef(rs: KubeObject): OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name!, uid: rs.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

// ---- pod ranking -------------------------------------------------------------------------

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * Which surplus pod goes first (upstream's ActivePods order): unscheduled before scheduled,
 * Pending before Unknown before Running, not ready before ready, ready for less time first,
 * more restarts first, newer first.
 */
function deletionOrder(a: KubeObject, b: KubeObject): number {
  const nodeA = podSpecOf(a).nodeName ? 1 : 0;
  const nodeB = podSpecOf(b).nodeName ? 1 : 0;
  if (nodeA !== nodeB) return nodeA - nodeB;
  const phaseA = PHASE_RANK[podStatusOf(a).phase ?? 'Pending'] ?? 0;
  const phaseB = PHASE_RANK[podStatusOf(b).phase ?? 'Pending'] ?? 0;
  if (phaseA !== phaseB) return phaseA - phaseB;
  const readyA = isPodReady(a) ? 1 : 0;
  const readyB = isPodReady(b) ? 1 : 0;
  if (readyA !== readyB) return readyA - readyB;
  if (readyA && readyB) {
    const sinceA = readySince(a) ?? '';
    const sinceB = readySince(b) ?? '';
    if (sinceA !== sinceB) return sinceA > sinceB ? -1 : 1;
  }
  const restartsA = restarts(a);
  const restartsB = restarts(b);
  if (restartsA !== restartsB) return restartsB - restartsA;
  const createdA = a.metadata.creationTimestamp ?? '';
  const createdB = b.metadata.creationTimestamp ?? '';
  if (createdA !== createdB) return createdA > createdB ? -1 : 1;
  return 0;
}

function restarts(pod: KubeObject): number {
  return (podStatusOf(pod).containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

// ---- shared helpers ----------------------------------------------------------------------

function podStatusOf(pod: KubeObject): PodStatus {
  return (pod.status ?? {});
}

function podSpecOf(pod: KubeObject): { nodeName?: string } {
  return (pod.spec ?? {});
}

export function isTerminal(pod: KubeObject): boolean {
  const phase = podStatusOf(pod).phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** Counts toward replicas: not finished and not marked for deletion. */
export function isActivePod(pod: KubeObject): boolean {
  return !pod.metadata.deletionTimestamp && !isTerminal(pod);
}

export function isPodReady(pod: KubeObject): boolean {
  return (podStatusOf(pod).conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function readySince(pod: KubeObject): string | undefined {
  return (podStatusOf(pod).conditions ?? []).find((c) => c.type === 'Ready' && c.status === 'True')?.lastTransitionTime;
}

/** Ready for at least minReadySeconds (at once when it is 0). */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = readySince(pod);
  return since !== undefined && Date.parse(since) + minReadySeconds * 1000 < now;
}

/** The reference with controller: true, optionally only when it names an apps/v1 object of `kind`. */
export function controllerRefOf(obj: KubeObject, kind?: string): OwnerReference | undefined {
  const ref = (obj.metadata.ownerReferences ?? []).find((r) => r.controller === true);
  if (!ref || kind === undefined) return ref;
  return ref.kind === kind && ref.apiVersion.startsWith('apps/') ? ref : undefined;
}

const MATCH_NOTHING: LabelSelectorMatcher = { empty: true, matches: () => false, toString: () => '' };

/**
 * A selector that matches nothing when empty or malformed: a controller must never claim
 * everything, and this runs inside storage listeners, which must not throw.
 */
export function selectorOf(selector: LabelSelector | undefined): LabelSelectorMatcher {
  try {
    const matcher = labelSelectorFromObject(selector);
    return matcher.empty ? MATCH_NOTHING : matcher;
  } catch {
    return MATCH_NOTHING;
  }
}

/**
 * Upstream's ControllerRefManager: the objects `owner` controls after adopting matching orphans
 * and releasing owned objects that no longer match. An owner being deleted neither adopts nor
 * releases. Writes re-read the object, so a concurrent claim by another controller wins cleanly.
 */
export function claimObjects(
  store: GenericStore,
  def: ResourceDef,
  owner: KubeObject,
  ref: OwnerReference,
  objects: KubeObject[],
  matches: (obj: KubeObject) => boolean,
): KubeObject[] {
  const claimed: KubeObject[] = [];
  const ownerDeleting = !!owner.metadata.deletionTimestamp;
  for (const obj of objects) {
    const current = controllerRefOf(obj);
    if (current && current.uid !== ref.uid) continue;
    if (current) {
      if (matches(obj)) claimed.push(obj);
      else if (!ownerDeleting) release(store, def, obj, ref.uid);
      continue;
    }
    if (ownerDeleting || obj.metadata.deletionTimestamp || !matches(obj)) continue;
    const adopted = adopt(store, def, obj, ref);
    if (adopted && controllerRefOf(adopted)?.uid === ref.uid) claimed.push(adopted);
  }
  return claimed;
}

function adopt(store: GenericStore, def: ResourceDef, obj: KubeObject, ref: OwnerReference): KubeObject | undefined {
  let adopted: KubeObject | undefined;
  ignoreNotFound(() => {
    adopted = store.guaranteedUpdate(def, obj.metadata.namespace, obj.metadata.name!, (current) => {
      if (current.metadata.uid !== obj.metadata.uid || controllerRefOf(current) || current.metadata.deletionTimestamp) return current;
      const others = (current.metadata.ownerReferences ?? []).filter((r) => r.uid !== ref.uid);
      current.metadata.ownerReferences = [...others, ref];
      return current;
    });
  });
  return adopted;
}

function release(store: GenericStore, def: ResourceDef, obj: KubeObject, ownerUid: string): void {
  ignoreNotFound(() =>
    store.guaranteedUpdate(def, obj.metadata.namespace, obj.metadata.name!, (current) => {
      if (current.metadata.uid !== obj.metadata.uid) return current;
      const refs = (current.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
      if (refs.length > 0) current.metadata.ownerReferences = refs;
      else delete current.metadata.ownerReferences;
      return current;
    }),
  );
}

export function objectKey(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

export function splitKey(key: string): [string, string] {
  const at = key.indexOf('/');
  return [key.slice(0, at), key.slice(at + 1)];
}

/** The object vanished between the read and the write: there is nothing left to do. */
export function ignoreNotFound(write: () => unknown): void {
  try {
    write();
  } catch (err) {
    if (!(err instanceof StatusError && err.code === 404)) throw err;
  }
}
