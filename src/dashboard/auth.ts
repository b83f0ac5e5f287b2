// Who may see the dashboard: whoever holds the login token (printed by `sedna up` as a link, as
// Jupyter does). The token is exchanged once for a session: an HttpOnly, SameSite=Strict cookie
// naming a random session id, so the token leaves the address bar and other sites' requests never
// carry the session. State-changing requests are POSTs that must also carry the session's CSRF
// token in a header and a same-origin Origin.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { tokenMatches } from '../lib/token-match.ts';

export const SESSION_COOKIE = 'sedna_dashboard_session';
export const CSRF_HEADER = 'x-sedna-csrf';

export interface Session {
  id: string;
  csrf: string;
  expires: number;
}

export interface SessionOptions {
  /** Session lifetime (default 12 h). */
  ttlMs?: number;
  /** Sessions kept at most; the oldest is dropped (default 64). */
  max?: number;
  now?: () => number;
}

export class Sessions {
  private readonly sessions = new Map<string, Session>();
  private readonly ttlMs: number;
  private readonly max: number;
  private readonly now: () => number;

  constructor(
    private readonly loginToken: string,
    options: SessionOptions = {},
  ) {
    if (loginToken.length < 16) throw new Error('the dashboard login token must have at least 16 characters');
    this.ttlMs = options.ttlMs ?? 12 * 3600_000;
    this.max = options.max ?? 64;
    this.now = options.now ?? Date.now;
  }

  /** The login token's check, constant-time (also for the bearer token of /metrics). */
  tokenMatches(presented: string): boolean {
    return tokenMatches(presented, this.loginToken);
  }

  /** A new session for a caller that presented the login token; undefined when it is wrong. */
  login(presented: string): Session | undefined {
    if (!this.tokenMatches(presented)) return undefined;
    const session: Session = { id: randomBytes(32).toString('base64url'), csrf: randomBytes(24).toString('base64url'), expires: this.now() + this.ttlMs };
    this.sessions.set(session.id, session);
    while (this.sessions.size > this.max) this.sessions.delete(this.sessions.keys().next().value!);
    return session;
  }

  /** The session the request's cookie names, if it exists and has not expired. */
  of(req: IncomingMessage): Session | undefined {
    const id = cookie(req.headers.cookie, SESSION_COOKIE);
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (session.expires <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  logout(session: Session): void {
    this.sessions.delete(session.id);
  }

  /** Set-Cookie for a session (Max-Age follows its lifetime), or one that clears it. */
  cookieHeader(session: Session | undefined): string {
    const value = session ? session.id : '';
    const maxAge = session ? Math.max(0, Math.floor((session.expires - this.now()) / 1000)) : 0;
    return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}`;
  }
}

/** One cookie's value from a Cookie header. */
export function cookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * A state-changing request is accepted only from our own pages: the Origin header must name this
 * server (browsers send it on every POST) and the session's CSRF token must be in its header.
 */
export function sameOriginWithCsrf(req: IncomingMessage, session: Session, ownOrigins: readonly string[]): string | undefined {
  const origin = req.headers.origin;
  if (origin === undefined || !ownOrigins.includes(origin)) return `Origin ${origin === undefined ? '(missing)' : JSON.stringify(origin)} is not this dashboard`;
  const csrf = req.headers[CSRF_HEADER];
  if (typeof csrf !== 'string' || !tokenMatches(csrf, session.csrf)) return `the ${CSRF_HEADER} header is missing or wrong`;
  return undefined;
}
