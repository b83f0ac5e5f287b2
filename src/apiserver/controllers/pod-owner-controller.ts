// The wiring every controller of pods shares (ReplicaSet, Job, DaemonSet): a change to an owner
// wakes that owner; a change to a pod wakes the owner that controls it (before and after the
// change) or, for an orphan, the owners that could adopt it. Subclasses do the sync, and may watch
// more (observeOther: the DaemonSet controller follows Nodes).
import type { KubeObject } from '../../api/meta.ts';
import type { Logger } from '../../lib/logger.ts';
import type { GenericStore } from '../registry/generic-store.ts';
import type { ResourceDef } from '../registry/types.ts';
import type { StoredEvent } from '../storage/types.ts';
import { controllersToWake } from './controller-ref.ts';
import { objectKey, previousObject, StoreController } from './store-controller.ts';

export interface OwnerKind {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

export abstract class PodOwnerController extends StoreController {
  protected readonly ownerDef: ResourceDef;
  protected readonly podDef: ResourceDef;
  private readonly ownerPrefix: string;
  private readonly podPrefix: string;

  protected constructor(store: GenericStore, log: Logger, name: string, private readonly owner: OwnerKind) {
    super(store, log, name);
    this.ownerDef = store.registry.lookup(owner.group, owner.version, owner.plural)!;
    this.podDef = store.registry.lookup('', 'v1', 'pods')!;
    this.ownerPrefix = store.prefix(this.ownerDef);
    this.podPrefix = store.prefix(this.podDef);
  }

  protected override initialKeys(): string[] {
    return this.store.listObjects(this.ownerDef).map(objectKey);
  }

  protected override observe(event: StoredEvent): void {
    if (event.key.startsWith(this.ownerPrefix)) this.enqueue(objectKey(JSON.parse(event.value) as KubeObject));
    else if (event.key.startsWith(this.podPrefix)) this.podChanged(JSON.parse(event.value) as KubeObject, event);
    else this.observeOther(event);
  }

  /** Events of other kinds; none by default. */
  protected observeOther(_event: StoredEvent): void {}

  private podChanged(pod: KubeObject, event: StoredEvent): void {
    const candidates = (): KubeObject[] => this.store.listObjects(this.ownerDef, pod.metadata.namespace);
    for (const key of controllersToWake(this.owner.kind, pod, previousObject(event), event.type === 'DELETED', candidates, this.owner.group)) this.enqueue(key);
  }
}
