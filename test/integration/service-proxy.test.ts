// Service networking on the embedded default, end to end: the real API server allocates a loopback
// ClusterIP, an LC runs its kubelet and the service proxy, pods reach a Service by
// `<svc>.<ns>:<port>` through the kubelet's hosts file and the SDK lookup, get the service link
// variables, and connections are reset once the Service has no ready endpoint. kubectl drives
// everything, including the ClusterIP rules (conflicts, range, immutability).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { eventually, kubectl, kubectlOk, type RunningApiServer, startApiServer } from '../helpers/apiserver.ts';
import { parseTable } from '../helpers/kubectl-table.ts';
import { type RunningLc, startLcWithKubelet } from '../helpers/lc.ts';
import { serviceLookup } from '../../src/lib/net/lookup.ts';
import type { ServiceProxy } from '../../src/lc/kubelet/service-proxy.ts';
import type { Pod } from '../../src/api/workloads.ts';

const NODE = 'svc-node-1';
// Ports below 1024 need root (or net.ipv4.ip_unprivileged_port_start) even on loopback.
const SERVICE_PORT = process.getuid?.() === 0 ? 80 : 8081;
const LOOKUP_MODULE = pathToFileURL(resolve(import.meta.dirname, '../../dist/lib/net/lookup.js')).href;

const ECHO_SERVER = `require('http').createServer((req, res) => res.end('echo:' + req.url + ' from ' + process.env.HOSTNAME)).listen(Number(process.env.PORT), '127.0.0.1');`;

function echoPod(name: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'echo' } },
    spec: {
      nodeName: NODE,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'web', image: 'node', command: ['node', '-e', ECHO_SERVER], ports: [{ name: 'http', containerPort: 8080 }] }],
    },
  });
}

const ECHO_SERVICE = JSON.stringify({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'echo' },
  spec: { selector: { app: 'echo' }, ports: [{ name: 'web', port: SERVICE_PORT, targetPort: 8080 }] },
});

/** A pod that GETs http://echo.default:<port>/hi with the SDK lookup and prints the reply and its env. */
function clientPod(name: string): string {
  const script = `
    const http = require('http');
    const show = (k) => console.log(k + '=' + process.env[k]);
    ['ECHO_SERVICE_HOST', 'ECHO_SERVICE_PORT', 'ECHO_SERVICE_PORT_WEB', 'SEDNA_SERVICE_HOSTS'].forEach(show);
    import(${JSON.stringify(LOOKUP_MODULE)}).then(({ serviceLookup }) => {
      http.get('http://echo.default:${SERVICE_PORT}/hi', { lookup: serviceLookup }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => console.log('reply=' + body));
      }).on('error', (err) => { console.log('error=' + err.message); process.exitCode = 1; });
    });`;
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { nodeName: NODE, restartPolicy: 'Never', containers: [{ name: 'main', image: 'node', command: ['node', '-e', script] }] },
  });
}

/** Connects to ip:port; 'reset' when the peer resets, otherwise what it answered to an HTTP GET. */
function probe(ip: string, port: number): Promise<string> {
  return new Promise((resolveProbe) => {
    const socket = connect({ host: ip, port });
    let data = '';
    socket.on('connect', () => socket.write(`GET /probe HTTP/1.1\r\nHost: ${ip}\r\nConnection: close\r\n\r\n`));
    socket.on('data', (d: Buffer) => (data += d.toString()));
    socket.on('error', (err: NodeJS.ErrnoException) => resolveProbe(err.code === 'ECONNRESET' ? 'reset' : `error ${err.code}`));
    socket.on('close', () => resolveProbe(data));
  });
}

