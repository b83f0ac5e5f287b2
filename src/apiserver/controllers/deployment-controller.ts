// apps/v1 Deployment controller, after upstream's pkg/controller/deployment: a Deployment owns
// one ReplicaSet per pod template (named <deployment>-<pod-template-hash>, the hash label added
// to its selector, template and pods), numbered by the deployment.kubernetes.io/revision
// annotation. A template change creates a new ReplicaSet and moves replicas to it, either all at
// once (Recreate: old ones to zero first, the new one up once their pods are gone) or gradually
// (RollingUpdate: never more than replicas+maxSurge pods, never fewer than
// replicas-maxUnavailable available). A scaling while a rollout is under way is shared out in
// proportion; a paused Deployment scales but does not roll. Old ReplicaSets beyond
// revisionHistoryLimit are deleted once scaled down. Status (counts and the Available and
// Progressing conditions) is computed from the ReplicaSets' status and written only on change.
//
// Rollouts progress as pods become ready: nothing runs pods inside the API server alone, so a
// node agent (or a test acting as one) must report them Running and Ready.
//
// This file wires events to syncs and picks the strategy; deployment/ holds the steps.
import type { KubeObject } from '../../api/meta.ts';
import type { Logger } from '../../lib/logger.ts';
import type { GenericStore } from '../registry/generic-store.ts';
import type { StoredEvent } from '../storage/types.ts';
import { controllerRefOf, controllersToWake, selectorOf } from './controller-ref.ts';
import { DeploymentClient, type DeploymentDefs } from './deployment/client.ts';
import { findNewReplicaSet } from './deployment/new-replicaset.ts';
import { rolloutRecreate } from './deployment/recreate.ts';
import { rolloutRolling } from './deployment/rolling.ts';
import type { DeploymentStatus } from '../../api/workloads.ts';
import type { Rollout, StoredDeploymentSpec } from './deployment/rollout.ts';
import { isScalingEvent, syncScaling } from './deployment/scaling.ts';
import { calculateStatus, checkPausedConditions } from './deployment/status.ts';
import { phaseOf } from './pods.ts';
import { objectKey, previousObject, splitKey, StoreController } from './store-controller.ts';

export { REVISION_ANNOTATION } from './deployment/history.ts';
export { resolveFenceposts } from './deployment/strategy.ts';
export { POD_TEMPLATE_HASH_LABEL, podTemplateHash } from './deployment/template-hash.ts';

export class DeploymentController extends StoreController {
  private readonly defs: DeploymentDefs;
  private readonly prefixes: { deploy: string; rs: string; pod: string };
  private readonly client: DeploymentClient;

  constructor(store: GenericStore, log: Logger) {
    super(store, log, 'deployment');
    this.defs = {
      deploy: store.registry.lookup('apps', 'v1', 'deployments')!,
      rs: store.registry.lookup('apps', 'v1', 'replicasets')!,
      pod: store.registry.lookup('', 'v1', 'pods')!,
    };
    this.prefixes = { deploy: store.prefix(this.defs.deploy), rs: store.prefix(this.defs.rs), pod: store.prefix(this.defs.pod) };
    this.client = new DeploymentClient(store, log, this.defs, (key, delayMs) => this.queue.addAfter(key, delayMs));
  }

  protected override initialKeys(): string[] {
    return this.store.listObjects(this.defs.deploy).map(objectKey);
  }

  // ---- events ----------------------------------------------------------------------------

  protected override observe(event: StoredEvent): void {
    if (event.key.startsWith(this.prefixes.deploy)) this.enqueue(objectKey(JSON.parse(event.value) as KubeObject));
    else if (event.key.startsWith(this.prefixes.rs)) this.replicaSetChanged(JSON.parse(event.value) as KubeObject, event);
    else if (event.key.startsWith(this.prefixes.pod)) this.podChanged(JSON.parse(event.value) as KubeObject, event);
  }

  /** Wakes the controlling Deployment (before and after), or those that could adopt an orphan. */
  private replicaSetChanged(rs: KubeObject, event: StoredEvent): void {
    const candidates = (): KubeObject[] => this.store.listObjects(this.defs.deploy, rs.metadata.namespace);
    for (const key of controllersToWake('Deployment', rs, previousObject(event), event.type === 'DELETED', candidates)) this.enqueue(key);
  }

  /** Recreate waits for old pods to stop: a pod that goes away or changes phase wakes its Deployment. */
  private podChanged(pod: KubeObject, event: StoredEvent): void {
    const prev = previousObject(event);
    if (event.type !== 'DELETED' && (!prev || phaseOf(pod) === phaseOf(prev))) return;
    const ref = controllerRefOf(pod, 'ReplicaSet');
    if (!ref) return;
    const rs = this.client.getReplicaSet(pod.metadata.namespace, ref.name);
    const owner = rs && rs.metadata.uid === ref.uid ? controllerRefOf(rs, 'Deployment') : undefined;
    if (owner) this.enqueue(`${pod.metadata.namespace}/${owner.name}`);
  }

  // ---- sync ------------------------------------------------------------------------------

  protected override sync(key: string): void {
    const [namespace, name] = splitKey(key);
    const d = this.store.tryGet(this.defs.deploy, namespace, name);
    if (!d) return;
    const spec = (d.spec ?? {}) as StoredDeploymentSpec;
    const selector = selectorOf(spec.selector);
    if (selector.empty) return; // would select every pod; validation refuses it anyway
    const stored = (d.status ?? {}) as DeploymentStatus;
    const replicaSets = this.client.claimReplicaSets(d, selector);
    const rollout: Rollout = { d, spec, stored, status: structuredClone(stored), replicaSets, newUid: undefined };
    if (d.metadata.deletionTimestamp) return this.syncStatusOnly(rollout);
    checkPausedConditions(rollout);
    if (spec.paused || isScalingEvent(this.client, rollout)) return syncScaling(this.client, rollout);
    if (spec.strategy?.type === 'Recreate') return rolloutRecreate(this.client, rollout);
    return rolloutRolling(this.client, rollout);
  }

  /** A Deployment being deleted only reports status. */
  private syncStatusOnly(r: Rollout): void {
    r.newUid = findNewReplicaSet(r)?.metadata.uid;
    this.client.writeStatus(r, calculateStatus(r));
  }
}
