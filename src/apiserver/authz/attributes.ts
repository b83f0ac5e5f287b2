// The authorizer attributes of one HTTP request (k8s.io/apiserver's RequestInfoFactory verbs):
// GET is get, list or watch; POST create; PUT update; PATCH patch; DELETE delete or
// deletecollection. Paths outside /api and /apis are non-resource requests.
import type { IncomingMessage } from 'node:http';
import type { UserInfo } from '../authn/user.ts';
import type { ResourceRequest } from '../rest/request-info.ts';
import type { Attributes } from './types.ts';

/** Go's strconv.ParseBool truths: a watch=True from the Python client is a watch too. */
const TRUE_VALUES = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);

export function requestAttributes(req: IncomingMessage, url: URL, info: ResourceRequest | undefined, user: UserInfo): Attributes {
  const method = req.method ?? 'GET';
  if (!info) return { user, verb: method.toLowerCase(), resourceRequest: false, path: url.pathname };
  let verb: string;
  if (method === 'GET' || method === 'HEAD') {
    const watch = info.watchPath || url.searchParams.getAll('watch').some((v) => TRUE_VALUES.has(v));
    verb = watch ? 'watch' : info.name === undefined ? 'list' : 'get';
  } else if (method === 'DELETE') verb = info.name === undefined ? 'deletecollection' : 'delete';
  else verb = ({ POST: 'create', PUT: 'update', PATCH: 'patch' } as Record<string, string>)[method] ?? method.toLowerCase();
  const attributes: Attributes = { user, verb, resourceRequest: true, apiGroup: info.group, resource: info.resource };
  // A namespace's own path names the namespace itself; its namespace attribute is that name, as upstream's.
  const namespace = info.resource === 'namespaces' ? info.name : info.namespace;
  if (namespace !== undefined) attributes.namespace = namespace;
  if (info.name !== undefined) attributes.name = info.name;
  if (info.subresource !== undefined) attributes.subresource = info.subresource;
  return attributes;
}