describe('service networking on the embedded default', () => {
  let api: RunningApiServer;
  let node: RunningLc;
  let proxy: ServiceProxy;
  let clusterIp = '';
  const kc = (args: string[], input?: string): Promise<string> => kubectlOk(api.kubeconfig, args, input);
  const podOf = async (name: string): Promise<Pod | undefined> => {
    const r = await kubectl(api.kubeconfig, ['get', 'pod', name, '-o', 'json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as Pod) : undefined;
  };
  const podReady = (name: string): Promise<Pod> =>
    eventually(async () => {
      const pod = await podOf(name);
      return pod?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? pod : undefined;
    }, 20_000, `pod ${name} Ready`);

  before(async () => {
    api = await startApiServer();
    node = await startLcWithKubelet(api, NODE, { lc: { serviceProxy: true } });
    proxy = node.lc.serviceProxy!;
    assert.ok(proxy, 'the LC runs the service proxy');
  });

  after(async () => {
    await node?.stop();
    await api?.stop();
  });

  it('allocates a loopback ClusterIP that kubectl get svc shows', async () => {
    await kc(['apply', '-f', '-'], ECHO_SERVICE);
    const { rows } = parseTable(await kc(['get', 'svc', 'echo']));
    clusterIp = rows[0]!['CLUSTER-IP']!;
    assert.match(clusterIp, /^127\.(9[6-9]|10\d|11[01])\.\d+\.\d+$/);
    const svc = JSON.parse(await kc(['get', 'svc', 'echo', '-o', 'json'])) as { spec: { clusterIP: string; clusterIPs: string[] } };
    assert.deepEqual(svc.spec.clusterIPs, [svc.spec.clusterIP]);
    assert.equal(svc.spec.clusterIP, clusterIp);
  });

  it('keeps the ClusterIP when an update omits it, and refuses to change it', async () => {
    await kc(['apply', '-f', '-'], ECHO_SERVICE.replace('"app":"echo"}', '"app":"echo"},"sessionAffinity":"None"'));
    await kc(['replace', '-f', '-'], ECHO_SERVICE);
    const svc = JSON.parse(await kc(['get', 'svc', 'echo', '-o', 'json'])) as { spec: { clusterIP: string } };
    assert.equal(svc.spec.clusterIP, clusterIp);
    const other = clusterIp === '127.96.0.9' ? '127.96.0.10' : '127.96.0.9';
    const changed = await kubectl(api.kubeconfig, ['patch', 'svc', 'echo', '-p', JSON.stringify({ spec: { clusterIP: other, clusterIPs: [other] } })]);
    assert.notEqual(changed.code, 0);
    assert.match(changed.stderr, /spec\.clusterIP: Invalid value: "127\.96\.0\.(9|10)": field is immutable/);
  });

  it('rejects a ClusterIP that is taken or outside the range', async () => {
    const svc = (name: string, ip: string): string =>
      JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { clusterIP: ip, selector: { app: name }, ports: [{ port: 9000 }] } });
    const taken = await kubectl(api.kubeconfig, ['create', '-f', '-'], svc('dup', clusterIp));
    assert.notEqual(taken.code, 0);
    assert.match(taken.stderr, /is invalid: spec\.clusterIP: Invalid value: .*provided IP is already allocated/);
    const outside = await kubectl(api.kubeconfig, ['create', '-f', '-'], svc('far', '10.0.0.10'));
    assert.notEqual(outside.code, 0);
    assert.match(outside.stderr, /spec\.clusterIP: Invalid value: "10\.0\.0\.10": .*not in the valid range.*127\.96\.0\.0\/12/);
    await kc(['create', '-f', '-'], svc('pinned', '127.100.1.2'));
    const clusterIpOf = async (name: string): Promise<string> => (JSON.parse(await kc(['get', 'svc', name, '-o', 'json'])) as { spec: { clusterIP: string } }).spec.clusterIP;
    assert.equal(await clusterIpOf('pinned'), '127.100.1.2');
    const headless = JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'headless' }, spec: { clusterIP: 'None', selector: { app: 'x' }, ports: [{ port: 9000 }] } });
    await kc(['create', '-f', '-'], headless);
    assert.equal(await clusterIpOf('headless'), 'None');
    await kc(['delete', 'svc', 'pinned', 'headless']);
  });

  it('resets connections while the Service has no ready endpoint', async () => {
    await eventually(() => (proxy.addresses().includes(`${clusterIp}:${SERVICE_PORT}`) ? true : undefined), 10_000, 'the proxy listening');
    assert.equal(await probe(clusterIp, SERVICE_PORT), 'reset');
  });

  it('writes the hosts file the pods resolve through', async () => {
    const path = node.lc.kubelet!.serviceHostsPath;
    assert.equal(path, join(node.dataDir, 'kubelet', 'service-hosts'));
    await eventually(() => (readFileSync(path, 'utf8').includes(`${clusterIp} echo.default echo.default.svc echo.default.svc.cluster.local\n`) ? true : undefined), 10_000, 'hosts entry');
    process.env.SEDNA_SERVICE_HOSTS = path;
    try {
      const viaEnv = await new Promise<string>((res, rej) => serviceLookup('echo.default.svc.cluster.local', { family: 4 }, (err, addr) => (err ? rej(err) : res(addr))));
      assert.equal(viaEnv, clusterIp);
    } finally {
      delete process.env.SEDNA_SERVICE_HOSTS;
    }
    // Without the variable, the system resolver answers, and it knows nothing of Services.
    const viaDns = await new Promise<string>((res) => serviceLookup('echo.default', (err, addr) => res(err ? 'not found' : addr)));
    assert.notEqual(viaDns, clusterIp);
  });

  it('a pod reaches echo.default through the proxy with the SDK lookup and sees the service links', async () => {
    await kc(['apply', '-f', '-'], echoPod('echo-1'));
    await podReady('echo-1');
    // Ready means the process runs (no readiness probe), not yet that it listens: as in Kubernetes.
    await eventually(async () => (/echo:\/probe from echo-1/.test(await probe(clusterIp, SERVICE_PORT)) ? true : undefined), 10_000, 'echo-1 through the proxy');
    await kc(['apply', '-f', '-'], clientPod('client'));
    const logs = await eventually(async () => {
      const out = await kubectl(api.kubeconfig, ['logs', 'client']);
      return /reply=|error=/.test(out.stdout) ? out.stdout : undefined;
    }, 20_000, 'client output');
    assert.match(logs, /reply=echo:\/hi from echo-1/);
    assert.match(logs, new RegExp(`ECHO_SERVICE_HOST=${clusterIp.replace(/\./g, '\\.')}\n`));
    assert.match(logs, new RegExp(`ECHO_SERVICE_PORT=${SERVICE_PORT}\n`));
    assert.match(logs, new RegExp(`ECHO_SERVICE_PORT_WEB=${SERVICE_PORT}\n`));
    assert.match(logs, /SEDNA_SERVICE_HOSTS=\/.*\/service-hosts\n/);
  });

  it('balances round robin between ready endpoints', async () => {
    await kc(['apply', '-f', '-'], echoPod('echo-2'));
    await podReady('echo-2');
    await eventually(async () => (/from echo-2/.test(await probe(clusterIp, SERVICE_PORT)) ? true : undefined), 10_000, 'echo-2 through the proxy');
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(/from (echo-\d)/.exec(await probe(clusterIp, SERVICE_PORT))?.[1]);
    assert.deepEqual(new Set(replies), new Set(['echo-1', 'echo-2']));
  });

  it('resets connections once the pods are deleted, and stops listening with the Service', async () => {
    await kc(['delete', 'pod', 'echo-1', 'echo-2', '--grace-period=1']);
    await eventually(async () => ((await probe(clusterIp, SERVICE_PORT)) === 'reset' ? true : undefined), 10_000, 'reset after deletion');
    await kc(['delete', 'svc', 'echo']);
    await eventually(() => (proxy.addresses().includes(`${clusterIp}:${SERVICE_PORT}`) ? undefined : true), 10_000, 'the proxy unbinding');
    assert.match(await probe(clusterIp, SERVICE_PORT), /^error ECONNREFUSED$/);
  });
});
