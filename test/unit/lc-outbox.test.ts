// The durable outbox: the edge client's Outbox over the LC's SQLite table. Entries are committed
// before they are written, removed on acknowledgement, restored in order after a reopen with the
// same stream and ids that are never reused; a failing store rejects the enqueue.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { DataFrame, EdgeMessage } from '../../src/api/edge-protocol.ts';
import { Outbox } from '../../src/edgelink/index.ts';
import { LcDatabase } from '../../src/lc/db.ts';
import { SqliteOutbox } from '../../src/lc/outbox.ts';

function dbPath(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'lc-outbox-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'database.db');
}

const status = (name: string, n: number): EdgeMessage => ({ header: { namespace: 'default', resourceKind: 'Dataset', resourceName: name, operation: 'status' }, content: { numberOfSamples: n } });

function open(path: string): { db: LcDatabase; store: SqliteOutbox; outbox: Outbox; frames: DataFrame[] } {
  const db = new LcDatabase(path);
  const store = new SqliteOutbox(db);
  const outbox = new Outbox({ coalesce: false, stream: store.stream(), persistence: store });
  const frames: DataFrame[] = [];
  return { db, store, outbox, frames };
}

describe('SqliteOutbox', () => {
  it('commits before writing, removes on ack, and restores in order with the same stream and fresh ids', (t) => {
    const path = dbPath(t);
    const a = open(path);
    const committedAtWrite: number[] = [];
    a.outbox.attach((frame) => {
      a.frames.push(frame);
      committedAtWrite.push(a.store.depth());
    });
    a.outbox.enqueue(status('x', 1));
    a.outbox.enqueue(status('y', 1));
    a.outbox.enqueue(status('x', 2));
    assert.deepEqual(committedAtWrite, [1, 2, 3], 'each message is in the table when it is written');
    assert.deepEqual(a.frames.map((f) => f.id), [1, 2, 3]);
    assert.ok(a.outbox.ack(2));
    assert.equal(a.store.depth(), 2);
    const stream = a.store.stream();
    a.db.close();

    const b = open(path);
    assert.equal(b.store.stream(), stream, 'the stream survives the restart');
    assert.equal(b.outbox.depth, 2);
    b.outbox.attach((frame) => b.frames.push(frame));
    assert.deepEqual(b.frames.map((f) => [f.id, f.header.resourceName, f.stream]), [[1, 'x', stream], [3, 'x', stream]]);
    assert.deepEqual(b.outbox.pending().map((m) => m.content), [{ numberOfSamples: 1 }, { numberOfSamples: 2 }]);
    // Ids continue after the highest ever assigned, even one already acknowledged and deleted.
    assert.ok(b.outbox.ack(3));
    b.outbox.enqueue(status('z', 1));
    assert.equal(b.frames.at(-1)?.id, 4);
    assert.equal(b.frames.at(-1)?.floor, 1);
    assert.ok(b.outbox.ack(1));
    assert.ok(b.outbox.ack(4));
    assert.equal(b.store.depth(), 0);
    b.db.close();

    const c = open(path);
    c.outbox.attach((frame) => c.frames.push(frame));
    c.outbox.enqueue(status('w', 1));
    assert.deepEqual(c.frames.map((f) => f.id), [5], 'ids are never reused, even with an empty table');
    c.db.close();
  });

  it('a store that cannot write rejects the enqueue and leaves nothing behind', (t) => {
    const { db, outbox, frames } = open(dbPath(t));
    outbox.attach((frame) => frames.push(frame));
    db.close();
    assert.throws(() => outbox.enqueue(status('x', 1)));
    assert.equal(outbox.depth, 0);
    assert.equal(frames.length, 0);
  });

  it('a second LC on the same database fails at once', (t) => {
    const path = dbPath(t);
    const db = new LcDatabase(path);
    t.after(() => db.close());
    assert.throws(() => new LcDatabase(path), /locked/);
  });
});
