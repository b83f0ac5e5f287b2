// `sedna down`: stops what `sedna up` started in --data-dir (from DATA_DIR/up.json): a foreground
// `sedna up` is asked to stop (it stops its children in order); otherwise the LCs, then the GM,
// then the API server get SIGTERM, and SIGKILL after --timeout. Then up.json is removed.
import { resolve } from 'node:path';
import { componentsInStopOrder, isAlive, readUpState, removeUpState, stopProcess, waitForExit } from '../up/state.ts';

export interface DownFlags {
  dataDir: string;
  timeout: number;
}

export async function downCommand(flags: DownFlags): Promise<void> {
  const dir = resolve(flags.dataDir);
  const state = readUpState(dir);
  if (!state) {
    process.stdout.write(`nothing to stop: no ${dir}/up.json\n`);
    return;
  }
  const graceMs = flags.timeout * 1000;
  if (state.supervisorPid !== undefined && isAlive(state.supervisorPid, 'up')) {
    process.stdout.write(`stopping sedna up (pid ${state.supervisorPid})\n`);
    process.kill(state.supervisorPid, 'SIGTERM');
    await waitForExit(state.supervisorPid, graceMs * 3 + 5_000, 'up');
  }
  for (const group of componentsInStopOrder(state)) {
    await Promise.all(
      group.map(async (c) => {
        const result = await stopProcess(c.pid, graceMs, dir);
        if (result !== 'gone') process.stdout.write(`${c.name} (pid ${c.pid}) ${result}\n`);
      }),
    );
  }
  removeUpState(dir);
  process.stdout.write('sedna is down\n');
}
