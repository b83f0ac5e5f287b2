// Objects plus a change log in one SQLite file, after kine: one global, strictly increasing
// revision (the log's row id is the resourceVersion), optimistic concurrency enforced by the
// database (UPDATE ... WHERE rev = expected), watch replay from any revision still in the log,
// and compaction that turns older revisions into 410 Gone.
//
// better-sqlite3 is synchronous and this process is the only writer (the file is opened in
// exclusive locking mode), so a write commits and is broadcast in the same call: subscribers
// see events in revision order with no polling and no gaps.
import type { Database as DatabaseType } from 'better-sqlite3';
import { openExclusiveDatabase } from '../../lib/sqlite.ts';
import { EventRing, eventBytes } from './event-ring.ts';
import type { StoredEvent, StoredEventType, StoredObject } from './types.ts';
import { CompactedError, ConflictError, KeyExistsError, NotFoundError, ReplayTooLargeError } from './types.ts';

const TYPE_CODE: Record<StoredEventType, number> = { ADDED: 0, MODIFIED: 1, DELETED: 2 };
const CODE_TYPE: StoredEventType[] = ['ADDED', 'MODIFIED', 'DELETED'];

export interface SqliteStoreOptions {
  /** Path of the database file; ':memory:' for a throw-away store. */
  path: string;
  /** Events kept in memory for fast watch replay. */
  ringSize?: number;
  /** Bytes of JSON text (object + previous state) those events may hold; the older ones go first. */
  ringBytes?: number;
  /** Bytes of JSON text a resume older than the ring may read from the log table; more is 410 Gone. */
  replayBytes?: number;
}

export interface ListPage {
  rows: StoredObject[];
  /** The store's revision when the page was read. */
  revision: number;
}

type Listener = (event: StoredEvent) => void;

/**
 * 4 MB of recent events: about 15 minutes of the soak's status stream (~1,300 events), enough for
 * informers that reconnect; older resumes are read from the log table.
 */
export const DEFAULT_RING_BYTES = 4 * 1024 * 1024;

/**
 * 8 MB of older events a resuming watch may replay from the log table (twice the ring): an informer
 * back after an API server restart or a short outage replays; one further behind relists, paged.
 */
export const DEFAULT_REPLAY_BYTES = 8 * 1024 * 1024;

/** The upper bound of a key prefix range: every key that starts with `prefix` sorts below it. */
export function prefixEnd(prefix: string): string {
  return prefix + '\uffff';
}

export class SqliteStore {
  private readonly db: DatabaseType;
  private readonly ring: EventRing;
  private readonly replayBytes: number;
  private readonly listeners = new Set<Listener>();
  /** Committed events not yet handed to every listener, oldest first. */
  private readonly undelivered: StoredEvent[] = [];
  private delivering = false;
  private revision: number;
  private compacted: number;
  private readonly sql: ReturnType<typeof prepareStatements>;

  constructor(options: SqliteStoreOptions) {
    this.db = openExclusiveDatabase(options.path, { schema: STORE_SCHEMA, synchronous: 'NORMAL', holder: 'another API server' });
    this.sql = prepareStatements(this.db);
    this.revision = Number((this.sql.maxRev.get() as { rev: number | null }).rev ?? 0);
    this.compacted = Number((this.sql.getMeta.get('compact_rev') as { value: number } | undefined)?.value ?? 0);
    this.ring = new EventRing(options.ringSize ?? 20_000, options.ringBytes ?? DEFAULT_RING_BYTES);
    this.replayBytes = options.replayBytes ?? DEFAULT_REPLAY_BYTES;
  }

  currentRevision(): number {
    return this.revision;
  }

  compactRevision(): number {
    return this.compacted;
  }

  get(key: string): StoredObject | undefined {
    return this.sql.get.get(key) as StoredObject | undefined;
  }

  /** Inserts a new key. `render` receives the revision the object will carry. */
  create(key: string, render: (rev: number) => string): StoredObject {
    return this.write(() => {
      if (this.sql.get.get(key)) throw new KeyExistsError(key);
      const rev = this.revision + 1;
      const value = render(rev);
      this.sql.insertObject.run(key, rev, value);
      this.sql.insertLog.run(rev, key, TYPE_CODE.ADDED, value, null);
      return { key, rev, value, type: 'ADDED' as const, prev: undefined };
    });
  }

  /** Replaces a key whose current revision is `expectedRev`; anything else is a conflict. */
  update(key: string, expectedRev: number, render: (rev: number) => string): StoredObject {
    return this.write(() => {
      const current = this.sql.get.get(key) as StoredObject | undefined;
      if (!current) throw new NotFoundError(key);
      const rev = this.revision + 1;
      const value = render(rev);
      const changed = this.sql.updateObject.run(rev, value, key, expectedRev).changes;
      if (changed !== 1) throw new ConflictError(key, current);
      this.sql.insertLog.run(rev, key, TYPE_CODE.MODIFIED, value, current.value);
      return { key, rev, value, type: 'MODIFIED' as const, prev: current.value };
    });
  }

