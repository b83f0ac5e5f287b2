// Kubernetes' garbage collector over metadata.ownerReferences, for every stored kind (built-in and
// CRD-defined). An in-memory graph (object uid -> where it lives and whom it names as owners;
// owner uid -> dependents) is built by one full scan at start and kept current from the storage
// log, which delivers every commit synchronously, so the graph never lags behind the store.
// Decisions are never taken from the graph alone: each sync re-reads the object and its owners,
// which keeps the collector level-triggered and safe to run any number of times.
//
// - Background: a dependent whose owners are all absent (deleted, never existed, or replaced by
//   an object with the same name and another uid) is deleted; one with some owners left loses
//   only the references to the absent ones.
// - Foreground: an owner marked for deletion with the `foregroundDeletion` finalizer has its
//   dependents deleted (themselves in Foreground when they have dependents, so grandchildren go
//   first); once none is left, the finalizer goes and the store removes the owner.
// - Orphan: an owner marked for deletion with the `orphan` finalizer has its references stripped
//   from every dependent, then the finalizer goes.
import type { KubeObject, OwnerReference } from '../../api/meta.ts';
import type { Logger } from '../../lib/logger.ts';
import { FOREGROUND_FINALIZER, type GenericStore, ORPHAN_FINALIZER, type PropagationPolicy } from '../registry/generic-store.ts';
import type { ResourceDef } from '../registry/types.ts';
import type { StoredEvent } from '../storage/types.ts';
import { ignoreNotFound, StoreController } from './store-controller.ts';

interface GraphNode {
  uid: string;
  /** `group/plural` as storage keys spell it; the definition is looked up when needed, since a CRD's may be replaced. */
  resource: string;
  namespace: string | undefined;
  name: string;
  owners: OwnerReference[];
  deleting: boolean;
  finalizers: string[];
}

/** How a dependent sees one of its owner references. */
type OwnerState =
  | 'present'
  /** Deleted, never existed, or the name now belongs to an object with another uid. */
  | 'absent'
  /** Present, being deleted in Foreground: it waits for its dependents. */
  | 'waiting'
  /** The owner's kind is not served (yet): nothing may be decided about it. */
  | 'unresolvable'
  /** A cluster-scoped dependent naming a namespaced owner: never valid, never acted on. */
  | 'invalid';

export class GarbageCollector extends StoreController {
  private readonly nodes = new Map<string, GraphNode>();
  /** Owner uid -> uids of the objects whose ownerReferences name it. */
  private readonly dependents = new Map<string, Set<string>>();
  /** Dependents with an owner of an unknown kind, re-examined when the served kinds change. */
  private readonly unresolved = new Set<string>();
  private defs = new Map<string, ResourceDef>();
  private unwatchRegistry: (() => void) | undefined;

  constructor(store: GenericStore, log: Logger) {
    super(store, log, 'uid', 'garbage collection failed');
  }

  /** Scans every stored kind, then follows the storage log and the served kinds. */
  override start(): void {
    this.defs = servedResources(this.store);
    this.unwatchRegistry = this.store.registry.onChange(() => this.kindsChanged());
    super.start();
  }

  override stop(): void {
    super.stop();
    this.unwatchRegistry?.();
  }

  // ---- graph maintenance -----------------------------------------------------------------

  /**
   * Builds the graph from every served kind a page at a time (a restart with 200,000 pods stored
   * must not hold the server); yields the uids that need a sync. Events during the scan keep the
   * graph current, since each page is read as the store is now.
   */
  protected override async *initialKeys(): AsyncGenerator<string[]> {
    for (const [resource, def] of this.defs) {
      for await (const page of this.store.pages(def)) {
        if (this.defs.get(resource) !== def) break; // the kind went away or changed meanwhile
        yield page.flatMap((obj) => (this.upsert(resource, obj) ? [obj.metadata.uid!] : []));
      }
    }
  }

  /** Adds every object of one kind to the graph; returns the uids that need a sync. */
  private scan(resource: string, def: ResourceDef): string[] {
    return this.store.listObjects(def).flatMap((obj) => (this.upsert(resource, obj) ? [obj.metadata.uid!] : []));
  }

  protected override observe(event: StoredEvent): void {
    const resource = resourceOfKey(event.key);
    if (!this.defs.has(resource)) return;
    const obj = JSON.parse(event.value) as KubeObject;
    if (event.type === 'DELETED') this.remove(obj);
    else if (this.upsert(resource, obj)) this.enqueue(obj.metadata.uid!);
  }

  /** A CRD came, changed or went: scan kinds not seen before, forget kinds no longer served. */
  private kindsChanged(): void {
    const before = this.defs;
    this.defs = servedResources(this.store);
    for (const [resource, def] of this.defs) {
      if (!before.has(resource)) for (const uid of this.scan(resource, def)) this.enqueue(uid);
    }
    for (const node of [...this.nodes.values()]) if (!this.defs.has(node.resource)) this.forget(node);
    for (const uid of this.unresolved) this.enqueue(uid);
  }

