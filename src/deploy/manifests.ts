// Every object of a Sedna install on Kubernetes, written once (render.ts makes the kustomize base
// and the Helm chart from it). What differs from Sedna's chart (spec §5.1, §5.2, §6 item 4):
// - no namespace is written into a template: kustomize's `namespace:` or Helm's release namespace;
// - the GM's ClusterRole is deploy/rbac/gm.yaml, the one the least-privilege tests run under, and
//   the dashboard's deploy/rbac/dashboard.yaml (read-only), the one `sedna up` runs it under;
// - the LC mounts the host root read-only, and read-write only its data folder (Sedna: / rw);
// - the LC proves its node with its pod's projected ServiceAccount token (audience sedna-gm),
//   which the GM checks with a TokenReview and the pod's node, not with a shared secret;
// - every container runs with a restricted security context, probes, requests and limits.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { namespace, value } from './markers.ts';

type Obj = Record<string, unknown>;

export const GM_RBAC_PATH = new URL('../../deploy/rbac/gm.yaml', import.meta.url);
export const DASHBOARD_RBAC_PATH = new URL('../../deploy/rbac/dashboard.yaml', import.meta.url);
/** The audience of the LC's token: useless against the API server, and API tokens useless here. */
export const LC_TOKEN_AUDIENCE = 'sedna-gm';
const LC_TOKEN_DIR = '/var/run/secrets/sedna';
const CLOUD_ONLY = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'node-role.kubernetes.io/edge', operator: 'DoesNotExist' }] }] } } };

function labels(component: string): Obj {
  return { 'app.kubernetes.io/name': 'sedna', 'app.kubernetes.io/component': component, sedna: component };
}

function meta(name: string, component: string, namespaced = true): Obj {
  return { name, ...(namespaced ? { namespace: namespace() } : {}), labels: labels(component) };
}

/** Nothing but what the process needs: no root, no privilege escalation, no capabilities. */
function restricted(user = 65532): Obj {
  return { runAsNonRoot: user !== 0, runAsUser: user, runAsGroup: user, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } };
}

function probe(path: string, port: string | number, host?: string): Obj {
  return { httpGet: { path, port, ...(host ? { host } : {}) }, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 };
}

const POD_NAMESPACE_ENV = { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } };
const TMP = { name: 'tmp', emptyDir: {} };
const TMP_MOUNT = { name: 'tmp', mountPath: '/tmp' };
/** Where the KB's token Secret (sedna-kb-token) is mounted, in the KB and in the GM. */
const KB_TOKEN_DIR = '/var/run/secrets/sedna-kb';

/** The rules of the ClusterRole in an RBAC file of deploy/rbac (what `sedna up` runs that component under). */
function clusterRoleRules(path: URL, text = readFileSync(path, 'utf8')): Obj[] {
  const role = parseAllDocuments(text).map((d) => d.toJS() as Obj).find((d) => d?.kind === 'ClusterRole');
  if (!role || !Array.isArray(role.rules)) throw new Error(`${path.pathname} has no ClusterRole with rules`);
  return role.rules as Obj[];
}

/** The GM's ClusterRole rules, from deploy/rbac/gm.yaml. */
export function gmClusterRoleRules(text?: string): Obj[] {
  return clusterRoleRules(GM_RBAC_PATH, text);
}

/** Sedna's gm.yaml (spec §2.1), with the node check of a cluster. */
export function gmConfigFile(): Obj {
  return {
    kubeConfig: '',
    master: '',
    namespace: value('gm.namespace'),
    websocket: {
      address: value('gm.websocket.address'),
      port: value('gm.websocket.port'),
      nodeTokens: { serviceAccountName: 'sedna-lc', serviceAccountNamespace: namespace(), audience: LC_TOKEN_AUDIENCE },
    },
    localController: { server: value('gm.localController.server') },
    // The GM hands lifelong-learning workers this token (KB_TOKEN); it is the KB's own secret.
    knowledgeBaseServer: { server: value('gm.knowledgeBaseServer.server'), tokenFile: `${KB_TOKEN_DIR}/token` },
    minResyncPeriodSeconds: value('gm.minResyncPeriodSeconds'),
    metrics: { address: '0.0.0.0', port: value('gm.metrics.port') },
  };
}

