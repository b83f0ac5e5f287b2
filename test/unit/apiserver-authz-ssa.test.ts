// Unit tests of the authorization and server-side apply pieces, against an in-memory store:
// RBAC rule matching (Kubernetes' RuleAllows cases), the Node authorizer's graph and
// NodeRestriction, service account tokens with an injected clock, the token file, field sets and
// their FieldsV1 encoding, and the apply algorithm (ownership, conflicts, force, removal).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../src/api/meta.ts';
import { ServiceAccountTokens } from '../../src/apiserver/authn/service-account-tokens.ts';
import { parseTokenFile } from '../../src/apiserver/authn/static-tokens.ts';
import type { UserInfo } from '../../src/apiserver/authn/user.ts';
import { AuthorizerChain } from '../../src/apiserver/authz/authorizer.ts';
import { ensureBootstrapPolicy } from '../../src/apiserver/authz/bootstrap-policy.ts';
import { nodeRestriction } from '../../src/apiserver/authz/node-restriction.ts';
import { ruleAllows } from '../../src/apiserver/authz/rbac-rules.ts';
import type { Attributes } from '../../src/apiserver/authz/types.ts';
import { StatusError } from '../../src/apiserver/errors.ts';
import { builtinResources } from '../../src/apiserver/registry/builtins.ts';
import { GenericStore } from '../../src/apiserver/registry/generic-store.ts';
import { ResourceRegistry } from '../../src/apiserver/registry/registry.ts';
import type { ResourceDef } from '../../src/apiserver/registry/types.ts';
import { serverSideApply } from '../../src/apiserver/ssa/apply.ts';
import { fieldsOf, fromFieldsV1, toFieldsV1 } from '../../src/apiserver/ssa/fieldset.ts';
import { applySchemaOf } from '../../src/apiserver/ssa/schema.ts';
import { SqliteStore } from '../../src/apiserver/storage/sqlite-store.ts';

const alice: UserInfo = { name: 'alice', groups: ['system:authenticated'] };
const n1: UserInfo = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };

function newStore(): GenericStore {
  const store = new GenericStore(new SqliteStore({ path: ':memory:' }), new ResourceRegistry(builtinResources));
  store.admission.push(nodeRestriction);
  store.create(def(store, '', 'namespaces'), undefined, { metadata: { name: 'default' } });
  return store;
}

function def(store: GenericStore, group: string, plural: string): ResourceDef {
  return store.registry.lookup(group, 'v1', plural)!;
}

const attrs = (a: Partial<Attributes>): Attributes => ({ user: alice, verb: 'get', resourceRequest: true, apiGroup: '', resource: 'pods', ...a });

describe('RBAC rule matching', () => {
  it('verbs, groups, resources/subresources, resourceNames and non-resource URLs as RuleAllows', () => {
    const rule = { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'pods/log'], resourceNames: [] };
    assert.ok(ruleAllows(attrs({}), rule));
    assert.ok(ruleAllows(attrs({ subresource: 'log' }), rule));
    assert.ok(!ruleAllows(attrs({ subresource: 'status' }), rule));
    assert.ok(!ruleAllows(attrs({ verb: 'delete' }), rule));
    assert.ok(!ruleAllows(attrs({ apiGroup: 'apps' }), rule));
    assert.ok(ruleAllows(attrs({ resource: 'deployments', subresource: 'scale', apiGroup: 'apps' }), { verbs: ['*'], apiGroups: ['*'], resources: ['*/scale'] }));
    const named = { verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] };
    assert.ok(ruleAllows(attrs({ resource: 'secrets', name: 'a' }), named));
    assert.ok(!ruleAllows(attrs({ resource: 'secrets', name: 'b' }), named));
    assert.ok(!ruleAllows(attrs({ resource: 'secrets', verb: 'get' }), named), 'a rule with names never allows a request without one');
    const urls = { verbs: ['get'], nonResourceURLs: ['/healthz', '/apis/*'] };
    assert.ok(ruleAllows({ user: alice, verb: 'get', resourceRequest: false, path: '/apis/apps/v1' }, urls));
    assert.ok(!ruleAllows({ user: alice, verb: 'get', resourceRequest: false, path: '/metrics' }, urls));
    assert.ok(!ruleAllows(attrs({}), urls), 'non-resource rules never match resource requests');
  });

  it('the chain: bindings, groups, namespaces; a role change takes effect at once', () => {
    const store = newStore();
    ensureBootstrapPolicy(store);
    const chain = new AuthorizerChain(store);
    const rbac = (plural: string): ResourceDef => store.registry.lookup('rbac.authorization.k8s.io', 'v1', plural)!;
    assert.equal(chain.authorize(attrs({ namespace: 'default' })).verdict, 'no-opinion');
    assert.equal(chain.authorize({ user: alice, verb: 'get', resourceRequest: false, path: '/version' }).verdict, 'allow');
    store.create(rbac('roles'), 'default', { metadata: { name: 'r' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }] });
    store.create(rbac('rolebindings'), 'default', { metadata: { name: 'b' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' }, subjects: [{ kind: 'Group', name: 'system:authenticated' }] });
    assert.equal(chain.authorize(attrs({ namespace: 'default' })).verdict, 'allow');
    assert.equal(chain.authorize(attrs({ namespace: 'other' })).verdict, 'no-opinion');
    store.guaranteedUpdate(rbac('roles'), 'default', 'r', (o) => ({ ...o, rules: [{ verbs: ['list'], apiGroups: [''], resources: ['pods'] }] }));
    assert.equal(chain.authorize(attrs({ namespace: 'default' })).verdict, 'no-opinion');
    assert.equal(chain.authorize(attrs({ user: { name: 'root', groups: ['system:masters'] }, verb: 'delete' })).verdict, 'allow');
    chain.stop();
  });
});

