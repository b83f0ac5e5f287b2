// Request authentication: the bearer token is either a static token (the admin token the server
// generates, and the --token-auth-file identities) or a service account JWT. No token, or one no
// authenticator knows, is 401.
import type { IncomingMessage } from 'node:http';
import { bearerToken } from '../../lib/token-match.ts';
import { DEFAULT_AUDIENCE, type ServiceAccountTokens } from './service-account-tokens.ts';
import type { StaticTokens } from './static-tokens.ts';
import type { UserInfo } from './user.ts';
import type { TokenReviewResult } from '../authz/types.ts';

export class Authenticator {
  constructor(
    private readonly statics: StaticTokens,
    private readonly serviceAccounts: ServiceAccountTokens,
  ) {}

  authenticateRequest(req: IncomingMessage): UserInfo | undefined {
    const token = bearerToken(req.headers.authorization);
    if (token === undefined || token === '') return undefined;
    const result = this.review(token, []);
    return result.authenticated ? result.user : undefined;
  }

  /** A TokenReview: no audiences means the API server's own. */
  review(token: string, audiences: string[]): TokenReviewResult {
    const wanted = audiences.length > 0 ? audiences : [DEFAULT_AUDIENCE];
    const user = this.statics.authenticate(token);
    // Static tokens are valid for the API server's own audience only, as kube-apiserver's are.
    if (user) return wanted.includes(DEFAULT_AUDIENCE) ? { authenticated: true, user, audiences: [DEFAULT_AUDIENCE] } : { authenticated: false, error: 'token audiences do not match' };
    if (token.split('.').length === 3) {
      const result = this.serviceAccounts.authenticate(token, wanted);
      if ('user' in result) return { authenticated: true, user: result.user, audiences: result.audiences };
      return { authenticated: false, error: result.error };
    }
    return { authenticated: false, error: 'invalid bearer token' };
  }
}
