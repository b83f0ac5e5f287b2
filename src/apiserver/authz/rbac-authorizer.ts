// The RBAC authorizer: a request is allowed when a RoleBinding in its namespace or a
// ClusterRoleBinding binds the user (by name, group or service account) to a role with a rule
// that allows it. There are no deny rules; what nothing allows is denied. Roles and bindings are
// indexed in memory and re-read whenever one of them changes in storage.
import type { KubeObject } from '../../api/meta.ts';
import { serviceAccountUsername, type UserInfo } from '../authn/user.ts';
import type { GenericStore } from '../registry/generic-store.ts';
import { RBAC_GROUP, type PolicyRule, type RoleRef, type Subject } from '../registry/rbac-types.ts';
import type { ResourceDef } from '../registry/types.ts';
import { ruleAllows } from './rbac-rules.ts';
import type { Attributes, Authorizer, Decision } from './types.ts';

interface Binding {
  name: string;
  namespace?: string;
  roleRef: RoleRef;
  subjects: Subject[];
}

interface Snapshot {
  clusterRoles: Map<string, PolicyRule[]>;
  roles: Map<string, PolicyRule[]>;
  clusterBindings: Binding[];
  bindingsByNamespace: Map<string, Binding[]>;
}

function asBinding(obj: KubeObject): Binding {
  return {
    name: obj.metadata.name!,
    ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
    roleRef: obj.roleRef as RoleRef,
    subjects: Array.isArray(obj.subjects) ? (obj.subjects as Subject[]) : [],
  };
}

function rulesOf(obj: KubeObject): PolicyRule[] {
  return Array.isArray(obj.rules) ? (obj.rules as PolicyRule[]) : [];
}

/** Upstream's appliesTo: a subject names the user, one of its groups, or its service account. */
export function subjectMatches(subject: Subject, user: UserInfo, bindingNamespace: string | undefined): boolean {
  switch (subject.kind) {
    case 'User':
      return subject.name === user.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const namespace = subject.namespace || bindingNamespace;
      return namespace !== undefined && user.name === serviceAccountUsername(namespace, subject.name);
    }
    default:
      return false;
  }
}

function describe(a: Attributes): string {
  if (!a.resourceRequest) return `User "${a.user.name}" cannot ${a.verb} path "${a.path ?? ''}"`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace ? ` in the namespace "${a.namespace}"` : ' at the cluster scope';
  return `User "${a.user.name}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup ?? ''}"${where}`;
}

export { describe as describeAttributes };

export class RbacAuthorizer implements Authorizer {
  private snapshot: Snapshot | undefined;
  private readonly defs: Record<'roles' | 'clusterroles' | 'rolebindings' | 'clusterrolebindings', ResourceDef>;
  private readonly unsubscribe: () => void;

  constructor(private readonly store: GenericStore) {
    const def = (plural: string): ResourceDef => store.registry.lookup(RBAC_GROUP, 'v1', plural)!;
    this.defs = { roles: def('roles'), clusterroles: def('clusterroles'), rolebindings: def('rolebindings'), clusterrolebindings: def('clusterrolebindings') };
    const prefix = `${RBAC_GROUP}/`;
    this.unsubscribe = store.storage.subscribe((event) => {
      if (event.key.startsWith(prefix)) this.snapshot = undefined;
    });
  }

  stop(): void {
    this.unsubscribe();
  }

  authorize(attributes: Attributes): Decision {
    const snapshot = (this.snapshot ??= this.load());
    const bindings = [...snapshot.clusterBindings, ...(attributes.namespace ? (snapshot.bindingsByNamespace.get(attributes.namespace) ?? []) : [])];
    for (const binding of bindings) {
      if (!binding.subjects.some((s) => subjectMatches(s, attributes.user, binding.namespace))) continue;
      const rules = this.rulesFor(snapshot, binding);
      if (rules.some((rule) => ruleAllows(attributes, rule))) {
        const how = binding.namespace ? `RoleBinding "${binding.name}" of ${binding.roleRef.kind} "${binding.roleRef.name}" to` : `ClusterRoleBinding "${binding.name}" of ClusterRole "${binding.roleRef.name}" to`;
        return { verdict: 'allow', reason: `RBAC: allowed by ${how} the user` };
      }
    }
    return { verdict: 'no-opinion', reason: describe(attributes) };
  }

  /** Every rule bound to `user` cluster-wide, plus in `namespace`: what it may grant to others. */
  rulesOf(user: UserInfo, namespace: string | undefined): PolicyRule[] {
    const snapshot = (this.snapshot ??= this.load());
    const bindings = [...snapshot.clusterBindings, ...(namespace ? (snapshot.bindingsByNamespace.get(namespace) ?? []) : [])];
    return bindings.filter((b) => b.subjects.some((s) => subjectMatches(s, user, b.namespace))).flatMap((b) => this.rulesFor(snapshot, b));
  }

  /** The rules of the role a binding names, as stored now. */
  roleRules(roleRef: RoleRef, namespace: string | undefined): PolicyRule[] {
    const snapshot = (this.snapshot ??= this.load());
    return this.rulesFor(snapshot, { name: '', ...(namespace ? { namespace } : {}), roleRef, subjects: [] });
  }

  /** Rules a binding grants: a ClusterRoleBinding only ever refers to ClusterRoles. */
  private rulesFor(snapshot: Snapshot, binding: Binding): PolicyRule[] {
    if (binding.roleRef.kind === 'ClusterRole') return snapshot.clusterRoles.get(binding.roleRef.name) ?? [];
    if (!binding.namespace) return [];
    return snapshot.roles.get(`${binding.namespace}/${binding.roleRef.name}`) ?? [];
  }

  private load(): Snapshot {
    const snapshot: Snapshot = { clusterRoles: new Map(), roles: new Map(), clusterBindings: [], bindingsByNamespace: new Map() };
    for (const obj of this.store.listObjects(this.defs.clusterroles)) snapshot.clusterRoles.set(obj.metadata.name!, rulesOf(obj));
    for (const obj of this.store.listObjects(this.defs.roles)) snapshot.roles.set(`${obj.metadata.namespace}/${obj.metadata.name}`, rulesOf(obj));
    for (const obj of this.store.listObjects(this.defs.clusterrolebindings)) snapshot.clusterBindings.push(asBinding(obj));
    for (const obj of this.store.listObjects(this.defs.rolebindings)) {
      const list = snapshot.bindingsByNamespace.get(obj.metadata.namespace!) ?? [];
      list.push(asBinding(obj));
      snapshot.bindingsByNamespace.set(obj.metadata.namespace!, list);
    }
    return snapshot;
  }
}
