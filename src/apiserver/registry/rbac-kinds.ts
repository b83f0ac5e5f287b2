// rbac.authorization.k8s.io/v1 Role, ClusterRole, RoleBinding, ClusterRoleBinding (validated as
// pkg/apis/rbac/validation does), and the review kinds that are answered, never stored:
// authentication.k8s.io/v1 TokenReview and SelfSubjectReview, authorization.k8s.io/v1
// SubjectAccessReview and SelfSubjectAccessReview.
import type { KubeObject } from '../../api/meta.ts';
import type { UserInfo } from '../authn/user.ts';
import type { Attributes } from '../authz/types.ts';
import { badRequest, type FieldError, FieldErrors } from '../errors.ts';
import { AGE, at, column, list, str, wide } from './builtin-columns.ts';
import { builtin, record } from './builtin-kind.ts';
import type { ResourceDef } from './types.ts';
import { pathSegmentErrors } from './validation.ts';

import { RBAC_GROUP } from './rbac-types.ts';

function stringList(errors: FieldError[], field: string, value: unknown, required: boolean): string[] {
  if (value === undefined || value === null) {
    if (required) errors.push(FieldErrors.required(field));
    return [];
  }
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    errors.push(FieldErrors.invalid(field, value, 'must be a list of strings'));
    return [];
  }
  if (required && value.length === 0) errors.push(FieldErrors.required(field, 'verbs must contain at least one value'));
  return value as string[];
}

function validateRules(obj: KubeObject, namespaced: boolean): FieldError[] {
  const errors: FieldError[] = [];
  const rules = obj.rules;
  if (rules === undefined || rules === null) return errors;
  if (!Array.isArray(rules)) return [FieldErrors.invalid('rules', rules, 'must be a list of policy rules')];
  rules.forEach((rule, i) => {
    const at = `rules[${i}]`;
    const r = record(rule);
    stringList(errors, `${at}.verbs`, r.verbs, true);
    const groups = stringList(errors, `${at}.apiGroups`, r.apiGroups, false);
    const resources = stringList(errors, `${at}.resources`, r.resources, false);
    stringList(errors, `${at}.resourceNames`, r.resourceNames, false);
    const urls = stringList(errors, `${at}.nonResourceURLs`, r.nonResourceURLs, false);
    if (urls.length > 0) {
      if (namespaced) errors.push(FieldErrors.invalid(`${at}.nonResourceURLs`, urls, 'namespaced rules cannot apply to non-resource URLs'));
      if (groups.length > 0 || resources.length > 0) errors.push(FieldErrors.invalid(`${at}.nonResourceURLs`, urls, 'rules cannot apply to both regular resources and non-resource URLs'));
      urls.forEach((u, j) => void (u.startsWith('/') || u === '*' || errors.push(FieldErrors.invalid(`${at}.nonResourceURLs[${j}]`, u, 'must start with /'))));
      return;
    }
    if (groups.length === 0) errors.push(FieldErrors.required(`${at}.apiGroups`, 'resource rules must supply at least one api group'));
    if (resources.length === 0) errors.push(FieldErrors.required(`${at}.resources`, 'resource rules must supply at least one resource'));
  });
  return errors;
}

function validateRoleRef(obj: KubeObject, clusterBinding: boolean): FieldError[] {
  const ref = record(obj.roleRef);
  const errors: FieldError[] = [];
  if (obj.roleRef === undefined) return [FieldErrors.required('roleRef')];
  if (ref.apiGroup !== RBAC_GROUP) errors.push(FieldErrors.notSupported('roleRef.apiGroup', ref.apiGroup ?? '', [RBAC_GROUP]));
  const kinds = clusterBinding ? ['ClusterRole'] : ['Role', 'ClusterRole'];
  if (!kinds.includes(ref.kind as string)) errors.push(FieldErrors.notSupported('roleRef.kind', ref.kind ?? '', kinds));
  if (typeof ref.name !== 'string' || ref.name === '') errors.push(FieldErrors.required('roleRef.name'));
  else for (const m of pathSegmentErrors(ref.name)) errors.push(FieldErrors.invalid('roleRef.name', ref.name, m));
  return errors;
}

