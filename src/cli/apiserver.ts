// `sedna apiserver`: runs the embedded API server until interrupted.
import { createWriteStream } from 'node:fs';
import { ApiServer, type AuditEntry } from '../apiserver/server.ts';
import { createLogger } from '../lib/logger.ts';
import { runDemo } from './demo.ts';
import { stopOnSignal } from './stop-on-signal.ts';

export interface ApiserverFlags {
  dataDir: string;
  port: number;
  host: string;
  advertise?: string[];
  compactInterval: number;
  compactRetain: number;
  demo?: boolean;
  /** Service ClusterIPs are allocated from this IPv4 CIDR (default 127.96.0.0/12, on loopback). */
  serviceClusterIpRange?: string;
  /** Seconds without a kubelet's Lease renewal before its node becomes Ready=Unknown. */
  nodeMonitorGracePeriod?: number;
  /** Seconds a pod without its own not-ready/unreachable toleration stays before NoExecute eviction. */
  defaultTolerationSeconds?: number;
  /** MiB of recent events held in memory for watch replay. */
  watchCacheMib?: number;
  /** MiB of older events a resuming watch may replay from the database before it gets 410 Gone. */
  watchReplayMib?: number;
  /** Append one JSON line per authorization decision here (default: $SEDNA_AUDIT_LOG, else none). */
  auditLog?: string;
}

const MIB = 1024 * 1024;

/** JSON lines, written asynchronously: a slow disk must not stall requests. */
function auditWriter(file: string): (entry: AuditEntry) => void {
  const out = createWriteStream(file, { flags: 'a', mode: 0o600 });
  return (entry) => void out.write(`${JSON.stringify(entry)}\n`);
}

export async function apiserverCommand(flags: ApiserverFlags): Promise<void> {
  const log = createLogger('apiserver');
  const auditLog = flags.auditLog ?? (process.env.SEDNA_AUDIT_LOG || undefined);
  const server = new ApiServer({
    dataDir: flags.dataDir,
    port: flags.port,
    host: flags.host,
    ...(flags.advertise ? { advertise: flags.advertise } : {}),
    compactIntervalMs: flags.compactInterval * 1000,
    compactRetain: flags.compactRetain,
    ...(flags.serviceClusterIpRange ? { serviceClusterIpRange: flags.serviceClusterIpRange } : {}),
    ...(flags.nodeMonitorGracePeriod !== undefined ? { nodeMonitorGracePeriodMs: flags.nodeMonitorGracePeriod * 1000 } : {}),
    ...(flags.defaultTolerationSeconds !== undefined ? { defaultTolerationSeconds: flags.defaultTolerationSeconds } : {}),
    ...(flags.watchCacheMib !== undefined ? { watchCacheBytes: flags.watchCacheMib * MIB } : {}),
    ...(flags.watchReplayMib !== undefined ? { watchReplayBytes: flags.watchReplayMib * MIB } : {}),
    log,
    ...(auditLog ? { audit: auditWriter(auditLog) } : {}),
  });
  await server.start();
  process.stdout.write(`API server listening on ${server.address}\nkubeconfig: ${server.kubeconfigPath}\n`);
  if (flags.demo) await runDemo(server, process.stdout);
  stopOnSignal(log, () => server.stop());
}
