// Process identity and the kubelet's process records: a pid is the same process only with the
// same start time; records survive reopening the database and are mirrored to the watchdog's file.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteProcessRecords } from '../../src/lc/kubelet/process-records.ts';
import { identify, isSameProcess, processStartTime } from '../../src/lib/proc.ts';
import { requireCjs } from '../../src/lib/require-cjs.ts';

const Database = requireCjs('better-sqlite3') as typeof import('better-sqlite3');

describe('process identity', () => {
  it('names this process by pid and start time; another start time is another process', () => {
    const me = identify(process.pid)!;
    assert.match(me.startTime, /^\d+$/);
    assert.ok(isSameProcess(me));
    assert.equal(isSameProcess({ ...me, startTime: String(Number(me.startTime) + 1) }), false);
    assert.equal(isSameProcess({ ...me, bootId: 'another-boot' }), false);
    assert.equal(processStartTime(2 ** 22 + 1), undefined, 'no such pid');
  });
});

describe('SqliteProcessRecords', () => {
  it('keeps records across a reopen and mirrors them as "<pid> <start time>" lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sedna-records-'));
    try {
      const file = join(dir, 'database.db');
      const mirror = join(dir, 'pod-processes');
      const db = new Database(file);
      const records = new SqliteProcessRecords(db, mirror);
      const base = { bootId: 'b', podUid: 'u1', namespace: 'default', pod: 'p', container: 'c' };
      records.add({ ...base, pid: 10, startTime: '100' });
      records.add({ ...base, pid: 11, startTime: '200', container: 'd' });
      assert.equal(readFileSync(mirror, 'utf8'), '10 100\n11 200\n');
      records.remove(10, '999');
      assert.equal(records.list().length, 2, 'a remove needs the same start time');
      records.remove(10, '100');
      assert.equal(readFileSync(mirror, 'utf8'), '11 200\n');
      db.close();
      const again = new SqliteProcessRecords(new Database(file));
      assert.deepEqual(again.list(), [{ ...base, pid: 11, startTime: '200', container: 'd' }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