function validateSubjects(obj: KubeObject, clusterBinding: boolean): FieldError[] {
  const subjects = obj.subjects;
  if (subjects === undefined || subjects === null) return [];
  if (!Array.isArray(subjects)) return [FieldErrors.invalid('subjects', subjects, 'must be a list of subjects')];
  const errors: FieldError[] = [];
  subjects.forEach((s, i) => {
    const at = `subjects[${i}]`;
    const subject = record(s);
    if (typeof subject.name !== 'string' || subject.name === '') errors.push(FieldErrors.required(`${at}.name`));
    switch (subject.kind) {
      case 'ServiceAccount':
        if (subject.apiGroup !== undefined && subject.apiGroup !== '') errors.push(FieldErrors.notSupported(`${at}.apiGroup`, subject.apiGroup, ['']));
        if (clusterBinding && !subject.namespace) errors.push(FieldErrors.required(`${at}.namespace`));
        break;
      case 'User':
      case 'Group':
        if (subject.apiGroup !== RBAC_GROUP) errors.push(FieldErrors.notSupported(`${at}.apiGroup`, subject.apiGroup ?? '', [RBAC_GROUP]));
        break;
      default:
        errors.push(FieldErrors.notSupported(`${at}.kind`, subject.kind ?? '', ['ServiceAccount', 'User', 'Group']));
    }
  });
  return errors;
}

/** roleRef cannot change: a binding to a different role is a different grant (delete and recreate). */
function immutableRoleRef(obj: KubeObject, old: KubeObject): FieldError[] {
  return JSON.stringify(obj.roleRef) === JSON.stringify(old.roleRef) ? [] : [FieldErrors.invalid('roleRef', obj.roleRef ?? null, 'cannot change roleRef')];
}

/** Subjects are defaulted as the API does: User and Group get the RBAC group. */
function defaultSubjects(obj: KubeObject): void {
  if (!Array.isArray(obj.subjects)) return;
  for (const s of obj.subjects as Record<string, unknown>[]) {
    if (typeof s !== 'object' || s === null) continue;
    if ((s.kind === 'User' || s.kind === 'Group') && s.apiGroup === undefined) s.apiGroup = RBAC_GROUP;
    if (s.kind === 'ServiceAccount' && s.apiGroup === undefined) s.apiGroup = '';
  }
}

const CREATED_AT = column('Created At', 'date', (o) => o.metadata.creationTimestamp ?? '', { description: 'Timestamp is a wrapper around time.Time which supports correct marshaling to YAML and JSON.' });

function subjectNames(obj: KubeObject, kind: string): string {
  return list(obj.subjects)
    .filter((s) => at(s, 'kind') === kind)
    .map((s) => (kind === 'ServiceAccount' ? `${str(at(s, 'namespace'))}/${str(at(s, 'name'))}` : str(at(s, 'name'))))
    .join(', ');
}

const bindingColumns = [
  column('Role', 'string', (o) => `${str(at(o, 'roleRef', 'kind'))}/${str(at(o, 'roleRef', 'name'))}`, { description: 'The role the binding grants.' }),
  AGE,
  wide('Users', 'string', (o) => subjectNames(o, 'User'), 'The users bound.'),
  wide('Groups', 'string', (o) => subjectNames(o, 'Group'), 'The groups bound.'),
  wide('ServiceAccounts', 'string', (o) => subjectNames(o, 'ServiceAccount'), 'The service accounts bound.'),
];

const RULES_PATCH = { fields: { metadata: { fields: { finalizers: { strategy: 'merge' as const }, ownerReferences: { strategy: 'merge' as const, mergeKey: 'uid' } } } } };

function role(kind: 'Role' | 'ClusterRole', plural: string, namespaced: boolean): ResourceDef {
  return builtin({
    group: RBAC_GROUP,
    version: 'v1',
    kind,
    plural,
    namespaced,
    nameRule: pathSegmentErrors,
    strategy: { statusSubresource: false, generationFrom: 'none' },
    validate: (obj) => validateRules(obj, namespaced),
    columns: [CREATED_AT],
    patchSchema: RULES_PATCH,
  });
}

function binding(kind: 'RoleBinding' | 'ClusterRoleBinding', plural: string, namespaced: boolean): ResourceDef {
  return builtin({
    group: RBAC_GROUP,
    version: 'v1',
    kind,
    plural,
    namespaced,
    nameRule: pathSegmentErrors,
    strategy: { statusSubresource: false, generationFrom: 'none', defaults: defaultSubjects },
    validate: (obj) => [...validateRoleRef(obj, !namespaced), ...validateSubjects(obj, !namespaced)],
    validateUpdate: immutableRoleRef,
    columns: bindingColumns,
    patchSchema: RULES_PATCH,
  });
}

// ---- reviews ---------------------------------------------------------------------------------

