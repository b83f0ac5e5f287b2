// `sedna up`: a local cluster (API server, GM, one LC with its embedded kubelet per node) under
// --data-dir; see src/up/supervisor.ts. Foreground: runs until Ctrl-C / SIGTERM, then stops every
// process it started. --detach: returns once every node is Ready; `sedna down` stops them.
import { relative } from 'node:path';
import { parseNodes, Supervisor } from '../up/supervisor.ts';

export interface UpFlags {
  dataDir: string;
  nodes: string;
  port: number;
  detach?: boolean;
  timeout: number;
}

export async function upCommand(flags: UpFlags): Promise<void> {
  const out = process.stdout;
  const nodes = parseNodes(flags.nodes);
  const supervisor = new Supervisor({ dataDir: flags.dataDir, nodes, port: flags.port, detach: flags.detach ?? false, timeoutMs: flags.timeout * 1000, out });
  // Ctrl-C while starting stops what was started.
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    out.write(`\n${signal}: stopping the LCs, the GM and the API server…\n`);
    void supervisor.stop().then(() => process.exit(signal === 'SIGINT' ? 130 : 143), () => process.exit(1));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const state = await supervisor.start();
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
