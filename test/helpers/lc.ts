// A LocalController with its embedded kubelet, in the test process, against a running API server
// (test/helpers/apiserver.ts). No GM is needed for pods: the LC keeps retrying its GM link in the
// background, and nothing here waits for it.
import { loadEdgeFeatures } from '../../src/features/registry.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LcKubeletOptions, LocalController, type LocalControllerOptions } from '../../src/lc/lc.ts';
import { createLogger, silentLogger } from '../../src/lib/logger.ts';
import type { RunningApiServer } from './apiserver.ts';

export interface RunningLc {
  lc: LocalController;
  dataDir: string;
  /** Stops the LC (its pods and proxy with it) and removes its data directory. */
  stop(): Promise<void>;
}

export async function startLcWithKubelet(
  api: RunningApiServer,
  nodeName: string,
  options: { kubelet?: Partial<LcKubeletOptions>; lc?: Partial<LocalControllerOptions> } = {},
): Promise<RunningLc> {
  const dataDir = mkdtempSync(join(tmpdir(), `sedna-lc-${nodeName}-`));
  const logger = process.env.LC_TEST_LOG ? createLogger('lc', 'debug') : silentLogger();
  const lc = new LocalController({
    nodeName,
    features: await loadEdgeFeatures(),
    // Nothing listens there: the GM link retries quietly while the kubelet runs pods.
    gmUrl: 'ws://127.0.0.1:9/',
    token: 'test-token',
    dataDir,
    port: 0,
    reconnect: { initialDelayMs: 1_000, maxDelayMs: 5_000 },
    logger,
    ...options.lc,
    kubelet: {
      kubeConfig: api.kubeConfig(),
      podLogDir: join(api.dataDir, 'logs'),
      crashBackoff: { initialMs: 200, maxMs: 800 },
      configRetryMs: 200,
      stopGraceMs: 500,
      ...options.kubelet,
    },
  });
  await lc.start();
  return {
    lc,
    dataDir,
    async stop() {
      await lc.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
