// The embedded kubelet's pure helpers: image → runtime mapping, container env (fieldRef,
// ConfigMap/Secret refs, $(VAR) expansion), mountPath → host path mapping, host ports.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  allocateHostPorts,
  ContainerConfigError,
  containerArgv,
  containerEnv,
  defaultImageRuntimes,
  expand,
  HOST_PORTS_ANNOTATION,
  imageName,
  type KeyLookup,
  mapMountPaths,
  nodeConditions,
  type Pod,
  portEnv,
  resolveImage,
  SEDNA_CLI,
} from '../../src/lc/kubelet/index.ts';

describe('image runtimes', () => {
  const runtimes = defaultImageRuntimes();

  it('strips tags and digests, not registry ports', () => {
    assert.equal(imageName('node:20'), 'node');
    assert.equal(imageName('docker.io/library/node:20-alpine@sha256:abc'), 'docker.io/library/node');
    assert.equal(imageName('localhost:5000/sedna/gm'), 'localhost:5000/sedna/gm');
  });

  it('maps node, sedna/* and kubeedge/sedna-example* by default, and nothing else', () => {
    assert.equal(resolveImage('node:20', runtimes), runtimes.node);
    assert.equal(resolveImage('docker.io/library/node', runtimes), runtimes.node);
    assert.equal(resolveImage('sedna/lc:v0.1', runtimes), runtimes['sedna/*']);
    assert.equal(resolveImage('kubeedge/sedna-example-joint-inference-helmet-detection-little:v0.6.0', runtimes), runtimes['kubeedge/sedna-example*']);
    assert.equal(resolveImage('busybox', runtimes), undefined);
    assert.equal(resolveImage('nodejs/other', runtimes), undefined);
  });

  it('an exact name wins over a prefix, a longer prefix over a shorter one', () => {
    const custom = { 'a/*': { entrypoint: ['1'] }, 'a/b*': { entrypoint: ['2'] }, 'a/bc': { entrypoint: ['3'] } };
    assert.deepEqual(resolveImage('a/x', custom)?.entrypoint, ['1']);
    assert.deepEqual(resolveImage('a/bd', custom)?.entrypoint, ['2']);
    assert.deepEqual(resolveImage('a/bc:1', custom)?.entrypoint, ['3']);
  });

  it('command replaces the entrypoint with its executable mapped; args follow', () => {
    const sedna = runtimes['sedna/*']!;
    assert.deepEqual(containerArgv(sedna, undefined, ['lc', '--x']), [process.execPath, SEDNA_CLI, 'lc', '--x']);
    assert.deepEqual(containerArgv(sedna, ['node', 'w.js'], ['a']), [process.execPath, 'w.js', 'a']);
    assert.deepEqual(containerArgv(sedna, ['/usr/local/bin/node', '-e', '1'], undefined), [process.execPath, '-e', '1']);
    assert.deepEqual(containerArgv(sedna, ['sh', '-c', 'true'], undefined), ['sh', '-c', 'true']);
  });
});

