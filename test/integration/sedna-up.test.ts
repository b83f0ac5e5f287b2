// End to end: `sedna up --detach` starts the API server, the GM and three LCs with their embedded
// kubelets; the real kubectl sees three Ready nodes, runs a Pod on edge-1 and reads its logs, and a
// Deployment's killed worker process comes back; each component has its own identity (the dashboard
// a read-only one); `sedna status` lists the nodes; `sedna down` stops every process in up.json.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, eventually, kubectl, kubectlOk } from '../helpers/apiserver.ts';
import { parseTable } from '../helpers/kubectl-table.ts';
import type { Pod } from '../../src/lc/kubelet/index.ts';
import { isAlive, type UpState } from '../../src/up/state.ts';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sedna(args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolveRun) => {
    execFile(process.execPath, [CLI, ...args], { timeout: timeoutMs, env: { ...process.env, SEDNA_LOG_LEVEL: 'info' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as unknown as { code: number }).code : null) : 0;
      resolveRun({ code, stdout, stderr });
    });
  });
}


describe('sedna up / status / down', () => {
  let dir: string;
  let kubeconfig: string;
  let state: UpState;
  const kc = (args: string[], input?: string): Promise<string> => kubectlOk(kubeconfig, args, input);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sedna-up-'));
    kubeconfig = join(dir, 'kubeconfig');
    const up = await sedna(['up', '--detach', '--data-dir', dir, '--port', '0', '--timeout', '90'], 120_000);
    assert.equal(up.code, 0, `sedna up failed:\n${up.stdout}\n${up.stderr}`);
    assert.match(up.stdout, new RegExp(`export KUBECONFIG=\\S*kubeconfig`));
    state = JSON.parse(readFileSync(join(dir, 'up.json'), 'utf8')) as UpState;
  });

  after(async () => {
    if (dir === undefined) return;
    const down = await sedna(['down', '--data-dir', dir, '--timeout', '10'], 90_000);
    if (down.code !== 0) process.stderr.write(`sedna down: ${down.stdout}${down.stderr}\n`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('lays out the data directory and records every process in up.json', () => {
    assert.ok(existsSync(kubeconfig));
    assert.equal(statSync(join(dir, 'node-tokens.yaml')).mode & 0o777, 0o600);
    assert.deepEqual(state.lcs.map((l) => l.node), ['cloud', 'edge-1', 'edge-2']);
    for (const c of [state.apiserver, state.gm!, ...state.lcs]) assert.ok(isAlive(c.pid), `${c.name} alive`);
    assert.match(state.gm!.url!, /^ws:\/\/127\.0\.0\.1:\d+$/);
  });

  it('kubectl get nodes shows three Ready nodes with their roles', async () => {
    const { rows } = parseTable(await kc(['get', 'nodes']));
    assert.deepEqual(rows.map((r) => [r.NAME, r.STATUS, r.ROLES]), [
      ['cloud', 'Ready', 'cloud'],
      ['edge-1', 'Ready', 'edge'],
      ['edge-2', 'Ready', 'edge'],
    ]);
    assert.match(await kc(['get', 'crd', 'datasets.sedna.io', '-o', 'name']), /datasets\.sedna\.io/);
  });

  it('a Pod bound to edge-1 runs and kubectl logs shows its output', async () => {
    await kc(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'hello', namespace: 'default' },
      spec: { nodeName: 'edge-1', restartPolicy: 'Never', containers: [{ name: 'main', image: 'node', command: ['node', '-e', 'console.log("hello from " + process.env.HOSTNAME + " via " + process.env.LC_SERVER)'] }] },
    }));
    const logs = await eventually(async () => {
      const r = await kubectl(kubeconfig, ['logs', 'hello']);
      return r.code === 0 && r.stdout.includes('hello from') ? r.stdout : undefined;
    }, 30_000, 'logs of hello');
    const edge1 = state.lcs.find((l) => l.node === 'edge-1')!;
    assert.equal(logs.trim(), `hello from hello via ${edge1.url}`);
    await eventually(async () => ((JSON.parse(await kc(['get', 'pod', 'hello', '-o', 'json'])) as Pod).status?.phase === 'Succeeded' ? true : undefined), 20_000, 'hello Succeeded');
  });

  it('a killed worker process of a Deployment on edge-2 comes back', async () => {
    const script = `require('node:http').createServer((q, s) => s.end(process.env.HOSTNAME)).listen(Number(process.env.PORT), '127.0.0.1')`;
    await kc(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { nodeName: 'edge-2', terminationGracePeriodSeconds: 2, containers: [{ name: 'web', image: 'node', command: ['node', '-e', script], ports: [{ containerPort: 8080 }] }] },
        },
      },
    }));
    const running = async (): Promise<Pod[]> => {
      const list = JSON.parse(await kc(['get', 'pods', '-l', 'app=web', '-o', 'json'])) as { items: Pod[] };
      return list.items.filter((p) => !p.metadata.deletionTimestamp && p.status?.containerStatuses?.[0]?.state.running);
    };
    const pods = await eventually(async () => {
      const r = await running();
      return r.length === 2 ? r : undefined;
    }, 30_000, '2 web pods running');
    const victim = pods[0]!;
    const pid = Number(victim.status!.containerStatuses![0]!.containerID!.replace('process://', ''));
    assert.ok(pid > 0 && isAlive(pid));
    process.kill(pid);
    await eventually(async () => {
      const r = await running();
      const ids = r.map((p) => p.status!.containerStatuses![0]!.containerID);
      return r.length === 2 && !ids.includes(`process://${pid}`) ? true : undefined;
    }, 30_000, 'the killed worker replaced');
    const again = JSON.parse(await kc(['get', 'pod', victim.metadata.name!, '-o', 'json'])) as Pod;
    assert.equal(again.status!.containerStatuses![0]!.restartCount, 1);
  });

  it('each component has its own identity: the GM its ServiceAccount, each node only its own pods and their Secrets', async () => {
    const whoami = async (file: string): Promise<string> => (await kubectlOk(file, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'])).trim();
    assert.equal(await whoami(join(dir, 'gm.kubeconfig')), 'system:serviceaccount:sedna:sedna');
    const edge1 = join(dir, 'nodes', 'edge-1', 'kubeconfig');
    assert.equal(await whoami(edge1), 'system:node:edge-1');
    await kc(['create', 'secret', 'generic', 'edge2-only', '--from-literal=k=v']);
    await kc(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'edge2-secret-user', namespace: 'default' },
      spec: { nodeName: 'edge-2', restartPolicy: 'Never', containers: [{ name: 'main', image: 'node', command: ['node', '-e', 'console.log(process.env.K)'], env: [{ name: 'K', valueFrom: { secretKeyRef: { name: 'edge2-only', key: 'k' } } }] }] },
    }));
    await eventually(async () => ((await kubectl(kubeconfig, ['logs', 'edge2-secret-user'])).stdout.trim() === 'v' ? true : undefined), 30_000, 'edge-2 read its Secret');
    const read = await kubectl(edge1, ['get', 'secret', 'edge2-only']);
    assert.match(read.stderr, /secrets "edge2-only" is forbidden: User "system:node:edge-1"/);
    const write = await kubectl(edge1, ['patch', 'pod', 'edge2-secret-user', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Failed"}}']);
    assert.match(write.stderr, /node "edge-1" can only modify pods bound to itself/);
    const theirs = await kubectl(edge1, ['delete', 'pod', 'edge2-secret-user']);
    assert.match(theirs.stderr, /Forbidden.*node "edge-1" can only modify pods bound to itself/);
  });

  it('the dashboard runs as its own read-only ServiceAccount: it reads what it shows and pod logs, and cannot write', async () => {
    const dashboard = join(dir, 'dashboard.kubeconfig');
    const argv = readFileSync(`/proc/${state.dashboard!.pid}/cmdline`, 'utf8').split('\0');
    assert.equal(argv[argv.indexOf('--kubeconfig') + 1], dashboard, 'the running dashboard uses it, not the admin kubeconfig');
    assert.equal((await kubectlOk(dashboard, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'])).trim(), 'system:serviceaccount:sedna:sedna-dashboard');
    assert.match(await kubectlOk(dashboard, ['get', 'nodes', '-o', 'name']), /node\/edge-1/);
    assert.match(await kubectlOk(dashboard, ['get', 'pods', '-A', '-o', 'name']), /pod\/hello/);
    assert.match(await kubectlOk(dashboard, ['logs', 'hello']), /hello from hello/);
    await kubectlOk(dashboard, ['get', 'datasets,models,jointinferenceservices', '-A']);
    const refused = async (args: string[], input?: string): Promise<void> => {
      const r = await kubectl(dashboard, args, input);
      assert.notEqual(r.code, 0, `kubectl ${args.join(' ')} must be refused`);
      assert.match(r.stderr, /forbidden: User "system:serviceaccount:sedna:sedna-dashboard" cannot/, args.join(' '));
    };
    await refused(['create', 'configmap', 'from-dashboard', '--from-literal=k=v']);
    await refused(['delete', 'pod', 'hello']);
    await refused(['label', 'node', 'edge-1', 'by=dashboard']);
    await refused(['get', 'secret', 'edge2-only']);
    await refused(['create', '-f', '-'], JSON.stringify({ apiVersion: 'sedna.io/v1alpha1', kind: 'Dataset', metadata: { name: 'from-dashboard', namespace: 'default' }, spec: { url: '/d.txt', format: 'txt', nodeName: 'edge-1' } }));
    await refused(['create', 'clusterrolebinding', 'escalate', '--clusterrole=cluster-admin', '--serviceaccount=sedna:sedna-dashboard']);
    assert.equal((await kubectl(kubeconfig, ['get', 'configmap', 'from-dashboard'])).code, 1, 'nothing was written');
  });

  it('a pod writes into a PersistentVolumeClaim: the claim is bound to a host directory the kubelet mounts', async () => {
    await kc(['apply', '-f', '-'], 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n');
    await kc(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'writer', namespace: 'default' },
      spec: {
        nodeName: 'edge-1',
        restartPolicy: 'Never',
        volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }],
        containers: [{ name: 'w', image: 'node', command: ['node', '-e', "require('fs').writeFileSync(process.argv[1], 'kept')", '/data/out.txt'], volumeMounts: [{ name: 'd', mountPath: '/data' }] }],
      },
    }));
    await eventually(async () => ((JSON.parse(await kc(['get', 'pod', 'writer', '-o', 'json'])) as Pod).status?.phase === 'Succeeded' ? true : undefined), 30_000, 'writer Succeeded');
    const hostPath = (await kc(['get', 'pvc', 'data', '-o', 'jsonpath={.metadata.annotations.sedna\\.io/host-path}'])).trim();
    assert.equal(readFileSync(join(hostPath, 'out.txt'), 'utf8'), 'kept');
  });

  it('sedna status prints the components, nodes and pods', async () => {
    const r = await sedna(['status', '--data-dir', dir], 30_000);
    assert.equal(r.code, 0, r.stderr);
    for (const name of ['apiserver', 'gm', 'lc/cloud', 'lc/edge-1', 'lc/edge-2']) assert.match(r.stdout, new RegExp(`^${name}\\s+\\d+\\s+running`, 'm'));
    for (const node of ['cloud', 'edge-1', 'edge-2']) assert.match(r.stdout, new RegExp(`^${node}\\s+Ready`, 'm'));
    assert.match(r.stdout, /^default\s+hello\s+Succeeded\s+0\/1\s+edge-1/m);
    assert.match(r.stdout, /^default\s+web-\S+\s+Running\s+1\/1\s+edge-2/m);
  });

  it('sedna down stops every process and removes up.json', async () => {
    const pods = JSON.parse(await kc(['get', 'pods', '-l', 'app=web', '-o', 'json'])) as { items: Pod[] };
    const workerPids = pods.items.map((p) => Number(p.status?.containerStatuses?.[0]?.containerID?.replace('process://', ''))).filter((p) => p > 0);
    const r = await sedna(['down', '--data-dir', dir, '--timeout', '10'], 90_000);
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /sedna is down/);
    assert.match(r.stdout, /^pod default\/web-\S+ container web \(pid \d+\) stopped$/m, 'names the pods it stopped');
    assert.match(r.stdout, /^lc\/edge-2 \(pid \d+\) stopped$/m);
    assert.equal(existsSync(join(dir, 'up.json')), false);
    for (const c of [state.apiserver, state.gm!, ...state.lcs]) assert.equal(isAlive(c.pid), false, `${c.name} (pid ${c.pid}) stopped`);
    for (const pid of workerPids) assert.equal(isAlive(pid), false, `worker pid ${pid} stopped with its LC`);
    const again = await sedna(['status', '--data-dir', dir], 30_000);
    assert.equal(again.code, 1);
    assert.match(again.stdout, /not running/);
  });
});

