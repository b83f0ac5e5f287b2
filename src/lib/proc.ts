// Process identity on Linux: a pid is reused once its process is gone, so a process is named by
// its pid together with its start time (field 22 of /proc/<pid>/stat, clock ticks since boot) and
// the boot it belongs to. Signalling a recorded process only after this check never hits a
// stranger that inherited the pid.
import { readFileSync } from 'node:fs';

export interface ProcessIdentity {
  pid: number;
  /** /proc/<pid>/stat field 22. */
  startTime: string;
  /** /proc/sys/kernel/random/boot_id: start times restart at each boot. */
  bootId: string;
}

export function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/** The start time of `pid`, or undefined when it does not exist (or is a zombie). */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return fields[19];
}

export function identify(pid: number): ProcessIdentity | undefined {
  const startTime = processStartTime(pid);
  return startTime === undefined ? undefined : { pid, startTime, bootId: bootId() };
}

/** Whether the process recorded as `id` is still the one running under its pid. */
export function isSameProcess(id: ProcessIdentity): boolean {
  return id.bootId === bootId() && processStartTime(id.pid) === id.startTime;
}

/** Signals the process group `id.pid` leads (a container's processes), then the process itself. */
export function signalGroup(id: ProcessIdentity, signal: NodeJS.Signals): boolean {
  if (!isSameProcess(id)) return false;
  for (const target of [-id.pid, id.pid]) {
    try {
      process.kill(target, signal);
    } catch {
      // The group or the process is gone already.
    }
  }
  return true;
}

/** SIGTERM to the group, SIGKILL after `graceMs`; resolves true when it had to be stopped. */
export async function stopIdentified(id: ProcessIdentity, graceMs: number): Promise<'stopped' | 'killed' | 'gone'> {
  if (!signalGroup(id, 'SIGTERM')) return 'gone';
  const deadline = Date.now() + graceMs;
  while (isSameProcess(id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (!isSameProcess(id)) {
    // Whatever the container left in its group goes too.
    try {
      process.kill(-id.pid, 'SIGKILL');
    } catch {
      // no group left
    }
    return 'stopped';
  }
  signalGroup(id, 'SIGKILL');
  const killDeadline = Date.now() + 5_000;
  while (isSameProcess(id) && Date.now() < killDeadline) await new Promise((r) => setTimeout(r, 50));
  return 'killed';
}
