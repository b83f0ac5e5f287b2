// One informer per (path, selectors), shared by every controller that asks for it, so a process
// holds one cache and one watch per resource however many controllers read it.
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from '../api/meta.ts';
import { type InformerOptions, SharedInformer } from './informer.ts';
import type { Informer } from './store.ts';

export interface InformerRequest {
  /** Collection path, e.g. resourcePath({ apiVersion: 'v1', plural: 'pods', namespace }). */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** Timing options applied to every informer the factory makes. */
export type InformerDefaults = Omit<InformerOptions, keyof InformerRequest>;

/** Where controllers get their informers: SharedInformerFactory, or FakeInformers in unit tests. */
export interface InformerSource {
  informerFor<T extends KubeObject>(request: InformerRequest): Informer<T>;
}

export class SharedInformerFactory implements InformerSource {
  private readonly informers = new Map<string, SharedInformer<KubeObject>>();
  private started = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly defaults: InformerDefaults = {},
  ) {}

  /** The shared informer for this request; one made after start() starts at once. */
  informerFor<T extends KubeObject>(request: InformerRequest): SharedInformer<T> {
    const key = JSON.stringify([request.path, request.labelSelector ?? '', request.fieldSelector ?? '']);
    let informer = this.informers.get(key);
    if (!informer) {
      informer = new SharedInformer<KubeObject>(this.kc, { ...this.defaults, ...request });
      this.informers.set(key, informer);
      if (this.started) informer.start();
    }
    // Every informer holds whatever its path serves; T only names what the caller knows that is.
    return informer as unknown as SharedInformer<T>;
  }

  start(): void {
    this.started = true;
    for (const informer of this.informers.values()) informer.start();
  }

  /** True once every informer made so far has synced; false if `signal` aborts first. */
  async waitForCacheSync(signal?: AbortSignal): Promise<boolean> {
    const results = await Promise.all([...this.informers.values()].map((informer) => informer.waitForSync(signal)));
    return results.every(Boolean);
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all([...this.informers.values()].map((informer) => informer.stop()));
  }
}
