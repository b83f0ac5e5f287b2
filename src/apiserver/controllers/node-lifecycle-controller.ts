// The node-lifecycle controller (kube-controller-manager's, run in the API server like the
// workload controllers): every monitor period it checks each Node's Lease; a node whose kubelet
// was not heard from within the grace period gets its conditions set to Unknown, and each node's
// unreachable / not-ready taints are kept matching its Ready condition. Pods bound to a node
// that is not Ready get Ready=False, so ReplicaSets, Deployments and the Sedna controllers that
// read them see their workers as unavailable; when the kubelet returns, it posts Ready=True and
// its pods' status again, and the taints go. The decisions are in node-lifecycle.ts.
// It also runs the NoExecute taint manager: pods on a node with NoExecute taints are evicted (a
// DisruptionTarget condition, then deleted) once their tolerations run out, 300 s by default for
// the unreachable / not-ready taints (taint-eviction.ts).
import { isDeepStrictEqual } from 'node:util';
import type { Condition, KubeObject } from '../../api/meta.ts';
import { rfc3339 } from '../../api/conditions.ts';
import type { Logger } from '../../lib/logger.ts';
import type { GenericStore } from '../registry/generic-store.ts';
import type { ResourceDef } from '../registry/types.ts';
import { isStale, lastHeard, lifecycleTaints, type NodeHealth, observe, podNotReady, readyCondition, type Taint, unknownConditions } from './node-lifecycle.ts';
import { ignoreNotFound } from './store-controller.ts';
import { evictionDecision, evictionDue, podsOnNode, withDefaultTolerations } from './taint-eviction.ts';
import type { Toleration } from '../../api/taints.ts';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

export interface NodeLifecycleOptions {
  /** A node not heard from for this long becomes Unknown (default 40 s). */
  gracePeriodMs?: number;
  /** How often every node is checked (default 5 s, as upstream). */
  monitorPeriodMs?: number;
  clock?: () => Date;
  /** The tolerationSeconds a pod without its own not-ready/unreachable toleration gets (default 300). */
  defaultTolerationSeconds?: number;
  /** Taint-based eviction of pods on NoExecute-tainted nodes (default on, as upstream). */
  evictPods?: boolean;
}