function userStatus(user: UserInfo): Record<string, unknown> {
  return { username: user.name, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups, ...(user.extra ? { extra: user.extra } : {}) };
}

function review(group: string, kind: string, plural: string, namespaced: boolean, handler: NonNullable<ResourceDef['handler']>): ResourceDef {
  return builtin({
    group,
    version: 'v1',
    kind,
    plural,
    namespaced,
    nameRule: () => [],
    strategy: { statusSubresource: false, generationFrom: 'none' },
    verbs: ['create'],
    handler,
  });
}

const tokenReview = (): ResourceDef =>
  review('authentication.k8s.io', 'TokenReview', 'tokenreviews', false, (body, { auth }) => {
  const spec = record(body.spec);
  if (typeof spec.token !== 'string' || spec.token === '') throw badRequest('spec.token: Required value: token must be set');
  const audiences = Array.isArray(spec.audiences) ? spec.audiences.filter((a): a is string => typeof a === 'string') : [];
  const result = auth.reviewToken(spec.token, audiences);
  const status = result.authenticated ? { authenticated: true, user: userStatus(result.user), audiences: result.audiences } : { authenticated: false, error: result.error };
  return { ...body, metadata: { ...body.metadata, creationTimestamp: null }, status } as unknown as KubeObject;
});

const selfSubjectReview = (): ResourceDef =>
  review('authentication.k8s.io', 'SelfSubjectReview', 'selfsubjectreviews', false, (body, { user }) => ({
  ...body,
  metadata: { ...body.metadata, creationTimestamp: null } as unknown as KubeObject['metadata'],
  status: { userInfo: userStatus(user) },
}));

/** spec.resourceAttributes / nonResourceAttributes of an access review, as authorizer attributes. */
function accessAttributes(spec: Record<string, unknown>, user: UserInfo): Attributes {
  const res = spec.resourceAttributes;
  const nonRes = spec.nonResourceAttributes;
  if (res !== undefined) {
    const r = record(res);
    const s = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
    const out: Attributes = { user, verb: s(r.verb) ?? '', resourceRequest: true, apiGroup: s(r.group) ?? '', resource: s(r.resource) ?? '' };
    if (s(r.namespace)) out.namespace = s(r.namespace)!;
    if (s(r.subresource)) out.subresource = s(r.subresource)!;
    if (s(r.name)) out.name = s(r.name)!;
    return out;
  }
  if (nonRes !== undefined) return { user, verb: str(record(nonRes).verb), resourceRequest: false, path: str(record(nonRes).path) };
  throw badRequest('spec: Invalid value: exactly one of nonResourceAttributes or resourceAttributes must be specified');
}

function accessStatus(auth: Parameters<NonNullable<ResourceDef['handler']>>[1]['auth'], attributes: Attributes): Record<string, unknown> {
  const decision = auth.authorize(attributes);
  // Nothing allowing the request is not a reason to print (kubectl auth can-i says a bare "no").
  const reason = decision.verdict === 'no-opinion' ? '' : decision.reason;
  return { allowed: decision.verdict === 'allow', ...(decision.verdict === 'deny' ? { denied: true } : {}), ...(reason ? { reason } : {}) };
}

const subjectAccessReview = (): ResourceDef =>
  review('authorization.k8s.io', 'SubjectAccessReview', 'subjectaccessreviews', false, (body, { auth }) => {
  const spec = record(body.spec);
  if (typeof spec.user !== 'string' && !Array.isArray(spec.groups)) throw badRequest('spec.user: Invalid value: at least one of user or group must be specified');
  const user: UserInfo = { name: typeof spec.user === 'string' ? spec.user : '', groups: Array.isArray(spec.groups) ? spec.groups.map(String) : [] };
  if (typeof spec.uid === 'string') user.uid = spec.uid;
  return { ...body, status: accessStatus(auth, accessAttributes(spec, user)) };
});

const selfSubjectAccessReview = (): ResourceDef =>
  review('authorization.k8s.io', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews', false, (body, { auth, user }) => ({
  ...body,
  status: accessStatus(auth, accessAttributes(record(body.spec), user)),
}));

export function rbacResources(): ResourceDef[] {
  return [
    role('Role', 'roles', true),
    role('ClusterRole', 'clusterroles', false),
    binding('RoleBinding', 'rolebindings', true),
    binding('ClusterRoleBinding', 'clusterrolebindings', false),
    tokenReview(),
    selfSubjectReview(),
    subjectAccessReview(),
    selfSubjectAccessReview(),
  ];
}
