// Every request must carry the bearer token from the kubeconfig; anything else is 401.
import type { IncomingMessage } from 'node:http';
import { bearerToken, tokenMatches } from '../lib/token-match.ts';

export type Authenticator = (req: IncomingMessage) => boolean;

export function bearerTokenAuthenticator(tokens: string[]): Authenticator {
  return (req) => {
    const presented = bearerToken(req.headers.authorization);
    if (presented === undefined) return false;
    // Every accepted token is compared, so the time taken says nothing about which is close.
    let ok = false;
    for (const token of tokens) ok = tokenMatches(presented, token) || ok;
    return ok;
  };
}
