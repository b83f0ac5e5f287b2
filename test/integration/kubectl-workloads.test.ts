// End to end: Deployments, garbage collection, finalizers, namespace deletion, API errors,
// authentication and the non-resource endpoints, driven by the real kubectl against the real server
// process. Expectations are what kubectl prints against a real kube-apiserver 1.32. No kubelet
// runs, so pods stay Pending unless a test plays the kubelet by patching their status.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { eventually, kubectl, type KubectlResult, type RunningApiServer, startApiServer } from '../helpers/apiserver.ts';
import { parseTable } from '../helpers/kubectl-table.ts';
import type { OwnerReference } from '../../src/api/meta.ts';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    resourceVersion: string;
    generation?: number;
    labels?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    finalizers?: string[];
    deletionTimestamp?: string;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

interface Kubeconfig {
  clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { user: { token: string } }[];
}


function deploymentYaml(name: string, replicas: number, namespace?: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
${namespace ? `  namespace: ${namespace}\n` : ''}  labels: {app: ${name}}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
        - name: worker
          image: kubeedge/sedna-example-joint-inference-helmet-detection-little:v0.6.0
`;
}

function configMapYaml(name: string, extraMetadata = '', namespace?: string): string {
  return `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
${namespace ? `  namespace: ${namespace}\n` : ''}${extraMetadata}data:
  key: value
`;
}

const DATASET_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: datasets.sedna.io
spec:
  group: sedna.io
  names: {kind: Dataset, listKind: DatasetList, plural: datasets, singular: dataset, shortNames: [sds]}
  scope: Namespaced
  versions:
    - name: v1alpha1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              description: DatasetSpec describes where a Sedna data set lives and how it is encoded.
              required: [url, format]
              properties:
                url:
                  type: string
                  description: URL of the data set index file.
                format:
                  type: string
                  description: Format of the index file.
                  enum: [txt, csv]
`;

describe('kubectl with workloads, garbage collection and API semantics', () => {
  let server: RunningApiServer;
  let cacheDir: string;

  /** kubectl with a discovery cache private to this server. */
  const k = (args: string[], input?: string): Promise<KubectlResult> => kubectl(server.kubeconfig, ['--cache-dir', cacheDir, ...args], input);
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await k(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}\nserver log:\n${server.logs()}`);
    return r.stdout;
  };
  const getJson = async <T = Obj>(...args: string[]): Promise<T> => JSON.parse(await ok(['get', ...args, '-o', 'json'])) as T;
  const listItems = async (...args: string[]): Promise<Obj[]> => (await getJson<{ items: Obj[] }>(...args)).items;
  /** Names from `kubectl get -o name`, sorted. */
  const names = async (...args: string[]): Promise<string[]> => (await ok(['get', ...args, '-o', 'name'])).split('\n').filter(Boolean).sort();
  const notFound = async (...args: string[]): Promise<true | undefined> => {
    const r = await k(['get', ...args]);
    return r.code !== 0 && r.stderr.includes('(NotFound)') ? true : undefined;
  };
  /** Waits until exactly `count` pods (not being deleted) carry app=<app>; returns them. */
  const podsOf = (app: string, count: number, namespace = 'default'): Promise<Obj[]> =>
    eventually(
      async () => {
        const pods = (await listItems('pods', '-n', namespace, '-l', `app=${app}`)).filter((p) => !p.metadata.deletionTimestamp);
        return pods.length === count ? pods : undefined;
      },
      20_000,
      `${count} pods of ${app}`,
    );
  const markReady = (pod: string): Promise<string> =>
    ok(['patch', 'pod', pod, '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}']);

  before(async () => {
    server = await startApiServer();
    cacheDir = join(server.dataDir, 'kubectl-cache');
  });

  after(async () => {
    await server?.stop();
  });

  describe('Deployments', () => {
    it('a Deployment applied as YAML creates one ReplicaSet and its pods', async () => {
      assert.equal(await ok(['apply', '-f', '-'], deploymentYaml('web', 3)), 'deployment.apps/web created\n');
      const pods = await podsOf('web', 3);
      const [deploy] = await listItems('deploy', '-l', 'app=web');
      const rsList = await listItems('rs', '-l', 'app=web');
      assert.equal(rsList.length, 1);
      const rs = rsList[0]!;

      // Ownership chain: Deployment → ReplicaSet → Pods, each a controller reference.
      assert.deepEqual(rs.metadata.ownerReferences, [
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: deploy!.metadata.uid, controller: true, blockOwnerDeletion: true },
      ]);
      const hash = rs.metadata.labels?.['pod-template-hash'];
      assert.ok(hash, 'pod-template-hash label on the ReplicaSet');
      assert.equal(rs.metadata.name, `web-${hash}`);
      assert.equal((rs.spec as { replicas: number }).replicas, 3);
      for (const pod of pods) {
        assert.ok(pod.metadata.name.startsWith(`web-${hash}-`), pod.metadata.name);
        assert.equal(pod.metadata.labels?.['pod-template-hash'], hash);
        assert.deepEqual(pod.metadata.ownerReferences, [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name, uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true },
        ]);
      }

      // `kubectl get rs,pods` prints one table per kind.
      const [rsTable, podTable] = await eventually(async () => {
        const tables = (await ok(['get', 'rs,pods', '-l', 'app=web'])).split('\n\n').map(parseTable);
        return tables[0]?.rows[0]?.CURRENT === '3' ? tables : undefined;
      }, 20_000, 'ReplicaSet status.replicas 3');
      assert.deepEqual(rsTable!.header, ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE']);
      assert.deepEqual(
        rsTable!.rows.map((r) => [r.NAME, r.DESIRED, r.CURRENT, r.READY]),
        [[`replicaset.apps/${rs.metadata.name}`, '3', '3', '0']],
      );
      assert.deepEqual(podTable!.header, ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
      assert.deepEqual(
        podTable!.rows.map((r) => [r.NAME, r.READY, r.STATUS, r.RESTARTS]),
        pods.map((p) => [`pod/${p.metadata.name}`, '0/1', 'Pending', '0']).sort(),
      );
    });

    it('kubectl scale changes the number of pods', async () => {
      assert.equal(await ok(['scale', 'deploy/web', '--replicas=5']), 'deployment.apps/web scaled\n');
      await podsOf('web', 5);
      assert.equal(await ok(['scale', 'deploy/web', '--replicas=2']), 'deployment.apps/web scaled\n');
      await podsOf('web', 2);
      const deploy = await getJson('deploy', 'web');
      assert.equal((deploy.spec as { replicas: number }).replicas, 2);
      const [rs] = await listItems('rs', '-l', 'app=web');
      assert.equal((rs!.spec as { replicas: number }).replicas, 2);
      // Only the one ReplicaSet: scaling does not roll out a new template.
      assert.equal((await listItems('rs', '-l', 'app=web')).length, 1);
    });

    it('kubectl get deploy shows READY / UP-TO-DATE / AVAILABLE following pod readiness', async () => {
      const deployRow = async (): Promise<string[]> => {
        const table = parseTable(await ok(['get', 'deploy', 'web']));
        assert.deepEqual(table.header, ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
        const row = table.rows[0]!;
        assert.match(row.AGE!, /^\d+s$/);
        return [row.NAME!, row.READY!, row['UP-TO-DATE']!, row.AVAILABLE!];
      };
      const expectRow = (want: string[]): Promise<string[]> =>
        eventually(async () => {
          const row = await deployRow();
          return JSON.stringify(row) === JSON.stringify(want) ? row : undefined;
        }, 20_000, `deployment row ${want.join(' ')}`);

      await expectRow(['web', '0/2', '2', '0']);
      const pods = await podsOf('web', 2);
      assert.equal(await markReady(pods[0]!.metadata.name), `pod/${pods[0]!.metadata.name} patched\n`);
      await expectRow(['web', '1/2', '2', '1']);
      const [rs] = await listItems('rs', '-l', 'app=web');
      await eventually(async () => ((await getJson('rs', rs!.metadata.name)).status?.readyReplicas === 1 ? true : undefined), 20_000, 'rs readyReplicas 1');

      await markReady(pods[1]!.metadata.name);
      await expectRow(['web', '2/2', '2', '2']);
      const deploy = await getJson('deploy', 'web');
      assert.equal(deploy.status?.readyReplicas, 2);
      assert.equal(deploy.status?.availableReplicas, 2);
      assert.equal(deploy.status?.updatedReplicas, 2);
      assert.equal(deploy.status?.replicas, 2);
      assert.equal(deploy.status?.observedGeneration, deploy.metadata.generation);
    });
  });

  describe('garbage collection', () => {
    it('deleting a Deployment removes its ReplicaSet and pods', async () => {
      await ok(['apply', '-f', '-'], deploymentYaml('gc-background', 2));
      await podsOf('gc-background', 2);
      assert.equal(await ok(['delete', 'deploy/gc-background']), 'deployment.apps "gc-background" deleted\n');
      await eventually(async () => ((await names('rs,pods', '-l', 'app=gc-background')).length === 0 ? true : undefined), 20_000, 'dependents gone');
      const r = await k(['get', 'deploy', 'gc-background']);
      assert.equal(r.stderr, 'Error from server (NotFound): deployments.apps "gc-background" not found\n');
    });

    it('--cascade=orphan keeps the ReplicaSet and pods, and the ReplicaSet loses its owner reference', async () => {
      await ok(['apply', '-f', '-'], deploymentYaml('gc-orphan', 2));
      const pods = await podsOf('gc-orphan', 2);
      const [rs] = await listItems('rs', '-l', 'app=gc-orphan');
      assert.equal(await ok(['delete', 'deploy/gc-orphan', '--cascade=orphan']), 'deployment.apps "gc-orphan" deleted\n');
      await eventually(() => notFound('deploy', 'gc-orphan'), 20_000, 'deployment gone');

      const orphaned = await eventually(async () => {
        const current = await getJson('rs', rs!.metadata.name);
        return current.metadata.ownerReferences === undefined ? current : undefined;
      }, 20_000, 'owner reference removed');
      assert.equal(orphaned.metadata.uid, rs!.metadata.uid);
      assert.equal(orphaned.metadata.deletionTimestamp, undefined);
      // The pods belong to the ReplicaSet, which still exists: they keep their owner and stay.
      const kept = await podsOf('gc-orphan', 2);
      assert.deepEqual(kept.map((p) => p.metadata.uid).sort(), pods.map((p) => p.metadata.uid).sort());
      for (const pod of kept) assert.equal(pod.metadata.ownerReferences?.[0]?.uid, rs!.metadata.uid);

      await ok(['delete', 'rs', rs!.metadata.name]);
      await eventually(async () => ((await names('pods', '-l', 'app=gc-orphan')).length === 0 ? true : undefined), 20_000, 'pods gone with their rs');
    });

    it('--cascade=foreground removes the dependents before the owner', async () => {
      await ok(['apply', '-f', '-'], deploymentYaml('gc-foreground', 2));
      const [held, other] = await podsOf('gc-foreground', 2);
      const [rs] = await listItems('rs', '-l', 'app=gc-foreground');
      // A finalizer on one pod holds the whole foreground deletion until it is removed.
      await ok(['patch', 'pod', held!.metadata.name, '--type=merge', '-p', '{"metadata":{"finalizers":["sedna.io/hold"]}}']);

      assert.equal(await ok(['delete', 'deploy/gc-foreground', '--cascade=foreground', '--wait=false']), 'deployment.apps "gc-foreground" deleted\n');
      await eventually(() => notFound('pod', other!.metadata.name), 20_000, 'the unheld pod deleted');
      const heldPod = await eventually(async () => {
        const p = await getJson('pod', held!.metadata.name);
        return p.metadata.deletionTimestamp ? p : undefined;
      }, 20_000, 'held pod marked for deletion');
      assert.deepEqual(heldPod.metadata.finalizers, ['sedna.io/hold']);
      // The owners wait for their dependents, marked for deletion with the foreground finalizer.
      const deploy = await getJson('deploy', 'gc-foreground');
      assert.ok(deploy.metadata.deletionTimestamp);
      assert.deepEqual(deploy.metadata.finalizers, ['foregroundDeletion']);
      const waitingRs = await getJson('rs', rs!.metadata.name);
      assert.ok(waitingRs.metadata.deletionTimestamp);
      assert.deepEqual(waitingRs.metadata.finalizers, ['foregroundDeletion']);
      // Nothing replaces the deleted pod while its ReplicaSet is being deleted.
      assert.deepEqual(await names('pods', '-l', 'app=gc-foreground'), [`pod/${held!.metadata.name}`]);

      await ok(['patch', 'pod', held!.metadata.name, '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
      await eventually(() => notFound('pod', held!.metadata.name), 20_000, 'held pod gone');
      await eventually(() => notFound('rs', rs!.metadata.name), 20_000, 'rs gone');
      await eventually(() => notFound('deploy', 'gc-foreground'), 20_000, 'deployment gone');
    });

    it('a ConfigMap owned by another ConfigMap goes with its owner, or stays orphaned', async () => {
      await ok(['apply', '-f', '-'], configMapYaml('owner'));
      const uid = await ok(['get', 'cm', 'owner', '-o', 'jsonpath={.metadata.uid}']);
      assert.match(uid, /^[0-9a-f-]{36}$/);
      const ownedBy = (name: string, ownerUid: string): string =>
        `  ownerReferences:\n    - {apiVersion: v1, kind: ConfigMap, name: ${name}, uid: ${ownerUid}}\n`;
      assert.equal(await ok(['apply', '-f', '-'], configMapYaml('dependent', ownedBy('owner', uid))), 'configmap/dependent created\n');
      assert.deepEqual((await getJson('cm', 'dependent')).metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid }]);

      assert.equal(await ok(['delete', 'cm', 'owner']), 'configmap "owner" deleted\n');
      await eventually(() => notFound('cm', 'dependent'), 20_000, 'dependent configmap collected');

      await ok(['apply', '-f', '-'], configMapYaml('owner-2'));
      const uid2 = await ok(['get', 'cm', 'owner-2', '-o', 'jsonpath={.metadata.uid}']);
      await ok(['apply', '-f', '-'], configMapYaml('dependent-2', ownedBy('owner-2', uid2)));
      assert.equal(await ok(['delete', 'cm', 'owner-2', '--cascade=orphan']), 'configmap "owner-2" deleted\n');
      await eventually(() => notFound('cm', 'owner-2'), 20_000, 'owner-2 gone');
      const orphan = await eventually(async () => {
        const cm = await getJson('cm', 'dependent-2');
        return cm.metadata.ownerReferences === undefined ? cm : undefined;
      }, 20_000, 'dependent-2 orphaned');
      assert.equal(orphan.metadata.deletionTimestamp, undefined);
    });
  });

  it('an object with a finalizer stays, marked for deletion, until the finalizer is removed', async () => {
    await ok(['apply', '-f', '-'], configMapYaml('finalized', '  finalizers: [sedna.io/cleanup]\n'));
    assert.equal(await ok(['delete', 'cm', 'finalized', '--wait=false']), 'configmap "finalized" deleted\n');
    const marked = await getJson('cm', 'finalized');
    assert.ok(marked.metadata.deletionTimestamp, 'deletionTimestamp set');
    assert.ok(Math.abs(Date.parse(marked.metadata.deletionTimestamp) - Date.now()) < 60_000);
    assert.deepEqual(marked.metadata.finalizers, ['sedna.io/cleanup']);

    // Deleting again changes nothing: the object keeps waiting for its finalizer.
    await ok(['delete', 'cm', 'finalized', '--wait=false']);
    const again = await getJson('cm', 'finalized');
    assert.equal(again.metadata.deletionTimestamp, marked.metadata.deletionTimestamp);

    assert.equal(
      await ok(['patch', 'cm', 'finalized', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']),
      'configmap/finalized patched\n',
    );
    const r = await k(['get', 'cm', 'finalized']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error from server (NotFound): configmaps "finalized" not found\n');
  });

  it('deleting a namespace removes everything in it; while it terminates nothing new can be created there', async () => {
    await ok(['apply', '-f', '-'], 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: doomed\n');
    await ok(['apply', '-f', '-'], configMapYaml('plain', '', 'doomed'));
    await ok(['apply', '-f', '-'], configMapYaml('held', '  finalizers: [sedna.io/hold]\n', 'doomed'));
    await ok(['apply', '-f', '-'], 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: doomed\nstringData:\n  token: abc\n');
    await ok(['apply', '-f', '-'], deploymentYaml('doomed-app', 2, 'doomed'));
    await podsOf('doomed-app', 2, 'doomed');

    assert.equal(await ok(['delete', 'ns', 'doomed', '--wait=false']), 'namespace "doomed" deleted\n');
    const ns = parseTable(await ok(['get', 'ns', 'doomed'])).rows[0];
    assert.equal(ns?.STATUS, 'Terminating');

    const refused = await k(['create', '-f', '-'], configMapYaml('late', '', 'doomed'));
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      'Error from server (Forbidden): error when creating "STDIN": configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated\n',
    );

    // Everything but the object held by its finalizer goes; the namespace waits for that one.
    await eventually(async () => {
      const left = await names('cm,secrets,pods,deploy,rs', '-n', 'doomed');
      return JSON.stringify(left) === JSON.stringify(['configmap/held']) ? true : undefined;
    }, 20_000, 'namespace emptied but for the held configmap');
    assert.ok((await getJson('cm', 'held', '-n', 'doomed')).metadata.deletionTimestamp);
    assert.equal(parseTable(await ok(['get', 'ns', 'doomed'])).rows[0]?.STATUS, 'Terminating');

    await ok(['patch', 'cm', 'held', '-n', 'doomed', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await eventually(() => notFound('ns', 'doomed'), 20_000, 'namespace gone');
    const gone = await k(['get', 'ns', 'doomed']);
    assert.equal(gone.stderr, 'Error from server (NotFound): namespaces "doomed" not found\n');
  });

  describe('API errors', () => {
    it('creating an existing object is AlreadyExists', async () => {
      const manifest = configMapYaml('twice');
      assert.equal(await ok(['create', '-f', '-'], manifest), 'configmap/twice created\n');
      const r = await k(['create', '-f', '-'], manifest);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, 'Error from server (AlreadyExists): error when creating "STDIN": configmaps "twice" already exists\n');
    });

    it('getting a missing object is NotFound', async () => {
      const r = await k(['get', 'pod', 'nope']);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, 'Error from server (NotFound): pods "nope" not found\n');
      const ns = await k(['get', 'cm', 'x', '-n', 'no-such-namespace']);
      // kubectl 1.32 follows a NotFound up with a GET of the namespace and reports that instead.
      assert.equal(ns.stderr, 'Error from server (NotFound): namespaces "no-such-namespace" not found\n');
    });

    it('replacing with a stale resourceVersion is a Conflict', async () => {
      await ok(['apply', '-f', '-'], configMapYaml('contended'));
      const stale = await ok(['get', 'cm', 'contended', '-o', 'yaml']);
      assert.match(stale, /resourceVersion: "\d+"/);
      await ok(['patch', 'cm', 'contended', '--type=merge', '-p', '{"data":{"key":"newer"}}']);
      const r = await k(['replace', '-f', '-'], stale.replace('key: value', 'key: stale'));
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr,
        'Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on configmaps "contended": the object has been modified; please apply your changes to the latest version and try again\n',
      );
      assert.equal(await ok(['get', 'cm', 'contended', '-o', 'jsonpath={.data.key}']), 'newer');
      // With the current resourceVersion the same replace goes through.
      const current = await ok(['get', 'cm', 'contended', '-o', 'yaml']);
      assert.equal(await ok(['replace', '-f', '-'], current.replace('key: newer', 'key: replaced')), 'configmap/contended replaced\n');
      assert.equal(await ok(['get', 'cm', 'contended', '-o', 'jsonpath={.data.key}']), 'replaced');
    });
  });

  describe('authentication and listening address', () => {
    const rawGet = (path: string, token?: string): Promise<{ status: number; body: string }> => {
      const kc = parseYaml(readFileSync(server.kubeconfig, 'utf8')) as Kubeconfig;
      const ca = Buffer.from(kc.clusters[0]!.cluster['certificate-authority-data'], 'base64');
      return new Promise((resolve, reject) => {
        const req = httpsRequest(
          new URL(path, server.url),
          { ca, headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (body += d));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    };

    it('a request without the token, or with a wrong one, is 401 Unauthorized', async () => {
      const kc = parseYaml(readFileSync(server.kubeconfig, 'utf8')) as Kubeconfig;
      const token = kc.users[0]!.user.token;
      const unauthorized = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };
      for (const path of ['/api/v1/namespaces', '/healthz', '/version', '/apis']) {
        const none = await rawGet(path);
        assert.equal(none.status, 401, path);
        assert.deepEqual(JSON.parse(none.body), unauthorized);
        const wrong = await rawGet(path, `${token}x`);
        assert.equal(wrong.status, 401, path);
      }
      const good = await rawGet('/api/v1/namespaces/default', token);
      assert.equal(good.status, 200);
      assert.equal((JSON.parse(good.body) as Obj).metadata.name, 'default');

      const badConfig = join(server.dataDir, 'kubeconfig-wrong-token');
      writeFileSync(badConfig, readFileSync(server.kubeconfig, 'utf8').replace(token, 'not-the-token'), { mode: 0o600 });
      const r = await kubectl(badConfig, ['--cache-dir', cacheDir, 'get', 'pods']);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, 'error: You must be logged in to the server (Unauthorized)\n');
    });

    it('the server listens on 127.0.0.1 only', async () => {
      const kc = parseYaml(readFileSync(server.kubeconfig, 'utf8')) as Kubeconfig;
      const url = new URL(kc.clusters[0]!.cluster.server);
      assert.equal(url.protocol, 'https:');
      assert.equal(url.hostname, '127.0.0.1');
      assert.equal(url.origin, new URL(server.url).origin);
      // Any other address of this machine refuses the connection.
      const others = Object.values(networkInterfaces())
        .flat()
        .filter((a) => a !== undefined && !a.internal && a.family === 'IPv4')
        .map((a) => a!.address);
      for (const address of others) {
        const outcome = await new Promise<string>((resolve) => {
          const socket = connect({ host: address, port: Number(url.port) });
          socket.setTimeout(5_000, () => {
            socket.destroy();
            resolve('timeout');
          });
          socket.once('connect', () => {
            socket.destroy();
            resolve('connected');
          });
          socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        });
        assert.notEqual(outcome, 'connected', `${address}:${url.port} accepted a connection`);
      }
    });
  });

  describe('non-resource endpoints and explain', () => {
    it('kubectl get --raw serves /version, /healthz and /openapi/v3', async () => {
      const version = JSON.parse(await ok(['get', '--raw', '/version'])) as Record<string, string>;
      assert.equal(version.major, '1');
      assert.match(version.minor!, /^\d+$/);
      assert.match(version.gitVersion!, /^v1\.\d+\.\d+/);
      assert.equal(version.platform, `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`);
      const kubectlVersion = JSON.parse(await ok(['version', '-o', 'json'])) as { serverVersion: Record<string, string> };
      assert.deepEqual(kubectlVersion.serverVersion, version);

      assert.equal(await ok(['get', '--raw', '/healthz']), 'ok');
      assert.equal(await ok(['get', '--raw', '/livez']), 'ok');
      assert.equal(await ok(['get', '--raw', '/readyz']), 'ok');

      const openapi = JSON.parse(await ok(['get', '--raw', '/openapi/v3'])) as { paths: Record<string, { serverRelativeURL: string }> };
      for (const gv of ['api/v1', 'apis/apps/v1', 'apis/apiextensions.k8s.io/v1']) {
        assert.match(openapi.paths[gv]?.serverRelativeURL ?? '', new RegExp(`^/openapi/v3/${gv.replaceAll('.', '\\.')}\\?hash=[0-9A-F]+$`), gv);
      }
      const apps = JSON.parse(await ok(['get', '--raw', openapi.paths['apis/apps/v1']!.serverRelativeURL])) as {
        openapi: string;
        paths: Record<string, unknown>;
        components: { schemas: Record<string, unknown> };
      };
      assert.match(apps.openapi, /^3\./);
      assert.ok(apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']);
      assert.ok(apps.components.schemas['io.k8s.api.apps.v1.Deployment']);
    });

    it('kubectl explain prints a CRD schema description', async () => {
      await ok(['apply', '-f', '-'], DATASET_CRD);
      await ok(['wait', '--for=condition=Established', 'crd/datasets.sedna.io', '--timeout=20s']);
      const openapi = await eventually(async () => {
        const doc = JSON.parse(await ok(['get', '--raw', '/openapi/v3'])) as { paths: Record<string, { serverRelativeURL: string }> };
        return doc.paths['apis/sedna.io/v1alpha1'];
      }, 20_000, 'sedna.io/v1alpha1 in /openapi/v3');
      const sedna = JSON.parse(await ok(['get', '--raw', openapi.serverRelativeURL])) as { components: { schemas: Record<string, unknown> } };
      assert.ok(sedna.components.schemas['io.sedna.v1alpha1.Dataset']);

      const explained = await eventually(async () => {
        const r = await k(['explain', 'datasets.spec']);
        return r.code === 0 ? r.stdout : undefined;
      }, 20_000, 'kubectl explain datasets.spec');
      assert.match(explained, /^GROUP:\s+sedna\.io\nKIND:\s+Dataset\nVERSION:\s+v1alpha1\n/);
      assert.match(explained, /FIELD: spec <Object>/);
      assert.match(explained, /DESCRIPTION:\n\s+DatasetSpec describes where a Sedna data set lives and how it is\s+encoded\./);
      assert.match(explained, /\n {2}format\t<string> -required-\n {2}enum: txt, csv\n {4}Format of the index file\.\n/);
      assert.match(explained, /\n {2}url\t<string> -required-\n {4}URL of the data set index file\.\n/);
    });
  });
});
