// The authorizer chain kube-apiserver runs with --authorization-mode=Node,RBAC: members of
// system:masters may do anything; then the Node authorizer; then RBAC. The first verdict other
// than no-opinion wins; no opinion at the end is a denial.
import { SYSTEM_MASTERS } from '../authn/user.ts';
import type { GenericStore } from '../registry/generic-store.ts';
import { NodeAuthorizer } from './node-authorizer.ts';
import { describeAttributes, RbacAuthorizer } from './rbac-authorizer.ts';
import type { Attributes, Authorizer, Decision } from './types.ts';

export class AuthorizerChain implements Authorizer {
  readonly rbac: RbacAuthorizer;
  private readonly chain: Authorizer[];

  constructor(store: GenericStore) {
    this.rbac = new RbacAuthorizer(store);
    this.chain = [new NodeAuthorizer(store), this.rbac];
  }

  stop(): void {
    this.rbac.stop();
  }

  authorize(attributes: Attributes): Decision {
    if (attributes.user.groups.includes(SYSTEM_MASTERS)) return { verdict: 'allow', reason: `${SYSTEM_MASTERS} may do anything` };
    for (const authorizer of this.chain) {
      const decision = authorizer.authorize(attributes);
      if (decision.verdict !== 'no-opinion') return decision;
    }
    return { verdict: 'no-opinion', reason: describeAttributes(attributes) };
  }
}