export class NodeLifecycleController {
  private readonly nodeDef: ResourceDef;
  private readonly leaseDef: ResourceDef;
  private readonly podDef: ResourceDef;
  private readonly health = new Map<string, NodeHealth>();
  private readonly gracePeriodMs: number;
  private readonly monitorPeriodMs: number;
  private readonly clock: () => Date;
  private readonly defaultTolerationSeconds: number | undefined;
  private readonly evictPods: boolean;
  /** Per node, when a NoExecute taint was first seen on it (for taints without timeAdded). */
  private readonly noExecuteSince = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: GenericStore,
    private readonly log: Logger,
    options: NodeLifecycleOptions = {},
  ) {
    this.nodeDef = store.registry.lookup('', 'v1', 'nodes')!;
    this.leaseDef = store.registry.lookup('coordination.k8s.io', 'v1', 'leases')!;
    this.podDef = store.registry.lookup('', 'v1', 'pods')!;
    this.gracePeriodMs = options.gracePeriodMs ?? 40_000;
    this.monitorPeriodMs = options.monitorPeriodMs ?? 5_000;
    this.clock = options.clock ?? (() => new Date());
    this.defaultTolerationSeconds = options.defaultTolerationSeconds;
    this.evictPods = options.evictPods ?? true;
  }

  start(): void {
    this.monitor();
    const tick = (): void => {
      this.timer = setTimeout(() => {
        try {
          this.monitor();
        } catch (err) {
          this.log.warn({ err: String(err) }, 'node monitor pass failed');
        }
        tick();
      }, this.monitorPeriodMs);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** One pass over every node (the monitor period's work); public so tests drive it with their clock. */
  monitor(): void {
    const now = this.clock();
    const nowMs = now.getTime();
    const stamp = rfc3339(now);
    const nodes = this.store.listObjects(this.nodeDef);
    const names = new Set(nodes.map((n) => n.metadata.name!));
    for (const name of this.health.keys()) if (!names.has(name)) this.health.delete(name);
    for (const name of this.noExecuteSince.keys()) if (!names.has(name)) this.noExecuteSince.delete(name);
    for (const node of nodes) {
      const name = node.metadata.name!;
      const lease = this.store.tryGet(this.leaseDef, NODE_LEASE_NAMESPACE, name);
      const health = observe(this.health.get(name), lastHeard(node, lease), nowMs);
      this.health.set(name, health);
      const stale = isStale(health, nowMs, this.gracePeriodMs);
      if (stale && readyCondition(node)?.status !== 'Unknown') {
        this.log.info({ node: name, gracePeriodMs: this.gracePeriodMs }, 'node not heard from within the grace period; Ready=Unknown');
        this.updateNode(name, (obj) => {
          const status = (obj.status ?? {}) as { conditions?: Condition[] };
          obj.status = { ...status, conditions: unknownConditions(status.conditions, stamp) };
          return obj;
        }, 'status');
      }
      const current = this.store.tryGet(this.nodeDef, undefined, name);
      if (!current) continue;
      const ready = readyCondition(current)?.status;
      const taints = ((current.spec as { taints?: Taint[] } | undefined)?.taints ?? []);
      const wanted = lifecycleTaints(taints, ready, stamp);
      if (!isDeepStrictEqual(wanted, taints)) {
        this.updateNode(name, (obj) => {
          obj.spec = { ...(obj.spec ?? {}), taints: lifecycleTaints((obj.spec as { taints?: Taint[] } | undefined)?.taints, ready, stamp) };
          if ((obj.spec as { taints: Taint[] }).taints.length === 0) delete (obj.spec as { taints?: Taint[] }).taints;
          return obj;
        });
      }
      // Only while its kubelet is silent: a kubelet that is heard from reports its pods itself.
      if (stale && ready !== 'True') this.markPodsNotReady(name, stamp);
      if (this.evictPods) this.evictNoExecute(name, nowMs, stamp);
    }
  }

  /** The taint manager's pass over one node: evicts each pod whose tolerations ran out. */
  private evictNoExecute(node: string, nowMs: number, stamp: string): void {
    const taints = ((this.store.tryGet(this.nodeDef, undefined, node)?.spec as { taints?: Taint[] } | undefined)?.taints ?? []).filter((t) => t.effect === 'NoExecute');
    if (taints.length === 0) {
      this.noExecuteSince.delete(node);
      return;
    }
    if (!this.noExecuteSince.has(node)) this.noExecuteSince.set(node, nowMs);
    const noticedAt = this.noExecuteSince.get(node)!;
    for (const pod of podsOnNode(this.store.listObjects(this.podDef), node)) {
      const tolerations = withDefaultTolerations((pod.spec as { tolerations?: Toleration[] } | undefined)?.tolerations, this.defaultTolerationSeconds);
      if (!evictionDue(evictionDecision(tolerations, taints, noticedAt), nowMs)) continue;
      this.evict(pod, node, taints, stamp);
    }
  }

  /** As upstream: a DisruptionTarget condition saying why, then a delete with the pod's grace period. */
  private evict(pod: KubeObject, node: string, taints: readonly Taint[], stamp: string): void {
    const { namespace, name, uid } = pod.metadata;
    ignoreNotFound(() =>
      this.store.guaranteedUpdate(this.podDef, namespace, name!, (obj) => {
        if (obj.metadata.uid !== uid) return obj;
        const status = (obj.status ?? {}) as { conditions?: Condition[] };
        const conditions = (status.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget');
        conditions.push({ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint', lastTransitionTime: stamp });
        obj.status = { ...status, conditions };
        return obj;
      }, { subresource: 'status' }),
    );
    ignoreNotFound(() => this.store.delete(this.podDef, namespace, name!, { preconditions: { uid: uid! } }));
    this.log.info({ node, pod: `${namespace}/${name}`, taints: taints.map((t) => t.key) }, 'pod evicted: its tolerations of the node\'s NoExecute taints ran out');
  }

  private updateNode(name: string, mutate: (obj: KubeObject) => KubeObject, subresource?: 'status'): void {
    ignoreNotFound(() => this.store.guaranteedUpdate(this.nodeDef, undefined, name, mutate, subresource ? { subresource } : {}));
  }

  private markPodsNotReady(node: string, stamp: string): void {
    for (const pod of this.store.listObjects(this.podDef)) {
      if ((pod.spec as { nodeName?: string } | undefined)?.nodeName !== node || !podNotReady(pod, stamp)) continue;
      ignoreNotFound(() =>
        this.store.guaranteedUpdate(this.podDef, pod.metadata.namespace, pod.metadata.name!, (obj) => {
          const conditions = podNotReady(obj, stamp);
          if (!conditions || obj.metadata.uid !== pod.metadata.uid) return obj;
          obj.status = { ...(obj.status ?? {}), conditions };
          return obj;
        }, { subresource: 'status' }),
      );
      this.log.info({ node, pod: `${pod.metadata.namespace}/${pod.metadata.name}` }, 'pod marked not ready: its node is not ready');
    }
  }
}
