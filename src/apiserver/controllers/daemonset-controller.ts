// apps/v1 DaemonSet controller: one pod from spec.template on every node that matches the
// template's nodeSelector and required node affinity and whose NoSchedule/NoExecute taints the
// template tolerates. Pods are bound to their node directly (spec.nodeName), as the embedded system
// has no scheduler. A node that appears, or whose labels change, gets its pod; a node that goes or
// stops matching loses it. A template change rolls pods by deleting at most maxUnavailable
// out-of-date pods at a time (RollingUpdate) or leaves them until deleted (OnDelete). Pods carry
// the template's hash in `controller-revision-hash`, as upstream's ControllerRevision names do.
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject, LabelSelector } from '../../api/meta.ts';
import { type Taint, type Toleration, tolerates } from '../../api/taints.ts';
import type { Logger } from '../../lib/logger.ts';
import type { GenericStore } from '../registry/generic-store.ts';
import type { ResourceDef } from '../registry/types.ts';
import type { StoredEvent } from '../storage/types.ts';
import { appsControllerRef, claimObjects, selectorOf } from './controller-ref.ts';
import { podTemplateHash } from './deployment/template-hash.ts';
import { isActivePod, isPodAvailable, isPodReady } from './pods.ts';
import { ignoreNotFound, isNamespaceTerminating, objectKey, previousObject, splitKey } from './store-controller.ts';
import { PodOwnerController } from './pod-owner-controller.ts';
import type { PodTemplate } from './deployment/template-hash.ts';

export const REVISION_HASH_LABEL = 'controller-revision-hash';

interface DaemonSetSpec {
  selector?: LabelSelector;
  template?: PodTemplate;
  minReadySeconds?: number;
  updateStrategy?: { type?: string; rollingUpdate?: { maxUnavailable?: number | string } };
}

interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export class DaemonSetController extends PodOwnerController {
  private readonly nodeDef: ResourceDef;
  private readonly nodePrefix: string;

  constructor(store: GenericStore, log: Logger) {
    super(store, log, 'daemonset', { group: 'apps', version: 'v1', plural: 'daemonsets', kind: 'DaemonSet' });
    this.nodeDef = store.registry.lookup('', 'v1', 'nodes')!;
    this.nodePrefix = store.prefix(this.nodeDef);
  }

  /** A Node's labels or spec changed: every DaemonSet may now belong on it, or no longer. */
  protected override observeOther(event: StoredEvent): void {
    if (event.key.startsWith(this.nodePrefix)) {
      const node = JSON.parse(event.value) as KubeObject;
      const prev = previousObject(event);
      // Status heartbeats do not change where daemon pods belong.
      if (prev && isDeepStrictEqual(prev.metadata.labels, node.metadata.labels) && isDeepStrictEqual(prev.spec, node.spec)) return;
      for (const ds of this.store.listObjects(this.ownerDef)) this.enqueue(objectKey(ds));
    }
  }

  protected override sync(key: string): void {
    const [namespace, name] = splitKey(key);
    const ds = this.store.tryGet(this.ownerDef, namespace, name);
    if (!ds || ds.metadata.deletionTimestamp) return;
    const spec = (ds.spec ?? {}) as DaemonSetSpec;
    const selector = selectorOf(spec.selector);
    const pods = claimObjects(this.store, this.podDef, ds, appsControllerRef('DaemonSet', ds), this.store.listObjects(this.podDef, namespace), (p) =>
      selector.matches(p.metadata.labels),
    );
    const hash = podTemplateHash(spec.template ?? {});
    const nodes = this.store.listObjects(this.nodeDef);
    const wanted = new Set(nodes.filter((n) => shouldRun(n, spec.template)).map((n) => n.metadata.name!));
    const byNode = new Map<string, KubeObject[]>();
    for (const pod of pods) {
      const node = (pod.spec as { nodeName?: string } | undefined)?.nodeName ?? '';
      byNode.set(node, [...(byNode.get(node) ?? []), pod]);
    }
    const toDelete: KubeObject[] = [];
    const toCreate: string[] = [];
    for (const [node, onNode] of byNode) {
      const live = onNode.filter(isActivePod);
      // Finished pods never run again; pods on nodes that should not run one go.
      toDelete.push(...onNode.filter((p) => !isActivePod(p) && !p.metadata.deletionTimestamp));
      if (!wanted.has(node)) toDelete.push(...live);
      else if (live.length > 1) toDelete.push(...live.slice(1));
    }
    for (const node of wanted) if (!(byNode.get(node) ?? []).some(isActivePod)) toCreate.push(node);
    this.deletePods(toDelete);
    this.createPods(ds, toCreate, hash);
    const current = pods.filter((p) => isActivePod(p) && !toDelete.includes(p));
    this.rollingUpdate(spec, current, hash);
    this.writeStatus(ds, spec, wanted, current, toCreate.length, hash);
  }

  /** Deletes out-of-date pods while fewer than maxUnavailable daemon pods are unavailable. */
  private rollingUpdate(spec: DaemonSetSpec, current: KubeObject[], hash: string): void {
    if ((spec.updateStrategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return;
    const maxUnavailable = resolveMaxUnavailable(spec.updateStrategy?.rollingUpdate?.maxUnavailable, current.length);
    const now = Date.now();
    let unavailable = current.filter((p) => !isPodAvailable(p, spec.minReadySeconds ?? 0, now)).length;
    const old = current.filter((p) => p.metadata.labels?.[REVISION_HASH_LABEL] !== hash);
    // Unavailable old pods go first: deleting them costs no availability.
    const ordered = [...old.filter((p) => !isPodReady(p)), ...old.filter(isPodReady)];
    for (const pod of ordered) {
      const counts = !isPodAvailable(pod, spec.minReadySeconds ?? 0, now);
      if (!counts && unavailable >= maxUnavailable) break;
      this.deletePods([pod]);
      if (!counts) unavailable++;
    }
  }

  private createPods(ds: KubeObject, nodes: string[], hash: string): void {
    for (const node of nodes) {
      try {
        this.store.create(this.podDef, ds.metadata.namespace, podFor(ds, node, hash));
      } catch (err) {
        if (isNamespaceTerminating(err)) return;
        throw err;
      }
    }
  }

  private deletePods(pods: KubeObject[]): void {
    for (const pod of pods) {
      if (pod.metadata.deletionTimestamp) continue;
      ignoreNotFound(() => this.store.delete(this.podDef, pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid! } }));
    }
  }

  private writeStatus(ds: KubeObject, spec: DaemonSetSpec, wanted: Set<string>, current: KubeObject[], creating: number, hash: string): void {
    const now = Date.now();
    const scheduled = current.filter((p) => wanted.has((p.spec as { nodeName?: string }).nodeName ?? ''));
    const available = scheduled.filter((p) => isPodAvailable(p, spec.minReadySeconds ?? 0, now)).length;
    const next: Record<string, unknown> = {
      currentNumberScheduled: scheduled.length + creating,
      numberMisscheduled: current.length - scheduled.length,
      desiredNumberScheduled: wanted.size,
      numberReady: scheduled.filter(isPodReady).length,
      observedGeneration: ds.metadata.generation ?? 1,
      updatedNumberScheduled: scheduled.filter((p) => p.metadata.labels?.[REVISION_HASH_LABEL] === hash).length + creating,
      numberAvailable: available,
      numberUnavailable: Math.max(wanted.size - available, 0),
    };
    for (const k of ['numberAvailable', 'numberUnavailable', 'updatedNumberScheduled']) if (next[k] === 0) delete next[k];
    if (isDeepStrictEqual(next, ds.status ?? {})) return;
    ignoreNotFound(() =>
      this.store.guaranteedUpdate(
        this.ownerDef,
        ds.metadata.namespace,
        ds.metadata.name!,
        (obj) => {
          if (obj.metadata.uid !== ds.metadata.uid) return obj;
          obj.status = next;
          return obj;
        },
        { subresource: 'status' },
      ),
    );
  }
}

