// End to end: the embedded kubelet against a real API server process, driven by the real kubectl.
// The Node registers Ready; pods bound to it run as local Node.js processes whose output
// `kubectl logs` reads back; env from fieldRef/ConfigMap/Secret; restart policies and back-off;
// graceful deletion with SIGTERM; a Deployment's pods come back after a process is killed.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, kubectl, kubectlOk, type RunningApiServer, startApiServer } from '../helpers/apiserver.ts';
import { parseTable } from '../helpers/kubectl-table.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { HOST_PORTS_ANNOTATION, Kubelet, type Pod } from '../../src/lc/kubelet/index.ts';
import { isAlive } from '../../src/up/state.ts';

const NODE = 'edge-kubelet-1';

interface NodeObj {
  metadata: { name: string; labels: Record<string, string> };
  status: { conditions: { type: string; status: string; lastHeartbeatTime?: string }[]; addresses: { type: string; address: string }[]; nodeInfo: { kubeletVersion: string } };
}

function podManifest(
  name: string,
  script: string,
  extra: { restartPolicy?: string; env?: unknown[]; volumes?: unknown[]; volumeMounts?: unknown[]; image?: string; grace?: number; workingDir?: string } = {},
): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: {
      nodeName: NODE,
      restartPolicy: extra.restartPolicy ?? 'Never',
      ...(extra.grace !== undefined ? { terminationGracePeriodSeconds: extra.grace } : {}),
      ...(extra.volumes ? { volumes: extra.volumes } : {}),
      containers: [
        {
          name: 'main',
          image: extra.image ?? 'node:20',
          command: ['node', '-e', script],
          ...(extra.env ? { env: extra.env } : {}),
          ...(extra.volumeMounts ? { volumeMounts: extra.volumeMounts } : {}),
          ...(extra.workingDir ? { workingDir: extra.workingDir } : {}),
        },
      ],
    },
  });
}


