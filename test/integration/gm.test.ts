// The GlobalManager end to end: the real API server and GM processes, driven with the real
// kubectl, and EdgeClients standing in for the nodes' LocalControllers.
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { EdgeMessage } from '../../src/api/edge-protocol.ts';
import { EdgeClient, type EdgeConnectError } from '../../src/edgelink/index.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { CLI, eventually, kubectl, kubectlOk, type RunningApiServer, startApiServer } from '../helpers/apiserver.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const TOKENS: Record<string, string> = { 'edge-1': 'token-of-edge-1', 'edge-2': 'token-of-edge-2' };

interface GmProcess {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` on stdout. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  edgePort(timeoutMs?: number): Promise<number>;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

function startGm(kubeconfig: string, tokensFile: string, identity: string): GmProcess {
  const child = spawn(
    process.execPath,
    [CLI, 'gm', '--kubeconfig', kubeconfig, '--edge-port', '0', '--metrics-port', '0', '--node-tokens', tokensFile, '--identity', identity],
    { env: { ...process.env, SEDNA_LOG_LEVEL: process.env.SEDNA_LOG_LEVEL ?? 'warn' } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const waitFor = (pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> =>
    eventually(() => pattern.exec(stdout) ?? undefined, timeoutMs, `GM ${identity} to print ${pattern}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    waitFor,
    edgePort: async (timeoutMs) => Number((await waitFor(/edge hub listening on ws:\/\/127\.0\.0\.1:(\d+)/, timeoutMs))[1]),
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A stand-in LocalController: records what it receives, reports what it is told to. */
class TestLc {
  readonly received: EdgeMessage[] = [];
  readonly client: EdgeClient;

  constructor(port: number, node: string, token: string, onDataset?: (lc: TestLc, message: EdgeMessage) => void) {
    this.client = new EdgeClient({
      url: `ws://127.0.0.1:${port}/`,
      nodeName: node,
      token,
      logger: silentLogger(),
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    });
    this.client.onMessage('dataset', (message) => {
      this.received.push(message);
      onDataset?.(this, message);
    });
  }

  start(): this {
    this.client.start();
    return this;
  }

  report(kind: string, namespace: string, name: string, content: unknown): void {
    this.client.send({ header: { namespace, resourceKind: kind, resourceName: name, operation: 'status' }, content });
  }

  waitForMessage(match: (message: EdgeMessage) => boolean, what: string, timeoutMs = 10_000): Promise<EdgeMessage> {
    return eventually(() => this.received.find(match), timeoutMs, what);
  }

  stop(): Promise<void> {
    return this.client.stop(200);
  }
}

function datasetYaml(name: string, node: string, url = `/data/${name}/index.txt`): string {
  return `apiVersion: sedna.io/v1alpha1
kind: Dataset
metadata:
  name: ${name}
  namespace: default
spec:
  url: "${url}"
  format: txt
  nodeName: ${node}
`;
}

interface DatasetObject {
  metadata: { generation: number };
  spec: { url: string; nodeName: string };
  status?: {
    numberOfSamples?: number;
    updateTime?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string; observedGeneration?: number }[];
  };
}

