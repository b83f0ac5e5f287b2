// Serves the kinds CustomResourceDefinitions define: registers them the moment a CRD is stored (so
// `kubectl apply` of a CR right after its CRD works), marks the CRD NamesAccepted and Established,
// and on deletion removes every custom resource before letting the CRD go.
import type { Condition, CustomResourceDefinition, KubeObject } from '../../api/meta.ts';
import type { Logger } from '../../lib/logger.ts';
import { resourcesFromCrd } from '../registry/crd-resources.ts';
import { type GenericStore, nowTimestamp } from '../registry/generic-store.ts';
import type { ResourceDef } from '../registry/types.ts';
import type { StoredEvent } from '../storage/types.ts';
import { ignoreNotFound, StoreController } from './store-controller.ts';

export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

export class CrdController extends StoreController {
  private readonly crdDef: ResourceDef;
  private readonly crdPrefix: string;

  constructor(store: GenericStore, log: Logger) {
    super(store, log, 'crd');
    this.crdDef = store.registry.lookup('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!;
    this.crdPrefix = store.prefix(this.crdDef);
  }

  /** Registers every stored CRD's kinds synchronously, within start(). */
  protected override initialKeys(): string[] {
    const crds = this.store.listObjects(this.crdDef) as CustomResourceDefinition[];
    for (const crd of crds) this.serve(crd);
    return crds.map((crd) => crd.metadata.name!);
  }

  /** Follows CRD changes at once, so a custom resource stored right after its CRD is accepted. */
  protected override observe(event: StoredEvent): void {
    if (!event.key.startsWith(this.crdPrefix)) return;
    const crd = JSON.parse(event.value) as CustomResourceDefinition;
    if (event.type === 'DELETED') this.store.registry.removeCrd(crd.spec.group, crd.spec.names.plural);
    else this.serve(crd);
    this.enqueue(crd.metadata.name!);
  }

  /** Makes the CRD's kinds servable, unless its names clash with another CRD's. */
  private serve(crd: CustomResourceDefinition): void {
    if (this.namesConflict(crd)) return;
    this.store.registry.replaceCrd(crd.spec.group, crd.spec.names.plural, resourcesFromCrd(crd));
  }

  private namesConflict(crd: CustomResourceDefinition): string | undefined {
    const { group, names } = crd.spec;
    for (const def of this.store.registry.all()) {
      if (def.group !== group || def.plural === names.plural) continue;
      if (def.kind === names.kind) return `"${names.kind}" is already in use`;
      if (names.shortNames?.some((s) => def.shortNames.includes(s))) return `one of the short names is already in use`;
      if (def.singular === (names.singular ?? names.kind.toLowerCase())) return `"${def.singular}" is already in use`;
    }
    return undefined;
  }

  protected override sync(name: string): void {
    const crd = this.store.tryGet(this.crdDef, undefined, name) as CustomResourceDefinition | undefined;
    if (!crd) return;
    if (crd.metadata.deletionTimestamp) return this.cleanUp(crd);
    if (!(crd.metadata.finalizers ?? []).includes(CRD_CLEANUP_FINALIZER)) {
      this.store.guaranteedUpdate(this.crdDef, undefined, name, (current) => {
        current.metadata.finalizers = [...(current.metadata.finalizers ?? []), CRD_CLEANUP_FINALIZER];
        return current;
      });
    }
    this.writeStatus(name, this.namesConflict(crd));
  }

  private writeStatus(name: string, conflict: string | undefined): void {
    this.store.guaranteedUpdate(
      this.crdDef,
      undefined,
      name,
      (current) => {
        const crd = current as CustomResourceDefinition;
        const storageVersion = crd.spec.versions.find((v) => v.storage)?.name;
        const stored = new Set(crd.status?.storedVersions ?? []);
        if (storageVersion) stored.add(storageVersion);
        const accepted = conflict === undefined;
        const conditions = mergeConditions(crd.status?.conditions ?? [], [
          {
            type: 'NamesAccepted',
            status: accepted ? 'True' : 'False',
            reason: accepted ? 'NoConflicts' : 'NameConflict',
            message: accepted ? 'no conflicts found' : conflict,
          },
          {
            type: 'Established',
            status: accepted ? 'True' : 'False',
            reason: accepted ? 'InitialNamesAccepted' : 'NotAccepted',
            message: accepted ? 'the initial names have been accepted' : 'not all names are accepted',
          },
        ]);
        crd.status = {
          ...crd.status,
          conditions,
          acceptedNames: accepted ? crd.spec.names : (crd.status?.acceptedNames ?? { plural: '', kind: '' }),
          storedVersions: [...stored],
        };
        return crd;
      },
      { subresource: 'status' },
    );
  }

  /** Deletes every custom resource of the CRD; when none is left, drops the finalizer. */
  private cleanUp(crd: CustomResourceDefinition): void {
    const defs = resourcesFromCrd(crd);
    const def = defs.find((d) => d.version === d.storageVersion) ?? defs[0];
    let remaining = 0;
    if (def) {
      for (const obj of this.store.listObjects(def)) {
        remaining++;
        if (obj.metadata.deletionTimestamp) continue;
        this.deleteQuietly(def, obj);
      }
    }
    if (remaining > 0) {
      this.queue.addAfter(crd.metadata.name!, 200);
      return;
    }
    this.store.registry.removeCrd(crd.spec.group, crd.spec.names.plural);
    this.store.guaranteedUpdate(this.crdDef, undefined, crd.metadata.name!, (current) => {
      current.metadata.finalizers = (current.metadata.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
      return current;
    });
  }

  private deleteQuietly(def: ResourceDef, obj: KubeObject): void {
    ignoreNotFound(() => this.store.delete(def, obj.metadata.namespace, obj.metadata.name!, { propagationPolicy: 'Background' }));
  }
}

/** Sets each condition, keeping lastTransitionTime when its status did not change. */
export function mergeConditions(existing: Condition[], updates: Condition[]): Condition[] {
  const out = [...existing];
  for (const update of updates) {
    const i = out.findIndex((c) => c.type === update.type);
    const previous = i >= 0 ? out[i] : undefined;
    const lastTransitionTime = previous && previous.status === update.status ? previous.lastTransitionTime : nowTimestamp();
    const next = { ...update, lastTransitionTime };
    if (i >= 0) out[i] = next;
    else out.push(next);
  }
  return out;
}
