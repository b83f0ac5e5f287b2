import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkQueue } from '../../src/lib/work-queue.ts';

describe('WorkQueue', () => {
  it('keeps a key in the queue once however often it is added', async () => {
    const queue = new WorkQueue();
    const handled: string[] = [];
    queue.add('a');
    queue.add('b');
    queue.add('a');
    queue.run((key) => void handled.push(key));
    await queue.idle();
    assert.deepEqual(handled, ['a', 'b']);
  });

  it('never hands one key to two workers, and reprocesses a key added while it ran', async () => {
    const queue = new WorkQueue({ concurrency: 4 });
    let running = 0;
    let maxRunning = 0;
    let calls = 0;
    let release!: () => void;
    const firstCall = new Promise<void>((resolve) => (release = resolve));
    queue.run(async () => {
      calls++;
      running++;
      maxRunning = Math.max(maxRunning, running);
      if (calls === 1) await firstCall;
      running--;
    });
    queue.add('k');
    queue.add('k'); // queued while processing: becomes dirty
    queue.add('k');
    release();
    await queue.idle();
    assert.equal(maxRunning, 1);
    assert.equal(calls, 2, 'processed once more for the adds made while it ran');
  });

  it('retries a failing key with growing delays, then forgets the failures', async () => {
    const queue = new WorkQueue({ baseDelayMs: 1, maxDelayMs: 8 });
    const times: number[] = [];
    const errors: string[] = [];
    let attempts = 0;
    const done = new Promise<void>((resolve) => {
      queue.run((key) => {
        times.push(Date.now());
        attempts++;
        if (attempts < 4) throw new Error(`fail ${attempts}`);
        assert.equal(queue.numRequeues(key), 3);
        resolve();
      });
    });
    const q2 = new WorkQueue({ onError: (_k, e) => errors.push(String(e)) });
    q2.run(() => {
      throw new Error('boom');
    });
    q2.add('x');
    queue.add('k');
    await done;
    await queue.idle();
    assert.equal(queue.numRequeues('k'), 0);
    assert.equal(attempts, 4);
    assert.ok(errors[0]?.includes('boom'));
    q2.shutdown();
    queue.shutdown();
  });

  it('drops everything after shutdown', async () => {
    const queue = new WorkQueue();
    const handled: string[] = [];
    queue.shutdown();
    queue.add('a');
    queue.run((key) => void handled.push(key));
    await queue.idle();
    assert.deepEqual(handled, []);
  });
});
