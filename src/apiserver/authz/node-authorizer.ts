// Kubernetes' Node authorizer with the system:node role folded in: a node identity
// (system:node:<name>, group system:nodes) may read and write its own Node and Lease, read pods,
// services and nodes, write the status of and delete the pods bound to it (NodeRestriction, in
// node-restriction.ts, checks which pod), record events, and read only the Secrets, ConfigMaps
// and PersistentVolumeClaims its own pods refer to. Anything else is left to RBAC, where nodes
// have no bindings.
import { nodeNameOf } from '../authn/user.ts';
import type { GenericStore } from '../registry/generic-store.ts';
import type { ResourceDef } from '../registry/types.ts';
import { podReferences, type ReferencedKind } from './node-graph.ts';
import type { Attributes, Authorizer, Decision } from './types.ts';

const READ = new Set(['get', 'list', 'watch']);
const WRITE_SELF = new Set(['get', 'update', 'patch']);
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

const GRAPH_KINDS = new Set<string>(['secrets', 'configmaps', 'persistentvolumeclaims']);

export class NodeAuthorizer implements Authorizer {
  private readonly podDef: ResourceDef;

  constructor(private readonly store: GenericStore) {
    this.podDef = store.registry.lookup('', 'v1', 'pods')!;
  }

  authorize(a: Attributes): Decision {
    const node = nodeNameOf(a.user);
    if (node === undefined || !a.resourceRequest) return { verdict: 'no-opinion', reason: '' };
    const allow = (why: string): Decision => ({ verdict: 'allow', reason: `node authorizer: ${why}` });
    const deny = (why: string): Decision => ({ verdict: 'deny', reason: `node "${node}" ${why}` });
    const group = a.apiGroup ?? '';
    const resource = a.resource ?? '';
    if (group === '' && GRAPH_KINDS.has(resource) && !a.subresource) {
      if (a.verb !== 'get' || !a.name || !a.namespace) return deny(`may only get individual ${resource}`);
      return this.referencedByOwnPod(node, resource as ReferencedKind, a.namespace, a.name)
        ? allow(`${resource} referenced by a pod bound to node ${node}`)
        : deny(`cannot get ${resource.replace(/s$/, '')} ${a.namespace}/${a.name}: no relationship found between node '${node}' and this object`);
    }
    if (group === '' && resource === 'nodes') {
      if (!a.subresource && READ.has(a.verb)) return allow('nodes are readable');
      if (!a.subresource && a.verb === 'create') return allow('a node registers itself (NodeRestriction checks the name)');
      if ((a.subresource === undefined || a.subresource === 'status') && WRITE_SELF.has(a.verb)) {
        return a.name === node ? allow('its own Node') : deny(`may only modify its own Node, not ${a.name ?? 'all nodes'}`);
      }
      return { verdict: 'no-opinion', reason: '' };
    }
    if (group === 'coordination.k8s.io' && resource === 'leases' && a.namespace === NODE_LEASE_NAMESPACE) {
      if (a.verb === 'create') return allow('a node creates its Lease (NodeRestriction checks the name)');
      if ([...WRITE_SELF, 'delete'].includes(a.verb)) return a.name === node ? allow('its own Lease') : deny(`may only use its own Lease, not ${a.name ?? 'all leases'}`);
      return { verdict: 'no-opinion', reason: '' };
    }
    if (group === '' && resource === 'pods') {
      if (!a.subresource && READ.has(a.verb)) return allow('pods are readable');
      // Which pod is checked by NodeRestriction, which sees the stored object.
      if (a.subresource === 'status' && (a.verb === 'update' || a.verb === 'patch' || a.verb === 'get')) return allow('status of pods bound to it');
      if (!a.subresource && ['delete', 'create', 'update', 'patch'].includes(a.verb)) return allow('pods bound to it');
      return { verdict: 'no-opinion', reason: '' };
    }
    if (group === '' && (resource === 'services' || resource === 'endpoints') && READ.has(a.verb)) return allow(`${resource} are readable`);
    if ((group === '' || group === 'events.k8s.io') && resource === 'events' && ['create', 'update', 'patch'].includes(a.verb)) return allow('records events');
    if (group === 'authentication.k8s.io' && resource === 'tokenreviews' && a.verb === 'create') return allow('reviews tokens');
    if (group === 'authorization.k8s.io' && resource === 'subjectaccessreviews' && a.verb === 'create') return allow('reviews access');
    return { verdict: 'no-opinion', reason: '' };
  }

  private referencedByOwnPod(node: string, kind: ReferencedKind, namespace: string, name: string): boolean {
    const pods = this.store.listObjects(this.podDef, namespace, { fieldSelector: `spec.nodeName=${node}` });
    return pods.some((pod) => podReferences(pod).has(`${kind}/${name}`));
  }
}