describe('embedded kubelet', () => {
  let api: RunningApiServer;
  let kubelet: Kubelet;
  let workDir: string;
  let hostDir: string;
  const kc = (args: string[], input?: string): Promise<string> => kubectlOk(api.kubeconfig, args, input);
  const getPod = async (name: string): Promise<Pod | undefined> => {
    const r = await kubectl(api.kubeconfig, ['get', 'pod', name, '-o', 'json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as Pod) : undefined;
  };

  before(async () => {
    api = await startApiServer();
    workDir = mkdtempSync(join(tmpdir(), 'sedna-kubelet-'));
    hostDir = mkdtempSync(join(tmpdir(), 'sedna-kubelet-host-'));
    kubelet = new Kubelet({
      kubeConfig: api.kubeConfig(),
      nodeName: NODE,
      podLogDir: join(api.dataDir, 'logs'),
      workDir,
      lcServerUrl: 'http://127.0.0.1:9100',
      labels: { 'node-role.kubernetes.io/edge': '' },
      crashBackoff: { initialMs: 200, maxMs: 800 },
      leaseRenewIntervalMs: 300,
      configRetryMs: 200,
      stopGraceMs: 500,
      ...(process.env.KUBELET_TEST_LOG ? { logger: createLogger('kubelet', 'debug') } : {}),
    });
    await kubelet.start();
  });

  after(async () => {
    await kubelet?.stop();
    await api?.stop();
    rmSync(workDir, { recursive: true, force: true });
    rmSync(hostDir, { recursive: true, force: true });
  });

  it('registers its Node Ready with labels, address and nodeInfo, and renews its Lease', async () => {
    const { rows } = parseTable(await kc(['get', 'nodes']));
    const row = rows.find((r) => r.NAME === NODE);
    assert.ok(row, `node listed: ${JSON.stringify(rows)}`);
    assert.equal(row.STATUS, 'Ready');
    const node = JSON.parse(await kc(['get', 'node', NODE, '-o', 'json'])) as NodeObj;
    assert.equal(node.metadata.labels['kubernetes.io/hostname'], NODE);
    assert.equal(node.metadata.labels['node-role.kubernetes.io/edge'], '');
    assert.deepEqual(node.status.addresses[0], { type: 'InternalIP', address: '127.0.0.1' });
    assert.match(node.status.nodeInfo.kubeletVersion, /sedna/);
    assert.ok(node.status.conditions.find((c) => c.type === 'Ready')?.lastHeartbeatTime);
    const lease = JSON.parse(await kc(['get', 'lease', NODE, '-n', 'kube-node-lease', '-o', 'json'])) as { spec: { holderIdentity: string; leaseDurationSeconds: number; renewTime: string } };
    assert.equal(lease.spec.holderIdentity, NODE);
    assert.equal(lease.spec.leaseDurationSeconds, 40);
    const first = lease.spec.renewTime;
    await eventually(async () => {
      const again = JSON.parse(await kc(['get', 'lease', NODE, '-n', 'kube-node-lease', '-o', 'json'])) as typeof lease;
      return again.spec.renewTime !== first ? true : undefined;
    }, 5_000, 'lease renewal');
  });

  it('runs a pod as a process with env from fieldRef, ConfigMap and Secret; kubectl logs shows its output', async () => {
    await kc(['create', 'configmap', 'kcfg', '--from-literal=greeting=hello-cm']);
    await kc(['create', 'secret', 'generic', 'ksec', '--from-literal=token=s3cr3t']);
    const keys = ['MY_NAME', 'MY_NS', 'MY_UID', 'MY_NODE', 'MY_IP', 'MY_APP', 'CM', 'SEC', 'LIT', 'LC_SERVER'];
    const script = `console.log(JSON.stringify({${keys.map((k) => `${k}: process.env.${k}`).join(', ')}})); console.error('to stderr');`;
    await kc(['apply', '-f', '-'], podManifest('envpod', script, {
      env: [
        { name: 'MY_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'MY_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'MY_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
        { name: 'MY_NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'MY_APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'CM', valueFrom: { configMapKeyRef: { name: 'kcfg', key: 'greeting' } } },
        { name: 'SEC', valueFrom: { secretKeyRef: { name: 'ksec', key: 'token' } } },
        { name: 'LIT', value: 'x-$(MY_NAME)' },
      ],
    }));
    const pod = await eventually(async () => {
      const p = await getPod('envpod');
      return p?.status?.phase === 'Succeeded' ? p : undefined;
    }, 15_000, 'envpod Succeeded');
    const cs = pod.status!.containerStatuses![0]!;
    assert.equal(cs.state.terminated?.exitCode, 0);
    assert.equal(cs.state.terminated?.reason, 'Completed');
    assert.equal(pod.status!.podIP, '127.0.0.1');
    const logs = await kc(['logs', 'envpod']);
    const lines = logs.trim().split('\n');
    assert.ok(lines.includes('to stderr'), logs);
    const env = JSON.parse(lines.find((l) => l.startsWith('{'))!) as Record<string, string>;
    assert.deepEqual(env, {
      MY_NAME: 'envpod',
      MY_NS: 'default',
      MY_UID: pod.metadata.uid,
      MY_NODE: NODE,
      MY_IP: '127.0.0.1',
      MY_APP: 'envpod',
      CM: 'hello-cm',
      SEC: 's3cr3t',
      LIT: 'x-envpod',
      LC_SERVER: 'http://127.0.0.1:9100',
    });
  });

  it('restartPolicy Never and exit 1 → Failed with exitCode 1', async () => {
    await kc(['apply', '-f', '-'], podManifest('failpod', 'process.exit(1)'));
    const pod = await eventually(async () => {
      const p = await getPod('failpod');
      return p?.status?.phase === 'Failed' ? p : undefined;
    }, 15_000, 'failpod Failed');
    const cs = pod.status!.containerStatuses![0]!;
    assert.equal(cs.state.terminated?.exitCode, 1);
    assert.equal(cs.state.terminated?.reason, 'Error');
    assert.equal(cs.restartCount, 0);
  });

  it('restartPolicy Always and a crash → restarts with restartCount, previous log kept', async () => {
    await kc(['apply', '-f', '-'], podManifest('crashpod', `console.log('run at ' + Date.now()); setTimeout(() => process.exit(3), 100)`, { restartPolicy: 'Always' }));
    const pod = await eventually(async () => {
      const p = await getPod('crashpod');
      return (p?.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2 ? p : undefined;
    }, 20_000, 'crashpod restarted twice');
    assert.equal(pod.status!.phase, 'Running');
    const cs = pod.status!.containerStatuses![0]!;
    assert.equal(cs.lastState.terminated?.exitCode, 3);
    const { rows } = parseTable(await kc(['get', 'pod', 'crashpod']));
    assert.ok(Number(rows[0]!.RESTARTS!.split(' ')[0]) >= 2, JSON.stringify(rows));
    assert.match(await kc(['logs', 'crashpod', '--previous']), /^run at \d+\n$/);
    const events = await eventually(async () => {
      const out = await kc(['get', 'events', '--field-selector', 'involvedObject.name=crashpod', '-o', 'json']);
      const reasons = (JSON.parse(out) as { items: { reason: string }[] }).items.map((e) => e.reason);
      return reasons.includes('Started') && reasons.includes('BackOff') ? reasons : undefined;
    }, 10_000, 'Started and BackOff events');
    assert.ok(events.length >= 2);
    await kc(['delete', 'pod', 'crashpod', '--wait=true']);
  });

  it('an image with no local runtime waits with ImageNotMapped naming the image', async () => {
    await kc(['apply', '-f', '-'], podManifest('nopod', 'void 0', { image: 'acme/unknown:1.0' }));
    const pod = await eventually(async () => {
      const p = await getPod('nopod');
      return p?.status?.containerStatuses?.[0]?.state.waiting?.reason === 'ImageNotMapped' ? p : undefined;
    }, 15_000, 'ImageNotMapped');
    assert.equal(pod.status!.phase, 'Pending');
    assert.match(pod.status!.containerStatuses![0]!.state.waiting!.message!, /acme\/unknown:1\.0/);
    assert.equal(parseTable(await kc(['get', 'pod', 'nopod'])).rows[0]!.STATUS, 'ImageNotMapped');
    await kc(['delete', 'pod', 'nopod', '--wait=true']);
  });

  it('kubectl delete pod → SIGTERM reaches the process (hostPath volume mapped) and the pod disappears', async () => {
    const script = `
      const fs = require('node:fs');
      process.on('SIGTERM', () => { fs.writeFileSync(process.env.MARKER, 'term'); process.exit(0); });
      console.log('ready'); setInterval(() => {}, 1000);`;
    await kc(['apply', '-f', '-'], podManifest('termpod', script, {
      restartPolicy: 'Always',
      grace: 10,
      env: [{ name: 'MARKER', value: '/data/marker' }],
      volumes: [{ name: 'data', hostPath: { path: hostDir } }],
      volumeMounts: [{ name: 'data', mountPath: '/data' }],
    }));
    await eventually(async () => {
      const p = await getPod('termpod');
      return p?.status?.containerStatuses?.[0]?.ready ? true : undefined;
    }, 15_000, 'termpod ready');
    await eventually(async () => ((await kc(['logs', 'termpod'])).includes('ready') ? true : undefined), 10_000, 'termpod logged');
    const started = Date.now();
    await kc(['delete', 'pod', 'termpod', '--wait=true', '--timeout=30s']);
    assert.ok(Date.now() - started < 9_000, 'the process exited on SIGTERM, not after the grace period');
    assert.equal(readFileSync(join(hostDir, 'marker'), 'utf8'), 'term');
    assert.equal(await getPod('termpod'), undefined);
    assert.equal(existsSync(join(api.dataDir, 'logs', 'default', 'termpod')), false, 'log directory removed with the pod');
  });

  it('a pod deleted outright (--force) has its process killed; emptyDir and workingDir map under workDir', async () => {
    const script = `require('node:fs').writeFileSync('here.txt', 'x'); console.log(process.cwd()); setInterval(() => {}, 1000)`;
    await kc(['apply', '-f', '-'], podManifest('forcepod', script, {
      restartPolicy: 'Always',
      volumes: [{ name: 'scratch', emptyDir: {} }],
      volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
      workingDir: '/scratch',
    }));
    const pod = await eventually(async () => {
      const p = await getPod('forcepod');
      return p?.status?.containerStatuses?.[0]?.ready ? p : undefined;
    }, 15_000, 'forcepod ready');
    const scratch = join(workDir, 'pods', pod.metadata.uid!, 'volumes', 'scratch');
    await eventually(async () => ((await kc(['logs', 'forcepod'])).trim() === scratch ? true : undefined), 10_000, 'forcepod cwd logged');
    assert.equal(readFileSync(join(scratch, 'here.txt'), 'utf8'), 'x');
    const pid = Number(pod.status!.containerStatuses![0]!.containerID!.replace('process://', ''));
    await kc(['delete', 'pod', 'forcepod', '--grace-period=0', '--force']);
    await eventually(() => (isAlive(pid) ? undefined : true), 10_000, 'forcepod process killed');
    await eventually(() => (existsSync(scratch) ? undefined : true), 10_000, 'pod directory removed');
  });

  it('a Deployment of 2 replicas runs 2 processes on distinct host ports; a killed process comes back', async () => {
    const script = `require('node:http').createServer((q, s) => s.end(process.env.HOSTNAME)).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening on ' + process.env.PORT))`;
    await kc(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { nodeName: NODE, terminationGracePeriodSeconds: 2, containers: [{ name: 'web', image: 'node:20', command: ['node', '-e', script], ports: [{ containerPort: 8080 }] }] },
        },
      },
    }));
    const listRunning = async (): Promise<Pod[]> => {
      const list = JSON.parse(await kc(['get', 'pods', '-l', 'app=web', '-o', 'json'])) as { items: Pod[] };
      return list.items.filter((p) => !p.metadata.deletionTimestamp && p.status?.containerStatuses?.[0]?.ready);
    };
    const pods = await eventually(async () => {
      const running = await listRunning();
      return running.length === 2 ? running : undefined;
    }, 20_000, '2 web pods running');
    const ports = pods.map((p) => Object.values(JSON.parse(p.metadata.annotations![HOST_PORTS_ANNOTATION]!) as Record<string, number>)[0]!);
    assert.notEqual(ports[0], ports[1]);
    for (const [i, port] of ports.entries()) {
      const body = await eventually(async () => {
        const res = await fetch(`http://127.0.0.1:${port}/`);
        return res.ok ? res.text() : undefined;
      }, 10_000, `web ${i} answering`);
      assert.equal(body, pods[i]!.metadata.name);
    }
    const victim = pods[0]!;
    const pid = Number(victim.status!.containerStatuses![0]!.containerID!.replace('process://', ''));
    assert.ok(pid > 0);
    process.kill(pid, 'SIGKILL');
    await eventually(async () => {
      const running = await listRunning();
      const pids = running.map((p) => p.status!.containerStatuses![0]!.containerID);
      return running.length === 2 && !pids.includes(`process://${pid}`) ? true : undefined;
    }, 20_000, 'the killed process replaced');
    const after = JSON.parse(await kc(['get', 'pod', victim.metadata.name!, '-o', 'json'])) as Pod;
    assert.equal(after.status!.containerStatuses![0]!.restartCount, 1);
    assert.equal(after.status!.containerStatuses![0]!.lastState.terminated?.exitCode, 137);
    await kc(['delete', 'deployment', 'web', '--wait=true']);
    await eventually(async () => ((await kc(['get', 'pods', '-l', 'app=web', '-o', 'name'])).trim() === '' ? true : undefined), 20_000, 'web pods gone');
  });

  it('marks the Node not Ready when stopped', async () => {
    await kubelet.stop();
    const node = JSON.parse(await kc(['get', 'node', NODE, '-o', 'json'])) as NodeObj;
    assert.equal(node.status.conditions.find((c) => c.type === 'Ready')?.status, 'Unknown');
  });
});
