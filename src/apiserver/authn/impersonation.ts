// Impersonation headers (kubectl --as, --as-group, --as-uid), as k8s.io/apiserver's
// WithImpersonation filter: the caller needs the `impersonate` verb on users (or
// serviceaccounts), groups and uids; the request then runs as the impersonated user.
import type { IncomingMessage } from 'node:http';
import { badRequest, StatusError } from '../errors.ts';
import type { Attributes, Decision } from '../authz/types.ts';
import { SERVICE_ACCOUNT_PREFIX, SYSTEM_AUTHENTICATED, type UserInfo } from './user.ts';

function headerValues(req: IncomingMessage, name: string): string[] {
  const raw = req.headersDistinct[name];
  return (raw ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/** The user the request acts as: the caller, or whom it impersonates if allowed to. */
export function impersonatedUser(req: IncomingMessage, caller: UserInfo, authorize: (a: Attributes) => Decision): UserInfo {
  const users = req.headersDistinct['impersonate-user'] ?? [];
  const groups = headerValues(req, 'impersonate-group');
  const uids = req.headersDistinct['impersonate-uid'] ?? [];
  const extras = Object.keys(req.headers).filter((h) => h.startsWith('impersonate-extra-'));
  if (users.length === 0) {
    if (groups.length > 0 || uids.length > 0 || extras.length > 0) throw badRequest('requested impersonation without a user (Impersonate-User)');
    return caller;
  }
  if (users.length > 1 || uids.length > 1) throw badRequest('only one Impersonate-User and Impersonate-Uid may be given');
  if (extras.length > 0) throw badRequest('Impersonate-Extra-* headers are not supported by this server');
  const name = users[0]!;
  const check = (attributes: Omit<Attributes, 'user' | 'verb' | 'resourceRequest'>): void => {
    const decision = authorize({ user: caller, verb: 'impersonate', resourceRequest: true, ...attributes });
    if (decision.verdict !== 'allow') {
      const what = `${attributes.resource}${attributes.apiGroup ? `.${attributes.apiGroup}` : ''}`;
      throw new StatusError(403, 'Forbidden', `${what} "${attributes.name}" is forbidden: User "${caller.name}" cannot impersonate resource "${attributes.resource}" in API group "${attributes.apiGroup}"${attributes.namespace ? ` in the namespace "${attributes.namespace}"` : ' at the cluster scope'}`);
    }
  };
  const user: UserInfo = { name, groups: [...groups] };
  if (name.startsWith(SERVICE_ACCOUNT_PREFIX)) {
    const [namespace, saName] = name.slice(SERVICE_ACCOUNT_PREFIX.length).split(':');
    check({ apiGroup: '', resource: 'serviceaccounts', namespace: namespace ?? '', name: saName ?? '' });
    user.groups.push('system:serviceaccounts', `system:serviceaccounts:${namespace}`);
  } else {
    check({ apiGroup: '', resource: 'users', name });
  }
  for (const group of groups) check({ apiGroup: '', resource: 'groups', name: group });
  if (uids[0] !== undefined) {
    check({ apiGroup: 'authentication.k8s.io', resource: 'uids', name: uids[0] });
    user.uid = uids[0];
  }
  if (!user.groups.includes(SYSTEM_AUTHENTICATED) && !user.groups.includes('system:unauthenticated')) user.groups.push(SYSTEM_AUTHENTICATED);
  return user;
}
