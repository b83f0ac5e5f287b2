// `kubectl get` columns of the built-in kinds, after kube-apiserver's printers
// (pkg/printers/internalversion/printers.go). The server always prints the wide columns; they
// carry priority 1 and kubectl shows them only with -o wide. The Name column is added by
// buildTable unless a kind places it itself (Events).
import type { KubeObject } from '../../api/meta.ts';
import { CREATION_TIMESTAMP_DESCRIPTION, DEFAULT_COLUMNS, NAME_DESCRIPTION, ageSince, humanDuration } from '../rest/table.ts';
import { formatLabelSelector } from '../../api/selectors/labels.ts';
import type { ColumnSpec } from './types.ts';

type Cell = (obj: KubeObject, now: Date) => unknown;

export const column = (name: string, type: string, cell: Cell, extra: Partial<ColumnSpec> = {}): ColumnSpec => ({
  name,
  type,
  cell,
  ...extra,
});

export const wide = (name: string, type: string, cell: Cell, description?: string): ColumnSpec =>
  column(name, type, cell, description ? { priority: 1, description } : { priority: 1 });

export const AGE = column('Age', 'string', (obj, now) => ageSince(obj.metadata.creationTimestamp, now), {
  description: CREATION_TIMESTAMP_DESCRIPTION,
});

/** Reads a nested field of a wire object without trusting its shape. */
export function at(obj: unknown, ...path: (string | number)[]): unknown {
  let v = obj;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string | number, unknown>)[key];
  }
  return v;
}

export const str = (v: unknown): string => (typeof v === 'string' ? v : '');
export const num = (v: unknown, dflt = 0): number => (typeof v === 'number' ? v : dflt);
export const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const count = (v: unknown): number => (typeof v === 'object' && v !== null ? Object.keys(v).length : 0);
export const orNone = (s: string): string => s || '<none>';

