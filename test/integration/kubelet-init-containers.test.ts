// End to end: init containers in the embedded kubelet, against a real API server process and the
// real kubectl. An init container hands a file to the main container through an emptyDir
// (Init:0/1, then Running; its own log readable with -c); a failing one under Never fails the pod
// (Init:Error) and under Always loops (Init:CrashLoopBackOff); and a pod shaped like the GM's
// storage-initializer injection downloads a model from a local HTTP server into /downloads.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, kubectl, kubectlOk, type RunningApiServer, startApiServer } from '../helpers/apiserver.ts';
import { parseTable } from '../helpers/kubectl-table.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { type Container, Kubelet, type Pod } from '../../src/lc/kubelet/index.ts';

const NODE = 'edge-init-1';
const MODEL_BYTES = 'weights-0123456789';

function podManifest(name: string, init: Container[], main: Container, extra: { restartPolicy?: string; volumes?: unknown[] } = {}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      nodeName: NODE,
      restartPolicy: extra.restartPolicy ?? 'Never',
      terminationGracePeriodSeconds: 2,
      ...(extra.volumes ? { volumes: extra.volumes } : {}),
      initContainers: init,
      containers: [main],
    },
  });
}

const nodeContainer = (name: string, script: string, extra: Partial<Container> = {}): Container => ({ name, image: 'node:20', command: ['node', '-e', script], ...extra });

