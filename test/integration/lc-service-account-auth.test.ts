// The LC on a cluster proves its node with its pod's projected ServiceAccount token, and the GM,
// under its ClusterRole (deploy/rbac/gm.yaml), checks it with a TokenReview against the API server
// and then the pod's node. Everything here is real: the embedded API server issues and reviews
// the tokens (TokenRequest bound to a Pod, TokenReview), the hub and the client talk WebSocket.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { EdgeClient, EdgeConnectError, EdgeHub, UnknownNodeError } from '../../src/edgelink/index.ts';
import { ServiceAccountNodes } from '../../src/gm/service-account-nodes.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { createGmIdentity } from '../../src/up/identities.ts';
import { gmDenials } from '../helpers/cluster.ts';
import { kubectlOk, startApiServer, type RunningApiServer } from '../helpers/apiserver.ts';
import { eventually, until } from '../helpers/wait.ts';

const NS = 'sedna';
const AUDIENCE = 'sedna-gm';
let api: RunningApiServer;
let admin: k8s.CoreV1Api;
let gmKc: k8s.KubeConfig;
let nodes: ServiceAccountNodes;
const dir = mkdtempSync(join(tmpdir(), 'sedna-lc-sa-'));

async function lcPod(name: string, node: string): Promise<string> {
  const pod = await admin.createNamespacedPod({ namespace: NS, body: { metadata: { name }, spec: { nodeName: node, serviceAccountName: 'sedna-lc', containers: [{ name: 'lc', image: 'localhost/sedna:0.1.0' }] } } });
  return pod.metadata!.uid!;
}

async function token(sa: string, options: { pod?: string; audience?: string } = {}): Promise<string> {
  const body: k8s.AuthenticationV1TokenRequest = { spec: { audiences: [options.audience ?? AUDIENCE], expirationSeconds: 3600 } };
  if (options.pod) body.spec.boundObjectRef = { kind: 'Pod', apiVersion: 'v1', name: options.pod };
  return (await admin.createNamespacedServiceAccountToken({ name: sa, namespace: NS, body })).status!.token;
}

before(async () => {
  api = await startApiServer();
  const kc = api.kubeConfig();
  admin = kc.makeApiClient(k8s.CoreV1Api);
  // The GM's own identity, exactly as on a cluster: ServiceAccount sedna/sedna bound to the ClusterRole.
  gmKc = new k8s.KubeConfig();
  gmKc.loadFromFile(await createGmIdentity(kc, api.kubeconfig, join(dir, 'gm.kubeconfig')));
  await admin.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: 'sedna-lc' } } });
  for (const node of ['edge-1', 'edge-2']) await kubectlOk(api.kubeconfig, ['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: node } }));
  await lcPod('lc-edge-1', 'edge-1');
  nodes = new ServiceAccountNodes(gmKc, { namespace: NS, name: 'sedna-lc', audience: AUDIENCE });
});

after(async () => {
  const denied = api ? gmDenials(api.dataDir) : [];
  await api?.stop();
  rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(denied, [], 'the GM needed nothing beyond its ClusterRole');
});

test('a token bound to the LC pod on edge-1 proves edge-1, and nothing else', async () => {
  const t = await token('sedna-lc', { pod: 'lc-edge-1' });
  assert.equal(await nodes.verify('edge-1', t), true);
  assert.equal(await nodes.verify('edge-2', t), false, 'a node cannot speak for another');
});

test('tokens for another audience, not bound to a pod, of another ServiceAccount, or forged are refused', async () => {
  assert.equal(await nodes.verify('edge-1', await token('sedna-lc', { pod: 'lc-edge-1', audience: 'https://kubernetes.default.svc.cluster.local' })), false, 'an API-server token is not an edge token');
  assert.equal(await nodes.verify('edge-1', await token('sedna-lc')), false, 'unbound: says nothing about the node');
  assert.equal(await nodes.verify('edge-1', await token('sedna', { pod: 'lc-edge-1' })), false, 'the GM\'s ServiceAccount is not an LC');
  const t = await token('sedna-lc', { pod: 'lc-edge-1' });
  const [h, p] = t.split('.');
  const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'x' })).toString('base64url')}.${t.split('.')[2]}`;
  assert.equal(await nodes.verify('edge-1', forged), false);
});

test('a token dies with its pod, and a pod re-created with the same name does not revive it', async () => {
  await lcPod('lc-short', 'edge-2');
  const t = await token('sedna-lc', { pod: 'lc-short' });
  assert.equal(await nodes.verify('edge-2', t), true);
  await admin.deleteNamespacedPod({ name: 'lc-short', namespace: NS, body: { gracePeriodSeconds: 0 } });
  await eventually(async () => (await admin.listNamespacedPod({ namespace: NS })).items.every((p) => p.metadata?.name !== 'lc-short') || undefined, 10_000, 'the pod gone');
  await lcPod('lc-short', 'edge-2');
  assert.equal(await nodes.verify('edge-2', t), false);
});

test('messages are queued only for names that are Nodes', async () => {
  assert.equal(await nodes.mayConnect('edge-1'), true);
  assert.equal(await nodes.mayConnect('no-such-node'), false);
});

test('the edge hub admits the LC with its pod token (re-read on every connection) and refuses it as another node', async (t) => {
  const hub = new EdgeHub({ tokens: nodes, port: 0, registry: new Registry(), logger: silentLogger() });
  const port = await hub.start();
  t.after(() => hub.stop());
  await assert.rejects(hub.send('no-such-node', { header: { namespace: NS, resourceKind: 'dataset', resourceName: 'd', operation: 'insert' }, content: {} }), UnknownNodeError);
  const file = join(dir, 'token');
  writeFileSync(file, 'not-a-token');
  const client = new EdgeClient({ url: `ws://127.0.0.1:${port}/`, nodeName: 'edge-1', token: () => readToken(file), reconnect: { initialDelayMs: 50, maxDelayMs: 200 }, logger: silentLogger() });
  const refusals: EdgeConnectError[] = [];
  client.onConnectError((err) => refusals.push(err));
  client.start();
  t.after(() => client.stop());
  await until(() => refusals.some((e) => e.statusCode === 401), 'a 401 for the bad token');
  // The kubelet writes a fresh token: the next attempt presents it.
  writeFileSync(file, await token('sedna-lc', { pod: 'lc-edge-1' }));
  await until(() => client.connected && hub.connectedNodes().includes('edge-1'), 'edge-1 connected');

  const impostor = new EdgeClient({ url: `ws://127.0.0.1:${port}/`, nodeName: 'edge-2', token: readToken(file), reconnect: { initialDelayMs: 50, maxDelayMs: 200 }, logger: silentLogger() });
  const impostorRefusals: EdgeConnectError[] = [];
  impostor.onConnectError((err) => impostorRefusals.push(err));
  impostor.start();
  t.after(() => impostor.stop());
  await until(() => impostorRefusals.some((e) => e.statusCode === 401), 'a 401 for the impostor');
  assert.deepEqual(hub.connectedNodes(), ['edge-1']);
});

function readToken(file: string): string {
  return readFileSync(file, 'utf8').trim();
}
