// Dashboard sessions: the login token buys a session; wrong tokens, unknown or expired cookies buy
// nothing; sessions are bounded; a POST needs our Origin and the session's CSRF token.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { cookie, CSRF_HEADER, sameOriginWithCsrf, SESSION_COOKIE, Sessions } from '../../src/dashboard/auth.ts';

const TOKEN = 'a'.repeat(48);
const request = (headers: Record<string, string>): IncomingMessage => ({ headers }) as unknown as IncomingMessage;

describe('dashboard sessions', () => {
  it('trades the token for an HttpOnly SameSite=Strict session cookie; a wrong token gets none', () => {
    // A fixed clock: Max-Age is the lifetime left, which a millisecond on the wall clock makes 43199.
    const sessions = new Sessions(TOKEN, { now: () => 1_000_000 });
    assert.equal(sessions.login('b'.repeat(48)), undefined);
    assert.equal(sessions.login(''), undefined);
    const s = sessions.login(TOKEN)!;
    const header = sessions.cookieHeader(s);
    assert.match(header, new RegExp(`^${SESSION_COOKIE}=${s.id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200$`));
    assert.equal(sessions.of(request({ cookie: `other=1; ${SESSION_COOKIE}=${s.id}` })), s);
    assert.equal(sessions.of(request({ cookie: `${SESSION_COOKIE}=forged` })), undefined);
    assert.equal(sessions.of(request({})), undefined);
    sessions.logout(s);
    assert.equal(sessions.of(request({ cookie: `${SESSION_COOKIE}=${s.id}` })), undefined);
  });

  it('expires sessions and keeps at most `max`', () => {
    let now = 0;
    const sessions = new Sessions(TOKEN, { ttlMs: 1000, max: 2, now: () => now });
    const first = sessions.login(TOKEN)!;
    const second = sessions.login(TOKEN)!;
    const third = sessions.login(TOKEN)!;
    const has = (id: string): boolean => sessions.of(request({ cookie: `${SESSION_COOKIE}=${id}` })) !== undefined;
    assert.deepEqual([has(first.id), has(second.id), has(third.id)], [false, true, true]);
    now = 1000;
    assert.equal(has(third.id), false);
  });

  it('refuses a short login token', () => {
    assert.throws(() => new Sessions('short'), /at least 16/);
  });

  it('a POST needs our Origin and the CSRF token', () => {
    const s = new Sessions(TOKEN).login(TOKEN)!;
    const origins = ['http://127.0.0.1:8080'];
    assert.match(sameOriginWithCsrf(request({ [CSRF_HEADER]: s.csrf }), s, origins)!, /Origin \(missing\)/);
    assert.match(sameOriginWithCsrf(request({ origin: 'http://evil.example', [CSRF_HEADER]: s.csrf }), s, origins)!, /evil/);
    assert.match(sameOriginWithCsrf(request({ origin: origins[0]! }), s, origins)!, /x-sedna-csrf/);
    assert.match(sameOriginWithCsrf(request({ origin: origins[0]!, [CSRF_HEADER]: 'nope' }), s, origins)!, /x-sedna-csrf/);
    assert.equal(sameOriginWithCsrf(request({ origin: origins[0]!, [CSRF_HEADER]: s.csrf }), s, origins), undefined);
  });

  it('parses one cookie out of a Cookie header', () => {
    assert.equal(cookie('a=1; b=2;c=3', 'b'), '2');
    assert.equal(cookie('a=1', 'b'), undefined);
    assert.equal(cookie(undefined, 'a'), undefined);
  });
});