describe('embedded kubelet: init containers', () => {
  let api: RunningApiServer;
  let kubelet: Kubelet;
  let workDir: string;
  let http: Server;
  let httpPort: number;
  const kc = (args: string[], input?: string): Promise<string> => kubectlOk(api.kubeconfig, args, input);
  const getPod = async (name: string): Promise<Pod | undefined> => {
    const r = await kubectl(api.kubeconfig, ['get', 'pod', name, '-o', 'json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as Pod) : undefined;
  };
  const podStatusColumn = async (name: string): Promise<string | undefined> => parseTable(await kc(['get', 'pod', name])).rows[0]?.STATUS;
  /** Polls `kubectl get pod` until STATUS is `wanted`. */
  const statusBecomes = (name: string, wanted: string, timeoutMs = 15_000): Promise<string> =>
    eventually(async () => ((await podStatusColumn(name)) === wanted ? wanted : undefined), timeoutMs, `${name} STATUS ${wanted}`);

  before(async () => {
    http = createServer((req, res) => {
      if (req.url === '/model.bin') return void res.end(MODEL_BYTES);
      res.statusCode = 404;
      res.end('not found');
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    httpPort = (http.address() as AddressInfo).port;
    api = await startApiServer();
    workDir = mkdtempSync(join(tmpdir(), 'sedna-kubelet-init-'));
    kubelet = new Kubelet({
      kubeConfig: api.kubeConfig(),
      nodeName: NODE,
      podLogDir: join(api.dataDir, 'logs'),
      workDir,
      lcServerUrl: 'http://127.0.0.1:9100',
      crashBackoff: { initialMs: 400, maxMs: 1_600 },
      leaseRenewIntervalMs: 1_000,
      configRetryMs: 200,
      stopGraceMs: 500,
      ...(process.env.KUBELET_TEST_LOG ? { logger: createLogger('kubelet', 'debug') } : {}),
    });
    await kubelet.start();
  });

  after(async () => {
    await kubelet?.stop();
    await api?.stop();
    await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
    rmSync(workDir, { recursive: true, force: true });
  });

  it('an init container writes into an emptyDir that the main container then reads: Init:0/1, then Running', async () => {
    // The init container writes once the test has seen it running (the file WRITE_WHEN exists):
    // a fixed delay raced kubectl's start-up on a loaded machine.
    const writeWhen = join(workDir, 'init-may-write');
    const write = `require('node:fs').writeFileSync(process.env.OUT, 'hello from init'); console.log('init wrote')`;
    const init = nodeContainer('writer', `const t = setInterval(() => { if (!require('node:fs').existsSync(process.env.WRITE_WHEN)) return; clearInterval(t); ${write}; }, 100)`, {
      env: [{ name: 'OUT', value: '/shared/greeting.txt' }, { name: 'WRITE_WHEN', value: writeWhen }],
      volumeMounts: [{ name: 'shared', mountPath: '/shared' }],
    });
    const main = nodeContainer('main', `console.log('main read: ' + require('node:fs').readFileSync(process.env.IN, 'utf8')); setInterval(() => {}, 1000)`, {
      env: [{ name: 'IN', value: '/data/greeting.txt' }],
      volumeMounts: [{ name: 'shared', mountPath: '/data', readOnly: true }],
    });
    await kc(['apply', '-f', '-'], podManifest('handoff', [init], main, { restartPolicy: 'Always', volumes: [{ name: 'shared', emptyDir: {} }] }));
    await statusBecomes('handoff', 'Init:0/1');
    const initializing = (await getPod('handoff'))!;
    assert.equal(initializing.status!.phase, 'Pending');
    assert.deepEqual(initializing.status!.containerStatuses![0]!.state, { waiting: { reason: 'PodInitializing' } });
    assert.equal(initializing.status!.conditions!.find((c) => c.type === 'Initialized')!.status, 'False');
    writeFileSync(writeWhen, '');

    await statusBecomes('handoff', 'Running');
    const pod = (await getPod('handoff'))!;
    assert.equal(pod.status!.phase, 'Running');
    const writer = pod.status!.initContainerStatuses![0]!;
    assert.equal(writer.state.terminated?.exitCode, 0);
    assert.equal(writer.state.terminated?.reason, 'Completed');
    assert.equal(writer.ready, true);
    assert.equal(pod.status!.conditions!.find((c) => c.type === 'Initialized')!.status, 'True');
    assert.equal(parseTable(await kc(['get', 'pod', 'handoff'])).rows[0]!.READY, '1/1');
    await eventually(async () => ((await kc(['logs', 'handoff'])).includes('main read: hello from init') ? true : undefined), 10_000, 'main container logged the file');
  });

  // Needs the API server's pods/log to accept init container names (src/apiserver/rest/pod-log.ts).
  it('kubectl logs -c <init container> shows the init container output', async () => {
    try {
      assert.equal((await kc(['logs', 'handoff', '-c', 'writer'])).trim(), 'init wrote');
    } finally {
      await kc(['delete', 'pod', 'handoff', '--wait=true']);
    }
  });

  it('a failing init container under restartPolicy Never fails the pod: Init:Error; the main container never runs', async () => {
    const init = nodeContainer('check', `console.error('precondition failed'); process.exit(3)`);
    await kc(['apply', '-f', '-'], podManifest('initfail', [init], nodeContainer('main', `console.log('should not run')`)));
    await statusBecomes('initfail', 'Init:Error');
    const pod = (await getPod('initfail'))!;
    assert.equal(pod.status!.phase, 'Failed');
    assert.equal(pod.status!.initContainerStatuses![0]!.state.terminated?.exitCode, 3);
    assert.equal(pod.status!.initContainerStatuses![0]!.restartCount, 0);
    assert.deepEqual(pod.status!.containerStatuses![0]!.state, { waiting: { reason: 'PodInitializing' } });
    assert.equal(existsSync(join(api.dataDir, 'logs', 'default', 'initfail', 'main.log')), false, 'the main container never started');
    await kc(['delete', 'pod', 'initfail', '--wait=true']);
  });

  it('a failing init container under OnFailure is retried until it succeeds; a later one waits for it', async () => {
    // Fails on its first run only: the marker survives in the emptyDir.
    const flaky = nodeContainer('flaky', `const fs = require('node:fs'); if (!fs.existsSync(process.env.MARK)) { fs.writeFileSync(process.env.MARK, '1'); process.exit(1); }`, {
      env: [{ name: 'MARK', value: '/scratch/mark' }],
      volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
    });
    const second = nodeContainer('second', `console.log('second ran')`);
    await kc(['apply', '-f', '-'], podManifest('initretry', [flaky, second], nodeContainer('main', `console.log('main ran')`), { restartPolicy: 'OnFailure', volumes: [{ name: 'scratch', emptyDir: {} }] }));
    const pod = await eventually(async () => {
      const p = await getPod('initretry');
      return p?.status?.phase === 'Succeeded' ? p : undefined;
    }, 20_000, 'initretry Succeeded');
    const [first, next] = pod.status!.initContainerStatuses!;
    assert.equal(first!.restartCount, 1);
    assert.equal(first!.lastState.terminated?.exitCode, 1);
    assert.equal(first!.state.terminated?.exitCode, 0);
    assert.equal(next!.state.terminated?.exitCode, 0);
    assert.equal(next!.restartCount, 0);
    assert.ok(Date.parse(next!.state.terminated.startedAt!) >= Date.parse(first!.state.terminated.finishedAt!), 'second started after first finished');
    assert.equal((await kc(['logs', 'initretry'])).trim(), 'main ran');
    await kc(['delete', 'pod', 'initretry', '--wait=true']);
  });

  it('an init container that keeps failing under Always shows Init:CrashLoopBackOff', async () => {
    await kc(['apply', '-f', '-'], podManifest('initloop', [nodeContainer('boom', 'process.exit(1)')], nodeContainer('main', 'setInterval(() => {}, 1000)'), { restartPolicy: 'Always' }));
    await statusBecomes('initloop', 'Init:CrashLoopBackOff');
    const pod = (await getPod('initloop'))!;
    assert.equal(pod.status!.phase, 'Pending');
    assert.ok(pod.status!.initContainerStatuses![0]!.restartCount >= 1);
    await kc(['delete', 'pod', 'initloop', '--wait=true']);
  });

  it('a pod shaped like the GM storage-initializer injection downloads the model into /downloads for the main container', async () => {
    const url = `http://127.0.0.1:${httpPort}/model.bin`;
    const initializer: Container = {
      name: 'storage-initializer',
      image: 'kubeedge/sedna-storage-initializer:v0.3.0',
      args: [url, `/downloads/127.0.0.1:${httpPort}/`],
      env: [{ name: 'INDIRECT_URL_MARK', value: '@' }],
      volumeMounts: [{ name: 'sedna-storage-initializer', mountPath: '/downloads' }],
    };
    const main = nodeContainer('worker', `console.log('model: ' + require('node:fs').readFileSync(process.env.MODEL_URL, 'utf8')); setInterval(() => {}, 1000)`, {
      env: [{ name: 'MODEL_URL', value: `/downloads/127.0.0.1:${httpPort}/model.bin` }],
      volumeMounts: [{ name: 'sedna-storage-initializer', mountPath: '/downloads', readOnly: true }],
    });
    await kc(['apply', '-f', '-'], podManifest('si', [initializer], main, { restartPolicy: 'Always', volumes: [{ name: 'sedna-storage-initializer', emptyDir: {} }] }));
    await statusBecomes('si', 'Running', 30_000);
    await eventually(async () => ((await kc(['logs', 'si'])).includes(`model: ${MODEL_BYTES}`) ? true : undefined), 10_000, 'worker read the downloaded model');
    const pod = (await getPod('si'))!;
    assert.equal(pod.status!.initContainerStatuses![0]!.state.terminated?.reason, 'Completed');
    await kc(['delete', 'pod', 'si', '--wait=true']);
  });

  it('a storage initializer that cannot download fails the pod with Init:Error, naming the URL in its log', async () => {
    const url = `http://127.0.0.1:${httpPort}/missing.bin`;
    const initializer: Container = {
      name: 'storage-initializer',
      image: 'kubeedge/sedna-storage-initializer:v0.3.0',
      args: [url, '/downloads/m/'],
      volumeMounts: [{ name: 'sedna-storage-initializer', mountPath: '/downloads' }],
    };
    await kc(['apply', '-f', '-'], podManifest('sifail', [initializer], nodeContainer('worker', 'void 0'), { volumes: [{ name: 'sedna-storage-initializer', emptyDir: {} }] }));
    await statusBecomes('sifail', 'Init:Error', 30_000);
    const log = await eventually(() => {
      const file = join(api.dataDir, 'logs', 'default', 'sifail', 'storage-initializer.log');
      return existsSync(file) ? file : undefined;
    }, 5_000, 'initializer log');
    assert.match(readFileSync(log, 'utf8'), /missing\.bin/);
    await kc(['delete', 'pod', 'sifail', '--wait=true']);
  });
});
