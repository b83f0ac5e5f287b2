// The roles every cluster starts with (a subset of Kubernetes' bootstrap policy): cluster-admin,
// and what any authenticated caller may do: discover the API, read the version and health, and ask
// about itself. Created when missing, as kube-apiserver's RBAC post-start hook does.
import type { KubeObject } from '../../api/meta.ts';
import { SYSTEM_AUTHENTICATED, SYSTEM_MASTERS } from '../authn/user.ts';
import type { GenericStore } from '../registry/generic-store.ts';
import { RBAC_GROUP } from '../registry/rbac-types.ts';

const BOOTSTRAP_LABELS = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
const AUTOUPDATE = { 'rbac.authorization.kubernetes.io/autoupdate': 'true' };

function clusterRole(name: string, rules: object[]): KubeObject {
  return { apiVersion: `${RBAC_GROUP}/v1`, kind: 'ClusterRole', metadata: { name, labels: BOOTSTRAP_LABELS, annotations: AUTOUPDATE }, rules };
}

function groupBinding(name: string, role: string, group: string): KubeObject {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: BOOTSTRAP_LABELS, annotations: AUTOUPDATE },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: role },
    subjects: [{ apiGroup: RBAC_GROUP, kind: 'Group', name: group }],
  };
}

export const BOOTSTRAP_OBJECTS: KubeObject[] = [
  clusterRole('cluster-admin', [
    { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
    { nonResourceURLs: ['*'], verbs: ['*'] },
  ]),
  clusterRole('system:discovery', [{ nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/openapi', '/openapi/*', '/version', '/version/'], verbs: ['get'] }]),
  clusterRole('system:public-info-viewer', [{ nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'], verbs: ['get'] }]),
  clusterRole('system:basic-user', [
    { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
    { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
  ]),
  groupBinding('cluster-admin', 'cluster-admin', SYSTEM_MASTERS),
  groupBinding('system:discovery', 'system:discovery', SYSTEM_AUTHENTICATED),
  groupBinding('system:public-info-viewer', 'system:public-info-viewer', SYSTEM_AUTHENTICATED),
  groupBinding('system:basic-user', 'system:basic-user', SYSTEM_AUTHENTICATED),
];

export function ensureBootstrapPolicy(store: GenericStore): void {
  for (const obj of BOOTSTRAP_OBJECTS) {
    const def = store.registry.lookup(RBAC_GROUP, 'v1', obj.kind === 'ClusterRole' ? 'clusterroles' : 'clusterrolebindings')!;
    if (!store.tryGet(def, undefined, obj.metadata.name!)) store.create(def, undefined, structuredClone(obj));
  }
}
