// `sedna gm`: the GlobalManager. Prints the listeners it opens on stdout (`metrics listening on
// http://…/metrics`, and once leading `edge hub listening on ws://HOST:PORT`), logs JSON on stderr.
// /metrics needs `Authorization: Bearer <token>`: the token in --metrics-token-file, else
// $SEDNA_GM_METRICS_TOKEN, else the kubeconfig user's bearer token.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { loadGmConfig, type GmConfigInput } from '../gm/config.ts';
import { loadGmFeatures } from '../features/registry.ts';
import { GlobalManager } from '../gm/gm.ts';
import { createLogger } from '../lib/logger.ts';
import { stopOnSignal } from './stop-on-signal.ts';

export interface GmFlags {
  kubeconfig?: string;
  config?: string;
  edgePort?: number;
  edgeAddress?: string;
  nodeTokens?: string;
  metricsPort?: number;
  metricsTokenFile?: string;
  identity?: string;
  leaseNamespace?: string;
  leaseDuration?: number;
  kbServer?: string;
  kbTokenFile?: string;
}

export async function gmCommand(flags: GmFlags): Promise<void> {
  const log = createLogger('gm');
  const overrides: GmConfigInput = {
    kubeConfig: flags.kubeconfig,
    websocket: { port: flags.edgePort, address: flags.edgeAddress, ...(flags.nodeTokens ? { nodeTokens: { file: flags.nodeTokens } } : {}) },
    metrics: { port: flags.metricsPort },
    knowledgeBaseServer: { server: flags.kbServer, tokenFile: flags.kbTokenFile },
  };
  const config = loadGmConfig(flags.config, overrides);
  const metricsToken = flags.metricsTokenFile ? readFileSync(flags.metricsTokenFile, 'utf8').trim() : process.env.SEDNA_GM_METRICS_TOKEN || undefined;
  const gm = new GlobalManager({
    config,
    identity: flags.identity ?? `${hostname()}_${process.pid}`,
    leaseNamespace: flags.leaseNamespace ?? (process.env.POD_NAMESPACE || config.namespace || 'default'),
    ...(flags.leaseDuration !== undefined ? { leaseDurationSeconds: flags.leaseDuration } : {}),
    ...(metricsToken !== undefined ? { metricsToken } : {}),
    features: await loadGmFeatures(),
    logger: log,
  });
  await gm.start();
  stopOnSignal(log, () => gm.stop());
}