describe('sedna up in the foreground', () => {
  let dir: string;
  let child: ChildProcess | undefined;
  let exited: Promise<number | null>;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sedna-up-fg-'));
  });

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      await exited;
    }
    await sedna(['down', '--data-dir', dir, '--timeout', '10'], 90_000);
    rmSync(dir, { recursive: true, force: true });
  });

  it('Ctrl-C stops every process it started and removes up.json', async () => {
    const proc = spawn(process.execPath, [CLI, 'up', '--data-dir', dir, '--nodes', 'edge-1', '--port', '0', '--timeout', '90'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    exited = new Promise((r) => proc.once('exit', (code) => r(code)));
    let output = '';
    proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
    await eventually(() => (output.includes('Press Ctrl-C') ? true : proc.exitCode !== null ? Promise.reject(new Error(output)) : undefined), 120_000, 'sedna up ready');
    const state = JSON.parse(readFileSync(join(dir, 'up.json'), 'utf8')) as UpState;
    assert.equal(state.supervisorPid, proc.pid);
    const pids = [state.apiserver.pid, state.gm!.pid, ...state.lcs.map((l) => l.pid)];
    assert.equal(pids.length, 3);
    for (const pid of pids) assert.ok(isAlive(pid));
    proc.kill('SIGINT');
    assert.equal(await exited, 130, output);
    for (const pid of pids) assert.equal(isAlive(pid), false, `pid ${pid} stopped`);
    assert.equal(existsSync(join(dir, 'up.json')), false);
  });
});
