// Proof that a feature is one folder and one registry entry: a throwaway feature that lives only in
// test/fixtures/throwaway-feature is put in a temporary registry, and a real GM and a real LC that
// read that registry run its controller, relay its worker reports and start its local manager —
// with no edit to the GM, the LC or anything else.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type FeatureEntry, loadEdgeFeatures, loadGmFeatures } from '../../src/features/registry.ts';
import { loadGmConfig } from '../../src/gm/config.ts';
import { GlobalManager } from '../../src/gm/gm.ts';
import { LocalController } from '../../src/lc/lc.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { ThrowawayManager } from '../fixtures/throwaway-feature/edge.ts';
import { eventually, kubectl, kubectlOk, type RunningApiServer, startApiServer } from '../helpers/apiserver.ts';

const NODE = 'edge-t';
const TOKEN = 'throwaway-node-token';

const registry: FeatureEntry[] = [
  { name: 'throwaway', kinds: [], gm: () => import('../fixtures/throwaway-feature/controller.ts'), edge: () => import('../fixtures/throwaway-feature/edge.ts') },
];

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: throwaways.sedna.io
spec:
  group: sedna.io
  scope: Namespaced
  names: { kind: Throwaway, listKind: ThrowawayList, plural: throwaways, singular: throwaway }
  versions:
    - name: v1alpha1
      served: true
      storage: true
      subresources: { status: {} }
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
`;

interface ThrowawayStatus {
  seen?: boolean;
  reports?: string[];
}

describe('a feature added as one folder and one registry entry', () => {
  let api: RunningApiServer;
  let dir: string;
  let gm: GlobalManager | undefined;
  let lc: LocalController | undefined;

  before(async () => {
    api = await startApiServer();
    dir = mkdtempSync(join(tmpdir(), 'sedna-feature-registry-'));
    writeFileSync(join(dir, 'tokens.yaml'), `${NODE}: ${TOKEN}\n`);
    await kubectlOk(api.kubeconfig, ['apply', '-f', '-'], CRD);
    await eventually(async () => ((await kubectl(api.kubeconfig, ['get', 'throwaways'])).code === 0 ? true : undefined), 10_000, 'the Throwaway CRD to be served');
  });

  after(async () => {
    await lc?.stop();
    await gm?.stop();
    await api?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const status = async (): Promise<ThrowawayStatus> => {
    const { stdout } = await kubectl(api.kubeconfig, ['get', 'throwaway', 't1', '-o', 'json']);
    return (JSON.parse(stdout) as { status?: ThrowawayStatus }).status ?? {};
  };

  it('runs its controller on the GM, its local manager on the LC, and relays its worker reports', async () => {
    const config = loadGmConfig(undefined, { kubeConfig: api.kubeconfig, websocket: { port: 0, nodeTokens: { file: join(dir, 'tokens.yaml') } }, metrics: { port: 0 } });
    gm = new GlobalManager({
      config,
      identity: 'gm-throwaway',
      leaseNamespace: 'default',
      metricsToken: 'metrics-token',
      features: await loadGmFeatures(registry),
      announce: () => undefined,
      onLostLeadership: () => undefined,
      logger: silentLogger(),
    });
    await gm.start();
    const port = await eventually(() => gm!.edgePort || undefined, 30_000, 'the GM to lead and open its edge hub');
    lc = new LocalController({ nodeName: NODE, features: await loadEdgeFeatures(registry), gmUrl: `ws://127.0.0.1:${port}/`, token: TOKEN, dataDir: dir, port: 0, logger: silentLogger() });
    const workerPort = await lc.start();
    assert.equal(ThrowawayManager.started, 1, 'the local manager started with the LC');

    await kubectlOk(api.kubeconfig, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'sedna.io/v1alpha1', kind: 'Throwaway', metadata: { name: 't1', namespace: 'default' }, spec: { nodeName: NODE } }));
    await eventually(async () => ((await status()).seen ? true : undefined), 30_000, 'the controller to mark t1 seen');
    await eventually(async () => ((await status()).reports?.includes(`${NODE}: {"managerReceived":"t1"}`) ? true : undefined), 30_000, 'the local manager to receive t1 and report it');

    const res = await fetch(`http://127.0.0.1:${workerPort}/sedna/workers/w1/info`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'w1', namespace: 'default', ownerName: 't1', ownerKind: 'throwaway', kind: 'inference', status: 'ok', ownerInfo: { n: 1 } }),
    });
    assert.equal(res.status, 200);
    const relayed = `${NODE}: {"phase":"inference","status":"ok","output":{"models":null,"ownerInfo":{"n":1}}}`;
    await eventually(async () => ((await status()).reports?.includes(relayed) ? true : undefined), 30_000, 'the worker report to be relayed');
  });
});
