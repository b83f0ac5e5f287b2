// The embedded system's volume provisioner and binder: a PersistentVolumeClaim is bound, as soon
// as it is created, to a directory of its own on this machine (VOLUME_DIR/<namespace>/<name>-<uid>),
// the way a hostPath provisioner does on a one-node cluster. The claim records where
// (annotation sedna.io/host-path), its volume name (pvc-<uid>, as dynamic provisioning names it),
// and status Bound with the requested capacity; the embedded kubelet mounts that directory for a
// pod's persistentVolumeClaim volume. The directory outlives the claim (reclaim policy Retain).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '../../api/meta.ts';
import type { Logger } from '../../lib/logger.ts';
import type { GenericStore } from '../registry/generic-store.ts';
import type { ResourceDef } from '../registry/types.ts';
import type { StoredEvent } from '../storage/types.ts';
import { ignoreNotFound, objectKey, splitKey, StoreController } from './store-controller.ts';

export const HOST_PATH_ANNOTATION = 'sedna.io/host-path';

export class PvcBinder extends StoreController {
  private readonly def: ResourceDef;
  private readonly prefix: string;

  constructor(
    store: GenericStore,
    log: Logger,
    private readonly volumeDir: string,
  ) {
    super(store, log, 'persistentvolumeclaim');
    this.def = store.registry.lookup('', 'v1', 'persistentvolumeclaims')!;
    this.prefix = store.prefix(this.def);
  }

  protected override initialKeys(): string[] {
    return this.store.listObjects(this.def).map(objectKey);
  }

  protected override observe(event: StoredEvent): void {
    if (event.type !== 'DELETED' && event.key.startsWith(this.prefix)) this.enqueue(objectKey(JSON.parse(event.value) as KubeObject));
  }

  protected override sync(key: string): void {
    const [namespace, name] = splitKey(key);
    const claim = this.store.tryGet(this.def, namespace, name);
    if (!claim || claim.metadata.deletionTimestamp || (claim.status as { phase?: string } | undefined)?.phase === 'Bound') return;
    const uid = claim.metadata.uid!;
    const path = claim.metadata.annotations?.[HOST_PATH_ANNOTATION] ?? join(this.volumeDir, namespace, `${name}-${uid}`);
    mkdirSync(path, { recursive: true, mode: 0o700 });
    const volumeName = `pvc-${uid}`;
    ignoreNotFound(() => {
      const bound = this.store.guaranteedUpdate(this.def, namespace, name, (obj) => {
        if (obj.metadata.uid !== uid) return obj;
        obj.metadata.annotations = { ...obj.metadata.annotations, [HOST_PATH_ANNOTATION]: path, 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' };
        obj.spec = { ...(obj.spec as object), volumeName };
        return obj;
      });
      const spec = bound.spec as { accessModes?: string[]; resources?: { requests?: { storage?: string } } };
      this.store.guaranteedUpdate(
        this.def,
        namespace,
        name,
        (obj) => {
          if (obj.metadata.uid !== uid) return obj;
          obj.status = { phase: 'Bound', accessModes: spec.accessModes ?? [], capacity: { storage: spec.resources?.requests?.storage ?? '0' } };
          return obj;
        },
        { subresource: 'status' },
      );
    });
    this.log.info({ claim: key, path }, 'bound claim to a host directory');
  }
}
