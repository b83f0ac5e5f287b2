// The LocalController's SQLite state (spec §4.8). Sedna's one table, `resources` (the objects the
// GM sent, keyed `<ns>/<kind>/<name>`), plus what Sedna lacked: the durable upstream outbox (every
// report is committed here before it is sent and deleted when the GM acknowledges it, §6 item 17)
// and a small `meta` table holding the outbox's stream name.
import type { Database as DatabaseType, Statement } from 'better-sqlite3';
import { openExclusiveDatabase } from '../lib/sqlite.ts';

/** A stored object: Sedna's columns, JSON kept as text. */
export interface ResourceRow {
  name: string;
  typeMeta: Record<string, unknown>;
  objectMeta: Record<string, unknown>;
  spec: unknown;
}

const LC_SCHEMA = `
CREATE TABLE IF NOT EXISTS resources (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at DATETIME, updated_at DATETIME, deleted_at DATETIME,
  name TEXT UNIQUE, type_meta TEXT, object_meta TEXT, spec TEXT);
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  namespace TEXT NOT NULL, resource_kind TEXT NOT NULL, resource_name TEXT NOT NULL,
  operation TEXT NOT NULL, content TEXT, created_at DATETIME NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS job_state (key TEXT PRIMARY KEY, state TEXT NOT NULL, updated_at DATETIME NOT NULL);
`;

export class LcDatabase {
  readonly db: DatabaseType;
  private readonly statements: {
    upsert: Statement;
    getResource: Statement;
    deleteResource: Statement;
    listResources: Statement;
    saveJobState: Statement;
    jobState: Statement;
    deleteJobState: Statement;
  };

  /** Opens (creating) the database file; a second LC on the same file fails at once. */
  constructor(readonly path: string) {
    // NORMAL in WAL mode keeps every committed transaction across a process crash.
    const db = openExclusiveDatabase(path, { schema: LC_SCHEMA, synchronous: 'NORMAL', holder: 'another LC' });
    this.db = db;
    this.statements = {
      upsert: db.prepare(`INSERT INTO resources (created_at, updated_at, name, type_meta, object_meta, spec) VALUES (@now, @now, @name, @typeMeta, @objectMeta, @spec)
        ON CONFLICT(name) DO UPDATE SET updated_at = @now, type_meta = @typeMeta, object_meta = @objectMeta, spec = @spec`),
      getResource: db.prepare('SELECT name, type_meta, object_meta, spec FROM resources WHERE name = ?'),
      deleteResource: db.prepare('DELETE FROM resources WHERE name = ?'),
      listResources: db.prepare("SELECT name, type_meta, object_meta, spec FROM resources WHERE name LIKE ? ESCAPE '\\' ORDER BY id"),
      saveJobState: db.prepare('INSERT INTO job_state (key, state, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at'),
      jobState: db.prepare('SELECT state FROM job_state WHERE key = ?'),
      deleteJobState: db.prepare('DELETE FROM job_state WHERE key = ?'),
    };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // --- resources (Sedna's table) -----------------------------------------------------------

  /** Upserts a GM object under `<ns>/<kind>/<name>` (Sedna's `SaveResource`). */
  saveResource(name: string, object: Record<string, unknown>): void {
    const { kind, apiVersion, metadata, spec } = object;
    this.statements.upsert.run({
      now: new Date().toISOString(),
      name,
      typeMeta: JSON.stringify({ kind, apiVersion }),
      objectMeta: JSON.stringify(metadata ?? {}),
      spec: JSON.stringify(spec ?? null),
    });
  }

  getResource(name: string): ResourceRow | undefined {
    const row = this.statements.getResource.get(name) as { name: string; type_meta: string; object_meta: string; spec: string } | undefined;
    return row && toResource(row);
  }

  /** Stored objects whose key starts with `prefix` (e.g. `default/dataset/`), oldest first. */
  listResources(prefix = ''): ResourceRow[] {
    const pattern = `${prefix.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
    const rows = this.statements.listResources.all(pattern) as {
      name: string;
      type_meta: string;
      object_meta: string;
      spec: string;
    }[];
    return rows.map(toResource);
  }

  deleteResource(name: string): void {
    this.statements.deleteResource.run(name);
  }

  // --- local job managers' state (ours: survives an LC restart) ----------------------------

  saveJobState(key: string, state: unknown): void {
    this.statements.saveJobState.run(key, JSON.stringify(state), new Date().toISOString());
  }

  jobState<T>(key: string): T | undefined {
    const row = this.statements.jobState.get(key) as { state: string } | undefined;
    return row && (JSON.parse(row.state) as T);
  }

  deleteJobState(key: string): void {
    this.statements.deleteJobState.run(key);
  }
}

function toResource(row: { name: string; type_meta: string; object_meta: string; spec: string }): ResourceRow {
  return {
    name: row.name,
    typeMeta: JSON.parse(row.type_meta) as Record<string, unknown>,
    objectMeta: JSON.parse(row.object_meta) as Record<string, unknown>,
    spec: JSON.parse(row.spec) as unknown,
  };
}
