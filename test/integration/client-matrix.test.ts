// Every real client works (issue 12 part 1): list, watch, create, patch and delete of a ConfigMap
// through the real kubectl, @kubernetes/client-node, Debian's python3-kubernetes and
// ruby-kubeclient (installed by .ci/run), each against the real server process. The Python client
// is the one that sends watch=True, which the server once answered with a list.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { KUBECTL, kubectlOk, type RunningApiServer, startApiServer } from '../helpers/apiserver.ts';

const CLIENTS = resolve(import.meta.dirname, '../fixtures/clients');
const NS = 'default';

interface VerbResults {
  created: string;
  listed: string[];
  patched: string;
  watched: [string, string, string];
  deleted: boolean;
  afterDelete: number;
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolveRun, reject) => {
    execFile(command, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args[0]} failed: ${err.message}\n${stderr}${stdout}`));
      else resolveRun(stdout);
    });
  });
}

function assertAllVerbs(results: VerbResults, name: string): void {
  assert.equal(results.created, name);
  assert.ok(results.listed.includes(name), `listed ${JSON.stringify(results.listed)}`);
  assert.equal(results.patched, '2');
  assert.deepEqual(results.watched, ['ADDED', name, '2'], 'the watch streamed the object, not a list');
  assert.equal(results.deleted, true);
  assert.equal(results.afterDelete, 404);
}

describe('client matrix: list, watch, create, patch, delete', () => {
  let api: RunningApiServer;
  let kc: k8s.KubeConfig;
  before(async () => {
    api = await startApiServer();
    kc = api.kubeConfig();
  });
  after(async () => {
    await api?.stop();
  });

  it('kubectl', async () => {
    const name = 'from-kubectl';
    const manifest = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { client: 'kubectl' } }, data: { a: '1' } });
    assert.match(await kubectlOk(api.kubeconfig, ['create', '-n', NS, '-f', '-'], manifest), /configmap\/from-kubectl created/);
    assert.match(await kubectlOk(api.kubeconfig, ['get', 'configmaps', '-n', NS, '-l', 'client=kubectl', '-o', 'name']), /configmap\/from-kubectl/);
    await kubectlOk(api.kubeconfig, ['patch', 'configmap', name, '-n', NS, '--type', 'merge', '-p', '{"data":{"a":"2"}}']);
    const watcher = spawn(KUBECTL, ['--kubeconfig', api.kubeconfig, 'get', 'configmap', name, '-n', NS, '--watch', '-o', 'jsonpath={.metadata.name}={.data.a}{"\\n"}']);
    const line = await new Promise<string>((resolveLine, reject) => {
      let out = '';
      watcher.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolveLine(out.split('\n')[0]!);
      });
      watcher.once('exit', (code) => reject(new Error(`kubectl --watch exited ${code}`)));
    });
    watcher.kill();
    assert.equal(line, `${name}=2`);
    await kubectlOk(api.kubeconfig, ['delete', 'configmap', name, '-n', NS]);
    const after = await run(KUBECTL, ['--kubeconfig', api.kubeconfig, 'get', 'configmap', name, '-n', NS, '--ignore-not-found', '-o', 'name']);
    assert.equal(after.trim(), '');
  });

  it('@kubernetes/client-node', async () => {
    const name = 'from-client-node';
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const created = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name, labels: { client: 'node' } }, data: { a: '1' } } });
    const listed = await core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'client=node' });
    const patched = await core.patchNamespacedConfigMap(
      { name, namespace: NS, body: { data: { a: '2' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const watched = await new Promise<[string, string, string]>((resolveWatch, reject) => {
      void new k8s.Watch(kc)
        .watch(`/api/v1/namespaces/${NS}/configmaps`, { fieldSelector: `metadata.name=${name}` }, (type, obj: k8s.V1ConfigMap) => {
          resolveWatch([type, obj.metadata!.name!, obj.data!.a!]);
        }, (err) => (err ? reject(err as Error) : undefined))
        .then((req) => setTimeout(() => req.abort(), 5_000).unref());
    });
    await core.deleteNamespacedConfigMap({ name, namespace: NS });
    const afterDelete = await core.readNamespacedConfigMap({ name, namespace: NS }).then(
      () => 200,
      (err: { code?: number }) => err.code ?? 0,
    );
    assertAllVerbs(
      { created: created.metadata!.name!, listed: listed.items.map((i) => i.metadata!.name!), patched: patched.data!.a!, watched, deleted: true, afterDelete },
      name,
    );
  });

  it("Debian's python3-kubernetes (sends watch=True)", async () => {
    const out = await run('/usr/bin/python3', [join(CLIENTS, 'python-client.py'), api.kubeconfig, NS, 'from-python']);
    assertAllVerbs(JSON.parse(out) as VerbResults, 'from-python');
  });

  it("Debian's ruby-kubeclient", async () => {
    const cluster = kc.getCurrentCluster()!;
    const caFile = join(api.dataDir, 'ca-for-ruby.crt');
    writeFileSync(caFile, Buffer.from(cluster.caData!, 'base64'));
    const out = await run('/usr/bin/ruby', [join(CLIENTS, 'ruby-client.rb'), cluster.server, caFile, kc.getCurrentUser()!.token!, NS, 'from-ruby']);
    assertAllVerbs(JSON.parse(out) as VerbResults, 'from-ruby');
  });
});
