// The kubeconfig the server writes for its clients: kubectl, the GM, the LocalControllers.
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

export interface KubeconfigInput {
  server: string;
  caCert: string;
  token: string;
  clusterName?: string;
  user?: string;
}

export function renderKubeconfig(input: KubeconfigInput): string {
  const cluster = input.clusterName ?? 'sedna';
  const user = input.user ?? 'admin';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: input.server, 'certificate-authority-data': Buffer.from(input.caCert).toString('base64') } }],
    users: [{ name: user, user: { token: input.token } }],
    contexts: [{ name: cluster, context: { cluster, user, namespace: 'default' } }],
    'current-context': cluster,
    preferences: {},
  });
}

/** Written owner-only: the file holds the admin token. */
export function writeKubeconfig(path: string, input: KubeconfigInput): void {
  writeFileSync(path, renderKubeconfig(input), { mode: 0o600 });
}
