// A whole local cluster for end-to-end tests: `sedna up --detach` (API server, GM, one LC with its
// embedded kubelet per node) in a temp data dir, kubectl pointed at it, and `sedna down` plus the
// dir's removal at stop(). Pods really run, as local processes.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UpState } from '../../src/up/state.ts';
import { CLI, kubectl, type KubectlResult, kubectlOk } from './apiserver.ts';

export interface SednaRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `sedna` CLI; never throws on a non-zero exit. */
export function sedna(args: string[], timeoutMs: number): Promise<SednaRun> {
  return new Promise((resolveRun) => {
    execFile(process.execPath, [CLI, ...args], { timeout: timeoutMs, env: { ...process.env, SEDNA_LOG_LEVEL: process.env.SEDNA_LOG_LEVEL ?? 'info' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as unknown as { code: number }).code : null) : 0;
      resolveRun({ code, stdout, stderr });
    });
  });
}

export interface LocalCluster {
  dir: string;
  kubeconfig: string;
  state: UpState;
  /** kubectl that must succeed. */
  kc(args: string[], input?: string): Promise<string>;
  /** kubectl whose failure is an answer. */
  kubectl(args: string[], input?: string): Promise<KubectlResult>;
  /** Applies one object given as JSON. */
  apply(obj: unknown): Promise<string>;
  getJson<T>(args: string[]): Promise<T>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Comma-separated node names (default: sedna up's cloud,edge-1,edge-2). */
  nodes?: string;
  /** Prefix of the temp data dir. */
  prefix?: string;
  /** More `sedna up` flags. */
  args?: string[];
}

export const GM_USER = 'system:serviceaccount:sedna:sedna';

/** The API server's log lines of requests it refused to the GM (logged with msg "forbidden"). */
export function gmDenials(dir: string): string[] {
  const log = join(dir, 'logs', 'apiserver.log');
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => line.includes('"msg":"forbidden"') && line.includes(`"user":"${GM_USER}"`));
}

export async function startCluster(options: ClusterOptions = {}): Promise<LocalCluster> {
  const dir = mkdtempSync(join(tmpdir(), options.prefix ?? 'sedna-cluster-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const args = ['up', '--detach', '--data-dir', dir, '--port', '0', '--timeout', '90', ...(options.nodes ? ['--nodes', options.nodes] : []), ...(options.args ?? [])];
  const up = await sedna(args, 120_000);
  if (up.code !== 0) {
    await sedna(['down', '--data-dir', dir, '--timeout', '10'], 90_000);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`sedna up failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
  }
  const state = JSON.parse(readFileSync(join(dir, 'up.json'), 'utf8')) as UpState;
  const kc = (a: string[], input?: string): Promise<string> => kubectlOk(kubeconfig, a, input);
  return {
    dir,
    kubeconfig,
    state,
    kc,
    kubectl: (a, input) => kubectl(kubeconfig, a, input),
    apply: (obj) => kc(['apply', '-f', '-'], JSON.stringify(obj)),
    getJson: async <T>(a: string[]): Promise<T> => JSON.parse(await kc([...a, '-o', 'json'])) as T,
    async stop() {
      const down = await sedna(['down', '--data-dir', dir, '--timeout', '10'], 90_000);
      if (down.code !== 0) process.stderr.write(`sedna down: ${down.stdout}${down.stderr}\n`);
      const denied = gmDenials(dir);
      rmSync(dir, { recursive: true, force: true });
      // Every scenario runs the GM under deploy/rbac/gm.yaml: a request it was refused means the
      // ClusterRole the project ships is not sufficient.
      if (denied.length > 0) throw new Error(`the GM was refused ${denied.length} requests under its ClusterRole:\n${denied.slice(0, 10).join('\n')}`);
    },
  };
}
