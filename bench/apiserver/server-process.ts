// The server under test: the compiled `sedna apiserver` (dist/cli/main.js) as a child process on a
// free loopback port with its own temp data dir, as test/helpers/apiserver.ts starts it, but with
// extra node flags for the server when asked, and stopped with its temp dir removed however the
// bench ends (normal end, exception, Ctrl-C).
//
// BENCH_SERVER_NODE_ARGS goes to the server's node only (--cpu-prof is refused in NODE_OPTIONS):
//   BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitForApiServerUrl } from '../../test/helpers/apiserver.ts';
import type { HttpsClient } from './http-client.ts';

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js');

export interface ServerProcess {
  url: string;
  dataDir: string;
  kubeconfig: string;
  process: ChildProcess;
  exited: Promise<void>;
  logs(): string;
}

let running: ServerProcess | undefined;

function killNow(): void {
  const server = running;
  if (!server) return;
  running = undefined;
  if (server.process.exitCode === null && server.process.signalCode === null) server.process.kill('SIGKILL');
  rmSync(server.dataDir, { recursive: true, force: true });
}

export async function startServer(): Promise<ServerProcess> {
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const dataDir = mkdtempSync(join(tmpdir(), 'sedna-apiserver-bench-'));
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'apiserver', '--data-dir', dataDir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SEDNA_LOG_LEVEL: process.env.SEDNA_LOG_LEVEL ?? 'warn' },
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-64 * 1024);
  });
  running = { url: '', dataDir, kubeconfig: join(dataDir, 'kubeconfig'), process: child, exited, logs: () => stderr };
  process.once('exit', killNow);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping the server\n`);
      void stopServer().finally(() => process.exit(130));
    });
  }
  const url = await waitForApiServerUrl(child, () => stderr);
  running.url = url;
  return running;
}

/** SIGTERM (so a --cpu-prof profile gets written), then the temp dir goes. */
export async function stopServer(): Promise<void> {
  const server = running;
  if (!server) return;
  const timer = setTimeout(killNow, 10_000);
  try {
    if (server.process.exitCode === null && server.process.signalCode === null) server.process.kill('SIGTERM');
    await server.exited;
  } finally {
    clearTimeout(timer);
    running = undefined;
    rmSync(server.dataDir, { recursive: true, force: true });
  }
}

/** Total size of the files under `dir`. */
export function directorySize(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += directorySize(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

/** process_resident_memory_bytes from the server's /metrics. */
export async function serverRss(client: HttpsClient): Promise<number> {
  const res = await client.request('GET', '/metrics');
  const match = /^process_resident_memory_bytes\s+(\S+)$/m.exec(res.body.toString('utf8'));
  if (res.status !== 200 || !match) throw new Error(`no process_resident_memory_bytes in /metrics (HTTP ${res.status})`);
  return Number(match[1]);
}

/**
 * CPU time (ms) used so far by process `pid`, all threads, from /proc/PID/task/TID/schedstat
 * (nanoseconds on CPU). Unlike wall time this does not depend on what else the machine runs.
 */
export function processCpuMs(pid: number): number {
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread ended meanwhile
      }
    }
  } catch {
    return Number.NaN; // no /proc (not Linux)
  }
  return ns / 1e6;
}

export interface CpuSample {
  serverMs: number;
  clientMs: number;
}

/** CPU used by the server and by this (client) process, for per-request figures. */
export class CpuMeter {
  constructor(private readonly serverPid: number) {}

  sample(): CpuSample {
    const usage = process.cpuUsage();
    return { serverMs: processCpuMs(this.serverPid), clientMs: (usage.user + usage.system) / 1000 };
  }

  /** CPU used since `from`. */
  since(from: CpuSample): CpuSample {
    const to = this.sample();
    return { serverMs: to.serverMs - from.serverMs, clientMs: to.clientMs - from.clientMs };
  }
}

/** CPU time (ms) the whole machine has spent busy (all cores, all processes), from /proc/stat. */
export function machineBusyMs(): number {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...: everything but idle and iowait.
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return ((user + nice + system + irq + softirq + steal) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}
