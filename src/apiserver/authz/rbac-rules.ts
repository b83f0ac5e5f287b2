// Kubernetes' RBAC rule matching (plugin/pkg/auth/authorizer/rbac/rbac.go RuleAllows): verbs,
// API groups, resources with subresources ("pods/log", "*/scale"), resourceNames, and
// non-resource URLs with a trailing "*" as a prefix wildcard.
import type { PolicyRule } from '../registry/rbac-types.ts';
import type { Attributes } from './types.ts';

const has = (list: string[] | undefined, value: string): boolean => (list ?? []).some((v) => v === '*' || v === value);

function resourceMatches(rule: PolicyRule, resource: string, subresource: string | undefined): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combined) return true;
    if (subresource && r === `*/${subresource}`) return true;
  }
  return false;
}

function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const url of rule.nonResourceURLs ?? []) {
    if (url === '*' || url === path) return true;
    if (url.endsWith('*') && path.startsWith(url.slice(0, -1))) return true;
  }
  return false;
}

export function ruleAllows(attributes: Attributes, rule: PolicyRule): boolean {
  if (!has(rule.verbs, attributes.verb)) return false;
  if (!attributes.resourceRequest) return nonResourceURLMatches(rule, attributes.path ?? '');
  if (!has(rule.apiGroups, attributes.apiGroup ?? '')) return false;
  if (!resourceMatches(rule, attributes.resource ?? '', attributes.subresource)) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (attributes.name !== undefined && names.includes(attributes.name));
}
