// The proof that the image works as packaged (issue 17, part 5), run by `npm run test:cluster`
// (a CI step after `npm test`: it needs buildah, podman and runc, which .ci/run installs, and
// builds the image). It builds the `sedna` image offline, runs `sedna --version` in it, then runs
// the joint-inference scenario with the GM and the cloud node's LC inside containers against the
// embedded API server on the host, as on a cluster:
// - the GM runs as uid 65532 under its ServiceAccount and ClusterRole (deploy/rbac/gm.yaml), with
//   the gm.yaml of the install (websocket.nodeTokens: the LC's ServiceAccount, audience sedna-gm);
// - each LC proves its node with a token bound to its LC pod (as the DaemonSet's projected
//   token), which the GM checks with a TokenReview and the pod's node;
// - the cloud LC runs as the DaemonSet's does: uid 0 without capabilities, host network. Here it
//   also runs the embedded kubelet of node `cloud` (this machine has no other kubelet), so the
//   cloud worker runs inside that container; the checkout is mounted read-only at its own path
//   because the example's worker code and models come from it (on a cluster: the worker image).
// - edge-1's LC (with its kubelet and the service proxy) stays on the host.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { meetsTarget } from '../../examples/joint-inference/results.ts';
import { runJointInferenceScenario } from '../../examples/joint-inference/run.ts';
import { fashionMnistDir } from '../../examples/joint-inference/fashion-mnist.ts';
import { ensureNodeIdentities, createGmIdentity, writeNodeKubeconfig } from '../../src/up/identities.ts';
import { CLI, kubectlOk, startApiServer, type RunningApiServer } from '../helpers/apiserver.ts';
import { GM_USER } from '../helpers/cluster.ts';
import { eventually } from '../helpers/wait.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const IMAGE = `localhost/sedna-test:${process.pid}`;
const ENV = { ...process.env, CONTAINERS_CONF: join(ROOT, 'deploy/image/containers.conf') };
const NONROOT = 65532;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

async function podman(args: string[], timeoutMs = 120_000): Promise<string> {
  return (await run('podman', args, { env: ENV, timeout: timeoutMs, maxBuffer: 16 << 20 })).stdout;
}

