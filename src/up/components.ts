// What `sedna up` runs, as a list of component specs the supervisor starts stage by stage, restarts
// when they crash and stops in reverse: the API server (then the Sedna CRDs and the GM's identity),
// the knowledge base (stage 0, beside the API server: it needs nothing, and the GM hands its URL
// and token to lifelong-learning workers), the GM and the dashboard, one LC with its embedded
// kubelet per node. Each runs under its own identity: the GM as
// ServiceAccount sedna/sedna bound to deploy/rbac/gm.yaml, each LC as system:node:<node>, the
// dashboard as the read-only ServiceAccount sedna/sedna-dashboard (deploy/rbac/dashboard.yaml), not
// with the admin kubeconfig it shows the user. A restarted component gets the port of its previous run, so the kubeconfig,
// the LCs' GM URL and the pods' LC_SERVER stay valid.
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { applyCrds, loadKubeConfig } from './cluster.ts';
import { createDashboardIdentity, createGmIdentity, ensureNodeIdentities, writeNodeKubeconfig } from './identities.ts';

/** URL of a component's current (or last) run, by component name. */
export type UrlOf = (name: string) => string | undefined;

export interface ComponentSpec {
  /** apiserver, gm, lc/<node>, … */
  name: string;
  /** logs/<logName>.log */
  logName: string;
  /** Stages start in ascending order (each waits for the previous one) and stop in descending order. */
  stage: number;
  role: 'apiserver' | 'gm' | 'lc' | 'dashboard' | 'other';
  node?: string;
  /** The `sedna` argv; on a restart `urlOf(name)` is the previous run's URL. */
  args(urlOf: UrlOf): string[];
  /** The output line that says it is ready; group 1 is the URL it serves. */
  ready: RegExp;
  /** Its /metrics: the line that names the URL (group 1), or the URL derived from the ready URL; and the bearer token's file. */
  metrics?: { line?: RegExp; urlOf?: (url: string) => string; tokenFile?: string };
  /** The dashboard's login token (the link's ?token=). */
  tokenFile?: string;
  /** Runs once, after the first start became ready (e.g. apply the CRDs). */
  onFirstReady?(url: string, remainingMs: number): Promise<void>;
}

export interface SednaComponentsOptions {
  dataDir: string;
  nodes: string[];
  port: number;
  tokens: Record<string, string>;
  tokensFile: string;
  /** The bearer token of every component's /metrics but the API server's (which takes the kubeconfig's). */
  metricsTokenFile: string;
  dashboardTokenFile: string;
  /** The knowledge base's bearer token: the KB requires it, the GM gives it to workers as KB_TOKEN. */
  kbTokenFile: string;
  out: Writable;
  /** Extra `sedna apiserver` flags (e.g. the node-lifecycle grace period) and `sedna gm` flags. */
  apiserverArgs?: string[];
  gmArgs?: string[];
  /** Per node, the address its LC dials for the GM's edge hub instead of the hub itself. */
  gmAddressFor?: Record<string, string>;
}

/** The port of a URL, or `fallback` when there is no previous run. */
export function portOf(url: string | undefined, fallback: number): string {
  if (!url) return String(fallback);
  const port = new URL(url).port;
  return port === '' ? String(fallback) : port;
}