function gm(configText: string): Obj[] {
  const rules = gmClusterRoleRules();
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('sedna', 'gm') },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: meta('sedna', 'gm', false), rules },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta('sedna', 'gm', false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'sedna' },
      subjects: [{ kind: 'ServiceAccount', name: 'sedna', namespace: namespace() }],
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('gm-config', 'gm'), data: { 'gm.yaml': configText } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('gm', 'gm'),
      spec: {
        // More than one replica is safe: the GMs elect a leader with the sedna-gm Lease, and only
        // the leader is Ready, so the gm Service sends nodes to it.
        replicas: value('gm.replicas'),
        selector: { matchLabels: { sedna: 'gm' } },
        template: {
          metadata: { labels: labels('gm') },
          spec: {
            serviceAccountName: 'sedna',
            affinity: CLOUD_ONLY,
            securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'gm',
                image: value('gm.image'),
                imagePullPolicy: value('imagePullPolicy'),
                args: ['gm', '--config', '/etc/sedna/gm.yaml'],
                env: [
                  POD_NAMESPACE_ENV,
                  // Optional: without it /metrics refuses every scrape (probes still work).
                  { name: 'SEDNA_GM_METRICS_TOKEN', valueFrom: { secretKeyRef: { name: 'sedna-metrics-token', key: 'token', optional: true } } },
                ],
                ports: [
                  { name: 'edge-hub', containerPort: value('gm.websocket.port') },
                  { name: 'metrics', containerPort: value('gm.metrics.port') },
                ],
                livenessProbe: probe('/healthz', 'metrics'),
                readinessProbe: probe('/readyz', 'metrics'),
                resources: value('gm.resources'),
                securityContext: restricted(),
                volumeMounts: [{ name: 'config', mountPath: '/etc/sedna', readOnly: true }, { name: 'kb-token', mountPath: KB_TOKEN_DIR, readOnly: true }, TMP_MOUNT],
              },
            ],
            volumes: [{ name: 'config', configMap: { name: 'gm-config' } }, { name: 'kb-token', secret: { secretName: 'sedna-kb-token' } }, TMP],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('gm', 'gm'),
      // Port name tcp-0: EdgeMesh proxies Services by this naming (as in Sedna's chart).
      spec: { selector: { sedna: 'gm' }, ports: [{ name: 'tcp-0', port: value('gm.websocket.port'), targetPort: 'edge-hub', protocol: 'TCP' }] },
    },
  ];
}

function lc(): Obj[] {
  return [
    // The LC never calls the API server: its ServiceAccount has no RBAC; its token only tells the GM which pod (hence node) it is.
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('sedna-lc', 'lc'), automountServiceAccountToken: false },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: meta('lc', 'lc'),
      spec: {
        selector: { matchLabels: { sedna: 'lc' } },
        updateStrategy: { type: 'RollingUpdate' },
        template: {
          metadata: { labels: labels('lc') },
          spec: {
            serviceAccountName: 'sedna-lc',
            automountServiceAccountToken: false,
            hostNetwork: true,
            dnsPolicy: 'ClusterFirstWithHostNet',
            affinity: value('lc.affinity'),
            containers: [
              {
                name: 'lc',
                image: value('lc.image'),
                imagePullPolicy: value('imagePullPolicy'),
                args: [
                  'lc',
                  '--node', '$(NODE_NAME)',
                  '--gm', value('lc.gmAddress'),
                  '--token-file', `${LC_TOKEN_DIR}/token`,
                  '--address', value('lc.bindAddress'),
                  // One string: a number alone in args is refused by the API server.
                  `--port=${value('lc.bindPort')}`,
                  '--data-dir', '/rootfs/var/lib/sedna/lc',
                  '--rootfs', '/rootfs',
                ],
                env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
                // hostNetwork: the probe must name the loopback address the worker API listens on.
                livenessProbe: probe('/healthz', value('lc.bindPort'), '127.0.0.1'),
                readinessProbe: probe('/healthz', value('lc.bindPort'), '127.0.0.1'),
                resources: value('lc.resources'),
                // uid 0 without capabilities: it reads node files (datasets, models) owned by root
                // and writes job outputs under dataPath; it can do nothing else a root could.
                securityContext: restricted(0),
                volumeMounts: [
                  { name: 'host-root', mountPath: '/rootfs', readOnly: true },
                  { name: 'data', mountPath: '/rootfs/var/lib/sedna' },
                  { name: 'token', mountPath: LC_TOKEN_DIR, readOnly: true },
                  TMP_MOUNT,
                ],
              },
            ],
            volumes: [
              { name: 'host-root', hostPath: { path: '/', type: 'Directory' } },
              { name: 'data', hostPath: { path: value('lc.dataPath'), type: 'DirectoryOrCreate' } },
              // A token bound to this pod, for the GM only; the kubelet rotates it before expiry.
              { name: 'token', projected: { sources: [{ serviceAccountToken: { path: 'token', audience: LC_TOKEN_AUDIENCE, expirationSeconds: 3600 } }] } },
              TMP,
            ],
          },
        },
      },
    },
  ];
}

