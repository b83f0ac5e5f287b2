// Who each component of `sedna up` is to the API server. The user gets the admin kubeconfig
// (DATA_DIR/kubeconfig, system:masters). The GM runs as ServiceAccount sedna/sedna, bound to the
// ClusterRole the project ships for real clusters (deploy/rbac/gm.yaml), with a token from the
// TokenRequest API; the dashboard likewise as sedna/sedna-dashboard under deploy/rbac/dashboard.yaml
// (read-only: it never uses the admin kubeconfig it shows the user). Each node's LC and kubelet run as system:node:<node> (group system:nodes), a
// static token in the API server's token file, so the Node authorizer and NodeRestriction limit a
// node to its own Node, Lease, pods and the Secrets/ConfigMaps those pods use.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { PROJECT_ROOT } from '../lc/kubelet/images.ts';

export const GM_RBAC_FILE = resolve(PROJECT_ROOT, 'deploy/rbac/gm.yaml');
export const GM_SERVICE_ACCOUNT = { namespace: 'sedna', name: 'sedna' };
export const DASHBOARD_RBAC_FILE = resolve(PROJECT_ROOT, 'deploy/rbac/dashboard.yaml');
export const DASHBOARD_SERVICE_ACCOUNT = { namespace: 'sedna', name: 'sedna-dashboard' };
/** A ServiceAccount token lasts a year; `sedna up` issues a fresh one each time it starts. */
const SERVICE_ACCOUNT_TOKEN_SECONDS = 365 * 24 * 3600;

interface KubeconfigFile {
  users: { name: string; user: Record<string, unknown> }[];
  contexts: { name: string; context: { user: string } }[];
}

/** A copy of the admin kubeconfig that authenticates with `token` as `user` (0600). */
export function writeKubeconfigAs(adminKubeconfig: string, file: string, user: string, token: string): void {
  const config = parse(readFileSync(adminKubeconfig, 'utf8')) as KubeconfigFile;
  config.users = [{ name: user, user: { token } }];
  for (const c of config.contexts) c.context.user = user;
  writeFileSync(file, stringify(config), { mode: 0o600 });
  chmodSync(file, 0o600);
}

/**
 * The API server's token file (`token,user,uid,groups`) with one identity per node; existing
 * tokens are kept so a restarted LC's kubeconfig stays valid. Written before the API server starts.
 */
export function ensureNodeIdentities(apiDir: string, nodes: string[]): Record<string, string> {
  mkdirSync(apiDir, { recursive: true, mode: 0o700 });
  const file = join(apiDir, 'tokens.csv');
  const existing = new Map<string, string>();
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [token, user] = line.split(',');
      if (token && user?.startsWith('system:node:')) existing.set(user.slice('system:node:'.length), token);
    }
  }
  const tokens: Record<string, string> = {};
  for (const node of nodes) tokens[node] = existing.get(node) ?? randomBytes(32).toString('hex');
  const lines = Object.entries(tokens).map(([node, token]) => `${token},system:node:${node},,system:nodes`);
  writeFileSync(file, `# sedna up: one identity per node (kube-apiserver --token-auth-file format)\n${lines.join('\n')}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return tokens;
}

/** The kubeconfig an LC (and its kubelet) of `node` uses: DATA_DIR/nodes/<node>/kubeconfig. */
export function writeNodeKubeconfig(adminKubeconfig: string, nodeDir: string, node: string, token: string): string {
  const file = join(nodeDir, 'kubeconfig');
  writeKubeconfigAs(adminKubeconfig, file, `system:node:${node}`, token);
  return file;
}

/** Creates each object of a manifest, or replaces it when it exists (server-side create-or-update). */
export async function applyManifest(kc: k8s.KubeConfig, file: string): Promise<void> {
  const client = k8s.KubernetesObjectApi.makeApiClient(kc);
  const docs = (k8s.loadAllYaml(readFileSync(file, 'utf8')) as (k8s.KubernetesObject | null)[]).filter((d): d is k8s.KubernetesObject => d !== null);
  for (const doc of docs) {
    try {
      await client.create(doc);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 409) throw err;
      const current = await client.read({ apiVersion: doc.apiVersion!, kind: doc.kind!, metadata: { name: doc.metadata!.name!, ...(doc.metadata?.namespace ? { namespace: doc.metadata.namespace } : {}) } });
      await client.replace({ ...doc, metadata: { ...doc.metadata, resourceVersion: current.metadata!.resourceVersion! } });
    }
  }
}

/** Applies an RBAC file and writes a kubeconfig for its ServiceAccount with a fresh token. */
async function createServiceAccountIdentity(kc: k8s.KubeConfig, adminKubeconfig: string, file: string, rbacFile: string, account: { namespace: string; name: string }): Promise<string> {
  await applyManifest(kc, rbacFile);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const request = await core.createNamespacedServiceAccountToken({
    name: account.name,
    namespace: account.namespace,
    body: { spec: { audiences: [], expirationSeconds: SERVICE_ACCOUNT_TOKEN_SECONDS } },
  });
  writeKubeconfigAs(adminKubeconfig, file, `system:serviceaccount:${account.namespace}:${account.name}`, request.status!.token);
  return file;
}

/** The GM's kubeconfig: ServiceAccount sedna/sedna under deploy/rbac/gm.yaml. */
export function createGmIdentity(kc: k8s.KubeConfig, adminKubeconfig: string, file: string): Promise<string> {
  return createServiceAccountIdentity(kc, adminKubeconfig, file, GM_RBAC_FILE, GM_SERVICE_ACCOUNT);
}

/** The dashboard's kubeconfig: ServiceAccount sedna/sedna-dashboard under deploy/rbac/dashboard.yaml (read-only). */
export function createDashboardIdentity(kc: k8s.KubeConfig, adminKubeconfig: string, file: string): Promise<string> {
  return createServiceAccountIdentity(kc, adminKubeconfig, file, DASHBOARD_RBAC_FILE, DASHBOARD_SERVICE_ACCOUNT);
}
