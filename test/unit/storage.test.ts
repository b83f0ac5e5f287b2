import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EventRing, eventBytes } from '../../src/apiserver/storage/event-ring.ts';
import { SqliteStore } from '../../src/apiserver/storage/sqlite-store.ts';
import { CompactedError, ConflictError, KeyExistsError, ReplayTooLargeError, type StoredEvent } from '../../src/apiserver/storage/types.ts';

const value = (name: string) => (rev: number) => JSON.stringify({ name, rev });

describe('SqliteStore', () => {
  it('gives every write the next revision and keeps the value it rendered', () => {
    const store = new SqliteStore({ path: ':memory:' });
    const a = store.create('core/pods/ns/a', value('a'));
    const b = store.create('core/pods/ns/b', value('b'));
    const a2 = store.update('core/pods/ns/a', a.rev, value('a2'));
    assert.deepEqual([a.rev, b.rev, a2.rev], [1, 2, 3]);
    assert.deepEqual(JSON.parse(store.get('core/pods/ns/a')!.value), { name: 'a2', rev: 3 });
    assert.equal(store.currentRevision(), 3);
    store.close();
  });

  it('refuses a second create of a key and an update from a stale revision', () => {
    const store = new SqliteStore({ path: ':memory:' });
    const a = store.create('k', value('a'));
    assert.throws(() => store.create('k', value('again')), KeyExistsError);
    store.update('k', a.rev, value('b'));
    assert.throws(() => store.update('k', a.rev, value('c')), (err: unknown) => err instanceof ConflictError && err.current.rev === 2);
    assert.throws(() => store.delete('k', a.rev, value('gone')), ConflictError);
    assert.equal(store.currentRevision(), 2, 'failed writes consume no revision');
    store.close();
  });

  it('lists a prefix in key order with paging', () => {
    const store = new SqliteStore({ path: ':memory:' });
    for (const k of ['core/pods/a/x', 'core/pods/b/y', 'core/pods/a/w', 'core/podsx/a/z']) store.create(k, value(k));
    assert.deepEqual(store.list('core/pods/').rows.map((r) => r.key), ['core/pods/a/w', 'core/pods/a/x', 'core/pods/b/y']);
    assert.deepEqual(store.list('core/pods/a/').rows.map((r) => r.key), ['core/pods/a/w', 'core/pods/a/x']);
    const first = store.list('core/pods/', { limit: 2 });
    assert.deepEqual(first.rows.map((r) => r.key), ['core/pods/a/w', 'core/pods/a/x']);
    const rest = store.list('core/pods/', { startAfter: 'core/pods/a/x' });
    assert.deepEqual(rest.rows.map((r) => r.key), ['core/pods/b/y']);
    assert.equal(store.count('core/pods/'), 3);
    store.close();
  });

  it('broadcasts each commit in revision order with the previous value', () => {
    const store = new SqliteStore({ path: ':memory:' });
    const seen: StoredEvent[] = [];
    store.subscribe((e) => seen.push(e));
    const a = store.create('k', value('a'));
    const b = store.update('k', a.rev, value('b'));
    store.delete('k', b.rev, value('final'));
    assert.deepEqual(seen.map((e) => [e.rev, e.type]), [[1, 'ADDED'], [2, 'MODIFIED'], [3, 'DELETED']]);
    assert.equal(seen[1]!.prev, a.value);
    assert.equal(seen[2]!.prev, b.value);
    assert.equal(store.get('k'), undefined);
    store.close();
  });

  it('replays events after a revision from memory and from the log, and 410s below the compact revision', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sedna-store-'));
    try {
      const path = join(dir, 'state.db');
      let store = new SqliteStore({ path, ringSize: 4 });
      let rev = store.create('k', value('0')).rev;
      for (let i = 1; i < 10; i++) rev = store.update('k', rev, value(String(i))).rev;
      assert.deepEqual(store.eventsAfter(7).map((e) => e.rev), [8, 9, 10], 'from the ring');
      assert.deepEqual(store.eventsAfter(2).map((e) => e.rev), [3, 4, 5, 6, 7, 8, 9, 10], 'from the log table');
      store.close();
      store = new SqliteStore({ path, ringSize: 4 });
      assert.equal(store.currentRevision(), 10, 'the revision survives a reopen');
      assert.deepEqual(store.eventsAfter(8).map((e) => e.rev), [9, 10]);
      assert.equal(store.compact(3, 2), 7);
      assert.throws(() => store.eventsAfter(5), (err: unknown) => err instanceof CompactedError && err.compacted === 7);
      assert.deepEqual(store.eventsAfter(7).map((e) => e.rev), [8, 9, 10]);
      store.close();
      store = new SqliteStore({ path });
      assert.equal(store.compactRevision(), 7, 'the compact revision survives a reopen');
      assert.equal(store.create('other', value('x')).rev, 11);
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a second store on the same file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sedna-store-'));
    try {
      const path = join(dir, 'state.db');
      const first = new SqliteStore({ path });
      assert.throws(() => new SqliteStore({ path }), /in use by another API server/);
      first.create('k', value('still works'));
      first.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('EventRing', () => {
  const event = (rev: number): StoredEvent => ({ rev, key: 'k', type: 'MODIFIED', value: '{}', prev: undefined });

  it('answers only when it holds every event after the revision', () => {
    const ring = new EventRing(3);
    for (let rev = 1; rev <= 5; rev++) ring.push(event(rev));
    assert.deepEqual(ring.after(2)?.map((e) => e.rev), [3, 4, 5]);
    assert.deepEqual(ring.after(4)?.map((e) => e.rev), [5]);
    assert.deepEqual(ring.after(5), []);
    assert.equal(ring.after(1), undefined, 'revision 2 fell out of the ring');
    ring.dropThrough(4);
    assert.deepEqual(ring.after(4)?.map((e) => e.rev), [5]);
    assert.equal(ring.after(3), undefined);
  });
});

describe('EventRing byte bound', () => {
  const sized = (rev: number, chars: number): StoredEvent => ({ rev, key: 'k', type: 'MODIFIED', value: 'v'.repeat(chars), prev: 'p'.repeat(chars) });

  it('never holds more JSON text than its byte cap, however many events were pushed', () => {
    const cap = 10_000;
    const ring = new EventRing(1_000, cap);
    for (let rev = 1; rev <= 5_000; rev++) {
      ring.push(sized(rev, 1 + (rev % 700)));
      assert.ok(ring.heldBytes <= cap, `ring holds ${ring.heldBytes} bytes after revision ${rev}`);
    }
    assert.ok(ring.length < 1_000, 'the byte cap, not the count, bounded it');
    const held = ring.after(5_000 - ring.length);
    assert.equal(held?.length, ring.length, 'it still replays everything it holds');
    assert.equal(ring.heldBytes, held.reduce((sum, e) => sum + eventBytes(e), 0), 'its byte count matches what it holds');
    assert.equal(ring.after(5_000 - ring.length - 1), undefined, 'an evicted revision falls back to the log table');
  });

  it('keeps the newest event even when it alone is over the cap', () => {
    const ring = new EventRing(10, 100);
    ring.push(sized(1, 10));
    ring.push(sized(2, 500));
    assert.deepEqual(ring.after(1)?.map((e) => e.rev), [2]);
    assert.equal(ring.after(0), undefined);
  });

  it('bounds the store: a stream of status writes leaves the ring at its cap while the log keeps every event', () => {
    const store = new SqliteStore({ path: ':memory:', ringSize: 20_000, ringBytes: 50_000 });
    let obj = store.create('s/a', value('x'.repeat(400)));
    for (let i = 0; i < 2_000; i++) obj = store.update('s/a', obj.rev, value(`${i}`.padEnd(400, 'y')));
    assert.ok(store.ringStats().bytes <= 50_000);
    assert.ok(store.ringStats().events < 2_001);
    assert.equal(store.eventsAfter(0).length, 2_001, 'older events are read from the log table');
    store.close();
  });

  it('answers a resume whose log backlog is over the replay limit with ReplayTooLargeError (410 Gone), never reading it all', () => {
    const store = new SqliteStore({ path: ':memory:', ringSize: 20_000, ringBytes: 20_000, replayBytes: 100_000 });
    let obj = store.create('s/a', value('x'.repeat(400)));
    for (let i = 0; i < 1_000; i++) obj = store.update('s/a', obj.rev, value(`${i}`.padEnd(400, 'y')));
    const eventSize = eventBytes(store.eventsAfter(obj.rev - 1)[0]!);
    let error: unknown;
    assert.throws(() => store.eventsAfter(0), (err: unknown) => ((error = err), err instanceof ReplayTooLargeError));
    assert.ok(error instanceof CompactedError, 'the watch maps it to 410 Gone as it does a compacted revision');
    const oldestResumable = (error).compacted;
    assert.match((error as Error).message, /exceed the 100000-byte replay limit/);
    assert.equal(store.eventsAfter(oldestResumable).at(-1)!.rev, obj.rev, 'the revision it names resumes, from the ring');
    // Just inside the limit the log still replays: the backlog of the newest (replayBytes / size) events.
    const fits = Math.floor(100_000 / eventSize);
    assert.equal(store.eventsAfter(obj.rev - fits).length, fits);
    assert.throws(() => store.eventsAfter(obj.rev - fits - 1), ReplayTooLargeError);
    store.close();
  });
});

describe('SqliteStore.listAt', () => {
  it('reads the objects of a prefix as they were at an earlier revision', () => {
    const store = new SqliteStore({ path: ':memory:' });
    const a = store.create('p/a', value('a1'));
    store.create('p/b', value('b1'));
    const c = store.create('p/c', value('c1'));
    const at = store.currentRevision();
    store.update('p/a', a.rev, value('a2'));
    store.delete('p/c', c.rev, value('c-gone'));
    store.create('p/d', value('d1'));
    const then = store.listAt('p/', at);
    assert.deepEqual(then.rows.map((r) => [r.key, (JSON.parse(r.value) as { name: string }).name]), [['p/a', 'a1'], ['p/b', 'b1'], ['p/c', 'c1']]);
    assert.deepEqual(store.listAt('p/', at, { startAfter: 'p/a', limit: 1 }).rows.map((r) => r.key), ['p/b']);
    store.compact(1);
    assert.throws(() => store.listAt('p/', at), CompactedError);
    store.close();
  });
});

describe('SqliteStore event delivery', () => {
  it('delivers a write made inside a listener only after every listener saw the earlier event', () => {
    const store = new SqliteStore({ path: ':memory:' });
    const first: number[] = [];
    const second: number[] = [];
    store.subscribe((e) => {
      first.push(e.rev);
      if (e.rev === 1) store.create('reaction', value('r'));
    });
    store.subscribe((e) => second.push(e.rev));
    store.create('k', value('k'));
    assert.deepEqual(first, [1, 2]);
    assert.deepEqual(second, [1, 2]);
    store.close();
  });
});