function resolveMaxUnavailable(value: number | string | undefined, total: number): number {
  if (typeof value === 'number') return Math.max(value, 1);
  const percent = typeof value === 'string' ? /^(\d+)%$/.exec(value) : null;
  // Upstream rounds a percentage up for maxUnavailable of DaemonSets, and never below one.
  return percent ? Math.max(Math.ceil((Number(percent[1]) * total) / 100), 1) : 1;
}

/** nodeSelector, required node affinity (matchExpressions and matchFields on metadata.name) and taints. */
export function shouldRun(node: KubeObject, template: PodTemplate | undefined): boolean {
  const podSpec = (template?.spec ?? {}) as {
    nodeSelector?: Record<string, string>;
    tolerations?: Toleration[];
    affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: { matchExpressions?: NodeSelectorRequirement[]; matchFields?: NodeSelectorRequirement[] }[] } } };
  };
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(podSpec.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms = podSpec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms && terms.length > 0) {
    const fields = { 'metadata.name': node.metadata.name ?? '' };
    const ok = terms.some(
      (t) =>
        (t.matchExpressions ?? []).every((r) => requirementMatches(r, labels)) &&
        (t.matchFields ?? []).every((r) => requirementMatches(r, fields)) &&
        ((t.matchExpressions ?? []).length > 0 || (t.matchFields ?? []).length > 0),
    );
    if (!ok) return false;
  }
  const taints = ((node.spec as { taints?: Taint[] } | undefined)?.taints ?? []).filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
  // Daemon pods tolerate the unschedulable and not-ready conditions, as upstream adds those tolerations.
  const tolerations = [...(podSpec.tolerations ?? []), ...DAEMON_TOLERATIONS];
  return taints.every((taint) => tolerations.some((t) => tolerates(t, taint)));
}

const DAEMON_TOLERATIONS: Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

function requirementMatches(r: NodeSelectorRequirement, labels: Record<string, string>): boolean {
  const value = labels[r.key];
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      const n = Number(value);
      const bound = Number(values[0]);
      if (value === undefined || !Number.isInteger(n) || !Number.isInteger(bound)) return false;
      return r.operator === 'Gt' ? n > bound : n < bound;
    }
    default:
      return false;
  }
}

function podFor(ds: KubeObject, node: string, hash: string): KubeObject {
  const template = (ds.spec as DaemonSetSpec).template ?? {};
  const meta = template.metadata ?? {};
  const spec = structuredClone((template.spec ?? {}) as Record<string, unknown>);
  spec.nodeName = node;
  spec.tolerations = [...((spec.tolerations as Toleration[] | undefined) ?? []), ...DAEMON_TOLERATIONS];
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${ds.metadata.name}-`.slice(0, 248),
      namespace: ds.metadata.namespace!,
      labels: { ...(meta.labels ?? {}), [REVISION_HASH_LABEL]: hash, 'pod-template-generation': String(ds.metadata.generation ?? 1) },
      ownerReferences: [appsControllerRef('DaemonSet', ds)],
    },
    spec,
  };
  if (meta.annotations && Object.keys(meta.annotations).length > 0) pod.metadata.annotations = { ...meta.annotations };
  return pod;
}
