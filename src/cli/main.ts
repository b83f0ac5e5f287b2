#!/usr/bin/env node
// The `sedna` command.
import { readFileSync } from 'node:fs';
import { requireCjs } from '../lib/require-cjs.ts';

const { Command, InvalidArgumentError } = requireCjs('commander') as typeof import('commander');

// Each command's module is loaded only when that command runs: a LocalController on an edge
// device should not pay (in memory and start-up time) for the API server's or the GM's
// dependencies, such as @kubernetes/client-node.
type Flags<T extends (flags: never) => unknown> = Parameters<T>[0];

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number between 0 and 65535');
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

const program = new Command();
// package.json is two levels up from both src/cli and dist/cli.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
program.name('sedna').description('Sedna edge-cloud collaborative AI, in TypeScript').version(version, '--version', 'print the version and exit').showHelpAfterError();

program
  .command('apiserver')
  .description('run the embedded Kubernetes-compatible API server (SQLite-backed) and write DATA_DIR/kubeconfig')
  .requiredOption('--data-dir <dir>', 'where state, certificates and the kubeconfig live')
  .option('--port <port>', 'HTTPS port (0 picks a free one)', port, 6443)
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .option('--advertise <names...>', 'extra host names or addresses for the serving certificate')
  .option('--compact-interval <seconds>', 'how often old revisions are compacted', positiveInt, 60)
  .option('--compact-retain <revisions>', 'newest revisions always kept for watches', positiveInt, 100_000)
  .option('--service-cluster-ip-range <cidr>', 'IPv4 CIDR Service ClusterIPs are allocated from (default 127.96.0.0/12, on loopback)')
  .option('--node-monitor-grace-period <seconds>', 'a node whose kubelet does not renew its Lease for this long becomes Ready=Unknown, tainted unreachable, its pods not Ready', positiveInt, 40)
  .option('--default-toleration-seconds <seconds>', 'how long a pod without its own toleration stays on a not-ready or unreachable node before it is evicted (upstream\'s --default-not-ready/unreachable-toleration-seconds)', positiveInt, 300)
  .option('--watch-cache-mib <MiB>', 'recent events kept in memory so resuming watches replay without the database (default 4)', positiveInt)
  .option('--watch-replay-mib <MiB>', 'older events a resuming watch may replay from the database; a watch further behind gets 410 Gone and relists (default 8)', positiveInt)
  .option('--audit-log <file>', 'append one JSON line per authorization decision (who, verb, resource, allowed); default $SEDNA_AUDIT_LOG')
  .option('--demo', 'after start-up, apply a sample CRD, resource and deployment and print how to use kubectl')
  .action(async (flags: Flags<typeof import('./apiserver.ts').apiserverCommand>) => (await import('./apiserver.ts')).apiserverCommand(flags));

program
  .command('gm')
  .description('run the GlobalManager: feature controllers and the edge hub, while holding the sedna-gm Lease')
  .option('--kubeconfig <file>', 'kubeconfig of the API server (overrides kubeConfig in the config file)')
  .option('--config <file>', 'GM configuration file (sedna-gm.yaml)')
  .option('--edge-port <port>', 'edge hub port (0 picks a free one; overrides websocket.port)', port)
  .option('--edge-address <address>', 'edge hub address (overrides websocket.address)')
  .option('--node-tokens <file>', 'YAML file of node: token pairs (overrides websocket.nodeTokens)')
  .option('--metrics-port <port>', 'metrics port (0 picks a free one; overrides metrics.port)', port)
  .option('--metrics-token-file <file>', 'bearer token /metrics requires (default: $SEDNA_GM_METRICS_TOKEN, else the kubeconfig token)')
  .option('--identity <name>', 'leader-election identity (default: hostname_pid)')
  .option('--lease-namespace <namespace>', 'namespace of the sedna-gm Lease (default: $POD_NAMESPACE, else config namespace, else default)')
  .option('--lease-duration <seconds>', 'leader Lease duration', positiveInt)
  .option('--kb-server <url>', 'the knowledge base lifelong-learning workers use, as KB_SERVER (overrides knowledgeBaseServer.server)')
  .option('--kb-token-file <file>', 'the knowledge base\'s bearer token, given to those workers as KB_TOKEN (overrides knowledgeBaseServer.tokenFile)')
  .action(async (flags: Flags<typeof import('./gm.ts').gmCommand>) => (await import('./gm.ts')).gmCommand(flags));

