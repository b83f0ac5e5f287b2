// Proof that the install renders and that the API server accepts it: the kustomize base and
// overlay (kubectl kustomize) and the Helm chart (helm template; helm from deploy/tools/helm.sh)
// give the same objects, and every one of them passes a server-side dry-run against the embedded
// API server (admission, schema and RBAC escalation checks included).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { DEPLOY_DIR } from '../../src/deploy/render.ts';
import { KUBECTL, kubectl, kubectlOk, startApiServer, type RunningApiServer } from '../helpers/apiserver.ts';

const run = promisify(execFile);
type Obj = k8s.KubernetesObject;

let api: RunningApiServer;
let helm: string;
const scratch = mkdtempSync(join(tmpdir(), 'sedna-helm-'));
const helmEnv = { ...process.env, HELM_CACHE_HOME: scratch, HELM_CONFIG_HOME: scratch, HELM_DATA_HOME: scratch };

before(async () => {
  helm = (await run('bash', [join(DEPLOY_DIR, 'tools/helm.sh')], { timeout: 120_000 })).stdout.trim();
  api = await startApiServer();
});

after(async () => {
  await api?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function objects(text: string): Obj[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

function key(o: Obj): string {
  return `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
}

function byKey(list: Obj[]): Map<string, Obj> {
  return new Map(list.map((o) => [key(o), o]));
}

async function kustomize(dir: string): Promise<Obj[]> {
  return objects((await run(KUBECTL, ['kustomize', join(DEPLOY_DIR, dir)], { maxBuffer: 64 << 20 })).stdout);
}

async function helmTemplate(namespace: string, ...args: string[]): Promise<Obj[]> {
  const { stdout } = await run(helm, ['template', 'sedna', join(DEPLOY_DIR, 'helm/sedna'), '--namespace', namespace, '--include-crds', ...args], { env: helmEnv, maxBuffer: 64 << 20 });
  return objects(stdout);
}

/** The Helm chart and the kustomize build agree object for object (the chart leaves the Namespace to --create-namespace). */
function assertSame(helmObjects: Obj[], kustomizeObjects: Obj[]): void {
  const fromKustomize = byKey(kustomizeObjects.filter((o) => o.kind !== 'Namespace'));
  const fromHelm = byKey(helmObjects);
  assert.deepEqual([...fromHelm.keys()].sort(), [...fromKustomize.keys()].sort());
  for (const [k, o] of fromHelm) assert.deepEqual(o, fromKustomize.get(k), k);
}

test('helm lint passes and helm template with the default values gives the kustomize base', async () => {
  await run(helm, ['lint', '--strict', join(DEPLOY_DIR, 'helm/sedna')], { env: helmEnv });
  const base = await kustomize('kubernetes/base');
  assert.equal(base.filter((o) => o.kind === 'CustomResourceDefinition').length, 11, 'all eleven CRDs (Sedna installed six)');
  assertSame(await helmTemplate('sedna'), base);
});

test('the edge-only overlay and the chart with values-edge-only-lc.yaml agree, and put the LC on edge nodes only', async () => {
  const overlay = await kustomize('kubernetes/overlays/edge-only-lc');
  assertSame(await helmTemplate('sedna', '-f', join(DEPLOY_DIR, 'helm/sedna/values-edge-only-lc.yaml')), overlay);
  const ds = overlay.find((o) => o.kind === 'DaemonSet') as k8s.V1DaemonSet;
  assert.deepEqual(ds.spec?.template.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms, [
    { matchExpressions: [{ key: 'node-role.kubernetes.io/edge', operator: 'Exists' }] },
  ]);
});

test('a release in another namespace puts every namespaced object and binding subject there, and values reach the objects', async () => {
  const list = await helmTemplate('ai-platform', '--set', 'gm.image=registry.example/sedna:1', '--set', 'gm.websocket.port=9443', '--set', 'lc.gmAddress=gm.ai-platform:9443');
  for (const o of list) if (o.metadata?.namespace !== undefined) assert.equal(o.metadata.namespace, 'ai-platform', key(o));
  for (const o of list.filter((x) => x.kind === 'ClusterRoleBinding')) assert.equal((o as k8s.V1ClusterRoleBinding).subjects?.[0]?.namespace, 'ai-platform');
  const gm = list.find((o) => o.kind === 'Deployment' && o.metadata?.name === 'gm') as k8s.V1Deployment;
  assert.equal(gm.spec?.template.spec?.containers[0]?.image, 'registry.example/sedna:1');
  assert.match((list.find((o) => o.kind === 'ConfigMap') as k8s.V1ConfigMap).data?.['gm.yaml'] ?? '', /port: 9443[\s\S]*serviceAccountNamespace: ai-platform\n/);
  const lc = (list.find((o) => o.kind === 'DaemonSet') as k8s.V1DaemonSet).spec?.template.spec?.containers[0];
  assert.deepEqual(lc?.args?.slice(3, 5), ['--gm', 'gm.ai-platform:9443']);
});

test('every rendered object passes a server-side dry-run against the embedded API server', async () => {
  const all = [...(await kustomize('kubernetes/base')), ...(await kustomize('kubernetes/overlays/edge-only-lc')).filter((o) => o.kind === 'DaemonSet')];
  // The namespace must exist for its objects to be dry-run; it is the only object really created.
  await kubectlOk(api.kubeconfig, ['create', 'namespace', 'sedna']);
  // One kubectl run for all (each kubectl start costs seconds on a loaded machine); it reports every object.
  const objects = all.filter((x) => x.kind !== 'Namespace');
  const result = await kubectl(api.kubeconfig, ['apply', '--server-side', '--dry-run=server', '-f', '-'], objects.map((o) => JSON.stringify(o)).join('\n'));
  assert.equal(result.code, 0, result.stderr);
  const applied = result.stdout.split('\n').filter((line) => line.endsWith('serverside-applied (server dry run)'));
  assert.equal(applied.length, objects.length, result.stdout);
  // A dry run stores nothing.
  const crds = JSON.parse(await kubectlOk(api.kubeconfig, ['get', 'crd', '-o', 'json'])) as { items: unknown[] };
  assert.equal(crds.items.length, 0);
});
