// `sedna up`: a local cluster (API server, GM, one LC with its embedded kubelet per node) under
// --data-dir; see src/up/supervisor.ts. Foreground: runs until Ctrl-C / SIGTERM, then stops every
// process it started. --detach: returns once every node is Ready; `sedna down` stops them.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { Writable } from 'node:stream';
import { Progress } from '../lib/progress.ts';
import { parseNodes, Supervisor } from '../up/supervisor.ts';

export interface UpFlags {
  dataDir: string;
  nodes: string;
  port: number;
  detach?: boolean;
  timeout: number;
}

/** The start-up steps the supervisor reports (API server, CRDs, GM, dashboard, LCs); the bar's total. */
const UP_STEPS = 5;

/** The supervisor's lines as steps of one live line on a terminal, plain lines otherwise. */
function progressWriter(progress: Progress): Writable {
  let step = 0;
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter((l) => l.trim() !== '')) progress.update(line, Math.min(++step, UP_STEPS), UP_STEPS);
      done();
    },
  });
}

export async function upCommand(flags: UpFlags): Promise<void> {
  const out = process.stdout;
  const nodes = parseNodes(flags.nodes);
  const progress = new Progress(out);
  const supervisor = new Supervisor({ dataDir: flags.dataDir, nodes, port: flags.port, detach: flags.detach ?? false, timeoutMs: flags.timeout * 1000, out: progressWriter(progress) });
  // Ctrl-C while starting stops what was started.
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    progress.finish();
    out.write(`\n${signal}: stopping the LCs, the GM and the API server…\n`);
    void supervisor.stop().then(() => process.exit(signal === 'SIGINT' ? 130 : 143), () => process.exit(1));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const state = await supervisor.start().finally(() => progress.finish());
  const dirArg = flags.dataDir === '.sedna' ? '' : ` --data-dir ${flags.dataDir}`;
  const shown = relative(process.cwd(), state.kubeconfig);
  out.write(
    [
      '',
      `Sedna is up: ${nodes.length} nodes Ready (${nodes.join(', ')}); API server ${state.apiserver.url}.`,
      '',
      `  export KUBECONFIG=${shown.startsWith('..') ? state.kubeconfig : shown}`,
      '  kubectl get nodes',
      '  kubectl get pods -A -o wide',
      `  sedna status${dirArg}`,
      '',
      ...(state.dashboard ? [`Dashboard: ${state.dashboard.url}?token=${readFileSync(state.dashboard.tokenFile, 'utf8').trim()}`, ''] : []),
      `Logs: ${state.dataDir}/logs/. State: ${state.dataDir}/up.json.`,
      flags.detach ? `Stop with: sedna down${dirArg}` : 'Press Ctrl-C to stop everything.',
      '',
    ].join('\n'),
  );
  if (flags.detach) {
    supervisor.release();
    process.exit(0);
  }
  const err = await supervisor.firstUnexpectedExit();
  if (interrupted) return;
  interrupted = true;
  process.stderr.write(`sedna: ${err.message}\nstopping everything\n`);
  await supervisor.stop();
  process.exit(1);
}
