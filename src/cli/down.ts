// `sedna down`: stops what `sedna up` started in --data-dir (from DATA_DIR/up.json). The supervisor
// (foreground or detached `sedna up`) is asked to stop: it stops the LCs (whose kubelets stop their
// pods), then the GM, then the API server. Whatever still runs afterwards (the supervisor was
// killed, or an LC was and left its pods) is stopped here: the components of up.json, then every
// pod process the kubelets recorded, each checked by identity first. Each is named as it stops.
import { resolve } from 'node:path';
import { identify, isSameProcess, type ProcessIdentity } from '../lib/proc.ts';
import { runningPods } from '../up/cluster.ts';
import { stopLeftovers } from '../up/orphans.ts';
import { componentsInStopOrder, isAlive, readUpState, removeUpState, waitForExit } from '../up/state.ts';

export interface DownFlags {
  dataDir: string;
  timeout: number;
}

export async function downCommand(flags: DownFlags): Promise<void> {
  const dir = resolve(flags.dataDir);
  const state = readUpState(dir);
  const out = process.stdout;
  if (!state) {
    out.write(`nothing to stop: no ${dir}/up.json\n`);
    return;
  }
  const graceMs = flags.timeout * 1000;
  const running = componentsInStopOrder(state).flat().filter((c) => isAlive(c.pid, dir));
  // The pods' processes, to name those the kubelets stop on the way down.
  const pods: { name: string; id: ProcessIdentity }[] = [];
  if (isAlive(state.apiserver.pid, dir)) {
    for (const p of await runningPods(state.kubeconfig).catch(() => [])) {
      const id = identify(p.pid);
      if (id) pods.push({ name: p.name, id });
    }
  }
  if (state.supervisorPid !== undefined && isAlive(state.supervisorPid, 'up')) {
    out.write(`stopping sedna up (pid ${state.supervisorPid}) and what it supervises\n`);
    process.kill(state.supervisorPid, 'SIGTERM');
    if (!(await waitForExit(state.supervisorPid, graceMs * 3 + 10_000, 'up'))) out.write(`sedna up (pid ${state.supervisorPid}) did not stop; stopping its components directly\n`);
    for (const c of running) if (!isAlive(c.pid, dir)) out.write(`${c.name} (pid ${c.pid}) stopped\n`);
  }
  for (const p of pods) if (!isSameProcess(p.id)) out.write(`pod ${p.name} (pid ${p.id.pid}) stopped\n`);
  const nodes = state.lcs.map((l) => l.node ?? l.name.replace(/^lc\//, ''));
  const leftovers = await stopLeftovers(dir, nodes, state, graceMs);
  for (const line of leftovers) out.write(`${line}\n`);
  removeUpState(dir);
  out.write('sedna is down\n');
}
