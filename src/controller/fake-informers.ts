// Informers for unit tests: each is a plain ObjectStore, filled from a FakeKubeClient only when
// the test says so (sync()), the way sample-controller's tests fill informer indexers. A test thus
// decides exactly what the cache shows a reconcile, stale or not.
import type { KubeObject } from '../api/meta.ts';
import type { ResourceRef } from './client.ts';
import type { FakeKubeClient } from './fake-client.ts';
import type { InformerRequest, InformerSource } from './informer-factory.ts';
import { ObjectStore } from './store.ts';

interface FakeInformer {
  ref: ResourceRef;
  labelSelector: string | undefined;
  store: ObjectStore<KubeObject>;
}

export class FakeInformers implements InformerSource {
  private readonly informers = new Map<string, FakeInformer>();

  informerFor<T extends KubeObject>(request: InformerRequest): ObjectStore<T> {
    const key = JSON.stringify([request.path, request.labelSelector ?? '', request.fieldSelector ?? '']);
    let informer = this.informers.get(key);
    if (!informer) {
      informer = { ref: parseResourcePath(request.path), labelSelector: request.labelSelector, store: new ObjectStore<KubeObject>() };
      this.informers.set(key, informer);
    }
    return informer.store as unknown as ObjectStore<T>;
  }

  /** Every informer's cache becomes what `client` holds now (events fire for the differences). */
  async sync(client: FakeKubeClient): Promise<void> {
    const recorded = client.actions.length;
    for (const { ref, labelSelector, store } of this.informers.values()) {
      const list = await client.list(ref, labelSelector ? { labelSelector } : {});
      store.replace(list.items);
      store.markSynced();
    }
    client.actions.splice(recorded); // the informers' lists are not the reconciler's actions
  }
}

/** `/api/v1/namespaces/ns/pods` or `/apis/group/version/plural` → its ResourceRef. */
export function parseResourcePath(path: string): ResourceRef {
  const parts = path.split('/').filter(Boolean);
  const core = parts[0] === 'api';
  const apiVersion = core ? parts[1]! : `${parts[1]}/${parts[2]}`;
  const rest = parts.slice(core ? 2 : 3);
  if (rest[0] === 'namespaces' && rest.length === 3) return { apiVersion, plural: rest[2]!, namespace: decodeURIComponent(rest[1]!) };
  return { apiVersion, plural: rest[0]! };
}
