// Server-side apply end to end: the real `kubectl apply --server-side` and client-node's
// KubernetesObjectApi.patch with the apply-patch content type, for a built-in kind (Deployment)
// and a custom resource (Sedna's Dataset): managedFields, field ownership, conflicts naming the
// fields and managers, --force-conflicts, removal of fields a manager stopped applying.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { kubectl, kubectlOk, type RunningApiServer, startApiServer } from '../helpers/apiserver.ts';

const CRDS = resolve(import.meta.dirname, '../../deploy/crds/all.yaml');

interface Managed {
  manager: string;
  operation: string;
  fieldsV1: Record<string, unknown>;
}

interface Obj {
  metadata: { labels?: Record<string, string>; managedFields?: Managed[] };
  spec: Record<string, unknown> & { replicas?: number; template?: { spec: { containers: { name: string; image: string; env?: unknown[] }[] } } };
}

function deployment(image: string, options: { replicas?: number; env?: boolean; label?: boolean } = {}): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
${options.label === false ? '' : '  labels: {team: a}\n'}spec:
${options.replicas !== undefined ? `  replicas: ${options.replicas}\n` : ''}  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: ${image}
${options.env ? '          env: [{name: MODE, value: fast}]\n' : ''}`;
}

describe('server-side apply', () => {
  let server: RunningApiServer;
  let objects: k8s.KubernetesObjectApi;
  const kc = (args: string[], input?: string): Promise<string> => kubectlOk(server.kubeconfig, args, input);
  const get = async (what: string): Promise<Obj> => JSON.parse(await kc(['get', what, '-o', 'json', '--show-managed-fields'])) as Obj;
  const managers = (obj: Obj): string[] => (obj.metadata.managedFields ?? []).map((m) => `${m.manager}/${m.operation}`).sort();

  before(async () => {
    server = await startApiServer();
    objects = k8s.KubernetesObjectApi.makeApiClient(server.kubeConfig());
  });

  after(async () => {
    await server?.stop();
  });

  it('kubectl apply --server-side creates the object and records what kubectl applied', async () => {
    assert.match(await kc(['apply', '--server-side', '-f', '-'], deployment('nginx:1', { replicas: 2, env: true })), /deployment\.apps\/web serverside-applied/);
    const obj = await get('deployment/web');
    assert.deepEqual(managers(obj), ['kubectl/Apply']);
    const fields = obj.metadata.managedFields![0]!.fieldsV1 as { 'f:spec': Record<string, unknown> };
    assert.deepEqual(fields['f:spec']['f:replicas'], {});
    const containers = (fields['f:spec']['f:template'] as { 'f:spec': { 'f:containers': Record<string, Record<string, unknown>> } })['f:spec']['f:containers'];
    assert.deepEqual(Object.keys(containers), ['k:{"name":"web"}']);
    assert.deepEqual(containers['k:{"name":"web"}']!['.'], {});
    // Defaults the server filled are nobody's.
    assert.equal((fields['f:spec'])['f:revisionHistoryLimit'], undefined);
  });

  it('a field another manager changed is a conflict naming the field and the manager; nothing changes', async () => {
    await kc(['patch', 'deployment/web', '-p', '{"spec":{"replicas":4}}']);
    assert.ok(managers(await get('deployment/web')).includes('kubectl-patch/Update'));
    // kubectl scale writes through /scale; its manager owns the replicas now.
    await kc(['scale', 'deployment/web', '--replicas=5']);
    assert.deepEqual(managers(await get('deployment/web')), ['kubectl/Apply', 'kubectl/Update']);
    const r = await kubectl(server.kubeconfig, ['apply', '--server-side', '-f', '-'], deployment('nginx:2', { replicas: 2, env: true }));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Apply failed with 1 conflict: conflict with "kubectl" using apps\/v1: \.spec\.replicas/);
    const obj = await get('deployment/web');
    assert.equal(obj.spec.replicas, 5);
    assert.equal(obj.spec.template!.spec.containers[0]!.image, 'nginx:1');
  });

  it('co-owning: applying the live value is no conflict; leaving the field out leaves it to the other manager', async () => {
    await kc(['apply', '--server-side', '-f', '-'], deployment('nginx:2', { env: true }));
    const obj = await get('deployment/web');
    assert.equal(obj.spec.replicas, 5);
    assert.equal(obj.spec.template!.spec.containers[0]!.image, 'nginx:2');
  });

  it('--force-conflicts takes the field over from the other manager', async () => {
    await kc(['patch', 'deployment/web', '-p', '{"spec":{"replicas":6}}']);
    const r = await kubectl(server.kubeconfig, ['apply', '--server-side', '-f', '-'], deployment('nginx:2', { replicas: 3, env: true }));
    assert.match(r.stderr, /conflict with "kubectl-patch" using apps\/v1: \.spec\.replicas/);
    await kc(['apply', '--server-side', '--force-conflicts', '-f', '-'], deployment('nginx:2', { replicas: 3, env: true }));
    const obj = await get('deployment/web');
    assert.equal(obj.spec.replicas, 3);
    assert.deepEqual(managers(obj), ['kubectl/Apply']);
  });

  it('fields the manager stops applying are removed, unless another manager owns them', async () => {
    await kc(['label', 'deployment/web', 'owner=ops']);
    await kc(['apply', '--server-side', '-f', '-'], deployment('nginx:2', { replicas: 3, label: false }));
    const obj = await get('deployment/web');
    assert.equal(obj.spec.template!.spec.containers[0]!.env, undefined);
    assert.deepEqual(obj.metadata.labels, { owner: 'ops' });
  });

  it('client-node: apply a custom resource as one manager, conflict for another, then force', async () => {
    await kc(['apply', '-f', CRDS]);
    await kc(['wait', '--for=condition=established', 'crd/datasets.sedna.io']);
    const dataset = (url: string): k8s.KubernetesObject & { spec: Record<string, unknown> } => ({
      apiVersion: 'sedna.io/v1alpha1',
      kind: 'Dataset',
      metadata: { name: 'images', namespace: 'default' },
      spec: { url, format: 'txt', nodeName: 'edge-1' },
    });
    const apply = (obj: k8s.KubernetesObject, manager: string, force = false): Promise<k8s.KubernetesObject> =>
      objects.patch(obj, undefined, undefined, manager, force, k8s.PatchStrategy.ServerSideApply);
    await apply(dataset('/data/a.txt'), 'pipeline');
    const conflict = await apply(dataset('/data/b.txt'), 'operator').then(
      () => undefined,
      (err: unknown) => err as { code?: number; body?: unknown },
    );
    assert.equal(conflict?.code, 409);
    const status = (typeof conflict.body === 'string' ? JSON.parse(conflict.body) : conflict.body) as { message: string; details: { causes: { reason: string; field: string; message: string }[] } };
    assert.match(status.message, /conflict with "pipeline" using sedna\.io\/v1alpha1: \.spec\.url/);
    assert.deepEqual(status.details.causes, [{ reason: 'FieldManagerConflict', field: '.spec.url', message: 'conflict with "pipeline" using sedna.io/v1alpha1' }]);
    const forced = (await apply(dataset('/data/b.txt'), 'operator', true)) as k8s.KubernetesObject & { spec: { url: string } };
    assert.equal(forced.spec.url, '/data/b.txt');
    const owners = (forced.metadata!.managedFields ?? []).map((m) => ({ manager: m.manager, url: 'f:url' in ((m.fieldsV1 as { 'f:spec'?: object })['f:spec'] ?? {}) }));
    assert.deepEqual(owners.sort((a, b) => a.manager!.localeCompare(b.manager!)), [
      { manager: 'operator', url: true },
      { manager: 'pipeline', url: false },
    ]);
  });

  it('an apply without a fieldManager, or for another kind, is refused', async () => {
    const noManager = await objects
      .patch({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' } }, undefined, undefined, undefined, undefined, k8s.PatchStrategy.ServerSideApply)
      .then(() => undefined, (err: unknown) => err as { code?: number; body?: unknown });
    assert.equal(noManager?.code, 422);
    assert.match(JSON.stringify(noManager?.body), /fieldManager: Required value: is required for apply patch/);
    const r = await kubectl(server.kubeconfig, ['apply', '--server-side', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: "1"}\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await kc(['get', 'configmap', 'c', '-o', 'jsonpath={.data.a}'])).trim(), '1');
  });
});