  /** Removes a key at `expectedRev`; `render` gives the final object the DELETED event carries. */
  delete(key: string, expectedRev: number, render: (rev: number) => string): StoredObject {
    return this.write(() => {
      const current = this.sql.get.get(key) as StoredObject | undefined;
      if (!current) throw new NotFoundError(key);
      const changed = this.sql.deleteObject.run(key, expectedRev).changes;
      if (changed !== 1) throw new ConflictError(key, current);
      const rev = this.revision + 1;
      const value = render(rev);
      this.sql.insertLog.run(rev, key, TYPE_CODE.DELETED, value, current.value);
      return { key, rev, value, type: 'DELETED' as const, prev: current.value };
    });
  }

  /** Current objects whose key starts with `prefix`, in key order, after `startAfter`. */
  list(prefix: string, options: { startAfter?: string; limit?: number } = {}): ListPage {
    const from = options.startAfter !== undefined && options.startAfter >= prefix ? options.startAfter : prefix;
    const limit = options.limit && options.limit > 0 ? options.limit : -1;
    const stmt = options.startAfter !== undefined ? this.sql.listAfter : this.sql.listFrom;
    const rows = stmt.all(from, prefixEnd(prefix), limit) as StoredObject[];
    return { rows, revision: this.revision };
  }

  /** How many current objects under `prefix` sort after `startAfter`, without reading them. */
  countAfter(prefix: string, startAfter: string): number {
    return Number((this.sql.countAfter.get(startAfter, prefixEnd(prefix)) as { n: number }).n);
  }

