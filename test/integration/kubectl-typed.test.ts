// End to end: kubectl 1.32's typed subcommands against the real server process. `create namespace
// | configmap | secret | serviceaccount | deployment | service` send their bodies as Kubernetes
// protobuf (client-go's typed clientsets default to it); `run` and `expose` send JSON. Each object
// is read back with `kubectl get -o json`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { eventually, kubectl, type KubectlResult, type RunningApiServer, startApiServer } from '../helpers/apiserver.ts';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid: string; creationTimestamp: string; labels?: Record<string, string>; ownerReferences?: { kind: string }[] };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  data?: Record<string, string>;
  type?: string;
  [field: string]: unknown;
}

interface Kubeconfig {
  clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { user: { token: string } }[];
}

describe('kubectl typed subcommands (protobuf request bodies)', () => {
  let server: RunningApiServer;
  let cacheDir: string;

  const k = (args: string[], input?: string): Promise<KubectlResult> => kubectl(server.kubeconfig, ['--cache-dir', cacheDir, ...args], input);
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await k(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}\nserver log:\n${server.logs()}`);
    return r.stdout;
  };
  const getJson = async (...args: string[]): Promise<Obj> => JSON.parse(await ok(['get', ...args, '-o', 'json'])) as Obj;

  /** A raw HTTPS request with the server's token. */
  const raw = (method: string, path: string, contentType: string, body: Buffer): Promise<{ status: number; json: Record<string, unknown> }> => {
    const kc = parseYaml(readFileSync(server.kubeconfig, 'utf8')) as Kubeconfig;
    const url = new URL(path, kc.clusters[0]!.cluster.server);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        url,
        {
          method,
          ca: Buffer.from(kc.clusters[0]!.cluster['certificate-authority-data'], 'base64'),
          headers: { authorization: `Bearer ${kc.users[0]!.user.token}`, 'content-type': contentType, accept: 'application/json' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  };

  before(async () => {
    server = await startApiServer();
    cacheDir = join(server.dataDir, 'kubectl-cache');
  });

  after(async () => {
    await server?.stop();
  });

  it('kubectl create namespace', async () => {
    assert.equal(await ok(['create', 'namespace', 'team-a']), 'namespace/team-a created\n');
    const ns = await getJson('namespace', 'team-a');
    assert.equal(ns.kind, 'Namespace');
    assert.equal(ns.metadata.name, 'team-a');
    assert.ok(ns.metadata.uid);
    assert.match(ns.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal((ns.status as { phase: string }).phase, 'Active');
  });

  it('kubectl create configmap --from-literal', async () => {
    assert.equal(await ok(['create', 'configmap', 'settings', '-n', 'team-a', '--from-literal=mode=fast', '--from-literal=retries=3']), 'configmap/settings created\n');
    const cm = await getJson('configmap', 'settings', '-n', 'team-a');
    assert.equal(cm.metadata.namespace, 'team-a');
    assert.deepEqual(cm.data, { mode: 'fast', retries: '3' });
  });

  it('kubectl create secret generic --from-literal', async () => {
    assert.equal(await ok(['create', 'secret', 'generic', 'creds', '--from-literal=user=admin', '--from-literal=password=s3cr=t!']), 'secret/creds created\n');
    const secret = await getJson('secret', 'creds');
    assert.equal(secret.type, 'Opaque');
    assert.deepEqual(secret.data, { user: Buffer.from('admin').toString('base64'), password: Buffer.from('s3cr=t!').toString('base64') });
  });

  it('kubectl create serviceaccount', async () => {
    assert.equal(await ok(['create', 'serviceaccount', 'robot']), 'serviceaccount/robot created\n');
    const sa = await getJson('serviceaccount', 'robot');
    assert.equal(sa.kind, 'ServiceAccount');
    assert.equal(sa.metadata.name, 'robot');
  });

  it('kubectl create deployment --image --replicas=2 --port=80, then the controller makes its pods', async () => {
    assert.equal(await ok(['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=2', '--port=80']), 'deployment.apps/web created\n');
    const deploy = await getJson('deployment', 'web');
    const spec = deploy.spec as {
      replicas: number;
      selector: unknown;
      template: { metadata: { labels: Record<string, string> }; spec: { containers: { name: string; image: string; ports: { containerPort: number }[] }[] } };
    };
    assert.equal(spec.replicas, 2);
    assert.deepEqual(spec.selector, { matchLabels: { app: 'web' } });
    assert.deepEqual(spec.template.metadata.labels, { app: 'web' });
    assert.equal(spec.template.spec.containers.length, 1);
    const [c] = spec.template.spec.containers;
    assert.equal(c!.name, 'nginx');
    assert.equal(c!.image, 'nginx:1.27');
    assert.equal(c!.ports.length, 1);
    assert.equal(c!.ports[0]!.containerPort, 80);
    assert.deepEqual(deploy.metadata.labels, { app: 'web' });

    const pods = await eventually(
      async () => {
        const list = JSON.parse(await ok(['get', 'pods', '-l', 'app=web', '-o', 'json'])) as { items: Obj[] };
        return list.items.length === 2 ? list.items : undefined;
      },
      20_000,
      'two pods of deployment web',
    );
    for (const pod of pods) {
      assert.equal(pod.metadata.ownerReferences?.[0]?.kind, 'ReplicaSet');
      assert.equal((pod.spec as { containers: { image: string }[] }).containers[0]!.image, 'nginx:1.27');
    }
  });

  it('kubectl create deployment --replicas=0 -- command keeps the explicit zero and the command', async () => {
    assert.equal(await ok(['create', 'deployment', 'idle', '--image=busybox', '--replicas=0', '--', 'sleep', '3600']), 'deployment.apps/idle created\n');
    const spec = (await getJson('deployment', 'idle')).spec as { replicas: number; template: { spec: { containers: { command: string[] }[] } } };
    assert.equal(spec.replicas, 0);
    assert.deepEqual(spec.template.spec.containers[0]!.command, ['sleep', '3600']);
  });

  it('kubectl run --image --env --labels --restart=Never', async () => {
    assert.equal(await ok(['run', 'task', '--image=busybox:1.36', '--env=MODE=batch', '--env=LEVEL=2', '--labels=app=task,tier=jobs', '--restart=Never', '--', 'sleep', '60']), 'pod/task created\n');
    const pod = await getJson('pod', 'task');
    assert.deepEqual(pod.metadata.labels, { app: 'task', tier: 'jobs' });
    const spec = pod.spec as { restartPolicy: string; containers: { name: string; image: string; args: string[]; env: unknown }[] };
    assert.equal(spec.restartPolicy, 'Never');
    assert.equal(spec.containers[0]!.name, 'task');
    assert.equal(spec.containers[0]!.image, 'busybox:1.36');
    assert.deepEqual(spec.containers[0]!.args, ['sleep', '60']);
    assert.deepEqual(spec.containers[0]!.env, [
      { name: 'MODE', value: 'batch' },
      { name: 'LEVEL', value: '2' },
    ]);
  });

  it('kubectl create service clusterip --tcp=80:8080', async () => {
    assert.equal(await ok(['create', 'service', 'clusterip', 'api', '--tcp=80:8080']), 'service/api created\n');
    const svc = await getJson('service', 'api');
    const spec = svc.spec as { type: string; selector: unknown; ports: unknown[] };
    assert.equal(spec.type, 'ClusterIP');
    assert.deepEqual(spec.selector, { app: 'api' });
    assert.deepEqual(spec.ports, [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }]);
  });

  it('kubectl create service nodeport --tcp --node-port', async () => {
    assert.equal(await ok(['create', 'service', 'nodeport', 'edge', '--tcp=80:8080', '--node-port=30080']), 'service/edge created\n');
    const spec = (await getJson('service', 'edge')).spec as { type: string; ports: { port: number; targetPort: number; nodePort: number }[] };
    assert.equal(spec.type, 'NodePort');
    assert.equal(spec.ports[0]!.port, 80);
    assert.equal(spec.ports[0]!.targetPort, 8080);
    assert.equal(spec.ports[0]!.nodePort, 30080);
  });

  it('kubectl expose deployment', async () => {
    assert.equal(await ok(['expose', 'deployment', 'web', '--port=8080', '--target-port=80', '--name=web-svc']), 'service/web-svc exposed\n');
    const spec = (await getJson('service', 'web-svc')).spec as { selector: unknown; ports: unknown[] };
    assert.deepEqual(spec.selector, { app: 'web' });
    assert.deepEqual(spec.ports, [{ port: 8080, protocol: 'TCP', targetPort: 80 }]);
  });

  it('a protobuf field the server does not know is a 415 naming the field, and nothing is created', async () => {
    // A Pod whose container carries field 25 (restartPolicyRules), which this server does not decode.
    const varint = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...varint(n >>> 7)]);
    const ld = (field: number, payload: Buffer): Buffer => Buffer.concat([Buffer.from([...varint((field << 3) | 2), ...varint(payload.length)]), payload]);
    const s = (field: number, v: string): Buffer => ld(field, Buffer.from(v));
    const container = ld(2, Buffer.concat([s(1, 'c'), s(2, 'busybox'), ld(25, s(1, 'Restart'))]));
    const pod = Buffer.concat([ld(1, s(1, 'odd')), ld(2, container)]);
    const body = Buffer.concat([Buffer.from('k8s\0', 'latin1'), ld(1, Buffer.concat([s(1, 'v1'), s(2, 'Pod')])), ld(2, pod)]);
    const res = await raw('POST', '/api/v1/namespaces/default/pods', 'application/vnd.kubernetes.protobuf', body);
    assert.equal(res.status, 415);
    assert.equal(res.json.reason, 'UnsupportedMediaType');
    assert.match(String(res.json.message), /protobuf field 25 of core\/v1 Container \(at spec\.containers\[0\]\)/);
    assert.match(String(res.json.message), /kubectl apply -f/);
    const r = await k(['get', 'pod', 'odd']);
    assert.notEqual(r.code, 0);
  });

  it('other body types get a 415 listing the accepted ones', async () => {
    const res = await raw('POST', '/api/v1/namespaces/default/configmaps', 'text/plain', Buffer.from('hello'));
    assert.equal(res.status, 415);
    assert.match(String(res.json.message), /application\/json, application\/yaml, application\/vnd\.kubernetes\.protobuf/);
  });
});
