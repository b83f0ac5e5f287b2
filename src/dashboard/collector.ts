// Feeds DashboardState from the Kubernetes API through @kubernetes/client-node's informers (list,
// then watch): nodes, pods, events and every Sedna kind. A watch that fails is restarted with a
// capped backoff; `onChange` is called (coalesced by the caller) after each event.
import * as k8s from '@kubernetes/client-node';
import { SEDNA_GROUP, SEDNA_VERSION, sednaKinds } from '../api/sedna/index.ts';
import type { AnyObject, DashboardState } from './state.ts';

interface Watched {
  kind: string;
  path: string;
  list: () => Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>;
}

/** Every resource the dashboard watches, by kind. */
export function watchedResources(kc: k8s.KubeConfig): Watched[] {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  return [
    { kind: 'Node', path: '/api/v1/nodes', list: () => core.listNode() },
    { kind: 'Pod', path: '/api/v1/pods', list: () => core.listPodForAllNamespaces() },
    { kind: 'Event', path: '/api/v1/events', list: () => core.listEventForAllNamespaces() },
    ...sednaKinds.map((k) => ({
      kind: k.kind,
      path: `/apis/${SEDNA_GROUP}/${SEDNA_VERSION}/${k.plural}`,
      list: () => custom.listClusterCustomObject({ group: SEDNA_GROUP, version: SEDNA_VERSION, plural: k.plural }) as Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>,
    })),
  ];
}

export interface CollectorOptions {
  onChange: () => void;
  onError?: (kind: string, err: unknown) => void;
  /** Longest pause before restarting a failed watch (default 10 s). */
  maxBackoffMs?: number;
}

export class Collector {
  private readonly informers: k8s.Informer<k8s.KubernetesObject>[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly state: DashboardState,
    private readonly options: CollectorOptions,
  ) {}

  /** Starts every informer; resolves once each has listed (or failed its first list and is retrying). */
  async start(): Promise<void> {
    await Promise.all(watchedResources(this.kc).map((w) => this.watch(w)));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all(this.informers.map((i) => i.stop().catch(() => undefined)));
  }

  private async watch(w: Watched): Promise<void> {
    const informer = k8s.makeInformer(this.kc, w.path, w.list);
    const changed = (verb: 'upsert' | 'remove') => (o: k8s.KubernetesObject): void => {
      this.state[verb](w.kind, o as AnyObject);
      this.options.onChange();
    };
    informer.on('add', changed('upsert'));
    informer.on('update', changed('upsert'));
    informer.on('delete', changed('remove'));
    let backoff = 250;
    // start() resolves even when its list failed (the informer reports that as an 'error').
    let failed = false;
    const begin = async (): Promise<void> => {
      failed = false;
      await informer.start();
      if (!failed) {
        backoff = 250;
        this.synced(w.kind);
      }
    };
    informer.on('error', (err: unknown) => {
      failed = true;
      this.options.onError?.(w.kind, err);
      if (this.stopped) return;
      // The informer stops on an error; start it again after a pause that grows to the cap.
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!this.stopped) void begin().catch(() => undefined);
      }, backoff);
      this.timers.add(timer);
      backoff = Math.min(backoff * 2, this.options.maxBackoffMs ?? 10_000);
    });
    this.informers.push(informer);
    await begin().catch((err: unknown) => this.options.onError?.(w.kind, err));
  }

  private synced(kind: string): void {
    this.state.markSynced(kind);
    this.options.onChange();
  }
}