describe('container env', () => {
  const pod: Pod = {
    metadata: { name: 'p', namespace: 'ns', uid: 'u', labels: { app: 'x', b: '2' }, annotations: { note: 'hi' } },
    spec: { nodeName: 'n1', containers: [] },
  };
  const data: Record<string, Record<string, string>> = { 'ConfigMap/cm': { a: '1', b: '2' }, 'Secret/s': { token: 't' } };
  const lookup: KeyLookup = (kind, namespace, name) => {
    assert.equal(namespace, 'ns');
    return Promise.resolve(data[`${kind}/${name}`]);
  };

  it('resolves envFrom, literals with $(VAR), fieldRef, configMapKeyRef and secretKeyRef in order', async () => {
    const env = await containerEnv(
      pod,
      {
        name: 'c',
        envFrom: [{ configMapRef: { name: 'cm' }, prefix: 'CM_' }],
        env: [
          { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'GREETING', value: 'hello $(NAME) $$(NAME) $(MISSING)' },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: 'LABELS', valueFrom: { fieldRef: { fieldPath: 'metadata.labels' } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'A', valueFrom: { configMapKeyRef: { name: 'cm', key: 'a' } } },
          { name: 'T', valueFrom: { secretKeyRef: { name: 's', key: 'token' } } },
          { name: 'OPT', valueFrom: { secretKeyRef: { name: 'none', key: 'x', optional: true } } },
        ],
      },
      lookup,
      { BASE: 'b' },
    );
    assert.deepEqual(env, {
      BASE: 'b',
      CM_a: '1',
      CM_b: '2',
      NAME: 'p',
      GREETING: 'hello p $(NAME) $(MISSING)',
      APP: 'x',
      LABELS: 'app="x"\nb="2"',
      NODE: 'n1',
      IP: '127.0.0.1',
      A: '1',
      T: 't',
    });
  });

  it('a missing Secret, ConfigMap or key that is not optional is a ContainerConfigError', async () => {
    await assert.rejects(containerEnv(pod, { name: 'c', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'none', key: 'x' } } }] }, lookup), ContainerConfigError);
    await assert.rejects(containerEnv(pod, { name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm', key: 'zz' } } }] }, lookup), /couldn't find key zz/);
  });

  it('expand handles $$ and unknown references like Kubernetes', () => {
    assert.equal(expand('$(A)-$(B)-$$-$(A', { A: 'a' }), 'a-$(B)-$-$(A');
  });
});

describe('volume paths and ports', () => {
  it('maps a mountPath (whole value or after =) to its host path, longest mount first', () => {
    const mounts: [string, string][] = [
      ['/data/models', '/host/models'],
      ['/data', '/host/data'],
    ];
    assert.equal(mapMountPaths('/data/models/m.pb', mounts), '/host/models/m.pb');
    assert.equal(mapMountPaths('/data', mounts), '/host/data');
    assert.equal(mapMountPaths('--out=/data/x', mounts), '--out=/host/data/x');
    assert.equal(mapMountPaths('/database', mounts), '/database');
    assert.equal(mapMountPaths('/data/new/m;/data/models/m', mounts), '/host/data/new/m;/host/models/m', 'each path of a MODEL_URLS list');
    assert.equal(mapMountPaths('plain', mounts), 'plain');
  });

  it('allocates a host port per container port, reusing the annotation and hostPort', async () => {
    let next = 40000;
    const allocate = () => Promise.resolve(next++);
    const pod: Pod = {
      metadata: { name: 'p', annotations: { [HOST_PORTS_ANNOTATION]: JSON.stringify({ 'a/80': 31000 }) } },
      spec: {
        containers: [
          { name: 'a', ports: [{ containerPort: 80 }, { containerPort: 81, name: 'metrics' }] },
          { name: 'b', ports: [{ containerPort: 80, hostPort: 8080 }] },
        ],
      },
    };
    const ports = await allocateHostPorts(pod, allocate);
    assert.deepEqual(ports, { 'a/80': 31000, 'a/81': 40000, 'b/80': 8080 });
    assert.deepEqual(portEnv(pod.spec!.containers[0]!, ports), { PORT: '31000', PORT_80: '31000', PORT_81: '40000', PORT_METRICS: '40000' });
  });
});

describe('node conditions', () => {
  it('refreshes heartbeats and keeps transition times while the status holds', () => {
    const t0 = new Date('2026-01-01T00:00:00Z');
    const t1 = new Date('2026-01-01T00:01:00Z');
    const first = nodeConditions(undefined, 'True', t0);
    const ready = first.find((c) => c.type === 'Ready')!;
    assert.deepEqual(ready, { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z' });
    const again = nodeConditions(first, 'True', t1).find((c) => c.type === 'Ready')!;
    assert.equal(again.lastHeartbeatTime, '2026-01-01T00:01:00Z');
    assert.equal(again.lastTransitionTime, '2026-01-01T00:00:00Z');
    const stopped = nodeConditions(first, 'Unknown', t1, 'KubeletStopped').find((c) => c.type === 'Ready')!;
    assert.equal(stopped.status, 'Unknown');
    assert.equal(stopped.reason, 'KubeletStopped');
    assert.equal(stopped.lastTransitionTime, '2026-01-01T00:01:00Z');
  });
});