export function sednaComponents(options: SednaComponentsOptions): ComponentSpec[] {
  const { dataDir, nodes, tokens, out } = options;
  const apiDir = join(dataDir, 'apiserver');
  const apiKubeconfig = join(apiDir, 'kubeconfig');
  const adminKubeconfig = join(dataDir, 'kubeconfig');
  const gmKubeconfig = join(dataDir, 'gm.kubeconfig');
  const dashboardKubeconfig = join(dataDir, 'dashboard.kubeconfig');
  // tokens.csv must exist before the API server starts: it reads the node identities from it.
  const nodeIdentities = ensureNodeIdentities(apiDir, nodes);
  const metrics = { line: /^metrics listening on (\S+)$/m, tokenFile: options.metricsTokenFile };
  const apiserver: ComponentSpec = {
    name: 'apiserver',
    logName: 'apiserver',
    stage: 0,
    role: 'apiserver',
    args: (urlOf) => ['apiserver', '--data-dir', apiDir, '--port', portOf(urlOf('apiserver'), options.port), ...(options.apiserverArgs ?? [])],
    ready: /^API server listening on (\S+)\nkubeconfig: \S+$/m,
    metrics: { urlOf: (url) => `${url}/metrics` },
    async onFirstReady(_url, remainingMs) {
      copyFileSync(apiKubeconfig, adminKubeconfig);
      chmodSync(adminKubeconfig, 0o600);
      const kc = loadKubeConfig(adminKubeconfig);
      const crds = await applyCrds(kc, undefined, remainingMs);
      out.write(`applied ${crds.length} Sedna CRDs\n`);
      await createGmIdentity(kc, adminKubeconfig, gmKubeconfig);
      await createDashboardIdentity(kc, adminKubeconfig, dashboardKubeconfig);
    },
  };
  const kb: ComponentSpec = {
    name: 'kb',
    logName: 'kb',
    stage: 0,
    role: 'other',
    args: (urlOf) => [
      'kb', '--data-dir', join(dataDir, 'kb'), '--port', portOf(urlOf('kb'), 0), '--token-file', options.kbTokenFile,
      '--metrics-port', '0', '--metrics-token-file', options.metricsTokenFile,
    ],
    ready: /^knowledge base listening on (\S+)$/m,
    metrics,
  };
  const gm: ComponentSpec = {
    name: 'gm',
    logName: 'gm',
    stage: 1,
    role: 'gm',
    args: (urlOf) => [
      'gm', '--kubeconfig', gmKubeconfig, '--node-tokens', options.tokensFile, '--edge-port', portOf(urlOf('gm'), 0), '--metrics-port', '0',
      '--metrics-token-file', options.metricsTokenFile, '--identity', 'sedna-up-gm', '--kb-server', urlOf('kb')!, '--kb-token-file', options.kbTokenFile,
      ...(options.gmArgs ?? []),
    ],
    ready: /^edge hub listening on (\S+)$/m,
    metrics,
  };
  const dashboard: ComponentSpec = {
    name: 'dashboard',
    logName: 'dashboard',
    stage: 1,
    role: 'dashboard',
    args: (urlOf) => ['dashboard', '--kubeconfig', dashboardKubeconfig, '--port', portOf(urlOf('dashboard'), 0), '--token-file', options.dashboardTokenFile],
    ready: /^dashboard listening on (\S+)$/m,
    metrics: { urlOf: (url) => `${url}metrics`, tokenFile: options.dashboardTokenFile },
    tokenFile: options.dashboardTokenFile,
  };
  // One service proxy serves every node: they all share this machine's loopback.
  const lcs = nodes.map((node, index): ComponentSpec => {
    const nodeDir = join(dataDir, 'nodes', node);
    const tokenFile = join(nodeDir, 'token');
    mkdirSync(nodeDir, { recursive: true, mode: 0o700 });
    writeFileSync(tokenFile, `${tokens[node]}\n`, { mode: 0o600 });
    chmodSync(tokenFile, 0o600);
    const name = `lc/${node}`;
    return {
      name,
      logName: `lc-${node}`,
      stage: 2,
      role: 'lc',
      node,
      args: (urlOf) => [
        'lc', '--node', node, '--gm', options.gmAddressFor?.[node] ?? urlOf('gm')!, '--token-file', tokenFile, '--port', portOf(urlOf(name), 0), '--data-dir', nodeDir,
        '--kubeconfig', writeNodeKubeconfig(adminKubeconfig, nodeDir, node, nodeIdentities[node]!), '--pod-log-dir', join(apiDir, 'logs'),
        '--metrics-port', '0', '--metrics-token-file', options.metricsTokenFile,
        ...(index === 0 ? ['--service-proxy'] : []),
      ],
      ready: /^worker API listening on (\S+)$/m,
      metrics,
    };
  });
  return [apiserver, kb, gm, dashboard, ...lcs];
}