  /**
   * Objects under `prefix` as they were at revision `rev`, for the later pages of a paged list.
   * An object unchanged since `rev` is read as it is; one changed since is read from the `prev`
   * of its first change after `rev`, which the log keeps. `rev` must not be compacted.
   */
  listAt(prefix: string, rev: number, options: { startAfter?: string; limit?: number } = {}): ListPage {
    if (rev < this.compacted) throw new CompactedError(rev, this.compacted);
    const from = options.startAfter !== undefined && options.startAfter >= prefix ? options.startAfter : undefined;
    const low = from ?? prefix;
    const end = prefixEnd(prefix);
    const limit = options.limit && options.limit > 0 ? options.limit : -1;
    const stmt = from !== undefined ? this.sql.unchangedAfter : this.sql.unchangedFrom;
    const rows = stmt.all(low, end, rev, limit) as StoredObject[];
    const changes = (from !== undefined ? this.sql.changesAfterKey : this.sql.changesFromKey).all(rev, low, end) as {
      key: string;
      type: number;
      prev: string | null;
    }[];
    const seen = new Set<string>();
    for (const change of changes) {
      if (seen.has(change.key)) continue;
      seen.add(change.key);
      // A key whose first change after `rev` created it did not exist at `rev`.
      if (change.type === TYPE_CODE.ADDED || change.prev === null) continue;
      const prevRev = Number((JSON.parse(change.prev) as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion ?? 0);
      rows.push({ key: change.key, rev: prevRev, value: change.prev });
    }
    rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { rows: limit > 0 ? rows.slice(0, limit) : rows, revision: rev };
  }

  count(prefix: string): number {
    return (this.sql.count.get(prefix, prefixEnd(prefix)) as { n: number }).n;
  }

  /**
   * Every event after `rev`, oldest first. Throws CompactedError when `rev` is older than the
   * log still holds, and ReplayTooLargeError when the events after it hold more than the replay
   * limit; the watch turns both into 410 Gone.
   */
  eventsAfter(rev: number): StoredEvent[] {
    if (rev < this.compacted) throw new CompactedError(rev, this.compacted);
    const fromRing = this.ring.after(rev);
    if (fromRing) return fromRing;
    // Rows are read one at a time and the read stops at the limit, so an old resume never loads
    // (or holds the event loop for) more than replayBytes of the log.
    const events: StoredEvent[] = [];
    let bytes = 0;
    for (const row of this.sql.logAfter.iterate(rev) as IterableIterator<{ rev: number; key: string; type: number; value: string; prev: string | null }>) {
      const event: StoredEvent = { rev: row.rev, key: row.key, type: CODE_TYPE[row.type]!, value: row.value, prev: row.prev ?? undefined };
      bytes += eventBytes(event);
      if (bytes > this.replayBytes) throw new ReplayTooLargeError(rev, this.oldestResumable(), this.replayBytes);
      events.push(event);
    }
    return events;
  }

  /** The oldest revision a watch can resume from without hitting the replay limit (the ring's start). */
  private oldestResumable(): number {
    const oldest = this.ring.oldestRevision();
    return oldest === undefined ? this.revision : oldest - 1;
  }

  /** Listeners run synchronously after each commit, in revision order. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Drops log entries at or below `currentRevision() - retain`, in batches so writers are never
   * held up for long. Returns the new compact revision.
   */
  compact(retain: number, batchSize = 5_000): number {
    const target = this.revision - retain;
    if (target <= this.compacted) return this.compacted;
    let floor = this.compacted;
    while (floor < target) {
      const upTo = Math.min(target, floor + batchSize);
      this.db.transaction(() => {
        this.sql.deleteLog.run(upTo);
        this.sql.setMeta.run('compact_rev', upTo);
      })();
      floor = upTo;
    }
    this.compacted = target;
    this.ring.dropThrough(target);
    return target;
  }

  /** Events and bytes of JSON text the in-memory replay ring holds (for memory probes). */
  ringStats(): { events: number; bytes: number } {
    return { events: this.ring.length, bytes: this.ring.heldBytes };
  }

  close(): void {
    this.listeners.clear();
    if (this.db.open) this.db.close();
  }

  private write(body: () => StoredEvent & StoredObject): StoredObject {
    const event = this.db.transaction(body)();
    this.revision = event.rev;
    const { type, prev, ...stored } = event;
    const published: StoredEvent = { rev: event.rev, key: event.key, type, value: event.value, prev };
    this.ring.push(published);
    this.undelivered.push(published);
    this.deliver();
    return stored;
  }

  /**
   * Hands events to listeners strictly in revision order. A listener that writes (a controller
   * reacting to a change) only queues its event here; the outermost call delivers it after every
   * listener has seen the earlier one, so no watcher ever sees revisions out of order.
   */
  private deliver(): void {
    if (this.delivering) return;
    this.delivering = true;
    try {
      for (let event = this.undelivered.shift(); event; event = this.undelivered.shift()) {
        for (const listener of this.listeners) listener(event);
      }
    } finally {
      this.delivering = false;
    }
  }
}

const STORE_SCHEMA = `
  CREATE TABLE IF NOT EXISTS objects (key TEXT PRIMARY KEY, rev INTEGER NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS log (rev INTEGER PRIMARY KEY, key TEXT NOT NULL, type INTEGER NOT NULL, value TEXT NOT NULL, prev TEXT);
  CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

function prepareStatements(db: DatabaseType) {
  return {
    get: db.prepare('SELECT key, rev, value FROM objects WHERE key = ?'),
    insertObject: db.prepare('INSERT INTO objects (key, rev, value) VALUES (?, ?, ?)'),
    updateObject: db.prepare('UPDATE objects SET rev = ?, value = ? WHERE key = ? AND rev = ?'),
    deleteObject: db.prepare('DELETE FROM objects WHERE key = ? AND rev = ?'),
    insertLog: db.prepare('INSERT INTO log (rev, key, type, value, prev) VALUES (?, ?, ?, ?, ?)'),
    listFrom: db.prepare('SELECT key, rev, value FROM objects WHERE key >= ? AND key < ? ORDER BY key LIMIT ?'),
    listAfter: db.prepare('SELECT key, rev, value FROM objects WHERE key > ? AND key < ? ORDER BY key LIMIT ?'),
    countAfter: db.prepare('SELECT COUNT(*) AS n FROM objects WHERE key > ? AND key < ?'),
    count: db.prepare('SELECT count(*) AS n FROM objects WHERE key >= ? AND key < ?'),
    unchangedFrom: db.prepare('SELECT key, rev, value FROM objects WHERE key >= ? AND key < ? AND rev <= ? ORDER BY key LIMIT ?'),
    unchangedAfter: db.prepare('SELECT key, rev, value FROM objects WHERE key > ? AND key < ? AND rev <= ? ORDER BY key LIMIT ?'),
    changesFromKey: db.prepare('SELECT key, type, prev FROM log WHERE rev > ? AND key >= ? AND key < ? ORDER BY rev'),
    changesAfterKey: db.prepare('SELECT key, type, prev FROM log WHERE rev > ? AND key > ? AND key < ? ORDER BY rev'),
    logAfter: db.prepare('SELECT rev, key, type, value, prev FROM log WHERE rev > ? ORDER BY rev'),
    deleteLog: db.prepare('DELETE FROM log WHERE rev <= ? AND rev < (SELECT max(rev) FROM log)'),
    maxRev: db.prepare('SELECT max(rev) AS rev FROM log'),
    getMeta: db.prepare('SELECT value FROM meta WHERE name = ?'),
    setMeta: db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value'),
  };
}
