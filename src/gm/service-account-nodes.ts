// Node identity on a Kubernetes cluster, without a shared secret copied to every node: the LC
// presents its pod's projected ServiceAccount token (audience e.g. `sedna-gm`, so the token is
// worth nothing against the API server and an API token nothing here). The GM asks the API server
// with a TokenReview who the token belongs to, and admits the caller as node N only when the token
// is the LC ServiceAccount's, is bound to a pod that still exists (same uid), and that pod is
// scheduled on N. A token stolen from one node therefore cannot speak for another.
import type { KubeConfig } from '@kubernetes/client-node';
import { isApiError, requestJson } from '../controller/index.ts';
import type { NodeAuthenticator } from '../edgelink/index.ts';

export interface ServiceAccountNodesOptions {
  /** The LC's ServiceAccount, e.g. sedna/sedna-lc. */
  namespace: string;
  name: string;
  /** The audience the LC's projected token is issued for. */
  audience: string;
  /** How long whether a Node exists is remembered (default 5 s). */
  cacheMs?: number;
  now?: () => number;
}

const POD_NAME = 'authentication.kubernetes.io/pod-name';
const POD_UID = 'authentication.kubernetes.io/pod-uid';

interface TokenReview {
  status?: { authenticated?: boolean; audiences?: string[]; user?: { username?: string; extra?: Record<string, string[]> } };
}

interface Pod {
  metadata?: { uid?: string; deletionTimestamp?: string };
  spec?: { nodeName?: string };
  status?: { phase?: string };
}

export class ServiceAccountNodes implements NodeAuthenticator {
  private readonly nodes = new Map<string, { at: number; exists: boolean }>();
  private readonly username: string;

  constructor(
    private readonly kc: KubeConfig,
    private readonly options: ServiceAccountNodesOptions,
  ) {
    this.username = `system:serviceaccount:${options.namespace}:${options.name}`;
  }

  async verify(node: string, token: string): Promise<boolean> {
    const review = await requestJson<TokenReview>(this.kc, {
      method: 'POST',
      path: '/apis/authentication.k8s.io/v1/tokenreviews',
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [this.options.audience] } },
      timeoutMs: 10_000,
    });
    const status = review.status;
    if (!status?.authenticated || status.user?.username !== this.username) return false;
    if (!(status.audiences ?? []).includes(this.options.audience)) return false;
    const podName = status.user.extra?.[POD_NAME]?.[0];
    const podUid = status.user.extra?.[POD_UID]?.[0];
    // A token not bound to a pod says nothing about the node it runs on.
    if (!podName || !podUid) return false;
    const pod = await this.pod(podName);
    if (!pod || pod.metadata?.uid !== podUid || pod.metadata.deletionTimestamp) return false;
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return false;
    return pod.spec?.nodeName === node;
  }

  /** Any Node of the cluster may get an LC; messages for names that are no Node are not queued. */
  async mayConnect(node: string): Promise<boolean> {
    const now = (this.options.now ?? Date.now)();
    const cached = this.nodes.get(node);
    if (cached && now - cached.at < (this.options.cacheMs ?? 5_000)) return cached.exists;
    let exists = true;
    try {
      await requestJson(this.kc, { path: `/api/v1/nodes/${encodeURIComponent(node)}`, timeoutMs: 10_000 });
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
      exists = false;
    }
    if (this.nodes.size > 10_000) this.nodes.clear();
    this.nodes.set(node, { at: now, exists });
    return exists;
  }

  private async pod(name: string): Promise<Pod | undefined> {
    try {
      return await requestJson<Pod>(this.kc, { path: `/api/v1/namespaces/${encodeURIComponent(this.options.namespace)}/pods/${encodeURIComponent(name)}`, timeoutMs: 10_000 });
    } catch (err) {
      if (isApiError(err, 404)) return undefined;
      throw err;
    }
  }
}
