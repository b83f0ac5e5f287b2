// `sedna up`'s supervisor: starts the components of src/up/components.ts stage by stage (each
// a child process in its own process group, output in DATA_DIR/logs/<component>.log), waits
// until every Node is Ready and records pids and URLs in DATA_DIR/up.json. Then it supervises:
// a component that exits on its own is restarted with exponential back-off (backoff.ts) on the
// port of its previous run, and its restarts and last exit cause go into up.json for `sedna
// status`. stop() stops the stages in reverse (LCs, GM, API server), then any pod process the
// kubelets recorded and left behind (orphans.ts). The foreground `sedna up` is this supervisor;
// `sedna up --detach` starts it as a detached process and returns once it is Ready.
//
// DATA_DIR/
//   apiserver/            the API server's data dir (state.db, certificates, kubeconfig, logs/ of pods)
//   kubeconfig            a copy of apiserver/kubeconfig (the admin's)
//   gm.kubeconfig         the GM's identity, ServiceAccount sedna/sedna (see identities.ts)
//   dashboard.kubeconfig  the dashboard's read-only identity, ServiceAccount sedna/sedna-dashboard
//   apiserver/tokens.csv  one API identity per node (system:node:<node>); nodes/<node>/kubeconfig uses it
//   node-tokens.yaml      node: token (0600), read by the GM; each LC reads nodes/<node>/token
//   nodes/<node>/         the LC's data dir (database.db with its pods' process records, token, kubelet/)
//   logs/<component>.log  stdout + stderr of apiserver, gm, dashboard, lc-<node>; logs/up.log of a detached supervisor
//   metrics-token         bearer token of the GM's and LCs' /metrics (0600)
//   dashboard-token       the dashboard's login token (the printed link's ?token=) (0600)
//   kb-token              the knowledge base's bearer token, given to lifelong-learning workers as KB_TOKEN (0600)
//   kb/                   the knowledge base: kb.sqlite3 and files/
//   up.json               pids, URLs, metricsUrls, restarts (removed by sedna down)
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Writable } from 'node:stream';
import { parse, stringify } from 'yaml';
import { SEDNA_CLI } from '../lc/kubelet/images.ts';
import { DEFAULT_RESTART_BACKOFF, RestartBackoff, type RestartBackoffOptions } from './backoff.ts';
import { loadKubeConfig, waitForNodesReady } from './cluster.ts';
import { type ComponentSpec, sednaComponents } from './components.ts';
import { stopLeftovers } from './orphans.ts';
import { type ComponentState, isAlive, readUpState, removeUpState, stopProcess, type UpState, writeUpState } from './state.ts';

export interface UpOptions {
  dataDir: string;
  nodes: string[];
  port: number;
  detach: boolean;
  timeoutMs: number;
  out: Writable;
  /** Grace per component on shutdown before SIGKILL (default 20 s). */
  stopGraceMs?: number;
  restartBackoff?: RestartBackoffOptions;
  /** Extra `sedna apiserver` and `sedna gm` flags. */
  apiserverArgs?: string[];
  gmArgs?: string[];
  /** Per node, the address its LC dials for the GM's edge hub instead of the hub itself (a relay or tunnel). */
  gmAddressFor?: Record<string, string>;
  /** Components beyond the core ones, given the core specs (for a dashboard or a KB). */
  extraComponents?: (core: ComponentSpec[]) => ComponentSpec[];
}

const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

interface Child {
  spec: ComponentSpec;
  state: ComponentState;
  process: ChildProcess;
  exited: Promise<void>;
  /** Where this run's output starts in the log (a restart appends). */
  logOffset: number;
  startedAtMs: number;
  backoff: RestartBackoff;
  restartTimer?: NodeJS.Timeout;
}

export function parseNodes(value: string): string[] {
  const nodes = value.split(',').map((n) => n.trim()).filter((n) => n !== '');
  if (nodes.length === 0) throw new Error('--nodes needs at least one node name');
  for (const n of nodes) if (!NODE_NAME.test(n) || n.length > 63) throw new Error(`invalid node name ${JSON.stringify(n)} (lower-case letters, digits and -)`);
  if (new Set(nodes).size !== nodes.length) throw new Error('--nodes lists a node twice');
  return nodes;
}