  /** Records the object in the graph, waking owners that may have waited for it; returns whether it needs a sync. */
  private upsert(resource: string, obj: KubeObject): boolean {
    const meta = obj.metadata;
    const uid = meta.uid;
    if (!uid) return false;
    const old = this.nodes.get(uid);
    const node: GraphNode = {
      uid,
      resource,
      namespace: meta.namespace,
      name: meta.name!,
      owners: meta.ownerReferences ?? [],
      deleting: !!meta.deletionTimestamp,
      finalizers: meta.finalizers ?? [],
    };
    this.nodes.set(uid, node);
    const oldOwners = new Set((old?.owners ?? []).map((r) => r.uid));
    const newOwners = new Set(node.owners.map((r) => r.uid));
    for (const owner of oldOwners) {
      if (newOwners.has(owner)) continue;
      this.unlink(owner, uid);
      // An owner waiting in Foreground may have been waiting for exactly this reference to go.
      if (this.nodes.get(owner)?.deleting) this.enqueue(owner);
    }
    for (const owner of newOwners) this.link(owner, uid);
    return this.needsSync(old, node);
  }

  /** Only changes the collector acts on wake it: new objects with owners, new owners, deletion state. */
  private needsSync(old: GraphNode | undefined, node: GraphNode): boolean {
    const interesting = node.owners.length > 0 || hasGcFinalizer(node.finalizers);
    if (!old) return interesting || node.deleting;
    return (
      JSON.stringify(old.owners) !== JSON.stringify(node.owners) ||
      old.deleting !== node.deleting ||
      hasGcFinalizer(old.finalizers) !== hasGcFinalizer(node.finalizers) ||
      (node.deleting && hasGcFinalizer(node.finalizers))
    );
  }

  private remove(obj: KubeObject): void {
    const node = obj.metadata.uid ? this.nodes.get(obj.metadata.uid) : undefined;
    if (node) this.forget(node);
  }

  /** Drops a node; its dependents lost an owner and its owners may be waiting for it. */
  private forget(node: GraphNode): void {
    this.nodes.delete(node.uid);
    this.unresolved.delete(node.uid);
    for (const ref of node.owners) {
      this.unlink(ref.uid, node.uid);
      if (this.nodes.get(ref.uid)?.deleting) this.enqueue(ref.uid);
    }
    for (const dependent of this.dependents.get(node.uid) ?? []) this.enqueue(dependent);
  }

  private link(owner: string, dependent: string): void {
    let set = this.dependents.get(owner);
    if (!set) this.dependents.set(owner, (set = new Set()));
    set.add(dependent);
  }

  private unlink(owner: string, dependent: string): void {
    const set = this.dependents.get(owner);
    set?.delete(dependent);
    if (set?.size === 0) this.dependents.delete(owner);
  }

  /** The live dependents of an owner; a namespaced owner only has dependents in its namespace. */
  private dependentsOf(owner: GraphNode, ownerDef: ResourceDef): GraphNode[] {
    const out: GraphNode[] = [];
    for (const uid of this.dependents.get(owner.uid) ?? []) {
      const node = this.nodes.get(uid);
      if (!node) continue;
      if (ownerDef.namespaced && node.namespace !== owner.namespace) continue;
      out.push(node);
    }
    return out;
  }

  // ---- sync ------------------------------------------------------------------------------

  protected override sync(uid: string): void {
    const node = this.nodes.get(uid);
    const def = node && this.defs.get(node.resource);
    if (!node || !def) return;
    const obj = this.store.tryGet(def, node.namespace, node.name);
    if (!obj || obj.metadata.uid !== uid) return;
    if (obj.metadata.deletionTimestamp) return this.syncDeleting(def, node, obj);
    if ((obj.metadata.ownerReferences ?? []).length > 0) this.syncDependent(def, node, obj);
  }

  /** An owner being deleted: orphan or delete its dependents, as its finalizers ask. */
  private syncDeleting(def: ResourceDef, node: GraphNode, obj: KubeObject): void {
    const finalizers = obj.metadata.finalizers ?? [];
    if (finalizers.includes(ORPHAN_FINALIZER)) {
      for (const dependent of this.dependentsOf(node, def)) this.dropReferences(dependent, new Set([node.uid]));
      this.removeFinalizer(def, obj, ORPHAN_FINALIZER);
      return;
    }
    if (!finalizers.includes(FOREGROUND_FINALIZER)) return;
    const dependents = this.dependentsOf(node, def);
    if (dependents.length === 0) {
      this.removeFinalizer(def, obj, FOREGROUND_FINALIZER);
      return;
    }
    // Each dependent's own sync sees this owner waiting and deletes itself (or drops the reference).
    for (const dependent of dependents) if (!dependent.deleting) this.queue.add(dependent.uid);
  }

