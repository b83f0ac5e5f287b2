// The kubelet's record of the processes it started: one row per running container process, with
// its identity (pid, start time, boot id; src/lib/proc.ts), written when it starts and removed when
// it exits. It lives in the LC's SQLite database, so after the LC was killed the next LC (or `sedna
// down`) finds what the previous one left running and is sure it signals that very process.
import { renameSync, writeFileSync } from 'node:fs';
import type { Database } from 'better-sqlite3';
import type { ProcessIdentity } from '../../lib/proc.ts';

export interface ProcessRecord extends ProcessIdentity {
  podUid: string;
  namespace: string;
  pod: string;
  container: string;
}

/** What the kubelet needs from its store; `undefined` in the kubelet options means no records. */
export interface ProcessRecords {
  add(record: ProcessRecord): void;
  remove(pid: number, startTime: string): void;
  list(): ProcessRecord[];
  /** A plain-text mirror, `<pid> <start time>` per line, for the watchdog (reaper.ts). */
  readonly file?: string;
}

export const PROCESS_RECORDS_TABLE = `CREATE TABLE IF NOT EXISTS pod_processes (
  pid INTEGER NOT NULL, start_time TEXT NOT NULL, boot_id TEXT NOT NULL,
  pod_uid TEXT NOT NULL, namespace TEXT NOT NULL, pod TEXT NOT NULL, container TEXT NOT NULL,
  PRIMARY KEY (pid, start_time))`;

interface Row {
  pid: number;
  start_time: string;
  boot_id: string;
  pod_uid: string;
  namespace: string;
  pod: string;
  container: string;
}

export class SqliteProcessRecords implements ProcessRecords {
  private readonly insert;
  private readonly delete;
  private readonly all;

  constructor(db: Database, readonly file?: string) {
    db.exec(PROCESS_RECORDS_TABLE);
    this.insert = db.prepare('INSERT OR REPLACE INTO pod_processes (pid, start_time, boot_id, pod_uid, namespace, pod, container) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.delete = db.prepare('DELETE FROM pod_processes WHERE pid = ? AND start_time = ?');
    this.all = db.prepare('SELECT pid, start_time, boot_id, pod_uid, namespace, pod, container FROM pod_processes ORDER BY rowid');
    this.mirror();
  }

  add(r: ProcessRecord): void {
    this.insert.run(r.pid, r.startTime, r.bootId, r.podUid, r.namespace, r.pod, r.container);
    this.mirror();
  }

  remove(pid: number, startTime: string): void {
    this.delete.run(pid, startTime);
    this.mirror();
  }

  /** Rewrites the mirror file whole (a few lines), atomically. */
  private mirror(): void {
    if (!this.file) return;
    writeFileSync(`${this.file}.tmp`, this.list().map((r) => `${r.pid} ${r.startTime}\n`).join(''));
    renameSync(`${this.file}.tmp`, this.file);
  }

  list(): ProcessRecord[] {
    return (this.all.all() as Row[]).map((r) => ({ pid: r.pid, startTime: r.start_time, bootId: r.boot_id, podUid: r.pod_uid, namespace: r.namespace, pod: r.pod, container: r.container }));
  }
}
