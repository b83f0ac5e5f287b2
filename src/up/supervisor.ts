// `sedna up`: starts the API server, applies the Sedna CRDs, starts the GM and one LC (with its
// embedded kubelet) per node, each as a child process in its own process group with its output in
// DATA_DIR/logs/<component>.log, then waits until every Node is Ready and records the pids and
// URLs in DATA_DIR/up.json. In the foreground it then supervises: SIGINT/SIGTERM (or a child's
// unexpected exit) stops the LCs, then the GM, then the API server. With --detach it returns once
// Ready and `sedna down` stops them.
//
// DATA_DIR/
//   apiserver/            the API server's data dir (state.db, certificates, kubeconfig, logs/ of pods)
//   kubeconfig            a copy of apiserver/kubeconfig (the admin's)
//   gm.kubeconfig         the GM's identity, ServiceAccount sedna/sedna (see identities.ts)
//   apiserver/tokens.csv  one API identity per node (system:node:<node>); nodes/<node>/kubeconfig uses it
//   node-tokens.yaml      node: token (0600), read by the GM; each LC reads nodes/<node>/token
//   nodes/<node>/         the LC's data dir (database.db, token, kubelet/ pod directories)
//   logs/<component>.log  stdout + stderr of apiserver, gm, lc-<node>, dashboard
//   metrics-token         bearer token of the GM's and LCs' /metrics (0600)
//   dashboard-token       the dashboard's login token (the printed link's ?token=) (0600)
//   up.json               pids, URLs and metricsUrls (removed by sedna down)
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Writable } from 'node:stream';
import { parse, stringify } from 'yaml';
import { SEDNA_CLI } from '../lc/kubelet/images.ts';
import { applyCrds, loadKubeConfig, waitForNodesReady } from './cluster.ts';
import { createGmIdentity, ensureNodeIdentities, writeNodeKubeconfig } from './identities.ts';
import { type ComponentState, componentsInStopOrder, isAlive, readUpState, removeUpState, stopProcess, type UpState, writeUpState } from './state.ts';

export interface UpOptions {
  dataDir: string;
  nodes: string[];
  port: number;
  detach: boolean;
  timeoutMs: number;
  out: Writable;
  /** Grace per component on shutdown before SIGKILL (default 20 s). */
  stopGraceMs?: number;
}

const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

interface Child {
  state: ComponentState;
  process: ChildProcess;
  exited: Promise<void>;
  expectedExit: boolean;
}

export function parseNodes(value: string): string[] {
  const nodes = value.split(',').map((n) => n.trim()).filter((n) => n !== '');
  if (nodes.length === 0) throw new Error('--nodes needs at least one node name');
  for (const n of nodes) if (!NODE_NAME.test(n) || n.length > 63) throw new Error(`invalid node name ${JSON.stringify(n)} (lower-case letters, digits and -)`);
  if (new Set(nodes).size !== nodes.length) throw new Error('--nodes lists a node twice');
  return nodes;
}

/** Existing tokens are kept (an LC's outbox survives a restart), new nodes get a fresh one. */
export function ensureNodeTokens(file: string, nodes: string[]): Record<string, string> {
  const existing = existsSync(file) ? ((parse(readFileSync(file, 'utf8')) as Record<string, string> | null) ?? {}) : {};
  const tokens: Record<string, string> = {};
  for (const node of nodes) tokens[node] = typeof existing[node] === 'string' && existing[node] ? existing[node] : randomBytes(24).toString('hex');
  writeFileSync(file, stringify(tokens), { mode: 0o600 });
  chmodSync(file, 0o600);
  return tokens;
}

