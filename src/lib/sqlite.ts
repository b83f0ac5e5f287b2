// One way every component opens its SQLite file (the API server's store, an LC's database, the
// knowledge base): WAL, an exclusive lock taken at open so a second process on the same file fails
// at once instead of interleaving its writes with ours, the schema created, and the handle closed
// again when any of that fails.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Database as DatabaseType } from 'better-sqlite3';
import { requireCjs } from './require-cjs.ts';

const Database = requireCjs('better-sqlite3') as typeof import('better-sqlite3');

export interface ExclusiveDatabaseOptions {
  /** CREATE TABLE IF NOT EXISTS … statements. */
  schema: string;
  /**
   * NORMAL keeps every committed transaction across a process crash (kill -9) in WAL mode; FULL
   * also across a power cut.
   */
  synchronous: 'NORMAL' | 'FULL';
  foreignKeys?: boolean;
  /** Who else would hold the file, for the error a second opener gets ("another API server"). */
  holder: string;
}

/** Opens (creating folder and file) `path` for this process alone. */
export function openExclusiveDatabase(path: string, options: ExclusiveDatabaseOptions): DatabaseType {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous}`);
    if (options.foreignKeys) db.pragma('foreign_keys = ON');
    db.exec(options.schema);
    // Take the exclusive lock now, not at the first write (IMMEDIATE and EXCLUSIVE are one in WAL).
    db.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (err) {
    db.close();
    if (err instanceof Error && /locked|busy/i.test(err.message)) {
      throw new Error(`the database ${path} is in use by ${options.holder} (${err.message})`);
    }
    throw err;
  }
  return db;
}
