// Service account tokens as Kubernetes issues them through the TokenRequest API
// (serviceaccounts/<name>/token): ES256-signed JWTs bound to the service account's uid (and
// optionally to a Pod or Secret), with an audience and an expiry. A token stops working when it
// expires or when the object it is bound to is deleted or replaced (a new uid).
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serviceAccountUsername, SYSTEM_AUTHENTICATED, type UserInfo } from './user.ts';

export const DEFAULT_AUDIENCE = 'https://kubernetes.default.svc.cluster.local';
export const ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** Upstream's bounds for spec.expirationSeconds: at least 10 minutes; we cap at one year. */
export const MIN_EXPIRATION_SECONDS = 600;
export const MAX_EXPIRATION_SECONDS = 365 * 24 * 3600;

export interface BoundObject {
  kind: 'Pod' | 'Secret';
  name: string;
  uid: string;
}

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  'kubernetes.io': {
    namespace: string;
    serviceaccount: { name: string; uid: string };
    pod?: { name: string; uid: string };
    secret?: { name: string; uid: string };
  };
}

/** Reads a stored object's uid: the authenticator checks that the token's bindings still exist. */
export type UidLookup = (kind: 'ServiceAccount' | 'Pod' | 'Secret', namespace: string, name: string) => string | undefined;

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

export class ServiceAccountTokens {
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;

  /** The signing key lives in `pkiDir/sa.key` (created on first use, 0600). */
  constructor(
    pkiDir: string,
    private readonly lookup: UidLookup,
    private readonly now: () => number = Date.now,
  ) {
    const file = join(pkiDir, 'sa.key');
    if (!existsSync(file)) {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    }
    this.privateKey = createPrivateKey(readFileSync(file));
    this.publicKey = createPublicKey(this.privateKey);
  }

  issue(input: { namespace: string; name: string; uid: string; audiences: string[]; expirationSeconds: number; bound?: BoundObject }): { token: string; expires: Date } {
    const iat = Math.floor(this.now() / 1000);
    const claims: TokenClaims = {
      iss: ISSUER,
      sub: serviceAccountUsername(input.namespace, input.name),
      aud: input.audiences,
      exp: iat + input.expirationSeconds,
      iat,
      nbf: iat,
      jti: randomUUID(),
      'kubernetes.io': { namespace: input.namespace, serviceaccount: { name: input.name, uid: input.uid } },
    };
    if (input.bound?.kind === 'Pod') claims['kubernetes.io'].pod = { name: input.bound.name, uid: input.bound.uid };
    if (input.bound?.kind === 'Secret') claims['kubernetes.io'].secret = { name: input.bound.name, uid: input.bound.uid };
    const signingInput = `${base64url(JSON.stringify({ alg: 'ES256', typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(signingInput), { key: this.privateKey, dsaEncoding: 'ieee-p1363' });
    return { token: `${signingInput}.${base64url(signature)}`, expires: new Date(claims.exp * 1000) };
  }

  /**
   * The service account a token authenticates, when its signature, time window, audience (one of
   * `audiences` must be among the token's) and bindings check out; otherwise why not.
   */
  authenticate(token: string, audiences: string[] = [DEFAULT_AUDIENCE]): { user: UserInfo; audiences: string[] } | { error: string } {
    const parts = token.split('.');
    if (parts.length !== 3) return { error: 'not a JWT' };
    const [header, payload, signature] = parts as [string, string, string];
    let claims: TokenClaims;
    try {
      const head = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: unknown };
      if (head.alg !== 'ES256') return { error: 'unexpected signing algorithm' };
      // Only the canonical encoding: spare padding bits must not give one token many spellings.
      if (Buffer.from(signature, 'base64url').toString('base64url') !== signature) return { error: 'invalid signature' };
      if (!verify('sha256', Buffer.from(`${header}.${payload}`), { key: this.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'))) {
        return { error: 'invalid signature' };
      }
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenClaims;
    } catch {
      return { error: 'malformed token' };
    }
    const now = Math.floor(this.now() / 1000);
    if (claims.iss !== ISSUER) return { error: 'unexpected issuer' };
    if (typeof claims.exp !== 'number' || claims.exp <= now) return { error: 'token has expired' };
    if (typeof claims.nbf === 'number' && claims.nbf > now + 60) return { error: 'token is not valid yet' };
    const matched = audiences.filter((a) => Array.isArray(claims.aud) && claims.aud.includes(a));
    if (matched.length === 0) return { error: 'token audiences do not match' };
    const k8s = claims['kubernetes.io'];
    if (!k8s?.serviceaccount) return { error: 'not a service account token' };
    const { namespace } = k8s;
    if (this.lookup('ServiceAccount', namespace, k8s.serviceaccount.name) !== k8s.serviceaccount.uid) return { error: 'service account has been deleted or replaced' };
    if (k8s.pod && this.lookup('Pod', namespace, k8s.pod.name) !== k8s.pod.uid) return { error: 'the pod the token is bound to has been deleted' };
    if (k8s.secret && this.lookup('Secret', namespace, k8s.secret.name) !== k8s.secret.uid) return { error: 'the secret the token is bound to has been deleted' };
    const user: UserInfo = {
      name: serviceAccountUsername(namespace, k8s.serviceaccount.name),
      uid: k8s.serviceaccount.uid,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, SYSTEM_AUTHENTICATED],
    };
    if (k8s.pod) user.extra = { 'authentication.kubernetes.io/pod-name': [k8s.pod.name], 'authentication.kubernetes.io/pod-uid': [k8s.pod.uid] };
    return { user, audiences: matched };
  }
}