/** A random secret in `file` (0600), kept when it exists so links and scrape configs survive a restart. */
export function ensureSecretFile(file: string): string {
  const existing = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (existing.length < 32) writeFileSync(file, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

export class Supervisor {
  readonly dataDir: string;
  private readonly children: Child[] = [];
  private stopping: Promise<void> | undefined;
  private failure: Error | undefined;

  constructor(private readonly options: UpOptions) {
    this.dataDir = resolve(options.dataDir);
  }

  private get logDir(): string {
    return join(this.dataDir, 'logs');
  }

  /** Starts everything; resolves with the state once every node is Ready. On failure stops what it started. */
  async start(): Promise<UpState> {
    const { nodes, out } = this.options;
    const dir = this.dataDir;
    const previous = readUpState(dir);
    if (previous) {
      const alive = [...componentsInStopOrder(previous).flat().filter((c) => isAlive(c.pid, dir)), ...(previous.supervisorPid && isAlive(previous.supervisorPid, 'up') ? [{ name: 'sedna up', pid: previous.supervisorPid }] : [])];
      if (alive.length > 0) throw new Error(`already running in ${dir} (${alive.map((c) => `${c.name} pid ${c.pid}`).join(', ')}); run sedna down --data-dir ${this.options.dataDir} first`);
      removeUpState(dir);
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    mkdirSync(this.logDir, { recursive: true });
    const deadline = Date.now() + this.options.timeoutMs;
    const remaining = (): number => Math.max(1, deadline - Date.now());
    try {
      const apiDir = join(dir, 'apiserver');
      const nodeIdentities = ensureNodeIdentities(apiDir, nodes);
      out.write(`starting the API server (${apiDir})\n`);
      const api = this.spawn('apiserver', ['apiserver', '--data-dir', apiDir, '--port', String(this.options.port)]);
      const apiUrl = (await this.waitForLine(api, /^API server listening on (\S+)$/m, remaining()))[1]!;
      await this.waitForLine(api, /^kubeconfig: (\S+)$/m, remaining());
      const kubeconfig = join(dir, 'kubeconfig');
      copyFileSync(join(apiDir, 'kubeconfig'), kubeconfig);
      chmodSync(kubeconfig, 0o600);
      api.state.url = apiUrl;
      const kc = loadKubeConfig(kubeconfig);
      const crds = await applyCrds(kc, undefined, remaining());
      out.write(`applied ${crds.length} Sedna CRDs\n`);
      const gmKubeconfig = await createGmIdentity(kc, kubeconfig, join(dir, 'gm.kubeconfig'));

      const tokensFile = join(dir, 'node-tokens.yaml');
      const tokens = ensureNodeTokens(tokensFile, nodes);
      out.write('starting the GM\n');
      const metricsTokenFile = ensureSecretFile(join(dir, 'metrics-token'));
      api.state.metricsUrl = `${apiUrl}/metrics`;
      const gm = this.spawn('gm', ['gm', '--kubeconfig', gmKubeconfig, '--node-tokens', tokensFile, '--edge-port', '0', '--metrics-port', '0', '--metrics-token-file', metricsTokenFile, '--identity', 'sedna-up-gm']);
      const hubUrl = (await this.waitForLine(gm, /^edge hub listening on (\S+)$/m, remaining()))[1]!;
      gm.state.url = hubUrl;
      gm.state.metricsUrl = (await this.waitForLine(gm, /^metrics listening on (\S+)$/m, remaining()))[1]!;
      gm.state.metricsTokenFile = metricsTokenFile;
      const dashboardTokenFile = ensureSecretFile(join(dir, 'dashboard-token'));
      out.write('starting the dashboard\n');
      const dashboard = this.spawn('dashboard', ['dashboard', '--kubeconfig', join(apiDir, 'kubeconfig'), '--port', '0', '--token-file', dashboardTokenFile]);

      out.write(`starting ${nodes.length} LCs: ${nodes.join(', ')}\n`);
      // One service proxy serves every node: they all share this machine's loopback.
      const lcs = nodes.map((node, index) => {
        const nodeDir = join(dir, 'nodes', node);
        mkdirSync(nodeDir, { recursive: true, mode: 0o700 });
        const tokenFile = join(nodeDir, 'token');
        writeFileSync(tokenFile, `${tokens[node]}\n`, { mode: 0o600 });
        chmodSync(tokenFile, 0o600);
        const lc = this.spawn(`lc-${node}`, [
          'lc', '--node', node, '--gm', hubUrl, '--token-file', tokenFile, '--port', '0', '--data-dir', nodeDir,
          '--kubeconfig', writeNodeKubeconfig(kubeconfig, nodeDir, node, nodeIdentities[node]!), '--pod-log-dir', join(apiDir, 'logs'),
          '--metrics-port', '0', '--metrics-token-file', metricsTokenFile,
          ...(index === 0 ? ['--service-proxy'] : []),
        ]);
        lc.state.node = node;
        lc.state.name = `lc/${node}`;
        lc.state.metricsTokenFile = metricsTokenFile;
        return lc;
      });
      await Promise.all(lcs.map(async (lc) => {
        lc.state.url = (await this.waitForLine(lc, /^worker API listening on (\S+)$/m, remaining()))[1]!;
        lc.state.metricsUrl = (await this.waitForLine(lc, /^metrics listening on (\S+)$/m, remaining()))[1]!;
      }));
      dashboard.state.url = (await this.waitForLine(dashboard, /^dashboard listening on (\S+)$/m, remaining()))[1]!;
      dashboard.state.metricsUrl = `${dashboard.state.url}metrics`;
      dashboard.state.metricsTokenFile = dashboardTokenFile;
      await waitForNodesReady(kc, nodes, remaining(), () => this.throwIfFailed());
      const state: UpState = {
        dataDir: dir,
        kubeconfig,
        ...(this.options.detach ? {} : { supervisorPid: process.pid }),
        detached: this.options.detach,
        startedAt: new Date().toISOString(),
        apiserver: api.state,
        gm: gm.state,
        lcs: lcs.map((l) => l.state),
        dashboard: { ...dashboard.state, tokenFile: dashboardTokenFile },
      };
      writeUpState(state);
      return state;
    } catch (err) {
      await this.stop();
      throw this.failure ?? err;
    }
  }

  /** After a detached start: let this process exit while the children go on. */
  release(): void {
    for (const c of this.children) {
      c.expectedExit = true;
      c.process.unref();
    }
  }

  /** Resolves when a child exits unexpectedly (foreground supervision). */
  async firstUnexpectedExit(): Promise<Error> {
    for (;;) {
      if (this.failure) return this.failure;
      await sleep(100);
    }
  }

  /** Stops the LCs, then the GM, then the API server; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const groups = [this.children.filter((c) => c.state.name === 'dashboard'), this.children.filter((c) => c.state.name.startsWith('lc/')), this.children.filter((c) => c.state.name === 'gm'), this.children.filter((c) => c.state.name === 'apiserver')];
      for (const group of groups) {
        await Promise.all(group.map(async (c) => {
          c.expectedExit = true;
          if (c.process.exitCode === null && c.process.signalCode === null) await stopProcess(c.state.pid, this.options.stopGraceMs ?? 20_000);
          await c.exited;
        }));
      }
      removeUpState(this.dataDir);
    })();
    return this.stopping;
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  private spawn(component: string, args: string[]): Child {
    if (this.stopping) throw new Error('interrupted');
    const log = join(this.logDir, `${component}.log`);
    const fd = openSync(log, 'w', 0o600);
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [SEDNA_CLI, ...args], { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env } });
    } finally {
      closeSync(fd);
    }
    if (child.pid === undefined) throw new Error(`could not start ${component}`);
    const entry: Child = {
      state: { name: component, pid: child.pid, log },
      process: child,
      expectedExit: false,
      exited: new Promise((r) => child.once('exit', () => r())),
    };
    child.once('exit', (code, signal) => {
      if (entry.expectedExit) return;
      this.failure ??= new Error(`${entry.state.name} exited (${signal ?? `code ${code}`}); see ${log}:\n${tail(log)}`);
    });
    child.once('error', (err) => (this.failure ??= new Error(`${component}: ${err.message}`)));
    this.children.push(entry);
    return entry;
  }

  private async waitForLine(child: Child, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(readFileSync(child.state.log, 'utf8'));
      if (match) return match;
      this.throwIfFailed();
      if (Date.now() > deadline) throw new Error(`${child.state.name} not ready after ${Math.round(this.options.timeoutMs / 1000)} s; see ${child.state.log}:\n${tail(child.state.log)}`);
      await sleep(50);
    }
  }
}

function tail(file: string, lines = 10): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
