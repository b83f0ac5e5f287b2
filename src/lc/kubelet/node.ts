// The Node object and its Lease: register (create or update) the Node with addresses, capacity,
// nodeInfo and conditions, renew a Lease in kube-node-lease every 10 s (duration 40 s) — the
// liveness signal — refresh the conditions' heartbeat rarely, and mark Ready=Unknown on stop.
import { randomUUID } from 'node:crypto';
import { arch, availableParallelism, hostname, release, totalmem, version as osVersion } from 'node:os';
import type * as k8s from '@kubernetes/client-node';
import type { Condition, KubeObject } from '../../api/meta.ts';
import { rfc3339 } from '../../api/conditions.ts';
import { microTime } from '../../controller/leader-election.ts';
import { isApiError, requestJson } from '../../controller/rest.ts';
import type { Logger } from '../../lib/logger.ts';
import { LOCAL_IP } from './status.ts';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const KUBELET_VERSION = 'v1.31.0-sedna';

export interface NodeAgentOptions {
  kubeConfig: k8s.KubeConfig;
  nodeName: string;
  labels: Record<string, string>;
  capacity?: Record<string, string>;
  leaseDurationSeconds: number;
  clock: () => Date;
  logger: Logger;
}

const MERGE_PATCH = 'application/merge-patch+json';

function kubeArch(): string {
  const a = arch();
  return a === 'x64' ? 'amd64' : a;
}

/** The conditions of a healthy node at `now`, keeping transition times of unchanged statuses. */
export function nodeConditions(previous: readonly Condition[] | undefined, ready: Condition['status'], now: Date, reason?: string, message?: string): Condition[] {
  const t = rfc3339(now);
  const wanted: Condition[] = [
    { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
    { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
    { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
    ready === 'True'
      ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }
      : { type: 'Ready', status: ready, reason: reason ?? 'KubeletNotReady', message: message ?? 'kubelet is not ready' },
  ];
  return wanted.map((c) => {
    const old = previous?.find((p) => p.type === c.type);
    const transition = old && old.status === c.status ? (old.lastTransitionTime ?? t) : t;
    return { ...c, lastHeartbeatTime: t, lastTransitionTime: transition };
  });
}

export class NodeAgent {
  private conditions: Condition[] | undefined;
  private nodeUid: string | undefined;
  private readonly leasePath: string;
  private readonly nodePath: string;

  constructor(private readonly options: NodeAgentOptions) {
    this.leasePath = `/apis/coordination.k8s.io/v1/namespaces/${NODE_LEASE_NAMESPACE}/leases`;
    this.nodePath = `/api/v1/nodes/${encodeURIComponent(options.nodeName)}`;
  }

  private request<T>(opts: Parameters<typeof requestJson>[1]): Promise<T> {
    return requestJson<T>(this.options.kubeConfig, { timeoutMs: 15_000, ...opts });
  }

  /** Creates the Node or brings its labels up to date, then posts a Ready status. */
  async register(): Promise<void> {
    const { nodeName, labels } = this.options;
    const allLabels = {
      'kubernetes.io/hostname': nodeName,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': kubeArch(),
      'beta.kubernetes.io/os': 'linux',
      'beta.kubernetes.io/arch': kubeArch(),
      ...labels,
    };
    let node: KubeObject;
    try {
      node = await this.request<KubeObject>({ method: 'POST', path: '/api/v1/nodes', body: { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName, labels: allLabels }, spec: {} } });
    } catch (err) {
      if (!isApiError(err, 409)) throw err;
      node = await this.request<KubeObject>({ method: 'PATCH', path: this.nodePath, body: { metadata: { labels: allLabels } }, contentType: MERGE_PATCH });
    }
    this.nodeUid = node.metadata.uid;
    this.conditions = (node.status as { conditions?: Condition[] } | undefined)?.conditions;
    await this.postStatus('True', true);
  }

  /** Refreshes the heartbeat times (and the full status on the first call). */
  async postStatus(ready: Condition['status'], full = false, reason?: string, message?: string): Promise<void> {
    const now = this.options.clock();
    this.conditions = nodeConditions(this.conditions, ready, now, reason, message);
    const status: Record<string, unknown> = { conditions: this.conditions };
    if (full) {
      const capacity = {
        cpu: String(availableParallelism()),
        memory: `${Math.floor(totalmem() / 1024)}Ki`,
        pods: '110',
        'ephemeral-storage': '100Gi',
        ...this.options.capacity,
      };
      Object.assign(status, {
        addresses: [
          { type: 'InternalIP', address: LOCAL_IP },
          { type: 'Hostname', address: this.options.nodeName },
        ],
        capacity,
        allocatable: capacity,
        daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
        nodeInfo: {
          machineID: this.options.nodeName,
          systemUUID: randomUUID(),
          bootID: randomUUID(),
          kernelVersion: release(),
          osImage: safe(osVersion) || hostname(),
          containerRuntimeVersion: `sedna-process://${process.version}`,
          kubeletVersion: KUBELET_VERSION,
          kubeProxyVersion: '',
          operatingSystem: 'linux',
          architecture: kubeArch(),
        },
        phase: 'Running',
      });
    }
    await this.request({ method: 'PATCH', path: `${this.nodePath}/status`, body: { status }, contentType: MERGE_PATCH });
  }

  /**
   * Posts Ready=True again when the Node says otherwise: the node-lifecycle controller set it
   * Unknown while this kubelet could not reach the API server (as the real kubelet's status
   * loop does, which compares against the stored Node).
   */
  async reassertReady(): Promise<boolean> {
    const node = await this.request<KubeObject>({ path: this.nodePath });
    const conditions = (node.status as { conditions?: Condition[] } | undefined)?.conditions;
    if (conditions?.find((c) => c.type === 'Ready')?.status === 'True') return false;
    this.conditions = conditions;
    await this.postStatus('True');
    return true;
  }

  /** Takes or renews the node's Lease. */
  async renewLease(): Promise<void> {
    const { nodeName, leaseDurationSeconds } = this.options;
    const now = microTime(this.options.clock());
    const ownerReferences = this.nodeUid ? [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: this.nodeUid }] : undefined;
    try {
      const lease = await this.request<KubeObject>({ path: `${this.leasePath}/${encodeURIComponent(nodeName)}` });
      const spec = { ...(lease.spec as object), holderIdentity: nodeName, leaseDurationSeconds, renewTime: now };
      await this.request({
        method: 'PUT',
        path: `${this.leasePath}/${encodeURIComponent(nodeName)}`,
        body: { ...lease, metadata: { ...lease.metadata, ...(ownerReferences ? { ownerReferences } : {}) }, spec },
      });
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
      await this.ensureLeaseNamespace();
      await this.request({
        method: 'POST',
        path: this.leasePath,
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: nodeName, namespace: NODE_LEASE_NAMESPACE, ...(ownerReferences ? { ownerReferences } : {}) },
          spec: { holderIdentity: nodeName, leaseDurationSeconds, acquireTime: now, renewTime: now },
        },
      });
    }
  }

  private async ensureLeaseNamespace(): Promise<void> {
    try {
      await this.request({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NODE_LEASE_NAMESPACE } } });
    } catch (err) {
      // 403: a node identity may not create namespaces (the API server creates kube-node-lease);
      // the Lease create that follows says whether it exists.
      if (!isApiError(err, 409) && !isApiError(err, 403)) throw err;
    }
  }
}

function safe(f: () => string): string {
  try {
    return f();
  } catch {
    return '';
  }
}
