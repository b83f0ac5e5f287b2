// The processes the LC bench measures, each a child of the bench: the compiled `sedna lc`
// (dist/cli/main.js) with its own temp data dir, a bare `node` idling (the RSS baseline) and a
// trivial node:http server (the throughput baseline). However the bench ends (normal end,
// exception, Ctrl-C) every child is killed and every temp dir removed.
//
// BENCH_LC_NODE_ARGS goes to the LC's node only (--cpu-prof is refused in NODE_OPTIONS):
//   BENCH_LC_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/lc-prof" npm run bench:lc
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// BENCH_LC_CLI: another build of the CLI (e.g. of a given commit); default this checkout's dist.
const CLI = resolve(process.env.BENCH_LC_CLI ?? resolve(import.meta.dirname, '../../dist/cli/main.js'));

export interface Child {
  process: ChildProcess;
  pid: number;
  exited: Promise<void>;
  logs(): string;
}

const children = new Set<Child>();
const dirs = new Set<string>();
let hooked = false;

/** Synchronous last resort (process exit): SIGKILL whatever still runs, remove the temp dirs. */
function killAllNow(): void {
  for (const child of children) {
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  }
  children.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping the bench's processes\n`);
      killAllNow();
      process.exit(130);
    });
  }
}

export function tempDir(prefix: string): string {
  hookExit();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

function launch(args: string[], env: NodeJS.ProcessEnv = process.env): Child {
  hookExit();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-64 * 1024);
  });
  const out: Child = { process: child, pid: child.pid!, exited, logs: () => stderr };
  children.add(out);
  void exited.then(() => children.delete(out));
  return out;
}

/** Resolves with the first match of `pattern` on the child's stdout; rejects if it exits first. */
function waitForLine(child: Child, pattern: RegExp, what: string, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return new Promise((resolveMatch, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`${what}: nothing matching ${pattern} after ${timeoutMs} ms\n${child.logs()}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      stdout += d.toString();
      const match = pattern.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      child.process.stdout!.off('data', onData);
      child.process.stdout!.resume();
      resolveMatch(match);
    };
    child.process.stdout!.on('data', onData);
    child.process.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code ?? signal}) before it was ready:\n${child.logs()}`));
    });
  });
}

export interface LcProcess extends Child {
  port: number;
  dataDir: string;
}

/** `sedna lc` against the hub at `hubPort`; resolves once its worker API listens. */
export async function startLc(options: { node: string; token: string; hubPort: number }): Promise<LcProcess> {
  const nodeArgs = (process.env.BENCH_LC_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const dataDir = tempDir('sedna-lc-bench-');
  const child = launch(
    [...nodeArgs, CLI, 'lc', '--node', options.node, '--gm', `ws://127.0.0.1:${options.hubPort}/`, '--token', options.token, '--port', '0', '--data-dir', dataDir, '--reconnect-max', '200'],
    { ...process.env, SEDNA_LOG_LEVEL: process.env.SEDNA_LOG_LEVEL ?? 'warn' },
  );
  const match = await waitForLine(child, /worker API listening on http:\/\/127\.0\.0\.1:(\d+)/, 'sedna lc');
  return { ...child, port: Number(match[1]), dataDir };
}

/** SIGTERM (so a --cpu-prof profile gets written), SIGKILL after 10 s; the data dir goes. */
export async function stopLc(lc: LcProcess): Promise<void> {
  await stop(lc);
  removeDir(lc.dataDir);
}

export async function stop(child: Child): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  const timer = setTimeout(() => child.process.kill('SIGKILL'), 10_000);
  child.process.kill('SIGTERM');
  await child.exited;
  clearTimeout(timer);
}

/** The RSS baseline: the bare runtime doing nothing. */
export function startIdleNode(): Child {
  return launch(['-e', 'setInterval(() => {}, 1000)']);
}

// A worker API stand-in doing the least a JSON endpoint can: read the body, parse it, answer
// Sedna's {"Status","Message"}. Plain node:http, keep-alive as Node's server does by default.
const TRIVIAL_SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let status = 200;
    try { JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { status = 400; }
    const body = JSON.stringify({ Status: status, Message: status === 200 ? 'OK' : 'bad body' });
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write('listening on ' + server.address().port + '\\n'));
process.on('SIGTERM', () => process.exit(0));
`;

export async function startTrivialServer(): Promise<Child & { port: number }> {
  const child = launch(['-e', TRIVIAL_SERVER]);
  const match = await waitForLine(child, /listening on (\d+)/, 'the baseline HTTP server');
  return { ...child, port: Number(match[1]) };
}

/** kB figures from /proc/PID/status (VmRSS: resident now; VmHWM: peak resident). */
export function procStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}
