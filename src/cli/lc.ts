// `sedna lc`: the LocalController for one node. Prints `worker API listening on http://HOST:PORT`
// on stdout once ready; logs JSON on stderr. The GM token may also come from $SEDNA_NODE_TOKEN,
// the worker token from --worker-token-file (workers outside loopback must present it).
// Without --kubeconfig it runs in cluster mode: the node's own kubelet (KubeEdge's edged) runs the
// pods and the LC only relays; there --token-file is the pod's projected ServiceAccount token.
// With --kubeconfig it also runs the embedded kubelet for its node: the Node is labelled
// node-role.kubernetes.io/<role> (--node-role; default cloud for a node named cloud or cloud-*,
// edge otherwise), pod logs go to --pod-log-dir (the API server's <data dir>/logs, so `kubectl logs`
// works; default <data dir>/pod-logs), per-pod directories to <data dir>/kubelet. --service-proxy
// (with --kubeconfig) also runs the embedded service proxy: one per machine serves every node.
// --metrics-port serves the LC's and its kubelet's /metrics (src/lc/metrics.ts), bearer token from
// --metrics-token-file or $SEDNA_LC_METRICS_TOKEN; it prints `metrics listening on URL`.
import { loadEdgeFeatures } from '../features/registry.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultNodeRole, type LcKubeletOptions, LocalController } from '../lc/lc.ts';
import { createLogger } from '../lib/logger.ts';
import { stopOnSignal } from './stop-on-signal.ts';

export interface LcFlags {
  node: string;
  gm: string;
  token?: string;
  tokenFile?: string;
  port: number;
  address: string;
  dataDir: string;
  workerTokenFile?: string;
  requireWorkerToken?: boolean;
  rootfs?: string;
  datasetPoll: number;
  reconnectMax: number;
  kubeconfig?: string;
  podLogDir?: string;
  nodeRole?: string;
  serviceProxy?: boolean;
  metricsPort?: number;
  metricsTokenFile?: string;
}

/**
 * The edge token: --token, else --token-file read again on every connection (in cluster mode it
 * is the pod's projected ServiceAccount token, which the kubelet rotates), else $SEDNA_NODE_TOKEN.
 */
function nodeToken(flags: LcFlags): string | (() => string) {
  if (flags.token) return flags.token;
  const file = flags.tokenFile;
  if (file) {
    const read = (): string => readFileSync(file, 'utf8').trim();
    if (read() === '') throw new Error(`the token file ${file} is empty`);
    return read;
  }
  const token = process.env.SEDNA_NODE_TOKEN;
  if (!token) throw new Error('the node token is required: --token, --token-file or $SEDNA_NODE_TOKEN');
  return token;
}

export async function lcCommand(flags: LcFlags): Promise<void> {
  const log = createLogger('lc');
  const token = nodeToken(flags);
  const workerToken = flags.workerTokenFile ? readFileSync(flags.workerTokenFile, 'utf8').trim() : undefined;
  if (flags.requireWorkerToken && !workerToken) throw new Error('--require-worker-token needs --worker-token-file');
  // /metrics only when asked for (an edge device need not carry prom-client), always with a token.
  const metricsToken = flags.metricsTokenFile ? readFileSync(flags.metricsTokenFile, 'utf8').trim() : process.env.SEDNA_LC_METRICS_TOKEN || undefined;
  if (flags.metricsPort !== undefined && !metricsToken) throw new Error('--metrics-port needs a bearer token: --metrics-token-file or $SEDNA_LC_METRICS_TOKEN');
  const metrics = flags.metricsPort !== undefined ? (await import('../lc/metrics.ts')).lcMetrics(flags.node) : undefined;
  let kubelet: LcKubeletOptions | undefined;
  if (flags.kubeconfig) {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(flags.kubeconfig);
    const role = flags.nodeRole ?? defaultNodeRole(flags.node);
    kubelet = { kubeConfig, podLogDir: flags.podLogDir ?? join(flags.dataDir, 'pod-logs'), labels: { [`node-role.kubernetes.io/${role}`]: '' }, ...(metrics ? { metrics: metrics.kubelet } : {}) };
  } else if (flags.podLogDir || flags.nodeRole || flags.serviceProxy) {
    throw new Error('--pod-log-dir, --node-role and --service-proxy need --kubeconfig (the embedded kubelet)');
  }
  const lc = new LocalController({
    nodeName: flags.node,
    features: await loadEdgeFeatures(),
    gmUrl: flags.gm,
    token,
    dataDir: flags.dataDir,
    address: flags.address,
    port: flags.port,
    workerToken,
    requireWorkerToken: flags.requireWorkerToken,
    rootfs: flags.rootfs,
    datasetPollMs: flags.datasetPoll * 1000,
    reconnect: { initialDelayMs: Math.min(250, flags.reconnectMax), maxDelayMs: flags.reconnectMax },
    logger: log,
    ...(kubelet ? { kubelet } : {}),
    ...(flags.serviceProxy ? { serviceProxy: true } : {}),
    ...(metrics ? { metrics: metrics.lc } : {}),
  });
  metrics?.attach(lc);
  const port = await lc.start();
  const host = flags.address.includes(':') ? `[${flags.address}]` : flags.address;
  process.stdout.write(`worker API listening on http://${host}:${port}\n`);
  let metricsServer: import('../lib/net/metrics-server.ts').MetricsServer | undefined;
  if (metrics && flags.metricsPort !== undefined) {
    const { MetricsServer } = await import('../lib/net/metrics-server.ts');
    metricsServer = new MetricsServer(metrics.registry, metricsToken!);
    const bound = await metricsServer.start(flags.metricsPort, flags.address);
    process.stdout.write(`metrics listening on http://${host}:${bound}/metrics\n`);
  }
  stopOnSignal(log, async () => {
    await metricsServer?.stop();
    await lc.stop();
  });
}