describe('Node authorizer and NodeRestriction', () => {
  it('a node gets the Secrets its pods use and nothing else; it writes only its own pods', () => {
    const store = newStore();
    const chain = new AuthorizerChain(store);
    const pods = def(store, '', 'pods');
    for (const node of ['n1', 'n2']) {
      store.create(pods, 'default', { metadata: { name: `${node}-pod` }, spec: { nodeName: node, containers: [{ name: 'm', image: 'node', envFrom: [{ secretRef: { name: `${node}-env` } }] }], imagePullSecrets: [{ name: `${node}-pull` }] } });
    }
    const get = (name: string): string => chain.authorize({ user: n1, verb: 'get', resourceRequest: true, apiGroup: '', resource: 'secrets', namespace: 'default', name }).verdict;
    assert.equal(get('n1-env'), 'allow');
    assert.equal(get('n1-pull'), 'allow');
    assert.equal(get('n2-env'), 'deny');
    assert.equal(chain.authorize({ user: n1, verb: 'list', resourceRequest: true, apiGroup: '', resource: 'secrets', namespace: 'default' }).verdict, 'deny');
    assert.equal(chain.authorize({ user: n1, verb: 'update', resourceRequest: true, apiGroup: '', resource: 'nodes', name: 'n2' }).verdict, 'deny');
    const status = (name: string): KubeObject => store.guaranteedUpdate(pods, 'default', name, (p) => ({ ...p, status: { phase: 'Running' } }), { subresource: 'status', user: n1 });
    assert.equal((status('n1-pod').status as { phase: string }).phase, 'Running');
    assert.throws(() => status('n2-pod'), (err: unknown) => err instanceof StatusError && err.code === 403 && /only modify pods bound to itself/.test(err.message));
    assert.throws(() => store.delete(pods, 'default', 'n2-pod', { user: n1 }), (err: unknown) => err instanceof StatusError && err.code === 403);
    // Without a user (the server's own controllers) nothing is restricted.
    assert.equal((store.guaranteedUpdate(pods, 'default', 'n2-pod', (p) => ({ ...p, status: { phase: 'Running' } }), { subresource: 'status' }).status as { phase: string }).phase, 'Running');
    chain.stop();
  });
});

