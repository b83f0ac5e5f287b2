// Kubernetes' NodeRestriction admission plugin: the Node authorizer lets a node write pods, Nodes
// and Leases; this decides which ones, from the object itself. A node may only create, change the
// status of, or delete pods bound to it (outside status it may only set the embedded kubelet's
// sedna.io/host-ports annotation); only register, update and label (outside
// node-restriction.kubernetes.io/) its own Node; and only hold the Lease named after itself.
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../api/meta.ts';
import { nodeNameOf } from '../authn/user.ts';
import { StatusError } from '../errors.ts';
import type { AdmissionAttributes } from '../registry/generic-store.ts';

const RESTRICTED_LABEL_PREFIX = 'node-restriction.kubernetes.io/';

function refuse(node: string, message: string): StatusError {
  return new StatusError(403, 'Forbidden', `node "${node}" ${message}`);
}

function boundNode(obj: { spec?: unknown } | undefined): unknown {
  const spec = obj?.spec;
  return typeof spec === 'object' && spec !== null ? (spec as { nodeName?: unknown }).nodeName : undefined;
}

function restrictedLabels(labels: Record<string, string> | undefined): string {
  return JSON.stringify(Object.entries(labels ?? {}).filter(([k]) => k.startsWith(RESTRICTED_LABEL_PREFIX) || k.split('/')[0]!.endsWith(`.${RESTRICTED_LABEL_PREFIX.slice(0, -1)}`)));
}

/**
 * The embedded kubelet records the loopback ports it gave a pod's containers in this annotation
 * (src/lc/kubelet/ports.ts), the one change a node may make to a pod outside its status.
 */
const HOST_PORTS_ANNOTATION = 'sedna.io/host-ports';

function onlyHostPortsChanged(obj: KubeObject, old: KubeObject): boolean {
  const strip = (o: KubeObject): unknown => {
    const { annotations, resourceVersion: _rv, managedFields: _mf, ...meta } = o.metadata;
    const { [HOST_PORTS_ANNOTATION]: _ports, ...rest } = annotations ?? {};
    return { ...o, metadata: { ...meta, annotations: rest } };
  };
  return isDeepStrictEqual(JSON.parse(JSON.stringify(strip(obj))), JSON.parse(JSON.stringify(strip(old))));
}

export function nodeRestriction(a: AdmissionAttributes): void {
  const node = nodeNameOf(a.user);
  if (node === undefined) return;
  const { group, plural } = a.def;
  if (group === '' && plural === 'pods') {
    const pod = a.old ?? a.obj;
    if (boundNode(pod) !== node) throw refuse(node, `can only ${a.operation === 'CREATE' ? 'create' : 'modify'} pods bound to itself, not pod ${pod.metadata.namespace}/${pod.metadata.name}`);
    if (a.operation === 'UPDATE' && boundNode(a.obj) !== node) throw refuse(node, 'cannot move a pod to another node');
    if (a.operation === 'UPDATE' && a.subresource !== 'status' && !onlyHostPortsChanged(a.obj, a.old!)) {
      throw refuse(node, `can only update the status of its pods and their ${HOST_PORTS_ANNOTATION} annotation`);
    }
    return;
  }
  if (group === '' && plural === 'nodes') {
    if (a.obj.metadata.name !== node) throw refuse(node, `cannot modify node ${a.obj.metadata.name ?? ''}`);
    const before = a.operation === 'CREATE' ? undefined : a.old?.metadata.labels;
    if (a.operation !== 'DELETE' && restrictedLabels(a.obj.metadata.labels) !== restrictedLabels(before)) {
      throw refuse(node, `is not allowed to modify labels with the prefix ${RESTRICTED_LABEL_PREFIX}`);
    }
    return;
  }
  if (group === 'coordination.k8s.io' && plural === 'leases' && a.obj.metadata.name !== node) {
    throw refuse(node, `can only use its own Lease, not ${a.obj.metadata.namespace}/${a.obj.metadata.name}`);
  }
}
