// Where a recovery's time goes, read from the components' logs: the supervisor's exit and restart
// lines (up.log, ISO times) and the milestones the GM and the LCs log (pino JSON, epoch ms): the
// new process's first line (start-up done: node, imports, config), leadership, informer sync, the
// edge hub, the kubelet, its containers, the GM link. One entry per (log, milestone), the first
// after the fault, as seconds since it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const MILESTONES = new Set([
  'acquired the lease; leading',
  'caches synced; workers started',
  'edge hub listening',
  'kubelet started',
  'container started',
  'local controller started',
  'connected to the GM',
  'node connected',
]);

export interface Milestone {
  seconds: number;
  log: string;
  what: string;
}

/** The milestones logged in [since, until] (epoch ms), in time order. */
export function recoveryTimeline(dir: string, since: number, until: number): Milestone[] {
  const out: Milestone[] = [];
  const logs = join(dir, 'logs');
  for (const file of readdirSync(logs).filter((f) => f.endsWith('.log'))) {
    const name = file.slice(0, -'.log'.length);
    const seen = new Set<string>();
    const add = (at: number, what: string): void => {
      if (at < since || at > until || seen.has(what)) return;
      seen.add(what);
      out.push({ seconds: (at - since) / 1000, log: name, what });
    };
    const pids = new Set<number>();
    for (const line of readFileSync(join(logs, file), 'utf8').split('\n')) {
      if (name === 'up') {
        const m = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) (\S+) \(pid \d+\) exited \(([^)]*)\); restart (\d+) in (\d+) ms/.exec(line);
        if (m) add(Date.parse(m[1]!), `${m[2]} exit seen (${m[3]}), restart in ${m[5]} ms`);
        continue;
      }
      if (!line.startsWith('{')) continue;
      let entry: { time?: number; msg?: string; pid?: number; container?: string };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue;
      }
      if (typeof entry.time !== 'number') continue;
      // The first line of a process that started after the fault: it is up (imports done).
      // (A container's line names the container's pid, not the logging process's.)
      if (entry.pid !== undefined && entry.container === undefined && !pids.has(entry.pid)) {
        pids.add(entry.pid);
        add(entry.time, `process ${entry.pid} first log line`);
      }
      if (entry.msg && MILESTONES.has(entry.msg)) add(entry.time, entry.msg);
    }
  }
  return out.sort((a, b) => a.seconds - b.seconds);
}

export function formatTimeline(milestones: Milestone[]): string {
  return milestones.map((m) => `+${m.seconds.toFixed(1)} s ${m.log}: ${m.what}`).join('; ');
}