/** labels.FormatLabels: sorted k=v pairs, "<none>" when empty. */
export function formatLabels(labels: unknown): string {
  if (typeof labels !== 'object' || labels === null) return '<none>';
  const pairs = Object.entries(labels as Record<string, unknown>)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${String(v)}`);
  return pairs.length ? pairs.join(',') : '<none>';
}

/** metav1.LabelSelectorAsSelector(...).String(), with the printer's fallbacks. */
export function selectorString(sel: unknown, empty: string, invalid: string): string {
  if (typeof sel !== 'object' || sel === null) return empty;
  try {
    return formatLabelSelector(sel) || empty;
  } catch {
    return invalid;
  }
}

/** layoutContainerCells: names and images of a pod template's containers, comma-joined. */
function templateContainers(obj: KubeObject): { names: string; images: string } {
  const containers = list(at(obj, 'spec', 'template', 'spec', 'containers'));
  return {
    names: containers.map((c) => str(at(c, 'name'))).join(','),
    images: containers.map((c) => str(at(c, 'image'))).join(','),
  };
}

export const CONTAINERS = wide('Containers', 'string', (obj) => templateContainers(obj).names, 'Names of each container in the template.');
export const IMAGES = wide('Images', 'string', (obj) => templateContainers(obj).images, 'Images referenced by each container in the template.');

// ---------------------------------------------------------------------------------------------
// Pods: printPod's Ready/Status/Restarts logic.

interface PodSummary {
  ready: string;
  reason: string;
  restarts: string;
}

const RESTARTABLE = 'Always';

function conditionTrue(obj: KubeObject, type: string): boolean {
  return list(at(obj, 'status', 'conditions')).some((c) => at(c, 'type') === type && at(c, 'status') === 'True');
}

/** Accumulates restart counts and the latest restart time (lastState.terminated.finishedAt). */
class RestartTally {
  total = 0;
  last = 0;

  add(status: unknown): void {
    this.total += num(at(status, 'restartCount'));
    const finished = Date.parse(str(at(status, 'lastState', 'terminated', 'finishedAt')));
    if (!Number.isNaN(finished) && finished > this.last) this.last = finished;
  }

  format(now: Date): string {
    if (this.total === 0 || this.last === 0) return String(this.total);
    return `${this.total} (${humanDuration(now.getTime() - this.last)} ago)`;
  }
}

function terminatedReason(terminated: unknown, prefix: string): string {
  const reason = str(at(terminated, 'reason'));
  if (reason) return prefix + reason;
  const signal = num(at(terminated, 'signal'));
  return signal !== 0 ? `${prefix}Signal:${signal}` : `${prefix}ExitCode:${num(at(terminated, 'exitCode'))}`;
}

interface InitState {
  reason: string | undefined;
  ready: number;
  all: RestartTally;
  sidecars: RestartTally;
}

/** Walks init containers up to the first unfinished one, which names the pod's Init: status. */
function initContainerState(pod: KubeObject): InitState {
  const specs = list(at(pod, 'spec', 'initContainers'));
  const restartable = new Set(specs.filter((c) => at(c, 'restartPolicy') === RESTARTABLE).map((c) => str(at(c, 'name'))));
  const state: InitState = { reason: undefined, ready: 0, all: new RestartTally(), sidecars: new RestartTally() };
  const statuses = list(at(pod, 'status', 'initContainerStatuses'));
  for (const [i, status] of statuses.entries()) {
    state.all.add(status);
    const sidecar = restartable.has(str(at(status, 'name')));
    if (sidecar) state.sidecars.add(status);
    const terminated = at(status, 'state', 'terminated');
    const waitingReason = str(at(status, 'state', 'waiting', 'reason'));
    if (terminated && num(at(terminated, 'exitCode')) === 0) continue;
    if (sidecar && at(status, 'started') === true) {
      if (at(status, 'ready') === true) state.ready++;
      continue;
    }
    if (terminated) state.reason = terminatedReason(terminated, 'Init:');
    else if (waitingReason && waitingReason !== 'PodInitializing') state.reason = `Init:${waitingReason}`;
    else state.reason = `Init:${i}/${specs.length}`;
    break;
  }
  return state;
}

function podSummary(pod: KubeObject, now: Date): PodSummary {
  const phase = str(at(pod, 'status', 'phase'));
  const statusReason = str(at(pod, 'status', 'reason'));
  let reason = statusReason || phase;
  const gated = list(at(pod, 'status', 'conditions')).some(
    (c) => at(c, 'type') === 'PodScheduled' && at(c, 'reason') === 'SchedulingGated',
  );
  if (gated) reason = 'SchedulingGated';

  const sidecarCount = list(at(pod, 'spec', 'initContainers')).filter((c) => at(c, 'restartPolicy') === RESTARTABLE).length;
  const total = list(at(pod, 'spec', 'containers')).length + sidecarCount;
  const init = initContainerState(pod);
  let ready = init.ready;
  let restarts = init.all;
  if (init.reason !== undefined) reason = init.reason;

  if (init.reason === undefined || conditionTrue(pod, 'Initialized')) {
    restarts = init.sidecars;
    let hasRunning = false;
    // Later containers are examined first so the first container's state has the last word.
    for (const status of [...list(at(pod, 'status', 'containerStatuses'))].reverse()) {
      restarts.add(status);
      const waitingReason = str(at(status, 'state', 'waiting', 'reason'));
      const terminated = at(status, 'state', 'terminated');
      if (waitingReason) reason = waitingReason;
      else if (terminated) reason = terminatedReason(terminated, '');
      else if (at(status, 'ready') === true && at(status, 'state', 'running')) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = conditionTrue(pod, 'Ready') ? 'Running' : 'NotReady';
  }

  if (pod.metadata.deletionTimestamp) {
    if (statusReason === 'NodeLost') reason = 'Unknown';
    else if (phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';
  }
  return { ready: `${ready}/${total}`, reason, restarts: restarts.format(now) };
}

function podIP(pod: KubeObject): string {
  return orNone(str(at(pod, 'status', 'podIPs', 0, 'ip')) || str(at(pod, 'status', 'podIP')));
}

function readinessGates(pod: KubeObject): string {
  const gates = list(at(pod, 'spec', 'readinessGates'));
  if (gates.length === 0) return '<none>';
  const conditions = list(at(pod, 'status', 'conditions'));
  const passed = gates.filter((g) => {
    const condition = conditions.find((c) => at(c, 'type') === at(g, 'conditionType'));
    return condition !== undefined && at(condition, 'status') === 'True';
  }).length;
  return `${passed}/${gates.length}`;
}

const podColumns: ColumnSpec[] = [
  column('Ready', 'string', (o, now) => podSummary(o, now).ready, {
    description: 'The aggregate readiness state of this pod for accepting traffic.',
  }),
  column('Status', 'string', (o, now) => podSummary(o, now).reason, {
    description: 'The aggregate status of the containers in this pod.',
  }),
  column('Restarts', 'string', (o, now) => podSummary(o, now).restarts, {
    description:
      'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
  }),
  AGE,
  wide('IP', 'string', podIP),
  wide('Node', 'string', (o) => orNone(str(at(o, 'spec', 'nodeName')))),
  wide('Nominated Node', 'string', (o) => orNone(str(at(o, 'status', 'nominatedNodeName')))),
  wide('Readiness Gates', 'string', readinessGates),
];

// ---------------------------------------------------------------------------------------------
// Workloads.

const deploymentColumns: ColumnSpec[] = [
  column('Ready', 'string', (o) => `${num(at(o, 'status', 'readyReplicas'))}/${num(at(o, 'spec', 'replicas'), 1)}`, {
    description: 'Number of the pod with ready state',
  }),
  column('Up-to-date', 'string', (o) => num(at(o, 'status', 'updatedReplicas'))),
  column('Available', 'string', (o) => num(at(o, 'status', 'availableReplicas'))),
  AGE,
  CONTAINERS,
  IMAGES,
  wide('Selector', 'string', (o) => selectorString(at(o, 'spec', 'selector'), '', '<invalid>')),
];

const replicaSetColumns: ColumnSpec[] = [
  column('Desired', 'integer', (o) => num(at(o, 'spec', 'replicas'), 1)),
  column('Current', 'integer', (o) => num(at(o, 'status', 'replicas'))),
  column('Ready', 'integer', (o) => num(at(o, 'status', 'readyReplicas'))),
  AGE,
  CONTAINERS,
  IMAGES,
  wide('Selector', 'string', (o) => selectorString(at(o, 'spec', 'selector'), '<none>', '<error>')),
];

// ---------------------------------------------------------------------------------------------
// Nodes.

function nodeStatus(node: KubeObject): string {
  const readyCondition = list(at(node, 'status', 'conditions')).find((c) => at(c, 'type') === 'Ready');
  const status = [readyCondition === undefined ? 'Unknown' : at(readyCondition, 'status') === 'True' ? 'Ready' : 'NotReady'];
  if (at(node, 'spec', 'unschedulable') === true) status.push('SchedulingDisabled');
  return status.join(',');
}

const NODE_ROLE_PREFIX = 'node-role.kubernetes.io/';

/** Roles come from node-role.kubernetes.io/<role> keys and the legacy kubernetes.io/role value. */
function nodeRoles(node: KubeObject): string {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(node.metadata.labels ?? {})) {
    if (key.startsWith(NODE_ROLE_PREFIX) && key.length > NODE_ROLE_PREFIX.length) roles.add(key.slice(NODE_ROLE_PREFIX.length));
    else if (key === 'kubernetes.io/role' && value !== '') roles.add(value);
  }
  return orNone([...roles].sort().join(','));
}

function nodeAddress(node: KubeObject, type: string): string {
  const address = list(at(node, 'status', 'addresses')).find((a) => at(a, 'type') === type);
  return orNone(str(at(address, 'address')));
}

const nodeInfo = (field: string): Cell => (o) => str(at(o, 'status', 'nodeInfo', field)) || '<unknown>';

const nodeColumns: ColumnSpec[] = [
  column('Status', 'string', nodeStatus, { description: 'The status of the node' }),
  column('Roles', 'string', nodeRoles, { description: 'The roles of the node' }),
  AGE,
  column('Version', 'string', (o) => str(at(o, 'status', 'nodeInfo', 'kubeletVersion'))),
  wide('Internal-IP', 'string', (o) => nodeAddress(o, 'InternalIP')),
  wide('External-IP', 'string', (o) => nodeAddress(o, 'ExternalIP')),
  wide('OS-Image', 'string', nodeInfo('osImage')),
  wide('Kernel-Version', 'string', nodeInfo('kernelVersion')),
  wide('Container-Runtime', 'string', nodeInfo('containerRuntimeVersion')),
];

// ---------------------------------------------------------------------------------------------
// Services.

function loadBalancerAddresses(svc: KubeObject): string[] {
  const ingress = list(at(svc, 'status', 'loadBalancer', 'ingress'));
  const addresses = new Set(ingress.map((i) => str(at(i, 'ip')) || str(at(i, 'hostname'))).filter((a) => a !== ''));
  return [...addresses].sort();
}

/** getServiceExternalIP, as printed with -o wide (the server always prints wide). */
function serviceExternalIP(svc: KubeObject): string {
  const externalIPs = list(at(svc, 'spec', 'externalIPs')).map(str);
  switch (str(at(svc, 'spec', 'type'))) {
    case 'ClusterIP':
    case 'NodePort':
      return orNone(externalIPs.join(','));
    case 'LoadBalancer': {
      const all = [...loadBalancerAddresses(svc), ...externalIPs];
      return all.length ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return str(at(svc, 'spec', 'externalName'));
    default:
      return '<unknown>';
  }
}

function servicePorts(svc: KubeObject): string {
  const ports = list(at(svc, 'spec', 'ports')).map((p) => {
    const protocol = str(at(p, 'protocol')) || 'TCP';
    const nodePort = num(at(p, 'nodePort'));
    const port = num(at(p, 'port'));
    return nodePort > 0 ? `${port}:${nodePort}/${protocol}` : `${port}/${protocol}`;
  });
  return orNone(ports.join(','));
}

const serviceColumns: ColumnSpec[] = [
  column('Type', 'string', (o) => str(at(o, 'spec', 'type'))),
  column('Cluster-IP', 'string', (o) => orNone(str(at(o, 'spec', 'clusterIPs', 0)) || str(at(o, 'spec', 'clusterIP')))),
  column('External-IP', 'string', serviceExternalIP),
  column('Port(s)', 'string', servicePorts),
  AGE,
  wide('Selector', 'string', (o) => formatLabels(at(o, 'spec', 'selector'))),
];

// ---------------------------------------------------------------------------------------------
// Events: the wide form lists Subobject, Source, First Seen, Count and Name after the basics.

function eventFirstSeen(ev: KubeObject, now: Date): string {
  const first = str(at(ev, 'firstTimestamp'));
  return ageSince(first || str(at(ev, 'eventTime')), now);
}

function eventLastSeen(ev: KubeObject, now: Date): string {
  const seriesLast = str(at(ev, 'series', 'lastObservedTime'));
  if (at(ev, 'series')) return ageSince(seriesLast, now);
  const last = str(at(ev, 'lastTimestamp'));
  return last ? ageSince(last, now) : eventFirstSeen(ev, now);
}

function eventCount(ev: KubeObject): number {
  if (at(ev, 'series')) return num(at(ev, 'series', 'count'));
  // Singleton events of the events.k8s.io API carry no count.
  return num(at(ev, 'count')) || 1;
}

function eventObject(ev: KubeObject): string {
  const kind = str(at(ev, 'involvedObject', 'kind')).toLowerCase();
  const name = str(at(ev, 'involvedObject', 'name'));
  return name ? `${kind}/${name}` : kind;
}

function eventSource(ev: KubeObject): string {
  const component = str(at(ev, 'source', 'component')) || str(at(ev, 'reportingComponent'));
  const host = str(at(ev, 'source', 'host')) || str(at(ev, 'reportingInstance'));
  return host ? `${component}, ${host}` : component;
}

const eventColumns: ColumnSpec[] = [
  column('Last Seen', 'string', eventLastSeen),
  column('Type', 'string', (o) => str(at(o, 'type'))),
  column('Reason', 'string', (o) => str(at(o, 'reason'))),
  column('Object', 'string', eventObject),
  wide('Subobject', 'string', (o) => str(at(o, 'involvedObject', 'fieldPath'))),
  wide('Source', 'string', eventSource),
  column('Message', 'string', (o) => str(at(o, 'message')).trim()),
  wide('First Seen', 'string', eventFirstSeen),
  wide('Count', 'string', eventCount),
  column('Name', 'string', (o) => o.metadata.name ?? '', { priority: 1, format: 'name', description: NAME_DESCRIPTION }),
];

// ---------------------------------------------------------------------------------------------
// HorizontalPodAutoscaler: the Targets column of formatHPAMetrics, for v2 and v1 shapes.

/** resource.Quantity travels as a string ("100m") or, from lenient clients, a bare number. */
const quantity = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/** v1 objects carry one CPU target; express it in the v2 vocabulary the formatter reads. */
function hpaMetrics(hpa: KubeObject): { specs: unknown[]; statuses: unknown[] } {
  const specs = list(at(hpa, 'spec', 'metrics'));
  const cpuTarget = at(hpa, 'spec', 'targetCPUUtilizationPercentage');
  if (specs.length > 0 || typeof cpuTarget !== 'number') {
    return { specs, statuses: list(at(hpa, 'status', 'currentMetrics')) };
  }
  const cpuCurrent = at(hpa, 'status', 'currentCPUUtilizationPercentage');
  const resource = (target: unknown) => ({ type: 'Resource', resource: { name: 'cpu', ...(target as object) } });
  return {
    specs: [resource({ target: { type: 'Utilization', averageUtilization: cpuTarget } })],
    statuses: typeof cpuCurrent === 'number' ? [resource({ current: { averageUtilization: cpuCurrent } })] : [],
  };
}

/** Value-or-average targets of External and Object metrics. */
function valueMetric(spec: unknown, status: unknown): string {
  const avgTarget = at(spec, 'target', 'averageValue');
  if (avgTarget !== undefined) {
    const current = at(status, 'current', 'averageValue');
    return `${current !== undefined ? quantity(current) : '<unknown>'}/${quantity(avgTarget)} (avg)`;
  }
  const current = status ? quantity(at(status, 'current', 'value')) : '<unknown>';
  return `${current}/${quantity(at(spec, 'target', 'value'))}`;
}

/** Resource and ContainerResource metrics: an average value, or a utilisation percentage. */
function resourceMetric(spec: unknown, status: unknown): string {
  const name = str(at(spec, 'name'));
  const avgTarget = at(spec, 'target', 'averageValue');
  if (avgTarget !== undefined) {
    const current = status ? quantity(at(status, 'current', 'averageValue')) : '<unknown>';
    return `${name}: ${current}/${quantity(avgTarget)}`;
  }
  const currentPct = at(status, 'current', 'averageUtilization');
  const targetPct = at(spec, 'target', 'averageUtilization');
  const current = typeof currentPct === 'number' ? `${currentPct}%` : '<unknown>';
  const target = typeof targetPct === 'number' ? `${targetPct}%` : '<auto>';
  return `${name}: ${current}/${target}`;
}

const METRIC_FIELDS: Record<string, string> = {
  External: 'external',
  Pods: 'pods',
  Object: 'object',
  Resource: 'resource',
  ContainerResource: 'containerResource',
};

function formatMetric(spec: unknown, status: unknown): string {
  const type = str(at(spec, 'type'));
  const fieldName = METRIC_FIELDS[type];
  if (!fieldName) return '<unknown type>';
  const source = at(spec, fieldName);
  const current = at(status, fieldName);
  switch (type) {
    case 'Pods': {
      const value = current ? quantity(at(current, 'current', 'averageValue')) : '<unknown>';
      return `${value}/${quantity(at(source, 'target', 'averageValue'))}`;
    }
    case 'External':
    case 'Object':
      return valueMetric(source, current);
    default:
      return resourceMetric(source, current);
  }
}

function hpaTargets(hpa: KubeObject): string {
  const { specs, statuses } = hpaMetrics(hpa);
  if (specs.length === 0) return '<none>';
  const shown = specs.slice(0, 2).map((spec, i) => formatMetric(spec, statuses[i]));
  const more = specs.length - shown.length;
  return more > 0 ? `${shown.join(', ')} + ${more} more...` : shown.join(', ');
}

const hpaColumns: ColumnSpec[] = [
  column('Reference', 'string', (o) => `${str(at(o, 'spec', 'scaleTargetRef', 'kind'))}/${str(at(o, 'spec', 'scaleTargetRef', 'name'))}`),
  column('Targets', 'string', hpaTargets),
  column('MinPods', 'string', (o) => {
    const min = at(o, 'spec', 'minReplicas');
    return typeof min === 'number' ? String(min) : '<unset>';
  }),
  column('MaxPods', 'string', (o) => num(at(o, 'spec', 'maxReplicas'))),
  column('Replicas', 'string', (o) => num(at(o, 'status', 'currentReplicas'))),
  AGE,
];

// ---------------------------------------------------------------------------------------------

/** Secret data keys; stringData is write-only but counts if a caller has not merged it yet. */
function secretDataCount(secret: KubeObject): number {
  const keysOf = (v: unknown): string[] => (typeof v === 'object' && v !== null ? Object.keys(v) : []);
  return new Set([...keysOf(at(secret, 'data')), ...keysOf(at(secret, 'stringData'))]).size;
}

export const builtinColumns: Record<string, ColumnSpec[]> = {
  '/Pod': podColumns,
  '/Node': nodeColumns,
  '/Namespace': [column('Status', 'string', (o) => str(at(o, 'status', 'phase')), { description: 'The status of the namespace' }), AGE],
  '/Service': serviceColumns,
  '/Secret': [column('Type', 'string', (o) => str(at(o, 'type'))), column('Data', 'string', secretDataCount), AGE],
  '/ConfigMap': [column('Data', 'string', (o) => count(at(o, 'data')) + count(at(o, 'binaryData'))), AGE],
  '/Event': eventColumns,
  '/ServiceAccount': [column('Secrets', 'string', (o) => list(at(o, 'secrets')).length), AGE],
  'apps/Deployment': deploymentColumns,
  'apps/ReplicaSet': replicaSetColumns,
  'autoscaling/HorizontalPodAutoscaler': hpaColumns,
  'coordination.k8s.io/Lease': [column('Holder', 'string', (o) => str(at(o, 'spec', 'holderIdentity'))), AGE],
  // CRDs have no printer upstream, so kube-apiserver's default convertor prints them.
  'apiextensions.k8s.io/CustomResourceDefinition': DEFAULT_COLUMNS,
};
