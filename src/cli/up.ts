// `sedna up`: a local cluster (API server, GM, one LC with its embedded kubelet per node) under
// --data-dir, supervised: a component that crashes is restarted (see src/up/supervisor.ts).
// Foreground: this process is the supervisor and runs until Ctrl-C / SIGTERM, then stops every
// process it started. --detach: starts the supervisor as a detached process (its output in
// DATA_DIR/logs/up.log), returns once every node is Ready; `sedna down` stops it all.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import { SEDNA_CLI } from '../lc/kubelet/images.ts';
import { Progress } from '../lib/progress.ts';
import { parseGmAddresses, parseNodes, Supervisor } from '../up/supervisor.ts';
import { isAlive, readUpState, stopProcess, type UpState } from '../up/state.ts';

export interface UpFlags {
  dataDir: string;
  nodes: string;
  port: number;
  detach?: boolean;
  timeout: number;
  nodeMonitorGracePeriod?: number;
  /** NODE=HOST:PORT: where that node's LC dials the GM's edge hub (a relay or tunnel in front of it). */
  gmAddressFor?: string[];
}

/** Set in the detached supervisor's environment: it records `detached` and prints no Ctrl-C hint. */
const DETACHED_ENV = 'SEDNA_UP_DETACHED';

/** The start-up stages the supervisor reports (API server, CRDs, GM and dashboard, LCs); the bar's total. */
const UP_STEPS = 4;

/**
 * The supervisor's lines: while it starts, steps of one live line on a terminal (plain lines
 * otherwise); once it is up, plain lines again (restarts, exits).
 */
function supervisorOutput(progress: Progress): { out: Writable; started(): void } {
  let step = 0;
  let starting = true;
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!starting) process.stdout.write(chunk);
      else for (const line of chunk.toString('utf8').split('\n').filter((l) => l.trim() !== '')) progress.update(line, Math.min(++step, UP_STEPS), UP_STEPS);
      done();
    },
  });
  return { out, started: () => { starting = false; progress.finish(); } };
}

export async function upCommand(flags: UpFlags): Promise<void> {
  const nodes = parseNodes(flags.nodes);
  const gmAddressFor = parseGmAddresses(flags.gmAddressFor ?? [], nodes);
  if (flags.detach) {
    await startDetached(flags);
    return;
  }
  const detached = process.env[DETACHED_ENV] === '1';
  const out = process.stdout;
  const progress = new Progress(out);
  const output = supervisorOutput(progress);
  const supervisor = new Supervisor({
    dataDir: flags.dataDir,
    nodes,
    port: flags.port,
    detach: detached,
    timeoutMs: flags.timeout * 1000,
    out: output.out,
    ...(flags.nodeMonitorGracePeriod !== undefined ? { apiserverArgs: ['--node-monitor-grace-period', String(flags.nodeMonitorGracePeriod)] } : {}),
    ...(Object.keys(gmAddressFor).length > 0 ? { gmAddressFor } : {}),
  });
  // Ctrl-C (or sedna down's SIGTERM) while starting or running stops what was started.
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    output.started();
    out.write(`\n${signal}: stopping everything sedna up started…\n`);
    void supervisor.stop().then(() => process.exit(signal === 'SIGINT' ? 130 : 143), () => process.exit(1));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A detached supervisor outlives the terminal it was started from.
  if (detached) process.on('SIGHUP', () => {});
  const state = await supervisor.start().finally(() => output.started());
  out.write(banner(flags, state, detached));
  const err = await supervisor.firstUnexpectedExit();
  if (interrupted) return;
  interrupted = true;
  process.stderr.write(`sedna: ${err.message}\nstopping everything\n`);
  await supervisor.stop();
  process.exit(1);
}

function banner(flags: UpFlags, state: UpState, detached: boolean): string {
  const dirArg = flags.dataDir === '.sedna' ? '' : ` --data-dir ${flags.dataDir}`;
  const shown = relative(process.cwd(), state.kubeconfig);
  const names = state.lcs.map((l) => l.node).join(', ');
  return [
    '',
    `Sedna is up: ${state.lcs.length} nodes Ready (${names}); API server ${state.apiserver.url}.`,
    '',
    `  export KUBECONFIG=${shown.startsWith('..') ? state.kubeconfig : shown}`,
    '  kubectl get nodes',
    '  kubectl get pods -A -o wide',
    `  sedna status${dirArg}`,
    '',
    ...(state.dashboard ? [`Dashboard: ${state.dashboard.url}?token=${readFileSync(state.dashboard.tokenFile, 'utf8').trim()}`, ''] : []),
    `Logs: ${state.dataDir}/logs/. State: ${state.dataDir}/up.json. Crashed components are restarted (sedna status shows restarts).`,
    detached ? `Stop with: sedna down${dirArg}` : 'Press Ctrl-C to stop everything.',
    '',
  ].join('\n');
}

/** Starts the supervisor in the background and waits until it recorded a Ready cluster. */
async function startDetached(flags: UpFlags): Promise<void> {
  const dir = resolve(flags.dataDir);
  mkdirSync(join(dir, 'logs'), { recursive: true, mode: 0o700 });
  const log = join(dir, 'logs', 'up.log');
  const fd = openSync(log, 'w', 0o600);
  const args = ['up', '--data-dir', flags.dataDir, '--nodes', flags.nodes, '--port', String(flags.port), '--timeout', String(flags.timeout)];
  if (flags.nodeMonitorGracePeriod !== undefined) args.push('--node-monitor-grace-period', String(flags.nodeMonitorGracePeriod));
  for (const value of flags.gmAddressFor ?? []) args.push('--gm-address-for', value);
  const child = spawn(process.execPath, [SEDNA_CLI, ...args], { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, [DETACHED_ENV]: '1' } });
  closeSync(fd);
  const pid = child.pid!;
  let exit: string | undefined;
  child.once('exit', (code, signal) => (exit = signal ?? `code ${code}`));
  const stopChild = (): void => void stopProcess(pid, 20_000).then(() => process.exit(130));
  process.once('SIGINT', stopChild);
  process.once('SIGTERM', stopChild);
  const deadline = Date.now() + flags.timeout * 1000 + 30_000;
  for (;;) {
    const state = readUpState(dir);
    const output = readFileSync(log, 'utf8');
    if (state?.supervisorPid === pid && isAlive(pid) && output.includes('Stop with: sedna down')) {
      process.stdout.write(output);
      child.unref();
      process.exit(0);
    }
    if (exit !== undefined) throw new Error(`sedna up failed (${exit}); see ${log}:\n${readFileSync(log, 'utf8').trimEnd()}`);
    if (Date.now() > deadline) {
      await stopProcess(pid, 20_000);
      throw new Error(`sedna up did not become ready; see ${log}`);
    }
    await sleep(100);
  }
}