describe('the sedna image: built offline, GM and cloud LC in containers run the joint-inference scenario', { timeout: 900_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sedna-containers-'));
  const containers: string[] = [];
  let api: RunningApiServer;
  let edge: ChildProcess | undefined;
  let buildSeconds = 0;

  before(async () => {
    const started = Date.now();
    const build = await run('bash', [join(ROOT, 'deploy/image/build.sh')], { env: { ...ENV, IMAGE }, timeout: 600_000, maxBuffer: 64 << 20 });
    buildSeconds = (Date.now() - started) / 1000;
    process.stdout.write(`${build.stdout.trim()}\n`);
  });

  after(async () => {
    for (const name of containers) await podman(['rm', '-f', '-t', '5', name]).catch(() => undefined);
    if (edge && edge.exitCode === null) {
      edge.kill('SIGTERM');
      await new Promise((r) => edge!.once('exit', r));
    }
    await api?.stop();
    await podman(['rmi', '-f', IMAGE]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('is built offline, runs as a non-root user and answers sedna --version', async () => {
    const size = Number((await podman(['image', 'inspect', '--format', '{{.Size}}', IMAGE])).trim());
    process.stdout.write(`image built in ${buildSeconds.toFixed(1)} s, ${(size / 1e6).toFixed(0)} MB\n`);
    const [inspected] = JSON.parse(await podman(['image', 'inspect', IMAGE])) as { Config: { User: string; Entrypoint: string[] } }[];
    const config = inspected!.Config;
    assert.equal(config.User, `${NONROOT}:${NONROOT}`);
    assert.deepEqual(config.Entrypoint, ['/usr/local/bin/node', '/app/bin/sedna.js']);
    const version = (await podman(['run', '--rm', '--network', 'none', IMAGE, '--version'])).trim();
    assert.equal(version, (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
    // No shell in the image: nothing but node is needed at run time.
    await assert.rejects(podman(['run', '--rm', '--network', 'none', '--entrypoint', '/bin/sh', IMAGE, '-c', 'true']));
  });

  it('runs the joint-inference scenario with the GM and the cloud LC in containers; the GM stops on SIGTERM', async () => {
    const apiDir = join(dir, 'apiserver');
    const nodeTokens = ensureNodeIdentities(apiDir, ['cloud', 'edge-1']);
    api = await startApiServer({ dataDir: apiDir });
    copyFileSync(api.kubeconfig, join(dir, 'kubeconfig')); // the scenario runner's DATA_DIR/kubeconfig
    // The install's first step: all eleven CRDs.
    await kubectlOk(api.kubeconfig, ['apply', '--server-side', '-f', join(ROOT, 'deploy/crds/all.yaml')]);
    const kc = api.kubeConfig();
    const core = kc.makeApiClient(k8s.CoreV1Api);

    // The GM's identity and configuration, readable by its unprivileged user.
    const gmDir = join(dir, 'gm');
    mkdirSync(gmDir);
    await createGmIdentity(kc, api.kubeconfig, join(gmDir, 'kubeconfig'));
    const edgePort = await freePort();
    const metricsPort = await freePort();
    writeFileSync(join(gmDir, 'gm.yaml'), stringify({
      websocket: { address: '127.0.0.1', port: edgePort, nodeTokens: { serviceAccountName: 'sedna-lc', serviceAccountNamespace: 'sedna', audience: 'sedna-gm' } },
      localController: { server: 'http://localhost:9100' },
      metrics: { address: '127.0.0.1', port: metricsPort },
    }));
    writeFileSync(join(gmDir, 'metrics-token'), 'scrape-me');
    for (const f of ['kubeconfig', 'gm.yaml', 'metrics-token']) chownSync(join(gmDir, f), NONROOT, NONROOT);

    // The LC pods' identity: a ServiceAccount and a token bound to each node's LC pod.
    await core.createNamespacedServiceAccount({ namespace: 'sedna', body: { metadata: { name: 'sedna-lc' } } });
    const tokenFile = async (node: string): Promise<string> => {
      const pod = `lc-${node}`;
      await core.createNamespacedPod({ namespace: 'sedna', body: { metadata: { name: pod }, spec: { nodeName: node, serviceAccountName: 'sedna-lc', containers: [{ name: 'lc', image: IMAGE }] } } });
      const t = await core.createNamespacedServiceAccountToken({ name: 'sedna-lc', namespace: 'sedna', body: { spec: { audiences: ['sedna-gm'], expirationSeconds: 3600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod } } } });
      const file = join(dir, `${node}.token`);
      writeFileSync(file, t.status!.token, { mode: 0o600 });
      return file;
    };

    const gm = `sedna-gm-${process.pid}`;
    containers.push(gm);
    await podman(['run', '-d', '--name', gm, '--network', 'host', '--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '-v', `${gmDir}:${gmDir}:ro`, IMAGE,
      'gm', '--config', join(gmDir, 'gm.yaml'), '--kubeconfig', join(gmDir, 'kubeconfig'), '--metrics-token-file', join(gmDir, 'metrics-token')]);
    await eventually(async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`).then((r) => r.ok, () => false)) || undefined, 90_000, 'the GM in its container leading, its edge hub listening (/readyz)');
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status, 401, '/metrics wants the token');
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { headers: { Authorization: 'Bearer scrape-me' } })).status, 200);

    const nodesDir = join(dir, 'nodes');
    const logs = join(apiDir, 'logs');
    mkdirSync(logs, { recursive: true });
    const cloudDir = join(nodesDir, 'cloud');
    mkdirSync(cloudDir, { recursive: true });
    const cloudKubeconfig = writeNodeKubeconfig(join(dir, 'kubeconfig'), cloudDir, 'cloud', nodeTokens.cloud!);
    const cloudToken = await tokenFile('cloud');
    const datasets = await fashionMnistDir();
    const lc = `sedna-lc-cloud-${process.pid}`;
    containers.push(lc);
    await podman(['run', '-d', '--name', lc, '--network', 'host', '--user', '0:0', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
      '-v', `${ROOT}:${ROOT}:ro`, '-v', `${datasets}:${datasets}:ro`, '-v', `${dir}:${dir}`, IMAGE,
      'lc', '--node', 'cloud', '--gm', `127.0.0.1:${edgePort}`, '--token-file', cloudToken, '--port', '0', '--data-dir', cloudDir,
      '--kubeconfig', cloudKubeconfig, '--pod-log-dir', logs]);

    // edge-1 on the host, as `sedna up` runs it (its kubelet, the service proxy for the cloud Service).
    const edgeDir = join(nodesDir, 'edge-1');
    mkdirSync(edgeDir, { recursive: true });
    const edgeKubeconfig = writeNodeKubeconfig(join(dir, 'kubeconfig'), edgeDir, 'edge-1', nodeTokens['edge-1']!);
    edge = spawn(process.execPath, [CLI, 'lc', '--node', 'edge-1', '--gm', `127.0.0.1:${edgePort}`, '--token-file', await tokenFile('edge-1'), '--port', '0', '--data-dir', edgeDir, '--kubeconfig', edgeKubeconfig, '--pod-log-dir', logs, '--service-proxy'], { stdio: 'ignore', env: { ...process.env, SEDNA_LOG_LEVEL: 'warn' } });

    const results = await runJointInferenceScenario({ dataDir: dir, externalSystem: true, log: () => {}, timeoutMs: 400_000 });
    assert.ok(meetsTarget(results).met, `scenario target: ${JSON.stringify(results)}`);
    assert.equal(results.cloudFailures, 0, 'every offloaded image was answered by the cloud worker in the container');
    assert.ok(results.offloadShare > 0);
    const cloudPod = (await core.listNamespacedPod({ namespace: 'default' })).items.find((p) => p.spec?.nodeName === 'cloud' && p.metadata?.name?.includes('cloud'));
    assert.equal(cloudPod?.status?.phase, 'Running', 'the cloud worker ran under the containerised LC\'s kubelet');

    // SIGTERM: podman stop sends it; the GM releases its Lease and exits 0 well before the kill.
    const t0 = Date.now();
    await podman(['stop', '-t', '20', gm]);
    assert.ok(Date.now() - t0 < 15_000, 'stopped on SIGTERM, not by the kill after the grace period');
    assert.equal((await podman(['inspect', '--format', '{{.State.ExitCode}}', gm])).trim(), '0');
    const denied = api.logs().split('\n').filter((l) => l.includes('"msg":"forbidden"') && l.includes(`"user":"${GM_USER}"`));
    assert.deepEqual(denied, [], 'the GM in its container needed nothing beyond its ClusterRole');
  });
});
