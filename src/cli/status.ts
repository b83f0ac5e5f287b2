// `sedna status`: the processes `sedna up` started in --data-dir (alive or not, restarts by the
// supervisor and the last exit cause), then, while the API server runs, the nodes (Ready) and
// the pods (phase, node). Exits 1 when nothing is running.
import { resolve } from 'node:path';
import { clusterView, loadKubeConfig, table } from '../up/cluster.ts';
import { type ComponentState, isAlive, readUpState } from '../up/state.ts';

export interface StatusFlags {
  dataDir: string;
}

function lastExit(c: ComponentState): string {
  return c.lastExit ? `${c.lastExit.cause} at ${c.lastExit.at}` : '';
}

export async function statusCommand(flags: StatusFlags): Promise<void> {
  const dir = resolve(flags.dataDir);
  const state = readUpState(dir);
  const out = process.stdout;
  // `sedna status | head` closes the pipe early: that is not an error.
  out.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? 0 : 1));
  if (!state) {
    out.write(`sedna is not running in ${dir} (no up.json)\n`);
    process.exitCode = 1;
    return;
  }
  const components = [state.apiserver, ...(state.gm ? [state.gm] : []), ...state.lcs, ...(state.dashboard ? [state.dashboard] : []), ...(state.others ?? [])];
  const rows = components.map((c) => [c.name, String(c.pid), isAlive(c.pid, dir) ? 'running' : 'stopped', String(c.restarts ?? 0), lastExit(c), c.url ?? '', c.log]);
  if (state.supervisorPid !== undefined) rows.unshift(['sedna up', String(state.supervisorPid), isAlive(state.supervisorPid, 'up') ? 'running' : 'stopped (nothing restarts crashed components)', '', '', '', '']);
  out.write(`${table(['COMPONENT', 'PID', 'STATUS', 'RESTARTS', 'LAST EXIT', 'URL', 'LOG'], rows)}\n\n`);
  if (!isAlive(state.apiserver.pid, dir)) {
    out.write('the API server is not running: no nodes or pods to show\n');
    process.exitCode = 1;
    return;
  }
  const view = await clusterView(loadKubeConfig(state.kubeconfig));
  out.write(`${table(['NODE', 'STATUS', 'ROLES'], view.nodes.map((n) => [n.name, n.ready, n.roles.join(',') || '<none>']))}\n\n`);
  out.write(view.pods.length === 0 ? 'No pods.\n' : `${table(['NAMESPACE', 'POD', 'PHASE', 'READY', 'NODE', 'RESTARTS'], view.pods.map((p) => [p.namespace, p.name, p.phase, p.ready, p.node, String(p.restarts)]))}\n`);
}
