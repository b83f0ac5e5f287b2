// The supervisor's restart back-off: at once, then 0.5 s doubling to the cap, reset after a healthy run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RestartBackoff } from '../../src/up/backoff.ts';
import { portOf } from '../../src/up/components.ts';

describe('RestartBackoff', () => {
  it('restarts at once the first time, then doubles from initialMs up to maxMs for runs that crash quickly', () => {
    const b = new RestartBackoff({ initialMs: 500, maxMs: 4_000, resetAfterMs: 60_000 });
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(() => b.next(100)), [0, 500, 1_000, 2_000, 4_000, 4_000, 4_000]);
  });

  it('starts over after a run that lasted resetAfterMs', () => {
    const b = new RestartBackoff({ initialMs: 500, maxMs: 30_000, resetAfterMs: 60_000 });
    b.next(10);
    b.next(10);
    assert.equal(b.next(59_999), 1_000);
    assert.equal(b.next(60_000), 0, 'a healthy run: the next crash is restarted at once again');
    assert.equal(b.next(10), 500);
  });
});

describe('portOf', () => {
  it('reuses the port of the previous run, else the configured one', () => {
    assert.equal(portOf('https://127.0.0.1:41234', 0), '41234');
    assert.equal(portOf('ws://127.0.0.1:5000', 0), '5000');
    assert.equal(portOf(undefined, 6443), '6443');
  });
});
