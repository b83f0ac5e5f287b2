// The knowledge base's SQLite tables (spec lib.md §11): Sedna's six, same names and columns,
// plus `kb_index` holding the current index JSON, so that recording an index and the index
// itself change in one transaction (the file on disk is written from it). What Sedna got wrong
// is fixed here: every change is committed (its /update/status never was), a task's sample URL is
// stored (it read the wrong attribute), `task_num` counts a group's tasks instead of growing by
// the group's size at every update, a sample set is counted once (by its URL) instead of at
// every update that carries it, and a new model URL adds a row (the old ones stay, not
// current) instead of overwriting the only one.
import type { Database as DatabaseType } from 'better-sqlite3';
import type { KbIndex, KbQueryGroup, KbQueryResult, KbQueryTask, KbTask, KbTaskGroup } from '../api/kb-index.ts';
import { openExclusiveDatabase } from '../lib/sqlite.ts';
import { KbInputError } from './index-file.ts';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS ll_task_grp (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(100) UNIQUE NOT NULL,
    deploy BOOLEAN NOT NULL DEFAULT 0, sample_num INTEGER NOT NULL DEFAULT 0, task_num INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE IF NOT EXISTS ll_tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(100) UNIQUE NOT NULL, task_attr TEXT NOT NULL DEFAULT '{}',
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL);
  CREATE TABLE IF NOT EXISTS ll_task_models (
    id INTEGER PRIMARY KEY AUTOINCREMENT, task_id INTEGER NOT NULL REFERENCES ll_task_grp(id),
    model_url TEXT, is_current BOOLEAN NOT NULL DEFAULT 0, created_at DATETIME NOT NULL);
  CREATE TABLE IF NOT EXISTS ll_task_relation (
    id INTEGER PRIMARY KEY AUTOINCREMENT, grp_id INTEGER REFERENCES ll_task_grp(id), task_id INTEGER REFERENCES ll_tasks(id),
    transfer_radio FLOAT NOT NULL DEFAULT 0, UNIQUE (grp_id, task_id));
  CREATE TABLE IF NOT EXISTS ll_samples (
    id INTEGER PRIMARY KEY AUTOINCREMENT, data_url TEXT, descr TEXT, data_type TEXT, updated_at DATETIME NOT NULL,
    sample_num INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE IF NOT EXISTS ll_task_sample (
    id INTEGER PRIMARY KEY AUTOINCREMENT, sample_id INTEGER REFERENCES ll_samples(id), task_id INTEGER REFERENCES ll_tasks(id));
  CREATE TABLE IF NOT EXISTS kb_index (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL, updated_at DATETIME NOT NULL);
`;

interface GroupRow { id: number; name: string; deploy: number; sample_num: number; task_num: number }
interface TaskRow { id: number; name: string; task_attr: string; created_at: string; updated_at: string }

/** Counts for metrics and `sedna status`. */
export interface KbCounts { groups: number; tasks: number; models: number; samples: number }

export class KbDatabase {
  private readonly db: DatabaseType;

  /** Opens (creating) the database; a second KB on the same file fails at once. */
  constructor(readonly path: string) {
    // FULL: an acknowledged update survives a power cut too, not only a process crash.
    const db = openExclusiveDatabase(path, { schema: SCHEMA, synchronous: 'FULL', foreignKeys: true, holder: 'another knowledge base' });
    this.db = db;
  }

  close(): void {
    this.db.close();
  }

  /** Records every seen and unseen group of `index` and makes it the current index, in one transaction. */
  recordIndex(index: KbIndex, now = new Date()): void {
    const at = now.toISOString();
    this.db.transaction(() => {
      for (const group of [...index.seen_task.task_groups, ...index.unseen_task.task_groups]) this.recordGroup(group, at);
      this.saveIndex(index, at);
    })();
  }

  private recordGroup(group: KbTaskGroup, at: string): void {
    const db = this.db;
    db.prepare('INSERT INTO ll_task_grp (name) VALUES (?) ON CONFLICT(name) DO NOTHING').run(group.entry);
    const grp = db.prepare('SELECT * FROM ll_task_grp WHERE name = ?').get(group.entry) as GroupRow;
    for (const task of group.tasks) {
      const attr = task.meta_attr === undefined || task.meta_attr === null ? undefined : JSON.stringify(task.meta_attr);
      db.prepare(`INSERT INTO ll_tasks (name, task_attr, created_at, updated_at) VALUES (@name, @attr, @at, @at)
        ON CONFLICT(name) DO UPDATE SET task_attr = COALESCE(@given, task_attr), updated_at = @at`).run({ name: task.entry, attr: attr ?? '{}', given: attr ?? null, at });
      const taskId = (db.prepare('SELECT id FROM ll_tasks WHERE name = ?').get(task.entry) as { id: number }).id;
      this.recordSampleSet(taskId, task.samples, at);
      db.prepare('INSERT INTO ll_task_relation (grp_id, task_id) VALUES (?, ?) ON CONFLICT(grp_id, task_id) DO NOTHING').run(grp.id, taskId);
    }
    const taskNum = (db.prepare('SELECT COUNT(*) AS n FROM ll_task_relation WHERE grp_id = ?').get(grp.id) as { n: number }).n;
    if (group.tasks.length > 0) {
      // The group holds what its tasks' sample sets hold, each set counted once.
      const held = db.prepare(`SELECT COALESCE(SUM(s.sample_num), 0) AS n FROM ll_task_relation r JOIN ll_task_sample ts ON ts.task_id = r.task_id
        JOIN ll_samples s ON s.id = ts.sample_id WHERE r.grp_id = ?`).get(grp.id) as { n: number };
      db.prepare('UPDATE ll_task_grp SET sample_num = ?, task_num = ? WHERE id = ?').run(held.n, taskNum, grp.id);
    } else {
      // No tasks to count from: Sedna's rule, each update adds the group's samples.
      db.prepare('UPDATE ll_task_grp SET sample_num = sample_num + ?, task_num = ? WHERE id = ?').run(group.samples.sample_num, taskNum, grp.id);
    }
    if (taskNum > 0) db.prepare('UPDATE ll_task_relation SET transfer_radio = ? WHERE grp_id = ?').run(1 / taskNum, grp.id);
    const latest = db.prepare('SELECT model_url FROM ll_task_models WHERE task_id = ? ORDER BY id DESC LIMIT 1').get(grp.id) as { model_url: string } | undefined;
    if (latest?.model_url !== group.model.model) {
      db.prepare('UPDATE ll_task_models SET is_current = 0 WHERE task_id = ?').run(grp.id);
      db.prepare('INSERT INTO ll_task_models (task_id, model_url, is_current, created_at) VALUES (?, ?, 1, ?)').run(grp.id, group.model.model, at);
    }
  }

  /**
   * A task's sample set is recorded once: a set named by a URL the task already has (an unchanged
   * group carried into the next round's index, or an update sent again after a crash) adds
   * nothing. Sedna added every update's counts, so a known task counted in two rounds showed its
   * first round twice. A set without a URL cannot be told from a new one and is always added.
   */
  private recordSampleSet(taskId: number, samples: KbTask['samples'], at: string): void {
    const url = samples.data_url ?? null;
    if (url !== null) {
      const known = this.db.prepare('SELECT 1 FROM ll_task_sample ts JOIN ll_samples s ON s.id = ts.sample_id WHERE ts.task_id = ? AND s.data_url = ?').get(taskId, url);
      if (known) return;
    }
    const sample = this.db.prepare('INSERT INTO ll_samples (data_url, data_type, updated_at, sample_num) VALUES (?, ?, ?, ?)').run(url, samples.data_type ?? null, at, samples.sample_num);
    this.db.prepare('INSERT INTO ll_task_sample (sample_id, task_id) VALUES (?, ?)').run(sample.lastInsertRowid, taskId);
  }

  private saveIndex(index: KbIndex, at: string): void {
    this.db.prepare('INSERT INTO kb_index (id, body, updated_at) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at')
      .run(JSON.stringify(index), at);
  }

  /** The current index, or undefined before the first update. */
  currentIndex(): KbIndex | undefined {
    const row = this.db.prepare('SELECT body FROM kb_index WHERE id = 1').get() as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as KbIndex) : undefined;
  }

  /**
   * Sedna's /update/status: `deploy = status != 0` on the named groups, and the index rewritten so
   * that a seen group whose membership in `names` differs from `deploy` serves the first group's
   * model (its fallback). Sedna replaced the whole group, losing its name and tasks; here only the
   * model is replaced. Unknown names are refused and nothing changes.
   */
  setDeploy(deploy: boolean, names: string[], now = new Date()): KbIndex {
    return this.db.transaction(() => {
      const index = this.currentIndex();
      if (!index) throw new KbInputError('update/status: the knowledge base holds no index yet (POST /knowledgebase/update first)');
      const unknown = names.filter((n) => !this.db.prepare('SELECT 1 FROM ll_task_grp WHERE name = ?').get(n));
      if (unknown.length > 0) throw new KbInputError(`tasks: unknown task group(s) ${unknown.map((n) => JSON.stringify(n)).join(', ')}`);
      for (const n of names) this.db.prepare('UPDATE ll_task_grp SET deploy = ? WHERE name = ?').run(deploy ? 1 : 0, n);
      const groups = index.seen_task.task_groups;
      const fallback = groups[0]?.model;
      const listed = new Set(names);
      index.seen_task.task_groups = groups.map((g) => (listed.has(g.entry) === deploy || !fallback ? g : { ...g, model: fallback }));
      this.saveIndex(index, now.toISOString());
      return index;
    })();
  }

  /** The tasks with their attributes, groups and samples, and the groups with their models; paged by task id. */
  query(offset = 0, limit = 1000): KbQueryResult {
    const db = this.db;
    const tasks = db.prepare('SELECT * FROM ll_tasks ORDER BY id LIMIT ? OFFSET ?').all(limit, offset) as TaskRow[];
    const groupsOf = db.prepare(`SELECT g.name, r.transfer_radio FROM ll_task_relation r JOIN ll_task_grp g ON g.id = r.grp_id WHERE r.task_id = ? ORDER BY g.id`);
    const samplesOf = db.prepare(`SELECT s.data_url, s.data_type, s.sample_num, s.updated_at FROM ll_task_sample ts JOIN ll_samples s ON s.id = ts.sample_id WHERE ts.task_id = ? ORDER BY s.id`);
    const outTasks = tasks.map((t): KbQueryTask => {
      const samples = (samplesOf.all(t.id) as Array<{ data_url: string | null; data_type: string | null; sample_num: number; updated_at: string }>)
        .map((s) => ({ dataUrl: s.data_url, dataType: s.data_type, sampleNum: s.sample_num, updatedAt: s.updated_at }));
      return {
        name: t.name,
        attributes: JSON.parse(t.task_attr) as unknown,
        groups: (groupsOf.all(t.id) as Array<{ name: string; transfer_radio: number }>).map((g) => ({ name: g.name, transferRatio: g.transfer_radio })),
        samples,
        sampleNum: samples.reduce((n, s) => n + s.sampleNum, 0),
        createdAt: t.created_at,
        updatedAt: t.updated_at,
      };
    });
    const modelsOf = db.prepare('SELECT model_url, is_current, created_at FROM ll_task_models WHERE task_id = ? ORDER BY id');
    const index = this.currentIndex();
    const indexed = new Map<string, { side: 'seen' | 'unseen'; group: KbTaskGroup }>();
    for (const group of index?.seen_task.task_groups ?? []) indexed.set(group.entry, { side: 'seen', group });
    for (const group of index?.unseen_task.task_groups ?? []) indexed.set(group.entry, { side: 'unseen', group });
    const groups = (db.prepare('SELECT * FROM ll_task_grp ORDER BY id LIMIT ? OFFSET ?').all(limit, offset) as GroupRow[]).map((g): KbQueryGroup => ({
      name: g.name,
      deploy: g.deploy !== 0,
      sampleNum: g.sample_num,
      taskNum: g.task_num,
      models: (modelsOf.all(g.id) as Array<{ model_url: string | null; is_current: number; created_at: string }>)
        .map((m) => ({ modelUrl: m.model_url, isCurrent: m.is_current !== 0, createdAt: m.created_at })),
      inIndex: indexed.get(g.name)?.side ?? null,
      scores: indexed.get(g.name)?.group.model.scores ?? null,
      classes: indexed.get(g.name)?.group.model.classes ?? null,
    }));
    const byType = db.prepare('SELECT COALESCE(data_type, \'\') AS type, SUM(sample_num) AS n FROM ll_samples GROUP BY data_type').all() as Array<{ type: string; n: number }>;
    return { tasks: outTasks, groups, samplesByType: Object.fromEntries(byType.map((r) => [r.type, r.n])) };
  }

  counts(): KbCounts {
    const n = (sql: string): number => (this.db.prepare(sql).get() as { n: number }).n;
    return {
      groups: n('SELECT COUNT(*) AS n FROM ll_task_grp'),
      tasks: n('SELECT COUNT(*) AS n FROM ll_tasks'),
      models: n('SELECT COUNT(*) AS n FROM ll_task_models'),
      samples: n('SELECT COALESCE(SUM(sample_num), 0) AS n FROM ll_samples'),
    };
  }
}
