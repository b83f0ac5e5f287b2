// RBAC's privilege-escalation prevention: a caller may create or change a Role or ClusterRole only
// with rules it holds itself, and bind a role only if it holds all of that role's rules, unless
// RBAC grants it the `escalate` (roles) or `bind` (bindings) verb on that role. Otherwise anyone
// allowed to write RoleBindings could bind cluster-admin. (pkg/registry/rbac/validation: Covers.)
import { StatusError } from '../errors.ts';
import type { AdmissionAttributes } from '../registry/generic-store.ts';
import { RBAC_GROUP, type PolicyRule, type RoleRef } from '../registry/rbac-types.ts';
import { SYSTEM_MASTERS } from '../authn/user.ts';
import type { RbacAuthorizer } from './rbac-authorizer.ts';
import type { Authorizer } from './types.ts';

const covers = (owned: string[] | undefined, wanted: string[] | undefined): boolean => (wanted ?? []).every((w) => (owned ?? []).some((o) => o === '*' || o === w));

function resourceCovered(owned: string[] | undefined, wanted: string): boolean {
  return (owned ?? []).some((o) => o === '*' || o === wanted || (wanted.includes('/') && o === `*/${wanted.split('/')[1]}`));
}

/** Whether `owner` allows everything `rule` does (upstream's ruleCovers). */
function ruleCovers(owner: PolicyRule, rule: PolicyRule): boolean {
  if (!covers(owner.verbs, rule.verbs)) return false;
  if ((rule.nonResourceURLs ?? []).length > 0) {
    return (rule.nonResourceURLs ?? []).every((u) => (owner.nonResourceURLs ?? []).some((o) => o === '*' || o === u || (o.endsWith('*') && u.startsWith(o.slice(0, -1)))));
  }
  if (!covers(owner.apiGroups, rule.apiGroups)) return false;
  if (!(rule.resources ?? []).every((r) => resourceCovered(owner.resources, r))) return false;
  const ownerNames = owner.resourceNames ?? [];
  if (ownerNames.length === 0) return true;
  const names = rule.resourceNames ?? [];
  return names.length > 0 && names.every((n) => ownerNames.includes(n));
}

/** Each rule wanted, split to single verbs, resources and groups, is covered by some rule held. */
export function rulesCovered(held: PolicyRule[], wanted: PolicyRule[]): boolean {
  for (const rule of wanted) {
    for (const verb of rule.verbs ?? []) {
      const groups = (rule.nonResourceURLs ?? []).length > 0 ? [undefined] : (rule.apiGroups ?? []);
      const resources = (rule.nonResourceURLs ?? []).length > 0 ? [undefined] : (rule.resources ?? []);
      for (const group of groups) {
        for (const resource of resources) {
          const piece: PolicyRule = { ...rule, verbs: [verb], ...(group !== undefined ? { apiGroups: [group] } : {}), ...(resource !== undefined ? { resources: [resource] } : {}) };
          if (!held.some((h) => ruleCovers(h, piece))) return false;
        }
      }
    }
  }
  return true;
}

export function escalationCheck(rbac: RbacAuthorizer, authorizer: Authorizer) {
  return (a: AdmissionAttributes): void => {
    if (a.def.group !== RBAC_GROUP || a.operation === 'DELETE' || a.user.groups.includes(SYSTEM_MASTERS)) return;
    const namespace = a.obj.metadata.namespace;
    const held = rbac.rulesOf(a.user, namespace);
    const allowedVerb = (verb: string, resource: string, name: string): boolean =>
      authorizer.authorize({ user: a.user, verb, resourceRequest: true, apiGroup: RBAC_GROUP, resource, name, ...(namespace ? { namespace } : {}) }).verdict === 'allow';
    if (a.def.kind === 'Role' || a.def.kind === 'ClusterRole') {
      const rules = Array.isArray(a.obj.rules) ? (a.obj.rules as PolicyRule[]) : [];
      if (rulesCovered(held, rules) || allowedVerb('escalate', a.def.plural, a.obj.metadata.name!)) return;
      throw new StatusError(403, 'Forbidden', `${a.def.plural}.${RBAC_GROUP} "${a.obj.metadata.name}" is forbidden: user "${a.user.name}" is attempting to grant RBAC permissions not currently held`);
    }
    const roleRef = a.obj.roleRef as RoleRef | undefined;
    if (!roleRef) return;
    const plural = roleRef.kind === 'ClusterRole' ? 'clusterroles' : 'roles';
    if (rulesCovered(held, rbac.roleRules(roleRef, namespace)) || allowedVerb('bind', plural, roleRef.name)) return;
    throw new StatusError(403, 'Forbidden', `${a.def.plural}.${RBAC_GROUP} "${a.obj.metadata.name}" is forbidden: user "${a.user.name}" is attempting to grant RBAC permissions not currently held (the ${roleRef.kind} "${roleRef.name}")`);
  };
}
