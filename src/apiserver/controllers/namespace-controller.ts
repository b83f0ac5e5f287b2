// Empties a namespace that is being deleted, then lets it go: Kubernetes' namespace controller.
// Deleting a namespace only marks it (phase Terminating) because of the "kubernetes" entry in
// spec.finalizers; this controller deletes every object of every namespaced kind in it, reports
// progress in status.conditions, and when nothing is left removes its finalizer through the
// /finalize door, upon which the store deletes the namespace. Objects that linger (finalizers,
// pods a node agent is still stopping) are waited for: every deletion in the namespace wakes the
// controller, and a periodic re-check covers whatever else.
import type { Condition, KubeObject } from '../../api/meta.ts';
import type { Logger } from '../../lib/logger.ts';
import type { GenericStore } from '../registry/generic-store.ts';
import type { ResourceDef } from '../registry/types.ts';
import type { StoredEvent } from '../storage/types.ts';
import { mergeConditions } from './crd-controller.ts';
import { ignoreNotFound, StoreController } from './store-controller.ts';

const KUBERNETES_FINALIZER = 'kubernetes';

export interface NamespaceControllerOptions {
  /** How long to wait before looking again at a namespace whose content is not gone yet. */
  recheckMs?: number;
}

/** What one pass over a terminating namespace found. */
interface ContentReport {
  /** Objects still there, per resource ("pods", "widgets.example.com"). */
  remaining: Map<string, number>;
  /** Finalizers still on those objects, with how many objects carry each. */
  finalizers: Map<string, number>;
  /** Deletions that failed, as messages. */
  failures: string[];
}

export class NamespaceController extends StoreController {
  private readonly nsDef: ResourceDef;
  private readonly nsPrefix: string;
  private readonly recheckMs: number;
  /** Namespaces known to be terminating, so deletions of their content wake the controller. */
  private readonly terminating = new Set<string>();

  constructor(store: GenericStore, log: Logger, options: NamespaceControllerOptions = {}) {
    super(store, log, 'namespace');
    this.nsDef = store.registry.lookup('', 'v1', 'namespaces')!;
    this.nsPrefix = store.prefix(this.nsDef);
    this.recheckMs = options.recheckMs ?? 5_000;
  }

  protected override initialKeys(): string[] {
    return this.store
      .listObjects(this.nsDef)
      .filter((ns) => this.track(ns))
      .map((ns) => ns.metadata.name!);
  }

  protected override observe(event: StoredEvent): void {
    if (event.key.startsWith(this.nsPrefix)) {
      const ns = JSON.parse(event.value) as KubeObject;
      if (event.type === 'DELETED') this.terminating.delete(ns.metadata.name!);
      else if (this.track(ns)) this.enqueue(ns.metadata.name!);
      return;
    }
    if (event.type !== 'DELETED' || this.terminating.size === 0) return;
    const namespace = namespaceOfKey(event.key);
    if (namespace && this.terminating.has(namespace)) this.enqueue(namespace);
  }

  /** Notes a terminating namespace; returns whether it is one. */
  private track(ns: KubeObject): boolean {
    if (!ns.metadata.deletionTimestamp) return false;
    this.terminating.add(ns.metadata.name!);
    return true;
  }

  protected override sync(name: string): void {
    const ns = this.store.tryGet(this.nsDef, undefined, name);
    if (!ns?.metadata.deletionTimestamp) return;
    if (!specFinalizers(ns).includes(KUBERNETES_FINALIZER)) return;
    const report = this.deleteContent(name);
    this.writeStatus(name, report);
    if (report.remaining.size > 0 || report.failures.length > 0) {
      this.queue.addAfter(name, this.recheckMs);
      return;
    }
    this.finalize(ns);
  }

  /** Deletes everything in the namespace, kind by kind, and reports what is still there. */
  private deleteContent(namespace: string): ContentReport {
    const report: ContentReport = { remaining: new Map(), finalizers: new Map(), failures: [] };
    for (const def of namespacedResources(this.store)) {
      const resource = def.group ? `${def.plural}.${def.group}` : def.plural;
      try {
        this.deleteAll(def, namespace);
      } catch (err) {
        report.failures.push(`${resource}: ${err instanceof Error ? err.message : String(err)}`);
      }
      const left = this.store.listObjects(def, namespace);
      if (left.length > 0) report.remaining.set(resource, left.length);
      for (const obj of left) for (const f of obj.metadata.finalizers ?? []) report.finalizers.set(f, (report.finalizers.get(f) ?? 0) + 1);
    }
    return report;
  }

