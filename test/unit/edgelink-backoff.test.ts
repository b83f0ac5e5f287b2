// The edge link's reconnect delays: jittered doubling from the initial delay, capped, and back to
// the shortest after a connection that opened (so a GM restart is rejoined within the cap).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../../src/edgelink/backoff.ts';
import { GM_RECONNECT } from '../../src/lc/gm-link.ts';

describe('edge link Backoff', () => {
  it('doubles from the initial delay to the cap, each delay between half and all of its ceiling', () => {
    const low = new Backoff({ ...GM_RECONNECT, random: () => 0 });
    const high = new Backoff({ ...GM_RECONNECT, random: () => 0.999999 });
    const take = (b: Backoff): number[] => Array.from({ length: 8 }, () => b.next());
    assert.deepEqual(take(low), [125, 250, 500, 1_000, 2_000, 2_000, 2_000, 2_000]);
    assert.deepEqual(take(high), [250, 500, 1_000, 2_000, 4_000, 4_000, 4_000, 4_000]);
  });

  it('the LC\'s default reaches a restarted GM within 4 s of it listening, however long it was away', () => {
    const b = new Backoff(GM_RECONNECT);
    for (let i = 0; i < 100; i++) assert.ok(b.next() <= 4_000);
  });

  it('starts from the shortest delay again after a connection that opened', () => {
    const b = new Backoff({ initialDelayMs: 100, maxDelayMs: 10_000, random: () => 0.999999 });
    for (let i = 0; i < 6; i++) b.next();
    assert.equal(b.next(), 6_400);
    b.reset();
    assert.equal(b.next(), 100);
  });

  it('defaults to a 5 s cap', () => {
    const b = new Backoff({ random: () => 0.999999 });
    const delays = Array.from({ length: 12 }, () => b.next());
    assert.equal(Math.max(...delays), 5_000);
  });
});
