// `sedna dashboard`: the web UI. Prints `dashboard listening on URL` on stdout; with no token
// given it makes one and prints the login link (`open URL?token=…`), as Jupyter does.
// /metrics takes the same token as `Authorization: Bearer <token>`.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { DashboardServer } from '../dashboard/server.ts';
import { createLogger } from '../lib/logger.ts';
import { stopOnSignal } from './stop-on-signal.ts';

export interface DashboardFlags {
  kubeconfig?: string;
  port: number;
  address: string;
  tokenFile?: string;
  hostName?: string[];
}

export async function dashboardCommand(flags: DashboardFlags): Promise<void> {
  const log = createLogger('dashboard');
  const kc = new k8s.KubeConfig();
  if (flags.kubeconfig) kc.loadFromFile(flags.kubeconfig);
  else kc.loadFromDefault();
  const given = flags.tokenFile ? readFileSync(flags.tokenFile, 'utf8').trim() : process.env.SEDNA_DASHBOARD_TOKEN || undefined;
  const token = given ?? randomBytes(24).toString('hex');
  const dashboard = new DashboardServer({
    kubeConfig: kc,
    token,
    port: flags.port,
    address: flags.address,
    ...(flags.hostName ? { hostNames: flags.hostName } : {}),
    onWatchError: (kind, err) => log.warn({ kind, err: (err as Error)?.message ?? String(err) }, 'watch failed; retrying'),
  });
  const url = await dashboard.start();
  process.stdout.write(`dashboard listening on ${url}\nmetrics listening on ${url}metrics\n`);
  if (given === undefined) process.stdout.write(`open ${url}?token=${token}\n`);
  stopOnSignal(log, () => dashboard.stop());
}
