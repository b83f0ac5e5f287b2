// Starts the real `sedna apiserver` as a child process on a free loopback port, with its own data
// directory, and gives tests kubectl and @kubernetes/client-node pointed at it.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as k8s from '@kubernetes/client-node';

const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/cli/main.js');
export const KUBECTL = '/usr/bin/kubectl';

export interface RunningApiServer {
  dataDir: string;
  kubeconfig: string;
  url: string;
  process: ChildProcess;
  /** Output the server printed on stderr (its JSON log), for failure messages. */
  logs(): string;
  stop(): Promise<void>;
  /** SIGKILL, no chance to flush anything. */
  kill9(): Promise<void>;
  kubeConfig(): k8s.KubeConfig;
}

export interface StartOptions {
  dataDir?: string;
  args?: string[];
  port?: number;
}

export async function startApiServer(options: StartOptions = {}): Promise<RunningApiServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sedna-apiserver-'));
  const child = spawn(process.execPath, [CLI, 'apiserver', '--data-dir', dataDir, '--port', String(options.port ?? 0), ...(options.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SEDNA_LOG_LEVEL: process.env.SEDNA_LOG_LEVEL ?? 'warn' },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await waitForApiServerUrl(child, () => stderr);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const kubeconfig = join(dataDir, 'kubeconfig');
  const cleanupDir = options.dataDir === undefined;
  return {
    dataDir,
    kubeconfig,
    url,
    process: child,
    logs: () => stderr,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      if (cleanupDir) rmSync(dataDir, { recursive: true, force: true });
    },
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    kubeConfig() {
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(kubeconfig);
      return kc;
    },
  };
}

/** Resolves with the URL a starting `sedna apiserver` child prints once it listens. */
export async function waitForApiServerUrl(child: ChildProcess, stderr: () => string): Promise<string> {
  const stdoutStream = child.stdout!;
  const url = await new Promise<string>((resolveUrl, reject) => {
    let stdout = '';
    const onData = (d: Buffer): void => {
      stdout += d.toString();
      const match = /API server listening on (\S+)/.exec(stdout);
      if (match && stdout.includes('kubeconfig:')) {
        stdoutStream.off('data', onData);
        resolveUrl(match[1]!);
      }
    };
    stdoutStream.on('data', onData);
    child.once('exit', (code) => reject(new Error(`apiserver exited with ${code} before listening:\n${stderr()}`)));
  });
  stdoutStream.resume();
  return url;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real kubectl against the server; never throws on a non-zero exit. */
export function kubectl(kubeconfig: string, args: string[], input?: string): Promise<KubectlResult> {
  return new Promise((resolveResult) => {
    const child = execFile(KUBECTL, ['--kubeconfig', kubeconfig, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? ((err as unknown as { code: number }).code) : 1) : 0;
      resolveResult({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** kubectl that must succeed; the error carries kubectl's own output. */
export async function kubectlOk(kubeconfig: string, args: string[], input?: string): Promise<string> {
  const result = await kubectl(kubeconfig, args, input);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}):\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

export { eventually } from './wait.ts';
