// Who made a request, as Kubernetes' user.Info: a name, groups, and for service accounts a uid.
export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export const SYSTEM_MASTERS = 'system:masters';
export const SYSTEM_AUTHENTICATED = 'system:authenticated';
export const SYSTEM_NODES = 'system:nodes';
export const NODE_USER_PREFIX = 'system:node:';
export const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';

/** The node a user is, when it is a node identity (system:node:<name> in group system:nodes). */
export function nodeNameOf(user: UserInfo): string | undefined {
  if (!user.name.startsWith(NODE_USER_PREFIX) || !user.groups.includes(SYSTEM_NODES)) return undefined;
  const name = user.name.slice(NODE_USER_PREFIX.length);
  // A node name is a DNS subdomain; anything else never names a node (and never reaches a selector).
  return /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) ? name : undefined;
}

export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SERVICE_ACCOUNT_PREFIX}${namespace}:${name}`;
}

/** The API server's own controllers: every write they make is allowed. */
export const INTERNAL_USER: UserInfo = { name: 'system:apiserver', groups: [SYSTEM_MASTERS, SYSTEM_AUTHENTICATED] };
