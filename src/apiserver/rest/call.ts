// One resource request as the verb handlers see it: the HTTP exchange, its query, the kind it
// addresses and where it is stored.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GenericStore } from '../registry/generic-store.ts';
import type { ResourceDef } from '../registry/types.ts';
import type { UserInfo } from '../authn/user.ts';

export interface ResourceCall {
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
  def: ResourceDef;
  /** undefined for cluster-scoped kinds and for lists across all namespaces. */
  namespace: string | undefined;
  store: GenericStore;
  /** Who asks; admission (NodeRestriction) and server-side apply's default manager see it. */
  user?: UserInfo;
}