  /**
   * Deletes (Background) every object of one kind not already marked for deletion: deleting a
   * marked one again would only rewrite it, or cut short a Foreground deletion under way. Pods
   * bound to a node get their grace period from the store; the node agent finishes them.
   */
  private deleteAll(def: ResourceDef, namespace: string): void {
    if (this.store.storage.count(this.store.prefix(def, namespace)) === 0) return;
    for (const obj of this.store.listObjects(def, namespace)) {
      if (obj.metadata.deletionTimestamp) continue;
      ignoreNotFound(() =>
        this.store.delete(def, namespace, obj.metadata.name!, { propagationPolicy: 'Background', preconditions: { uid: obj.metadata.uid! } }),
      );
    }
  }

  private writeStatus(name: string, report: ContentReport): void {
    ignoreNotFound(() =>
      this.store.guaranteedUpdate(
        this.nsDef,
        undefined,
        name,
        (current) => {
          const status = (current.status ?? {}) as { phase?: string; conditions?: Condition[] };
          current.status = { ...status, phase: 'Terminating', conditions: mergeConditions(status.conditions ?? [], deletionConditions(report)) };
          return current;
        },
        { subresource: 'status' },
      ),
    );
  }

  /** Removes the "kubernetes" finalizer; with none left the store deletes the namespace. */
  private finalize(ns: KubeObject): void {
    this.log.debug({ namespace: ns.metadata.name }, 'namespace empty, finalizing');
    const finalizers = specFinalizers(ns).filter((f) => f !== KUBERNETES_FINALIZER);
    ignoreNotFound(() =>
      this.store.update(this.nsDef, undefined, ns.metadata.name!, { ...ns, spec: { ...(ns.spec as object), finalizers } }, { subresource: 'finalize' }),
    );
  }
}

/** The five conditions Kubernetes reports on a terminating namespace. */
function deletionConditions(report: ContentReport): Condition[] {
  const remaining = [...report.remaining].sort(([a], [b]) => a.localeCompare(b));
  const finalizers = [...report.finalizers].sort(([a], [b]) => a.localeCompare(b));
  return [
    { type: 'NamespaceDeletionDiscoveryFailure', status: 'False', reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
    { type: 'NamespaceDeletionGroupVersionParsingFailure', status: 'False', reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
    report.failures.length > 0
      ? { type: 'NamespaceDeletionContentFailure', status: 'True', reason: 'ContentDeletionFailed', message: `Failed to delete all resource types, ${report.failures.length} remaining: ${report.failures.join(', ')}` }
      : { type: 'NamespaceDeletionContentFailure', status: 'False', reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
    remaining.length > 0
      ? { type: 'NamespaceContentRemaining', status: 'True', reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${remaining.map(([r, n]) => `${r} has ${n} resource instances`).join(', ')}` }
      : { type: 'NamespaceContentRemaining', status: 'False', reason: 'ContentRemoved', message: 'All content successfully removed' },
    finalizers.length > 0
      ? { type: 'NamespaceFinalizersRemaining', status: 'True', reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${finalizers.map(([f, n]) => `${f} in ${n} resource instances`).join(', ')}` }
      : { type: 'NamespaceFinalizersRemaining', status: 'False', reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers have been removed' },
  ];
}

/** One definition per namespaced stored resource (a CRD appears once, whatever its versions). */
function namespacedResources(store: GenericStore): ResourceDef[] {
  const byResource = new Map<string, ResourceDef>();
  for (const def of store.registry.all()) {
    if (!def.namespaced) continue;
    const resource = `${def.group}/${def.plural}`;
    const seen = byResource.get(resource);
    if (!seen || (seen.version !== seen.storageVersion && def.version === def.storageVersion)) byResource.set(resource, def);
  }
  return [...byResource.values()];
}

function specFinalizers(ns: KubeObject): string[] {
  const finalizers = (ns.spec as { finalizers?: unknown } | undefined)?.finalizers;
  return Array.isArray(finalizers) ? finalizers.map(String) : [];
}

/** The namespace of a namespaced storage key (`group/plural/namespace/name`); '' for cluster-scoped ones. */
function namespaceOfKey(key: string): string | undefined {
  return key.split('/')[2];
}