describe('GlobalManager', { timeout: 180_000 }, () => {
  let api: RunningApiServer;
  let dir: string;
  let tokensFile: string;
  let gmA: GmProcess;
  let portA: number;
  const lcs: TestLc[] = [];
  const gms: GmProcess[] = [];

  const getDataset = async (name: string): Promise<DatasetObject> =>
    parseYaml(await kubectlOk(api.kubeconfig, ['get', 'dataset', name, '-n', 'default', '-o', 'yaml'])) as DatasetObject;

  const lc = (port: number, node: string, token = TOKENS[node]!, onDataset?: (lc: TestLc, message: EdgeMessage) => void): TestLc => {
    const client = new TestLc(port, node, token, onDataset);
    lcs.push(client);
    return client;
  };

  before(async () => {
    api = await startApiServer();
    dir = mkdtempSync(join(tmpdir(), 'sedna-gm-test-'));
    tokensFile = join(dir, 'node-tokens.yaml');
    writeFileSync(tokensFile, Object.entries(TOKENS).map(([node, token]) => `${node}: ${token}\n`).join(''));
    await kubectlOk(api.kubeconfig, ['apply', '-f', join(ROOT, 'deploy/crds/all.yaml')]);
    await eventually(async () => ((await kubectl(api.kubeconfig, ['get', 'datasets'])).code === 0 ? true : undefined), 10_000, 'the Dataset CRD to be served');
    gmA = startGm(api.kubeconfig, tokensFile, 'gm-a');
    gms.push(gmA);
    portA = await gmA.edgePort();
  });

  after(async () => {
    await Promise.all(lcs.map((client) => client.stop()));
    await Promise.all(gms.map((gm) => gm.stop()));
    await api?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('applies every example YAML', async () => {
    const examples = readdirSync(join(ROOT, 'examples')).filter((file) => file.endsWith('.yaml'));
    assert.ok(examples.length >= 10);
    for (const file of examples) {
      const result = await kubectl(api.kubeconfig, ['apply', '-f', join(ROOT, 'examples', file)]);
      assert.equal(result.code, 0, `${file}: ${result.stderr}`);
    }
  });

  it('marks a Dataset bound to a node without credentials as not ready, naming the node', async () => {
    // examples/dataset.yaml is bound to edge-node, which has no token.
    const dataset = await eventually(async () => {
      const ds = await getDataset('incremental-dataset');
      return ds.status?.conditions?.some((c) => c.reason === 'NodeNotRegistered') ? ds : undefined;
    }, 10_000, 'the NodeNotRegistered condition');
    const ready = dataset.status!.conditions!.find((c) => c.type === 'Ready')!;
    assert.equal(ready.status, 'False');
    assert.match(ready.message!, /edge-node/);
    assert.equal(ready.observedGeneration, dataset.metadata.generation);
  });

  it('sends a Dataset to its node and writes the reported sample count into its status', async () => {
    const edge1 = lc(portA, 'edge-1').start();
    await kubectlOk(api.kubeconfig, ['apply', '-f', '-'], datasetYaml('ds-one', 'edge-1'));
    const message = await edge1.waitForMessage((m) => m.header.resourceName === 'ds-one' && m.header.operation === 'insert', 'ds-one to reach edge-1');
    assert.deepEqual(message.header, { namespace: 'default', resourceKind: 'dataset', resourceName: 'ds-one', operation: 'insert' });
    const content = message.content as { kind: string; metadata: { name: string }; spec: { url: string; nodeName: string } };
    assert.equal(content.kind, 'Dataset');
    assert.equal(content.metadata.name, 'ds-one');
    assert.deepEqual(content.spec, { url: '/data/ds-one/index.txt', format: 'txt', nodeName: 'edge-1' });

    // The LC copies the object's kind into resourceKind (spec §3.2); the GM lower-cases it.
    edge1.report('Dataset', 'default', 'ds-one', { numberOfSamples: 1234 });
    const dataset = await eventually(async () => {
      const ds = await getDataset('ds-one');
      return ds.status?.numberOfSamples === 1234 ? ds : undefined;
    }, 10_000, 'numberOfSamples in kubectl get dataset -o yaml');
    assert.ok(dataset.status!.updateTime, 'updateTime defaults to now');
    const ready = dataset.status!.conditions!.find((c) => c.type === 'Ready')!;
    assert.equal(ready.status, 'True');
    assert.equal(ready.reason, 'SamplesReported');
    assert.equal(ready.message, 'node edge-1 reported 1234 samples');
    assert.equal(ready.observedGeneration, dataset.metadata.generation);
    const printed = await kubectlOk(api.kubeconfig, ['get', 'dataset', 'ds-one']);
    assert.match(printed, /ds-one\s+edge-1\s+txt\s+1234/);
  });

  it('sends a Dataset naming a credential Secret with the sedna.io/credential annotation, never stored', async () => {
    await kubectlOk(api.kubeconfig, ['create', 'secret', 'generic', 's3cred', '--from-literal=ACCESS_KEY_ID=ak', '--from-literal=SECRET_ACCESS_KEY=sk']);
    await kubectlOk(api.kubeconfig, ['annotate', 'secret', 's3cred', 's3-endpoint=minio.local:9000', 's3-usehttps=0']);
    const edge1 = lcs.find((client) => client.client.connected)!;
    const yaml = datasetYaml('ds-s3', 'edge-1', 's3://bucket/index.txt').replace('  nodeName: edge-1\n', '  nodeName: edge-1\n  credentialName: s3cred\n');
    await kubectlOk(api.kubeconfig, ['apply', '-f', '-'], yaml);
    const message = await edge1.waitForMessage((m) => m.header.resourceName === 'ds-s3', 'ds-s3 to reach edge-1');
    const annotations = (message.content as { metadata: { annotations: Record<string, string> } }).metadata.annotations;
    assert.deepEqual(JSON.parse(annotations['sedna.io/credential']!), { 's3-endpoint': 'minio.local:9000', 's3-usehttps': '0', ACCESS_KEY_ID: 'ak', SECRET_ACCESS_KEY: 'sk' });
    const stored = parseYaml(await kubectlOk(api.kubeconfig, ['get', 'dataset', 'ds-s3', '-o', 'yaml'])) as { metadata: { annotations?: Record<string, string> } };
    assert.equal(stored.metadata.annotations?.['sedna.io/credential'], undefined);
    await kubectlOk(api.kubeconfig, ['delete', 'dataset', 'ds-s3']);
  });

  it('refuses a report about a Dataset from a node it is not bound to', async () => {
    const edge2 = lc(portA, 'edge-2').start();
    edge2.report('dataset', 'default', 'ds-one', { numberOfSamples: 1 });
    // Acknowledged (so not redelivered) but not written.
    await eventually(() => (edge2.client.pending === 0 && edge2.client.connected ? true : undefined), 10_000, 'the refused report to be acknowledged');
    assert.equal((await getDataset('ds-one')).status?.numberOfSamples, 1234);
    await edge2.stop();
  });

  it('refuses a node presenting a bad token with 401', async () => {
    const intruder = lc(portA, 'edge-1', 'not-the-token');
    const refused = new Promise<EdgeConnectError>((resolveError) => intruder.client.onConnectError(resolveError));
    intruder.start();
    const err = await refused;
    assert.equal(err.statusCode, 401);
    await intruder.stop();
    const unknown = lc(portA, 'edge-9', 'whatever');
    const refusedUnknown = new Promise<EdgeConnectError>((resolveError) => unknown.client.onConnectError(resolveError));
    unknown.start();
    assert.equal((await refusedUnknown).statusCode, 401);
    await unknown.stop();
  });

  it('refuses a Dataset without spec.url, naming the field', async () => {
    const result = await kubectl(api.kubeconfig, ['apply', '-f', '-'], 'apiVersion: sedna.io/v1alpha1\nkind: Dataset\nmetadata:\n  name: bad\nspec:\n  format: txt\n  nodeName: edge-1\n');
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /spec\.url/);
  });

  it('sends a reconnecting node the current state of its resources, and a delete on deletion', async () => {
    const first = lcs.find((client) => client.client.connected && client.received.some((m) => m.header.resourceName === 'ds-one'))!;
    await first.stop();
    await kubectlOk(api.kubeconfig, ['patch', 'dataset', 'ds-one', '--type=merge', '-p', '{"spec":{"url":"/data/ds-one/v2.txt"}}']);
    await kubectlOk(api.kubeconfig, ['apply', '-f', '-'], datasetYaml('ds-two', 'edge-1'));
    const again = lc(portA, 'edge-1').start();
    const current = await again.waitForMessage((m) => m.header.resourceName === 'ds-one', 'ds-one after reconnecting');
    assert.equal(current.header.operation, 'insert');
    assert.equal((current.content as DatasetObject).spec.url, '/data/ds-one/v2.txt');
    await again.waitForMessage((m) => m.header.resourceName === 'ds-two' && m.header.operation === 'insert', 'ds-two after reconnecting');
    // Only edge-1's resources: nothing of another node.
    assert.ok(again.received.every((m) => (m.content as DatasetObject).spec.nodeName === 'edge-1'));

    await kubectlOk(api.kubeconfig, ['delete', 'dataset', 'ds-two']);
    const deleted = await again.waitForMessage((m) => m.header.resourceName === 'ds-two' && m.header.operation === 'delete', 'the delete of ds-two');
    assert.equal((deleted.content as { metadata: { name: string } }).metadata.name, 'ds-two');
  });

  it('moves a Dataset whose nodeName changes: a delete to the old node, an insert to the new one', async () => {
    const edge1 = lcs.find((client) => client.client.connected && client.received.some((m) => m.header.resourceName === 'ds-one'))!;
    const edge2 = lc(portA, 'edge-2').start();
    await kubectlOk(api.kubeconfig, ['apply', '-f', '-'], datasetYaml('ds-moving', 'edge-1'));
    await edge1.waitForMessage((m) => m.header.resourceName === 'ds-moving' && m.header.operation === 'insert', 'ds-moving on edge-1');
    await kubectlOk(api.kubeconfig, ['patch', 'dataset', 'ds-moving', '--type=merge', '-p', '{"spec":{"nodeName":"edge-2"}}']);
    await edge1.waitForMessage((m) => m.header.resourceName === 'ds-moving' && m.header.operation === 'delete', 'the delete of ds-moving on edge-1');
    const moved = await edge2.waitForMessage((m) => m.header.resourceName === 'ds-moving' && m.header.operation === 'insert', 'ds-moving on edge-2');
    assert.equal((moved.content as DatasetObject).spec.nodeName, 'edge-2');
    await kubectlOk(api.kubeconfig, ['delete', 'dataset', 'ds-moving']);
    await edge2.waitForMessage((m) => m.header.resourceName === 'ds-moving' && m.header.operation === 'delete', 'the delete of ds-moving on edge-2');
    await edge2.stop();
  });

  it('writes model metrics reported upstream into the Model status', async () => {
    const edge1 = lcs.find((client) => client.client.connected)!;
    edge1.report('model', 'default', 'helmet-detection-model', { metrics: { precision: 0.91, recall: '0.88' } });
    const model = await eventually(async () => {
      const obj = parseYaml(await kubectlOk(api.kubeconfig, ['get', 'model', 'helmet-detection-model', '-o', 'yaml'])) as { status?: { metrics?: unknown[]; updateTime?: string } };
      return obj.status?.metrics ? obj : undefined;
    }, 10_000, 'model metrics');
    assert.deepEqual(model.status!.metrics, [{ key: 'precision', value: '0.91' }, { key: 'recall', value: '0.88' }]);
    assert.ok(model.status!.updateTime);
  });

  it('serves Prometheus metrics only with the bearer token', async () => {
    const url = (await gmA.waitFor(/metrics listening on (\S+)/))[1]!;
    assert.equal((await fetch(url)).status, 401);
    const token = (parseYaml(await kubectlOk(api.kubeconfig, ['config', 'view', '--raw', '-o', 'yaml'])) as { users: { user: { token: string } }[] }).users[0]!.user.token;
    const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const text = await res.text();
    for (const name of ['controller_runtime_reconcile_total{controller="dataset"', 'workqueue_depth{name="dataset"}', 'sedna_edge_messages_total{direction="upstream",kind="dataset"}', 'sedna_edge_connected_nodes', 'sedna_gm_leader 1', 'process_resident_memory_bytes']) {
      assert.ok(text.includes(name), `metrics lack ${name}`);
    }
  });

  it('fails over: a standby takes over within 15 s of the leader being killed, without duplicates', async () => {
    const gmB = startGm(api.kubeconfig, tokensFile, 'gm-b');
    gms.push(gmB);
    await gmB.waitFor(/waiting for leadership/);
    await new Promise((r) => setTimeout(r, 2_000));
    assert.doesNotMatch(gmB.stdout(), /leading as|edge hub listening/, 'the standby must not lead while the leader lives');

    const datasetsBefore = (await kubectlOk(api.kubeconfig, ['get', 'datasets', '-A', '-o', 'name'])).trim().split('\n').length;
    const killedAt = Date.now();
    await gmA.kill9();
    const portB = await gmB.edgePort(15_000);
    const tookOverMs = Date.now() - killedAt;
    assert.ok(tookOverMs < 15_000, `took over after ${tookOverMs} ms`);

    const edge1 = lc(portB, 'edge-1', TOKENS['edge-1'], (client, message) => {
      if (message.header.operation === 'insert') client.report('Dataset', message.header.namespace, message.header.resourceName, { numberOfSamples: 7 });
    }).start();
    await edge1.waitForMessage((m) => m.header.resourceName === 'ds-one', 'the full state from the new leader');
    await kubectlOk(api.kubeconfig, ['apply', '-f', '-'], datasetYaml('ds-after-failover', 'edge-1'));
    await edge1.waitForMessage((m) => m.header.resourceName === 'ds-after-failover', 'a new Dataset through the new leader');
    await eventually(async () => ((await getDataset('ds-after-failover')).status?.numberOfSamples === 7 ? true : undefined), 10_000, 'status via the new leader');

    const leases = parseYaml(await kubectlOk(api.kubeconfig, ['get', 'leases', '-A', '-o', 'yaml'])) as { items: { metadata: { name: string }; spec: { holderIdentity: string } }[] };
    const gmLeases = leases.items.filter((l) => l.metadata.name === 'sedna-gm');
    assert.equal(gmLeases.length, 1);
    assert.equal(gmLeases[0]!.spec.holderIdentity, 'gm-b');
    const datasetsAfter = (await kubectlOk(api.kubeconfig, ['get', 'datasets', '-A', '-o', 'name'])).trim().split('\n').length;
    assert.equal(datasetsAfter, datasetsBefore + 1, 'the GM creates no objects of its own');
    const events = parseYaml(await kubectlOk(api.kubeconfig, ['get', 'events', '-A', '-o', 'yaml'])) as { items: { metadata: { name: string } }[] };
    const names = events.items.map((e) => e.metadata.name);
    assert.equal(new Set(names).size, names.length, 'no duplicate Events');
  });

  it('exits non-zero when it loses the Lease, as kube controllers do', async () => {
    const leader = gms.find((gm) => gm.child.exitCode === null && gm.child.signalCode === null && /leading as/.test(gm.stdout()))!;
    const exited = new Promise<number | null>((r) => leader.child.once('exit', (code) => r(code)));
    const now = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
    await kubectlOk(api.kubeconfig, ['patch', 'lease', 'sedna-gm', '-n', 'default', '--type=merge', '-p', JSON.stringify({ spec: { holderIdentity: 'intruder', renewTime: now, leaseDurationSeconds: 60 } })]);
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000))]);
    assert.equal(code, 1, `the GM should exit 1 after losing the lease\n${leader.stderr().slice(-2000)}`);
  });
});