describe('tokens', () => {
  it('service account tokens expire, check the audience, and die with the account', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sedna-sa-'));
    let now = Date.parse('2026-01-01T00:00:00Z');
    const uids = new Map([['ServiceAccount/ns/robot', 'uid-1']]);
    const tokens = new ServiceAccountTokens(dir, (kind, ns, name) => uids.get(`${kind}/${ns}/${name}`), () => now);
    const { token } = tokens.issue({ namespace: 'ns', name: 'robot', uid: 'uid-1', audiences: ['https://kubernetes.default.svc.cluster.local'], expirationSeconds: 600 });
    const ok = tokens.authenticate(token);
    assert.ok('user' in ok && ok.user.name === 'system:serviceaccount:ns:robot' && ok.user.groups.includes('system:serviceaccounts:ns'));
    assert.deepEqual(tokens.authenticate(token, ['vault']), { error: 'token audiences do not match' });
    const signatureAt = token.lastIndexOf('.') + 10;
    const flipped = `${token.slice(0, signatureAt)}${token[signatureAt] === 'A' ? 'B' : 'A'}${token.slice(signatureAt + 1)}`;
    assert.deepEqual(tokens.authenticate(flipped), { error: 'invalid signature' });
    // The same signature spelled with other padding bits is refused too.
    const last = token.at(-1)!;
    assert.deepEqual(tokens.authenticate(`${token.slice(0, -1)}${String.fromCharCode(last.charCodeAt(0) ^ 1)}`), { error: 'invalid signature' });
    now += 601_000;
    assert.deepEqual(tokens.authenticate(token), { error: 'token has expired' });
    now -= 601_000;
    uids.set('ServiceAccount/ns/robot', 'uid-2');
    assert.deepEqual(tokens.authenticate(token), { error: 'service account has been deleted or replaced' });
    rmSync(dir, { recursive: true, force: true });
  });

  it('the token file: quoted groups, comments, and a line without a user is an error naming the line', () => {
    const [entry] = parseTokenFile('# nodes\nt1,system:node:a,uid-a,"system:nodes,extra"\n');
    assert.deepEqual(entry!.user, { name: 'system:node:a', uid: 'uid-a', groups: ['system:nodes', 'extra', 'system:authenticated'] });
    assert.throws(() => parseTokenFile('ok,user\nlonely\n', 'tokens.csv'), /tokens\.csv:2: a line needs at least a token and a user name/);
  });
});

describe('server-side apply', () => {
  const store = newStore();
  const deployments = def(store, 'apps', 'deployments');
  const deployment = (image: string, replicas?: number, env = true): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      ...(replicas !== undefined ? { replicas } : {}),
      template: { spec: { containers: [{ name: 'web', image, ...(env ? { env: [{ name: 'A', value: '1' }] } : {}) }] } },
    },
  });

  it('field sets round-trip through FieldsV1, with "." on owned list items', () => {
    const fields = fieldsOf(deployment('x', 2), applySchemaOf(deployments), { skipStatus: true });
    const encoded = toFieldsV1(fields.all);
    const container = (encoded['f:spec'] as Record<string, Record<string, Record<string, Record<string, Record<string, unknown>>>>>)['f:template']!['f:spec']!['f:containers']!['k:{"name":"web"}']!;
    assert.deepEqual(container['.'], {});
    assert.deepEqual(fromFieldsV1(encoded), fields.all);
  });

  it('ownership, conflicts with another manager, force, and removal of what is no longer applied', () => {
    let live = serverSideApply(deployments, undefined, deployment('a', 2), { manager: 'ci', force: false });
    assert.deepEqual(live.metadata.managedFields!.map((m) => [m.manager, m.operation]), [['ci', 'Apply']]);
    // Same value from another manager: shared, no conflict.
    live = serverSideApply(deployments, live, deployment('a', 2), { manager: 'ops', force: false });
    assert.equal(live.metadata.managedFields!.length, 2);
    assert.throws(
      () => serverSideApply(deployments, live, deployment('b', 2), { manager: 'ops', force: false }),
      (err: unknown) => err instanceof StatusError && err.code === 409 && err.message === 'Apply failed with 1 conflict: conflict with "ci" using apps/v1: .spec.template.spec.containers[name="web"].image',
    );
    live = serverSideApply(deployments, live, deployment('b', 2), { manager: 'ops', force: true });
    assert.equal((live.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image, 'b');
    // ci stops applying replicas; ops still owns them, so they stay. ci drops env: it goes (ops applied it too, so it stays).
    live = serverSideApply(deployments, live, deployment('b', undefined, false), { manager: 'ci', force: false });
    assert.equal((live.spec as { replicas: number }).replicas, 2);
    const env = (live.spec as { template: { spec: { containers: { env?: unknown[] }[] } } }).template.spec.containers[0]!.env;
    assert.deepEqual(env, [{ name: 'A', value: '1' }]);
    live = serverSideApply(deployments, live, deployment('b', undefined, false), { manager: 'ops', force: false });
    assert.equal((live.spec as { template: { spec: { containers: { env?: unknown[] }[] } } }).template.spec.containers[0]!.env, undefined);
    assert.equal((live.spec as { replicas?: number }).replicas, undefined);
  });
});
