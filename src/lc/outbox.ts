// The durable upstream outbox: the edge client's outbox persistence (src/edgelink/outbox.ts)
// kept in the LC's database. A message is committed before it is first written and deleted when
// the GM acknowledges it. Ids come from an AUTOINCREMENT column's sequence, so they are never
// reused, and the stream name is stored once: together they let the hub drop, after an LC
// restart, a message it processed but whose acknowledgement was lost.
import { randomUUID } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { MessageHeader } from '../api/edge-protocol.ts';
import type { OutboxPersistence, StoredOutboxEntry } from '../edgelink/index.ts';
import type { LcDatabase } from './db.ts';

interface OutboxRow {
  id: number;
  namespace: string;
  resource_kind: string;
  resource_name: string;
  operation: string;
  content: string | null;
}

export class SqliteOutbox implements OutboxPersistence {
  private readonly statements: Record<'insert' | 'remove' | 'list' | 'count' | 'sequence' | 'getMeta' | 'setMeta', Statement>;
  /**
   * Acknowledged ids whose rows are deleted together at the end of the event-loop turn: one
   * transaction for a burst of acks instead of one each. Deferring a delete is safe: were the LC
   * to die first, the message would be resent and the hub would drop it as a duplicate.
   */
  private readonly acknowledged: number[] = [];
  private readonly removeBatch: () => void;

  constructor(private readonly database: LcDatabase) {
    const db = database.db;
    this.statements = {
      insert: db.prepare('INSERT INTO outbox (id, namespace, resource_kind, resource_name, operation, content, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      remove: db.prepare('DELETE FROM outbox WHERE id = ?'),
      list: db.prepare('SELECT id, namespace, resource_kind, resource_name, operation, content FROM outbox ORDER BY id'),
      count: db.prepare('SELECT COUNT(*) AS n FROM outbox'),
      sequence: db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'"),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    };
    this.removeBatch = db.transaction(() => {
      for (const id of this.acknowledged.splice(0)) this.statements.remove.run(id);
    });
  }

  /** The outbox's stream name: created once, then the same for the life of the data directory. */
  stream(): string {
    const row = this.statements.getMeta.get('outbox-stream') as { value: string } | undefined;
    if (row) return row.value;
    const stream = randomUUID();
    this.statements.setMeta.run('outbox-stream', stream);
    return stream;
  }

  load(): { entries: StoredOutboxEntry[]; nextId: number } {
    this.flush();
    const rows = this.statements.list.all() as OutboxRow[];
    const seq = (this.statements.sequence.get() as { seq: number } | undefined)?.seq ?? 0;
    return { entries: rows.map((row) => ({ id: row.id, header: headerOf(row), content: row.content })), nextId: seq + 1 };
  }

  save(entry: StoredOutboxEntry): void {
    const { namespace, resourceKind, resourceName, operation } = entry.header;
    this.statements.insert.run(entry.id, namespace, resourceKind, resourceName, operation, entry.content, new Date().toISOString());
  }

  remove(id: number): void {
    if (this.acknowledged.length === 0) setImmediate(() => this.flush());
    this.acknowledged.push(id);
  }

  /** Deletes the acknowledged rows now (also called before reading the table and on close). */
  flush(): void {
    // After the database closed, the rows stay: the messages are resent and dropped as duplicates.
    if (this.acknowledged.length > 0 && this.database.db.open) this.removeBatch();
  }

  /** Messages committed but not yet acknowledged by the GM. */
  depth(): number {
    this.flush();
    return (this.statements.count.get() as { n: number }).n;
  }

  /** The pending messages, oldest first (inspection and tests). */
  pending(): StoredOutboxEntry[] {
    return this.load().entries;
  }
}

function headerOf(row: OutboxRow): MessageHeader {
  return { namespace: row.namespace, resourceKind: row.resource_kind, resourceName: row.resource_name, operation: row.operation };
}
