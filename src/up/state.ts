// DATA_DIR/up.json: what `sedna up` started (pids, ports), read by `sedna down` and `sedna status`;
// and the process helpers both use. A pid counts as ours only while its command line still names
// the data directory (where /proc exists), so a recycled pid is never signalled.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ComponentState {
  /** apiserver, gm, or lc/<node>. */
  name: string;
  pid: number;
  log: string;
  /** The URL it serves: API server HTTPS, GM edge hub ws, LC worker API http. */
  url?: string;
  node?: string;
  /** How often the supervisor restarted it after an unexpected exit. */
  restarts?: number;
  /** Why its last run ended: `code 1` or `SIGKILL`, and when. */
  lastExit?: { cause: string; at: string };
  /** Its current run began (ISO time). */
  runningSince?: string;
  /** Its Prometheus endpoint; the bearer token is in metricsTokenFile (the API server's: the kubeconfig's). */
  metricsUrl?: string;
  metricsTokenFile?: string;
}

/** The dashboard: `url` without the token; the login link is url?token=<contents of tokenFile>. */
export interface DashboardState extends ComponentState {
  tokenFile: string;
}

export interface UpState {
  dataDir: string;
  kubeconfig: string;
  /** The `sedna up` process that supervises the others (in the foreground, or detached). */
  supervisorPid?: number;
  detached: boolean;
  startedAt: string;
  apiserver: ComponentState;
  gm?: ComponentState;
  lcs: ComponentState[];
  dashboard?: DashboardState;
  /** Components beyond the core ones (a dashboard, a knowledge base), stopped before the LCs. */
  others?: ComponentState[];
}

export function upStatePath(dataDir: string): string {
  return join(resolve(dataDir), 'up.json');
}

export function readUpState(dataDir: string): UpState | undefined {
  const path = upStatePath(dataDir);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as UpState;
}

export function writeUpState(state: UpState): void {
  const path = upStatePath(state.dataDir);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

export function removeUpState(dataDir: string): void {
  rmSync(upStatePath(dataDir), { force: true });
}

/** Every process in the state, in stop order: others, the dashboard, LCs, GM, API server. */
export function componentsInStopOrder(state: UpState): ComponentState[][] {
  return [state.others ?? [], state.dashboard ? [state.dashboard] : [], state.lcs, state.gm ? [state.gm] : [], [state.apiserver]].filter((g) => g.length > 0);
}

/** Alive and not a zombie; with `mark`, also its command line must contain `mark` (Linux). */
export function isAlive(pid: number, mark?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' && mark === undefined;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
    if (mark !== undefined && !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(mark)) return false;
  } catch {
    // No /proc: trust kill(0).
  }
  return true;
}

export async function waitForExit(pid: number, timeoutMs: number, mark?: string): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid, mark)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/** SIGTERM, wait up to graceMs, then SIGKILL (process and its process group) and wait again. */
export async function stopProcess(pid: number, graceMs: number, mark?: string): Promise<'stopped' | 'killed' | 'gone'> {
  if (!isAlive(pid, mark)) return 'gone';
  signal(pid, 'SIGTERM');
  if (await waitForExit(pid, graceMs, mark)) return 'stopped';
  signal(-pid, 'SIGKILL');
  signal(pid, 'SIGKILL');
  await waitForExit(pid, 5_000, mark);
  return 'killed';
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone, or the group does not exist.
  }
}
