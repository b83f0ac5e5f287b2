// `sedna kb`: the knowledge-base server of lifelong learning (src/kb/server.ts). State in DATA_DIR:
// kb.sqlite3 (the tables and the current index) and files/ (uploaded models and samples). Prints
// `knowledge base listening on URL` and, with --metrics-port, `metrics listening on URL`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KbDatabase } from '../kb/db.ts';
import { KbFiles } from '../kb/files.ts';
import { kbMetrics } from '../kb/metrics.ts';
import { KbServer } from '../kb/server.ts';
import { createLogger } from '../lib/logger.ts';
import { MetricsServer } from '../lib/net/metrics-server.ts';
import { stopOnSignal } from './stop-on-signal.ts';

export interface KbFlags {
  dataDir: string;
  port: number;
  address: string;
  tokenFile?: string;
  maxUploadBytes?: number;
  maxIndexBytes?: number;
  metricsPort?: number;
  metricsTokenFile?: string;
}

function readToken(file: string | undefined, envName: string): string | undefined {
  if (file) return readFileSync(file, 'utf8').trim();
  return process.env[envName] || undefined;
}

export async function kbCommand(flags: KbFlags): Promise<void> {
  const log = createLogger('kb');
  const token = readToken(flags.tokenFile, 'SEDNA_KB_TOKEN');
  if (!token) throw new Error('the knowledge base needs a token: --token-file or $SEDNA_KB_TOKEN (workers get it as KB_TOKEN)');
  const metricsToken = readToken(flags.metricsTokenFile, 'SEDNA_KB_METRICS_TOKEN');
  if (flags.metricsPort !== undefined && !metricsToken) throw new Error('--metrics-port needs a bearer token: --metrics-token-file or $SEDNA_KB_METRICS_TOKEN');
  const db = new KbDatabase(join(flags.dataDir, 'kb.sqlite3'));
  const metrics = kbMetrics(() => db.counts());
  const server = new KbServer({
    db,
    files: new KbFiles(join(flags.dataDir, 'files')),
    token,
    logger: log,
    metrics,
    address: flags.address,
    port: flags.port,
    ...(flags.maxUploadBytes !== undefined ? { maxUploadBytes: flags.maxUploadBytes } : {}),
    ...(flags.maxIndexBytes !== undefined ? { maxIndexBytes: flags.maxIndexBytes } : {}),
  });
  const bound = await server.start();
  const host = flags.address.includes(':') ? `[${flags.address}]` : flags.address;
  process.stdout.write(`knowledge base listening on http://${host}:${bound}\n`);
  let metricsServer: MetricsServer | undefined;
  if (flags.metricsPort !== undefined) {
    metricsServer = new MetricsServer(metrics.registry, metricsToken!);
    const metricsPort = await metricsServer.start(flags.metricsPort, flags.address);
    process.stdout.write(`metrics listening on http://${host}:${metricsPort}/metrics\n`);
  }
  stopOnSignal(log, async () => {
    await metricsServer?.stop();
    await server.stop();
    db.close();
  });
}