/**
 * `--gm-address-for node=host:port` values: per node, where its LC dials the GM's edge hub (a
 * relay, tunnel or NAT in front of it). Each node must be one of `nodes`, named once.
 */
export function parseGmAddresses(values: readonly string[], nodes: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values) {
    const match = /^([^=]+)=(.+)$/.exec(value);
    if (!match) throw new Error(`--gm-address-for ${JSON.stringify(value)}: expected NODE=HOST:PORT`);
    const [, node, address] = match as unknown as [string, string, string];
    if (!nodes.includes(node)) throw new Error(`--gm-address-for: node ${JSON.stringify(node)} is not in --nodes (${nodes.join(',')})`);
    if (out[node]) throw new Error(`--gm-address-for: node ${node} given twice`);
    if (!/^(wss?:\/\/)?[^\s/:]+:\d{1,5}\/?$/.test(address)) throw new Error(`--gm-address-for ${node}: ${JSON.stringify(address)} is not HOST:PORT or a ws(s):// URL`);
    out[node] = address;
  }
  return out;
}

/** A random secret in `file` (0600), kept when it exists so links and scrape configs survive a restart. */
export function ensureSecretFile(file: string): string {
  const existing = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (existing.length < 32) writeFileSync(file, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
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

export class Supervisor {
  readonly dataDir: string;
  private readonly children = new Map<string, Child>();
  private stopping: Promise<void> | undefined;
  private failure: Error | undefined;
  /** Set once every node was Ready: from then on an exit means a restart, not a failed start. */
  private state: UpState | undefined;

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
    await this.clearPrevious();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    mkdirSync(this.logDir, { recursive: true });
    const deadline = Date.now() + this.options.timeoutMs;
    const remaining = (): number => Math.max(1, deadline - Date.now());
    try {
      const tokensFile = join(dir, 'node-tokens.yaml');
      const tokens = ensureNodeTokens(tokensFile, nodes);
      const metricsTokenFile = ensureSecretFile(join(dir, 'metrics-token'));
      const dashboardTokenFile = ensureSecretFile(join(dir, 'dashboard-token'));
      const kbTokenFile = ensureSecretFile(join(dir, 'kb-token'));
      const core = sednaComponents({
        dataDir: dir, nodes, port: this.options.port, tokens, tokensFile, metricsTokenFile, dashboardTokenFile, kbTokenFile, out,
        ...(this.options.apiserverArgs ? { apiserverArgs: this.options.apiserverArgs } : {}),
        ...(this.options.gmArgs ? { gmArgs: this.options.gmArgs } : {}),
        ...(this.options.gmAddressFor ? { gmAddressFor: this.options.gmAddressFor } : {}),
      });
      const specs = [...core, ...(this.options.extraComponents?.(core) ?? [])];
      for (const stage of [...new Set(specs.map((s) => s.stage))].sort((a, b) => a - b)) {
        const group = specs.filter((s) => s.stage === stage);
        out.write(`starting ${group.map((s) => s.name).join(', ')}\n`);
        await Promise.all(group.map(async (spec) => {
          const child = this.launch(spec);
          const url = await this.waitUntilReady(child, remaining());
          await spec.onFirstReady?.(url, remaining());
        }));
      }
      const kubeconfig = join(dir, 'kubeconfig');
      await waitForNodesReady(loadKubeConfig(kubeconfig), nodes, remaining(), () => this.throwIfFailed());
      this.state = {
        dataDir: dir,
        kubeconfig,
        supervisorPid: process.pid,
        detached: this.options.detach,
        startedAt: new Date().toISOString(),
        ...this.componentStates(),
      };
      writeUpState(this.state);
      return this.state;
    } catch (err) {
      await this.stop();
      throw this.failure ?? err;
    }
  }

  /** Resolves when the supervisor gives up (a component could not be started during start-up). */
  async firstUnexpectedExit(): Promise<Error> {
    for (;;) {
      if (this.failure) return this.failure;
      await sleep(100);
    }
  }

  /** Stops every stage in reverse order, then any pod process left behind; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const children = [...this.children.values()];
      for (const c of children) clearTimeout(c.restartTimer);
      const stages = [...new Set(children.map((c) => c.spec.stage))].sort((a, b) => b - a);
      for (const stage of stages) {
        await Promise.all(children.filter((c) => c.spec.stage === stage).map(async (c) => {
          if (c.process.exitCode === null && c.process.signalCode === null) {
            const result = await stopProcess(c.state.pid, this.options.stopGraceMs ?? 20_000);
            if (result !== 'gone') this.options.out.write(`${c.state.name} (pid ${c.state.pid}) ${result}\n`);
          }
          await c.exited;
        }));
      }
      for (const line of await stopLeftovers(this.dataDir, this.options.nodes)) this.options.out.write(`${line}\n`);
      removeUpState(this.dataDir);
    })();
    return this.stopping;
  }

  /**
   * A previous `sedna up` on this data dir: refused while its supervisor runs; if the supervisor
   * died (kill -9), whatever it left running is stopped so this one starts clean.
   */
  private async clearPrevious(): Promise<void> {
    const dir = this.dataDir;
    const previous = readUpState(dir);
    if (previous?.supervisorPid !== undefined && previous.supervisorPid !== process.pid && isAlive(previous.supervisorPid, 'up')) {
      throw new Error(`already running in ${dir} (sedna up pid ${previous.supervisorPid}); run sedna down --data-dir ${this.options.dataDir} first`);
    }
    if (!previous) return;
    this.options.out.write(`a previous sedna up in ${dir} did not stop cleanly; stopping what it left running\n`);
    for (const line of await stopLeftovers(dir, previous.lcs.map((l) => l.node ?? l.name.replace(/^lc\//, '')), previous, this.options.stopGraceMs ?? 20_000)) this.options.out.write(`  ${line}\n`);
    removeUpState(dir);
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  private launch(spec: ComponentSpec, previous?: Child): Child {
    if (this.stopping) throw new Error('interrupted');
    const log = join(this.logDir, `${spec.logName}.log`);
    // A restart appends to the log, after a line that says why.
    const fd = openSync(log, previous ? 'a' : 'w', 0o600);
    const logOffset = statSync(log).size;
    let child: ChildProcess;
    try {
      const urlOf = (name: string): string | undefined => this.children.get(name)?.state.url;
      child = spawn(process.execPath, [SEDNA_CLI, ...spec.args(urlOf)], { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env } });
    } finally {
      closeSync(fd);
    }
    if (child.pid === undefined) throw new Error(`could not start ${spec.name}`);
    const now = new Date();
    const entry: Child = {
      spec,
      state: {
        ...(previous?.state ?? {}),
        name: spec.name,
        pid: child.pid,
        log,
        runningSince: now.toISOString(),
        ...(spec.node ? { node: spec.node } : {}),
        ...(spec.metrics?.tokenFile ? { metricsTokenFile: spec.metrics.tokenFile } : {}),
      },
      process: child,
      logOffset,
      startedAtMs: now.getTime(),
      backoff: previous?.backoff ?? new RestartBackoff(this.options.restartBackoff ?? DEFAULT_RESTART_BACKOFF),
      exited: new Promise((r) => child.once('exit', () => r())),
    };
    child.once('exit', (code, signal) => this.onExit(entry, signal ?? `code ${code}`));
    child.once('error', (err) => (this.failure ??= new Error(`${spec.name}: ${err.message}`)));
    this.children.set(spec.name, entry);
    return entry;
  }

  /** During start-up an exit fails `sedna up`; afterwards the component is restarted with back-off. */
  private onExit(child: Child, cause: string): void {
    if (this.stopping || this.children.get(child.spec.name) !== child) return;
    const at = new Date();
    child.state.lastExit = { cause, at: at.toISOString() };
    if (!this.state) {
      this.failure ??= new Error(`${child.spec.name} exited (${cause}); see ${child.state.log}:\n${tail(child.state.log)}`);
      return;
    }
    const delayMs = child.backoff.next(at.getTime() - child.startedAtMs);
    child.state.restarts = (child.state.restarts ?? 0) + 1;
    this.options.out.write(`${at.toISOString()} ${child.spec.name} (pid ${child.state.pid}) exited (${cause}); restart ${child.state.restarts} in ${delayMs} ms\n`);
    this.saveState();
    child.restartTimer = setTimeout(() => void this.restart(child), delayMs);
  }

  private async restart(previous: Child): Promise<void> {
    if (this.stopping) return;
    let child: Child;
    try {
      writeFileSync(previous.state.log, `\n--- sedna up: restart ${previous.state.restarts} after ${previous.state.lastExit?.cause} ---\n`, { flag: 'a' });
      child = this.launch(previous.spec, previous);
    } catch (err) {
      this.options.out.write(`could not restart ${previous.spec.name}: ${(err as Error).message}\n`);
      previous.restartTimer = setTimeout(() => void this.restart(previous), previous.backoff.next(0));
      return;
    }
    this.saveState();
    try {
      child.state.url = await this.waitUntilReady(child, this.options.timeoutMs);
      this.options.out.write(`${new Date().toISOString()} ${child.spec.name} is back (pid ${child.state.pid})\n`);
      this.saveState();
    } catch (err) {
      // Not ready in time: kill it; its exit schedules the next attempt.
      if (this.stopping || child.process.exitCode !== null || child.process.signalCode !== null) return;
      this.options.out.write(`${child.spec.name} did not become ready: ${(err as Error).message}\n`);
      await stopProcess(child.state.pid, 5_000);
    }
  }

  private componentStates(): Pick<UpState, 'apiserver' | 'gm' | 'lcs' | 'dashboard' | 'others'> {
    const children = [...this.children.values()];
    const byRole = (role: ComponentSpec['role']): ComponentState[] => children.filter((c) => c.spec.role === role).map((c) => c.state);
    const dashboard = children.find((c) => c.spec.role === 'dashboard');
    return {
      apiserver: byRole('apiserver')[0]!,
      gm: byRole('gm')[0]!,
      lcs: byRole('lc'),
      ...(dashboard?.spec.tokenFile ? { dashboard: { ...dashboard.state, tokenFile: dashboard.spec.tokenFile } } : {}),
      others: byRole('other'),
    };
  }

  /** up.json mirrors the children's current pids, restarts and exits. */
  private saveState(): void {
    if (!this.state || this.stopping) return;
    this.state = { ...this.state, ...this.componentStates() };
    writeUpState(this.state);
  }

  /** Resolves with the URL of the ready line of this run, or throws if it exits or times out. */
  private async waitUntilReady(child: Child, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const output = readFrom(child.state.log, child.logOffset);
      const match = child.spec.ready.exec(output);
      const metricsUrl = match ? metricsUrlOf(child.spec, match[1]!, output) : undefined;
      if (match && metricsUrl !== null) {
        child.state.url = match[1]!;
        if (metricsUrl !== undefined) child.state.metricsUrl = metricsUrl;
        return match[1]!;
      }
      if (!this.state) this.throwIfFailed();
      if (child.process.exitCode !== null || child.process.signalCode !== null) throw new Error(`${child.spec.name} exited before it was ready`);
      if (Date.now() > deadline) throw new Error(`${child.spec.name} not ready after ${Math.round(timeoutMs / 1000)} s; see ${child.state.log}:\n${tail(child.state.log)}`);
      await sleep(50);
    }
  }
}

/** The component's metrics URL; undefined when it serves none, null while its line has not come yet. */
function metricsUrlOf(spec: ComponentSpec, url: string, output: string): string | null | undefined {
  if (!spec.metrics) return undefined;
  if (spec.metrics.urlOf) return spec.metrics.urlOf(url);
  return spec.metrics.line?.exec(output)?.[1] ?? null;
}

function readFrom(file: string, offset: number): string {
  return readFileSync(file).subarray(offset).toString('utf8');
}

function tail(file: string, lines = 10): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
