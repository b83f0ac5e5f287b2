// Every request must carry the bearer token from the kubeconfig; anything else is 401.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export type Authenticator = (req: IncomingMessage) => boolean;

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function bearerTokenAuthenticator(tokens: string[]): Authenticator {
  const accepted = tokens.map(digest);
  return (req) => {
    const header = req.headers.authorization;
    if (!header || !/^bearer /i.test(header)) return false;
    const presented = digest(header.slice(7).trim());
    // Constant-time comparison against every accepted token: no timing hint about which is close.
    let ok = false;
    for (const token of accepted) ok = timingSafeEqual(presented, token) || ok;
    return ok;
  };
}