  /** A live object with owners: collect it when none is left, else drop references to the gone ones. */
  private syncDependent(def: ResourceDef, node: GraphNode, obj: KubeObject): void {
    const refs = obj.metadata.ownerReferences ?? [];
    const states = refs.map((ref) => this.ownerState(def, obj, ref));
    if (states.includes('unresolvable')) this.unresolved.add(node.uid);
    else this.unresolved.delete(node.uid);
    const stale = new Set(refs.filter((_, i) => states[i] === 'absent' || states[i] === 'waiting').map((r) => r.uid));
    if (states.includes('present')) {
      if (stale.size > 0) this.dropReferences(node, stale);
      return;
    }
    // An owner we cannot look up (or may never look up) might still exist: keep the object.
    if (states.some((s) => s === 'unresolvable' || s === 'invalid')) return;
    const policy: PropagationPolicy = states.includes('waiting') && this.dependentsOf(node, def).length > 0 ? 'Foreground' : 'Background';
    this.deleteObject(def, obj, policy);
  }

  private ownerState(dependentDef: ResourceDef, dependent: KubeObject, ref: OwnerReference): OwnerState {
    const ownerDef = this.resolveKind(ref.apiVersion, ref.kind);
    if (!ownerDef) return 'unresolvable';
    if (ownerDef.namespaced && !dependentDef.namespaced) return 'invalid';
    // A namespaced dependent's owner lives in its own namespace (or is cluster-scoped).
    const owner = this.store.tryGet(ownerDef, ownerDef.namespaced ? dependent.metadata.namespace : undefined, ref.name);
    if (!owner || owner.metadata.uid !== ref.uid) return 'absent';
    if (owner.metadata.deletionTimestamp && (owner.metadata.finalizers ?? []).includes(FOREGROUND_FINALIZER)) return 'waiting';
    return 'present';
  }

  /** The served definition for an ownerReference; any served version of the kind locates it. */
  private resolveKind(apiVersion: string, kind: string): ResourceDef | undefined {
    const exact = this.store.registry.byApiVersionKind(apiVersion, kind);
    if (exact) return exact;
    const group = apiVersion.includes('/') ? apiVersion.split('/', 1)[0] : '';
    return [...this.defs.values()].find((def) => def.group === group && def.kind === kind);
  }

  // ---- writes ----------------------------------------------------------------------------

  private dropReferences(node: GraphNode, owners: Set<string>): void {
    const def = this.defs.get(node.resource);
    if (!def) return;
    ignoreNotFound(() =>
      this.store.guaranteedUpdate(def, node.namespace, node.name, (current) => {
        if (current.metadata.uid !== node.uid) return current;
        const refs = (current.metadata.ownerReferences ?? []).filter((r) => !owners.has(r.uid));
        if (refs.length > 0) current.metadata.ownerReferences = refs;
        else delete current.metadata.ownerReferences;
        return current;
      }),
    );
  }

  private removeFinalizer(def: ResourceDef, obj: KubeObject, finalizer: string): void {
    ignoreNotFound(() =>
      this.store.guaranteedUpdate(def, obj.metadata.namespace, obj.metadata.name!, (current) => {
        if (current.metadata.uid !== obj.metadata.uid) return current;
        const rest = (current.metadata.finalizers ?? []).filter((f) => f !== finalizer);
        if (rest.length > 0) current.metadata.finalizers = rest;
        else delete current.metadata.finalizers;
        return current;
      }),
    );
  }

  private deleteObject(def: ResourceDef, obj: KubeObject, policy: PropagationPolicy): void {
    this.log.debug({ kind: def.kind, namespace: obj.metadata.namespace, name: obj.metadata.name, policy }, 'garbage collecting');
    ignoreNotFound(() =>
      // The uid precondition keeps a newer object that took the same name safe.
      this.store.delete(def, obj.metadata.namespace, obj.metadata.name!, { propagationPolicy: policy, preconditions: { uid: obj.metadata.uid! } }),
    );
  }
}

/** One definition per stored resource, keyed like storage keys (`group/plural`); core is `core`. */
function servedResources(store: GenericStore): Map<string, ResourceDef> {
  const out = new Map<string, ResourceDef>();
  for (const def of store.registry.all()) {
    const resource = `${def.group || 'core'}/${def.plural}`;
    const seen = out.get(resource);
    if (!seen || (seen.version !== seen.storageVersion && def.version === def.storageVersion)) out.set(resource, def);
  }
  return out;
}

/** `group/plural` of a storage key (`group/plural/namespace/name`). */
function resourceOfKey(key: string): string {
  const first = key.indexOf('/');
  const second = key.indexOf('/', first + 1);
  return key.slice(0, second);
}

function hasGcFinalizer(finalizers: string[]): boolean {
  return finalizers.includes(ORPHAN_FINALIZER) || finalizers.includes(FOREGROUND_FINALIZER);
}
