// Dynamic batching (src/lib/batcher.ts): a lone request runs at once; requests that arrive while a
// batch runs go together in the next one, in order, each answered with its own output.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Batcher } from '../../src/lib/batcher.ts';

/** A run function whose batches finish only when the test releases them, recording each batch. */
function gatedRun<I, O>(compute: (input: I) => O): {
  run: (inputs: I[]) => Promise<O[]>;
  batches: I[][];
  releaseNext: () => void;
} {
  const batches: I[][] = [];
  const gates: (() => void)[] = [];
  return {
    batches,
    run: (inputs) => {
      batches.push([...inputs]);
      return new Promise<O[]>((resolve) => gates.push(() => resolve(inputs.map(compute))));
    },
    releaseNext: () => {
      const gate = gates.shift();
      assert.ok(gate, 'no batch is waiting to be released');
      gate();
    },
  };
}

/** Lets queued promise callbacks run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Batcher', () => {
  it('runs a lone request at once, alone', async () => {
    const calls: number[][] = [];
    const batcher = new Batcher<number, number>({
      run: (inputs) => {
        calls.push([...inputs]);
        return Promise.resolve(inputs.map((x) => x * 10));
      },
    });
    const pending = batcher.submit(4);
    // The batch started synchronously, without waiting for a timer or for more requests.
    assert.deepEqual(calls, [[4]]);
    assert.equal(await pending, 40);
    assert.deepEqual(batcher.batchSizes, [1]);
  });

  it('groups requests submitted while a batch runs into the next batch, in order', async () => {
    const gated = gatedRun<string, string>((s) => s.toUpperCase());
    const batcher = new Batcher<string, string>({ run: gated.run });
    const first = batcher.submit('a');
    const waiting = ['b', 'c', 'd'].map((s) => batcher.submit(s));
    await settle();
    assert.deepEqual(gated.batches, [['a']]);
    gated.releaseNext();
    assert.equal(await first, 'A');
    await settle();
    assert.deepEqual(gated.batches, [['a'], ['b', 'c', 'd']]);
    gated.releaseNext();
    assert.deepEqual(await Promise.all(waiting), ['B', 'C', 'D']);
    assert.deepEqual(batcher.batchSizes, [1, 3]);
  });

  it('gives each caller its own output', async () => {
    const gated = gatedRun<number, string>((n) => `out-${n}`);
    const batcher = new Batcher<number, string>({ run: gated.run });
    const results = Array.from({ length: 8 }, (_, i) => batcher.submit(i));
    await settle();
    gated.releaseNext();
    await settle();
    gated.releaseNext();
    assert.deepEqual(await Promise.all(results), Array.from({ length: 8 }, (_, i) => `out-${i}`));
  });

  it('never runs more than maxBatch inputs at once', async () => {
    const gated = gatedRun<number, number>((n) => n + 1);
    const batcher = new Batcher<number, number>({ run: gated.run, maxBatch: 3 });
    const results = Array.from({ length: 8 }, (_, i) => batcher.submit(i));
    for (let i = 0; i < 4; i++) {
      await settle();
      gated.releaseNext();
    }
    assert.deepEqual(await Promise.all(results), [1, 2, 3, 4, 5, 6, 7, 8]);
    // 0 alone, then 1..7 in batches of at most 3, in order.
    assert.deepEqual(gated.batches, [[0], [1, 2, 3], [4, 5, 6], [7]]);
    assert.deepEqual(batcher.batchSizes, [1, 3, 3, 1]);
  });

  it('defaults maxBatch to 64', async () => {
    const gated = gatedRun<number, number>((n) => n);
    const batcher = new Batcher<number, number>({ run: gated.run });
    const results = Array.from({ length: 101 }, (_, i) => batcher.submit(i));
    for (let i = 0; i < 3; i++) {
      await settle();
      gated.releaseNext();
    }
    await Promise.all(results);
    assert.deepEqual(batcher.batchSizes, [1, 64, 36]);
  });

  it('rejects exactly the members of a failing batch, and the next batch still runs', async () => {
    const batches: number[][] = [];
    const gates: (() => void)[] = [];
    const batcher = new Batcher<number, number>({
      run: async (inputs) => {
        batches.push([...inputs]);
        await new Promise<void>((resolve) => gates.push(resolve));
        if (inputs.includes(1)) throw new Error('model crashed on batch [1, 2]');
        return inputs.map((n) => n * 2);
      },
    });
    const first = batcher.submit(0);
    const failing = Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    gates.shift()?.();
    assert.equal(await first, 0);
    await settle();
    const later = [batcher.submit(3), batcher.submit(4)];
    gates.shift()?.();
    for (const outcome of await failing) {
      assert.equal(outcome.status, 'rejected');
      assert.match(String(outcome.reason), /model crashed/);
    }
    await settle();
    gates.shift()?.();
    assert.deepEqual(await Promise.all(later), [6, 8]);
    assert.deepEqual(batches, [[0], [1, 2], [3, 4]]);
  });

  it('rejects a batch whose run throws synchronously and keeps serving', async () => {
    let calls = 0;
    const batcher = new Batcher<number, number>({
      run: (inputs) => {
        calls++;
        if (calls === 1) throw new Error('synchronous failure');
        return Promise.resolve(inputs);
      },
    });
    await assert.rejects(batcher.submit(1), /synchronous failure/);
    assert.equal(await batcher.submit(2), 2);
  });

  it('rejects every member with a clear message when the output count does not match', async () => {
    const gated = gatedRun<number, number>((n) => n);
    const batcher = new Batcher<number, number>({
      run: async (inputs) => (await gated.run(inputs)).slice(1),
    });
    const lone = batcher.submit(0);
    const pair = [batcher.submit(1), batcher.submit(2)];
    await settle();
    gated.releaseNext();
    await assert.rejects(lone, { message: 'batch of 1 inputs returned 0 outputs' });
    await settle();
    gated.releaseNext();
    for (const p of pair) await assert.rejects(p, { message: 'batch of 2 inputs returned 1 outputs' });
  });

  it('throws on an invalid maxBatch, naming it', () => {
    const run = (inputs: number[]): Promise<number[]> => Promise.resolve(inputs);
    for (const maxBatch of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => new Batcher<number, number>({ run, maxBatch }), (error: unknown) => error instanceof RangeError && /maxBatch/.test(error.message), `maxBatch ${maxBatch}`);
    }
  });
});