function kb(): Obj[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: meta('kb-data', 'kb'),
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: value('kb.storage.storageClassName'), resources: { requests: { storage: value('kb.storage.size') } } },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('kb', 'kb'),
      spec: {
        replicas: 1,
        // One SQLite file on a ReadWriteOnce volume: the old pod goes before the new one starts.
        strategy: { type: 'Recreate' },
        selector: { matchLabels: { sedna: 'kb' } },
        template: {
          metadata: { labels: labels('kb') },
          spec: {
            automountServiceAccountToken: false,
            affinity: CLOUD_ONLY,
            securityContext: { runAsNonRoot: true, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'kb',
                image: value('kb.image'),
                imagePullPolicy: value('imagePullPolicy'),
                args: ['kb', '--data-dir', '/var/lib/sedna-kb', '--address', '0.0.0.0', '--port', '9020', '--token-file', `${KB_TOKEN_DIR}/token`],
                ports: [{ name: 'http', containerPort: 9020 }],
                livenessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 10 },
                readinessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 10 },
                resources: value('kb.resources'),
                securityContext: restricted(),
                volumeMounts: [{ name: 'data', mountPath: '/var/lib/sedna-kb' }, { name: 'token', mountPath: KB_TOKEN_DIR, readOnly: true }, TMP_MOUNT],
              },
            ],
            volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'kb-data' } }, { name: 'token', secret: { secretName: 'sedna-kb-token' } }, TMP],
          },
        },
      },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: meta('kb', 'kb'), spec: { selector: { sedna: 'kb' }, ports: [{ name: 'tcp-0', port: 9020, targetPort: 'http', protocol: 'TCP' }] } },
  ];
}

function dashboard(): Obj[] {
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('sedna-dashboard', 'dashboard') },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: meta('sedna-dashboard', 'dashboard', false),
      // Read-only: what the pages show, and pod logs; the rules `sedna up` runs the dashboard under.
      rules: clusterRoleRules(DASHBOARD_RBAC_PATH),
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta('sedna-dashboard', 'dashboard', false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'sedna-dashboard' },
      subjects: [{ kind: 'ServiceAccount', name: 'sedna-dashboard', namespace: namespace() }],
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('sedna-dashboard', 'dashboard'),
      spec: {
        replicas: 1,
        selector: { matchLabels: { sedna: 'dashboard' } },
        template: {
          metadata: { labels: labels('dashboard') },
          spec: {
            serviceAccountName: 'sedna-dashboard',
            affinity: CLOUD_ONLY,
            securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'dashboard',
                image: value('dashboard.image'),
                imagePullPolicy: value('imagePullPolicy'),
                // Reached through `kubectl port-forward` (the pages accept Host 127.0.0.1:8080 only).
                args: ['dashboard', '--address', '0.0.0.0', '--port', '8080', '--token-file', '/var/run/secrets/sedna-dashboard/token'],
                ports: [{ name: 'http', containerPort: 8080 }],
                livenessProbe: probe('/healthz', 'http'),
                readinessProbe: probe('/healthz', 'http'),
                resources: value('dashboard.resources'),
                securityContext: restricted(),
                volumeMounts: [{ name: 'token', mountPath: '/var/run/secrets/sedna-dashboard', readOnly: true }, TMP_MOUNT],
              },
            ],
            volumes: [{ name: 'token', secret: { secretName: 'sedna-dashboard-token' } }, TMP],
          },
        },
      },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: meta('sedna-dashboard', 'dashboard'), spec: { selector: { sedna: 'dashboard' }, ports: [{ name: 'http', port: 8080, targetPort: 'http' }] } },
  ];
}

/** File name (without .yaml) → its objects, marker-valued; `configText` is gm.yaml as rendered. */
export function manifestFiles(configText: string): Map<string, Obj[]> {
  return new Map([
    ['gm', gm(configText)],
    ['lc', lc()],
    ['kb', kb()],
    ['dashboard', dashboard()],
  ]);
}
