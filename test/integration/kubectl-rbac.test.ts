// End to end through the real kubectl: who may do what. Node identities from the API server's
// token file (Node authorizer + NodeRestriction), RBAC Roles and bindings for users and service
// accounts, TokenRequest / TokenReview, impersonation, and the GM's shipped ClusterRole.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { kubectl, kubectlOk, type KubectlResult, type RunningApiServer, startApiServer } from '../helpers/apiserver.ts';

const GM_RBAC = resolve(import.meta.dirname, '../../deploy/rbac/gm.yaml');
const CRDS = resolve(import.meta.dirname, '../../deploy/crds/all.yaml');

interface Kubeconfig {
  users: { name: string; user: { token: string } }[];
}

describe('authorization: nodes, RBAC, service account tokens', () => {
  let server: RunningApiServer;
  let dataDir: string;
  const admin = (args: string[], input?: string): Promise<string> => kubectlOk(server.kubeconfig, args, input);
  const configs = new Map<string, string>();
  /** A kubeconfig like the admin's that presents `token`. */
  const kubeconfigFor = (name: string, token: string): string => {
    const config = parse(readFileSync(server.kubeconfig, 'utf8')) as Kubeconfig;
    config.users[0]!.user = { token };
    const file = join(dataDir, `${name}.kubeconfig`);
    writeFileSync(file, stringify(config), { mode: 0o600 });
    configs.set(name, file);
    return file;
  };
  const as = (name: string, args: string[], input?: string): Promise<KubectlResult> => kubectl(configs.get(name)!, args, input);
  const forbidden = (r: KubectlResult): void => {
    assert.notEqual(r.code, 0, `expected a refusal, got: ${r.stdout}`);
    assert.match(r.stderr, /Forbidden|forbidden/);
  };

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sedna-rbac-'));
    writeFileSync(join(dataDir, 'tokens.csv'), ['n1-token,system:node:n1,,system:nodes', 'n2-token,system:node:n2,,system:nodes', 'alice-token,alice,,developers'].join('\n'));
    server = await startApiServer({ dataDir });
    kubeconfigFor('n1', 'n1-token');
    kubeconfigFor('n2', 'n2-token');
    kubeconfigFor('alice', 'alice-token');
    // Two nodes register themselves; each node's pod uses one Secret and one ConfigMap.
    for (const node of ['n1', 'n2']) {
      const r = await as(node, ['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: node } }));
      assert.equal(r.code, 0, r.stderr);
      await admin(['create', 'secret', 'generic', `${node}-secret`, '--from-literal=k=v']);
      await admin(['create', 'configmap', `${node}-config`, '--from-literal=k=v']);
      await admin(['apply', '-f', '-'], JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `${node}-pod` },
        spec: {
          nodeName: node,
          containers: [{ name: 'main', image: 'node', env: [{ name: 'K', valueFrom: { secretKeyRef: { name: `${node}-secret`, key: 'k' } } }] }],
          volumes: [{ name: 'cfg', configMap: { name: `${node}-config` } }],
        },
      }));
    }
  });

  after(async () => {
    await server?.stop();
  });

  it('an unknown token is 401 and the admin is system:masters', async () => {
    kubeconfigFor('nobody', 'not-a-token');
    const r = await as('nobody', ['get', 'pods']);
    assert.match(r.stderr, /Unauthorized|must be logged in/);
    assert.match(await admin(['auth', 'whoami']), /kubernetes-admin[\s\S]*system:masters/);
    assert.match((await as('n1', ['auth', 'whoami'])).stdout, /system:node:n1[\s\S]*system:nodes/);
  });

  it("a node reads the Secrets and ConfigMaps its own pods use, never another node's, and cannot list them", async () => {
    assert.equal((await as('n1', ['get', 'secret', 'n1-secret', '-o', 'name'])).stdout.trim(), 'secret/n1-secret');
    assert.equal((await as('n1', ['get', 'configmap', 'n1-config', '-o', 'name'])).stdout.trim(), 'configmap/n1-config');
    const other = await as('n1', ['get', 'secret', 'n2-secret']);
    forbidden(other);
    assert.match(other.stderr, /secrets "n2-secret" is forbidden: User "system:node:n1" cannot get resource "secrets".*no relationship found between node 'n1' and this object/);
    forbidden(await as('n1', ['get', 'configmap', 'n2-config']));
    forbidden(await as('n1', ['get', 'secrets']));
    // n2 can, so the refusal is about n1, not the object.
    assert.equal((await as('n2', ['get', 'secret', 'n2-secret', '-o', 'name'])).code, 0);
  });

  it("a node writes the status of and deletes its own pods, never another node's", async () => {
    const status = JSON.stringify({ status: { phase: 'Running' } });
    assert.equal((await as('n1', ['patch', 'pod', 'n1-pod', '--subresource=status', '--type=merge', '-p', status])).code, 0);
    const theirs = await as('n1', ['patch', 'pod', 'n2-pod', '--subresource=status', '--type=merge', '-p', status]);
    forbidden(theirs);
    assert.match(theirs.stderr, /node "n1" can only modify pods bound to itself/);
    // Outside status, a node may not edit even its own pod.
    const label = await as('n1', ['label', 'pod', 'n1-pod', 'x=y']);
    forbidden(label);
    forbidden(await as('n1', ['delete', 'pod', 'n2-pod', '--grace-period=0', '--force']));
    const steal = await as('n1', ['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stolen' }, spec: { nodeName: 'n2', containers: [{ name: 'm', image: 'node' }] } }));
    forbidden(steal);
    assert.equal((await admin(['get', 'pod', 'n2-pod', '-o', 'jsonpath={.status.phase}'])).trim(), 'Pending');
    assert.equal((await as('n1', ['delete', 'pod', 'n1-pod', '--grace-period=0', '--force'])).code, 0);
  });

  it('a node modifies only its own Node and Lease', async () => {
    assert.equal((await as('n1', ['label', 'node', 'n1', 'zone=a'])).code, 0);
    forbidden(await as('n1', ['label', 'node', 'n2', 'zone=a']));
    forbidden(await as('n1', ['label', 'node', 'n1', 'node-restriction.kubernetes.io/pool=x']));
    forbidden(await as('n1', ['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n9' } })));
    const lease = (name: string): string => JSON.stringify({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' }, spec: { holderIdentity: name } });
    assert.equal((await as('n1', ['create', '-f', '-'], lease('n1'))).code, 0);
    forbidden(await as('n1', ['create', '-f', '-'], lease('n2')));
    forbidden(await as('n1', ['delete', 'lease', '-n', 'kube-node-lease', 'n1-other']));
    // Nothing else: no Deployments, no RBAC.
    forbidden(await as('n1', ['create', 'deployment', 'x', '--image=node']));
    forbidden(await as('n1', ['create', 'clusterrolebinding', 'own', '--clusterrole=cluster-admin', '--user=system:node:n1']));
  });

  it('RBAC: a user gets exactly what a Role grants (verbs, resourceNames, namespace); group bindings count', async () => {
    forbidden(await as('alice', ['get', 'pods']));
    await admin(['create', 'role', 'pod-reader', '--verb=get,list', '--resource=pods']);
    await admin(['create', 'rolebinding', 'alice-reads', '--role=pod-reader', '--user=alice']);
    assert.equal((await as('alice', ['get', 'pods', '-o', 'name'])).code, 0);
    forbidden(await as('alice', ['delete', 'pod', 'n2-pod']));
    forbidden(await as('alice', ['get', 'pods', '-n', 'kube-system']));
    await admin(['create', 'clusterrole', 'one-secret', '--verb=get', '--resource=secrets', '--resource-name=n1-secret']);
    await admin(['create', 'clusterrolebinding', 'devs-one-secret', '--clusterrole=one-secret', '--group=developers']);
    assert.equal((await as('alice', ['get', 'secret', 'n1-secret', '-o', 'name'])).code, 0);
    forbidden(await as('alice', ['get', 'secret', 'n2-secret']));
    forbidden(await as('alice', ['get', 'secrets']));
    assert.equal((await as('alice', ['auth', 'can-i', 'list', 'pods'])).stdout.trim(), 'yes');
    assert.equal((await as('alice', ['auth', 'can-i', 'create', 'pods'])).stdout.trim(), 'no');
    // The admin may impersonate; alice has no grant in kube-system (can-i exits 1 on "no").
    assert.equal((await kubectl(server.kubeconfig, ['auth', 'can-i', 'get', 'pods', '--as=alice', '-n', 'kube-system'])).stdout.trim(), 'no');
    assert.equal((await kubectl(server.kubeconfig, ['auth', 'can-i', 'get', 'pods', '--as=alice'])).stdout.trim(), 'yes');
    // Impersonation itself needs permission.
    forbidden(await as('alice', ['get', 'pods', '--as=system:admin', '--as-group=system:masters']));
  });

  it('no escalation: a user who may write RBAC can grant only what it holds itself', async () => {
    await admin(['create', 'role', 'rbac-writer', '--verb=create,update,patch', '--resource=roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io']);
    await admin(['create', 'rolebinding', 'alice-writes-rbac', '--role=rbac-writer', '--user=alice']);
    // alice holds get/list pods (pod-reader): she may pass that on.
    assert.equal((await as('alice', ['create', 'rolebinding', 'bob-reads', '--role=pod-reader', '--user=bob'])).code, 0);
    assert.equal((await as('alice', ['create', 'role', 'lister', '--verb=list', '--resource=pods'])).code, 0);
    const admin2 = await as('alice', ['create', 'rolebinding', 'alice-admin', '--clusterrole=cluster-admin', '--user=alice']);
    forbidden(admin2);
    assert.match(admin2.stderr, /attempting to grant RBAC permissions not currently held/);
    forbidden(await as('alice', ['create', 'role', 'deleter', '--verb=delete', '--resource=pods']));
    // With the bind verb on that one role, binding it is allowed.
    await admin(['create', 'role', 'binder', '--verb=bind', '--resource=clusterroles.rbac.authorization.k8s.io', '--resource-name=cluster-admin']);
    await admin(['create', 'rolebinding', 'alice-binds', '--role=binder', '--user=alice']);
    assert.equal((await as('alice', ['create', 'rolebinding', 'alice-admin', '--clusterrole=cluster-admin', '--user=carol'])).code, 0);
  });

  it('RBAC objects are validated; a binding cannot change its role', async () => {
    const bad = await kubectl(server.kubeconfig, ['create', '-f', '-'], JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'bad' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'x' }, subjects: [{ kind: 'ServiceAccount', name: 'sa' }] }));
    assert.match(bad.stderr, /roleRef\.kind: Unsupported value: "Role"/);
    assert.match(bad.stderr, /subjects\[0\]\.namespace: Required value/);
    const rule = await kubectl(server.kubeconfig, ['create', '-f', '-'], JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'bad' }, rules: [{ resources: ['pods'] }] }));
    assert.match(rule.stderr, /rules\[0\]\.verbs: Required value/);
    const changed = await kubectl(server.kubeconfig, ['patch', 'rolebinding', 'alice-reads', '--type=merge', '-p', '{"roleRef":{"name":"other"}}']);
    assert.match(changed.stderr, /cannot change roleRef/);
  });

  it('service account tokens: kubectl create token, RBAC on the account, TokenReview, and deletion revokes', async () => {
    await admin(['create', 'serviceaccount', 'robot']);
    const token = (await admin(['create', 'token', 'robot', '--duration=1h'])).trim();
    kubeconfigFor('robot', token);
    assert.match((await as('robot', ['auth', 'whoami'])).stdout, /system:serviceaccount:default:robot[\s\S]*system:serviceaccounts:default/);
    forbidden(await as('robot', ['get', 'configmaps']));
    await admin(['create', 'rolebinding', 'robot-reads', '--clusterrole=one-secret', '--serviceaccount=default:robot']);
    assert.equal((await as('robot', ['get', 'secret', 'n1-secret', '-o', 'name'])).code, 0);
    const review = JSON.parse(await admin(['create', '-o', 'json', '-f', '-'], JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } }))) as { status: { authenticated: boolean; user: { username: string } } };
    assert.equal(review.status.authenticated, true);
    assert.equal(review.status.user.username, 'system:serviceaccount:default:robot');
    const tampered = `${token.slice(0, -4)}AAAA`;
    const bad = JSON.parse(await admin(['create', '-o', 'json', '-f', '-'], JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: tampered } }))) as { status: { authenticated: boolean } };
    assert.equal(bad.status.authenticated, false);
    const short = await kubectl(server.kubeconfig, ['create', 'token', 'robot', '--duration=1m']);
    assert.match(short.stderr, /spec\.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes/);
    await admin(['delete', 'serviceaccount', 'robot']);
    const revoked = await as('robot', ['get', 'secret', 'n1-secret']);
    assert.match(revoked.stderr, /Unauthorized|must be logged in/);
  });

  it("the GM's shipped ClusterRole grants what the GM uses and nothing that would let it own the cluster", async () => {
    await admin(['apply', '-f', CRDS]);
    await admin(['wait', '--for=condition=established', 'crd/jointinferenceservices.sedna.io', 'crd/federatedlearningjobs.sedna.io']);
    await admin(['apply', '-f', GM_RBAC]);
    const can = async (args: string[]): Promise<string> => (await kubectl(server.kubeconfig, ['auth', 'can-i', ...args, '--as=system:serviceaccount:sedna:sedna'])).stdout.trim();
    for (const args of [
      ['watch', 'jointinferenceservices.sedna.io', '-A'],
      ['update', 'federatedlearningjobs.sedna.io', '--subresource=status', '-n', 'default'],
      ['create', 'pods', '-n', 'default'],
      ['delete', 'pods', '-n', 'default'],
      ['update', 'deployments.apps', '-n', 'x'],
      ['create', 'services', '-n', 'x'],
      ['get', 'secrets', '-n', 'x'],
      ['create', 'horizontalpodautoscalers.autoscaling', '-n', 'x'],
      ['patch', 'events', '-n', 'x'],
      ['update', 'leases.coordination.k8s.io', '-n', 'sedna'],
      ['patch', 'incrementallearningjobs.sedna.io', '-n', 'default'],
    ]) assert.equal(await can(args), 'yes', args.join(' '));
    for (const args of [
      ['create', 'clusterrolebindings'],
      ['update', 'nodes'],
      ['delete', 'customresourcedefinitions'],
      ['create', 'jointinferenceservices.sedna.io', '-n', 'default'],
      ['update', 'jointinferenceservices.sedna.io', '-n', 'default'],
      ['patch', 'jointinferenceservices.sedna.io', '-n', 'default'],
      ['delete', 'datasets.sedna.io', '-n', 'default'],
      ['create', 'serviceaccounts/token', '-n', 'sedna'],
    ]) assert.equal(await can(args), 'no', args.join(' '));
  });
});
