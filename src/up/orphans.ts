// What a `sedna up` may leave running when it did not stop cleanly (its supervisor was killed, or
// an LC was): the components listed in up.json, and the pods' processes each node's kubelet
// recorded in its database (nodes/<node>/database.db, table pod_processes). Both are signalled
// only after their identity is checked, so a recycled pid is never hit.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type ProcessRecord, PROCESS_RECORDS_TABLE } from '../lc/kubelet/process-records.ts';
import { stopIdentified } from '../lib/proc.ts';
import { requireCjs } from '../lib/require-cjs.ts';
import { componentsInStopOrder, stopProcess, type UpState } from './state.ts';

const Database = requireCjs('better-sqlite3') as typeof import('better-sqlite3');

/** Pod processes recorded by the node's kubelet; fails while that LC still holds its database. */
export function recordedPodProcesses(dataDir: string, node: string): ProcessRecord[] {
  const file = join(resolve(dataDir), 'nodes', node, 'database.db');
  if (!existsSync(file)) return [];
  const db = new Database(file, { timeout: 2_000 });
  try {
    db.exec(PROCESS_RECORDS_TABLE);
    const rows = db.prepare('SELECT pid, start_time, boot_id, pod_uid, namespace, pod, container FROM pod_processes').all() as {
      pid: number; start_time: string; boot_id: string; pod_uid: string; namespace: string; pod: string; container: string;
    }[];
    return rows.map((r) => ({ pid: r.pid, startTime: r.start_time, bootId: r.boot_id, podUid: r.pod_uid, namespace: r.namespace, pod: r.pod, container: r.container }));
  } finally {
    db.close();
  }
}

function forget(dataDir: string, node: string, record: ProcessRecord): void {
  const db = new Database(join(resolve(dataDir), 'nodes', node, 'database.db'), { timeout: 2_000 });
  try {
    db.prepare('DELETE FROM pod_processes WHERE pid = ? AND start_time = ?').run(record.pid, record.startTime);
  } finally {
    db.close();
  }
}

/**
 * Stops `previous`'s components that still run (when given), then every recorded pod process of
 * `nodes` that still runs; returns one line per process stopped (or per node it could not check).
 */
export async function stopLeftovers(dataDir: string, nodes: string[], previous?: UpState, graceMs = 10_000): Promise<string[]> {
  const dir = resolve(dataDir);
  const lines: string[] = [];
  for (const group of previous ? componentsInStopOrder(previous) : []) {
    await Promise.all(group.map(async (c) => {
      const result = await stopProcess(c.pid, graceMs, dir);
      if (result !== 'gone') lines.push(`${c.name} (pid ${c.pid}) ${result}`);
    }));
  }
  for (const node of nodes) {
    let records: ProcessRecord[];
    try {
      records = recordedPodProcesses(dir, node);
    } catch (err) {
      lines.push(`node ${node}: could not read its pod processes (${(err as Error).message})`);
      continue;
    }
    await Promise.all(records.map(async (r) => {
      const result = await stopIdentified(r, Math.min(graceMs, 5_000));
      if (result !== 'gone') lines.push(`pod ${r.namespace}/${r.pod} container ${r.container} on ${node} (pid ${r.pid}) ${result}`);
      forget(dir, node, r);
    }));
  }
  return lines;
}