program
  .command('lc')
  .description('run the LocalController of one node: the worker API and the durable link to the GM')
  .requiredOption('--node <name>', 'this node\'s name (as the GM knows it)')
  .requiredOption('--gm <url>', 'the GM edge hub: ws://HOST:PORT/, wss://… or HOST:PORT')
  .option('--token <token>', 'this node\'s edge token (default: $SEDNA_NODE_TOKEN)')
  .option('--token-file <file>', 'file holding this node\'s edge token')
  .option('--port <port>', 'worker API port (0 picks a free one)', port, 9100)
  .option('--address <address>', 'worker API address', '127.0.0.1')
  .option('--data-dir <dir>', 'where the LC database lives', '/var/lib/sedna')
  .option('--worker-token-file <file>', 'token workers outside loopback must present (Authorization: Bearer)')
  .option('--require-worker-token', 'require the worker token from loopback callers too')
  .option('--rootfs <dir>', 'prefix of node paths in CRs (Sedna\'s ROOTFS_MOUNT_DIR)')
  .option('--dataset-poll <seconds>', 'dataset index poll period (a file watch reacts sooner)', positiveInt, 60)
  .option('--reconnect-max <ms>', 'longest pause between attempts to reach the GM (jittered between half and all of it)', positiveInt, 4_000)
  .option('--kubeconfig <file>', 'also run the embedded kubelet for this node against this API server')
  .option('--pod-log-dir <dir>', 'kubelet: container logs (the API server\'s DATA_DIR/logs, for kubectl logs; default DATA_DIR/pod-logs)')
  .option('--node-role <role>', 'kubelet: Node label node-role.kubernetes.io/ROLE (default: cloud for cloud or cloud-*, else edge)')
  .option('--service-proxy', 'kubelet: also run the embedded service proxy (ClusterIP:port → ready pods); one per machine')
  .option('--metrics-port <port>', 'serve /metrics of the LC and its kubelet on this port (0 picks a free one)', port)
  .option('--metrics-token-file <file>', 'bearer token /metrics requires (default: $SEDNA_LC_METRICS_TOKEN)')
  .action(async (flags: Flags<typeof import('./lc.ts').lcCommand>) => (await import('./lc.ts')).lcCommand(flags));

program
  .command('up')
  .description('run a local cluster: the API server, the GM and one LC (with its kubelet) per node, all state under DATA_DIR')
  .option('--data-dir <dir>', 'where all state, logs and the kubeconfig live', '.sedna')
  .option('--nodes <names>', 'comma-separated node names', 'cloud,edge-1,edge-2')
  .option('--port <port>', 'API server HTTPS port (0 picks a free one)', port, 6443)
  .option('--detach', 'return once every node is Ready, leaving the processes running (stop them with sedna down)')
  .option('--timeout <seconds>', 'how long to wait for the processes and nodes to be ready', positiveInt, 120)
  .option('--node-monitor-grace-period <seconds>', 'a node whose Lease is not renewed for this long becomes Ready=Unknown (default 40)', positiveInt)
  .option('--gm-address-for <node=host:port...>', 'where that node\'s LC dials the GM\'s edge hub, when a relay or tunnel stands in front of it (default: the hub itself)')
  .action(async (flags: Flags<typeof import('./up.ts').upCommand>) => (await import('./up.ts')).upCommand(flags));

program
  .command('dashboard')
  .description('run the web dashboard: nodes, Sedna resources, plots, events and logs, from the Kubernetes API')
  .option('--kubeconfig <file>', 'kubeconfig of the API server (default: $KUBECONFIG or ~/.kube/config)')
  .option('--port <port>', 'HTTP port (0 picks a free one)', port, 8080)
  .option('--address <address>', 'address to listen on', '127.0.0.1')
  .option('--token-file <file>', 'login token (the link\'s ?token=, and the /metrics bearer token); default $SEDNA_DASHBOARD_TOKEN, else a new one, printed')
  .option('--host-name <host:port...>', 'more Host values the pages accept (the name a proxy or port-forward reaches it by)')
  .action(async (flags: Flags<typeof import('./dashboard.ts').dashboardCommand>) => (await import('./dashboard.ts')).dashboardCommand(flags));

program
  .command('kb')
  .description('run the knowledge base of lifelong learning: Sedna\'s /knowledgebase routes, tasks on SQLite, model and sample files')
  .option('--data-dir <dir>', 'where kb.sqlite3 and the files live', '.sedna/kb')
  .option('--port <port>', 'HTTP port (0 picks a free one)', port, 9020)
  .option('--address <address>', 'address to listen on', '127.0.0.1')
  .option('--token-file <file>', 'bearer token every request must carry (default: $SEDNA_KB_TOKEN); workers get it as KB_TOKEN')
  .option('--max-upload-bytes <bytes>', 'largest model or sample file accepted', positiveInt)
  .option('--max-index-bytes <bytes>', 'largest index accepted by /knowledgebase/update', positiveInt)
  .option('--metrics-port <port>', 'serve /metrics on this port (0 picks a free one)', port)
  .option('--metrics-token-file <file>', 'bearer token /metrics requires (default: $SEDNA_KB_METRICS_TOKEN)')
  .action(async (flags: Flags<typeof import('./kb.ts').kbCommand>) => (await import('./kb.ts')).kbCommand(flags));

program
  .command('down')
  .description('stop what sedna up started in DATA_DIR (LCs, then the GM, then the API server)')
  .option('--data-dir <dir>', 'the data directory of sedna up', '.sedna')
  .option('--timeout <seconds>', 'grace before SIGKILL, per component', positiveInt, 20)
  .action(async (flags: Flags<typeof import('./down.ts').downCommand>) => (await import('./down.ts')).downCommand(flags));

program
  .command('status')
  .description('show the processes sedna up started in DATA_DIR, the nodes and the pods')
  .option('--data-dir <dir>', 'the data directory of sedna up', '.sedna')
  .action(async (flags: Flags<typeof import('./status.ts').statusCommand>) => (await import('./status.ts')).statusCommand(flags));

program
  .command('storage-initializer')
  .description('download models and datasets for a worker pod (the GM-injected init container): pairs of <src> <dst>; a dst starting with $INDIRECT_URL_MARK (default @) makes src an index file')
  .argument('<src-dst-pairs...>', 's3://, obs://, http(s)://, file:// or /path sources, each followed by its destination folder')
  .action(async (pairs: string[]) => (await import('./storage-initializer.ts')).storageInitializerCommand(pairs));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Expected failures (a data directory in use, a port taken) read as one line, not a stack.
  process.stderr.write(`sedna: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
