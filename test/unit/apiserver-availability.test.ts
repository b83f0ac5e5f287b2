// No request and no controller can stall the API server (issue 12 part 3): controllers yield between
// the pods they write, patterns run on a linear-time engine, bodies have a depth bound, replicas are
// int32. The figures (healthz p99 under a 20,000-replica Deployment, restart time with 200,000 pods)
// are in bench/apiserver/availability.ts; these tests pin the mechanisms.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:net';
import type { KubeObject } from '../../src/api/meta.ts';
import { startControllers } from '../../src/apiserver/controllers/index.ts';
import { builtinResources } from '../../src/apiserver/registry/builtins.ts';
import { GenericStore } from '../../src/apiserver/registry/generic-store.ts';
import { ResourceRegistry } from '../../src/apiserver/registry/registry.ts';
import { checkJsonDepth } from '../../src/apiserver/rest/body.ts';
import { compilePattern } from '../../src/apiserver/schema/pattern.ts';
import { SqliteStore } from '../../src/apiserver/storage/sqlite-store.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { type InProcessApiServer, startInProcessApiServer } from '../helpers/in-process-apiserver.ts';

const replicaSet = (name: string, replicas: number): KubeObject => ({
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
  },
});

describe('in-process controllers work in bounded slices', () => {
  it('gives the event loop a turn between every pod a ReplicaSet creates and deletes, in bursts of at most 500', async () => {
    const store = new GenericStore(new SqliteStore({ path: ':memory:' }), new ResourceRegistry(builtinResources));
    store.create(store.registry.lookup('', 'v1', 'namespaces')!, undefined, { metadata: { name: 'default' } });
    const rsDef = store.registry.lookup('apps', 'v1', 'replicasets')!;
    const controllers = startControllers(store, silentLogger());
    let turns = 0;
    let running = true;
    const tick = (): void => {
      turns++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    const turnsAtWrite: number[] = [];
    const unsubscribe = store.storage.subscribe((e) => {
      if (e.key.startsWith('core/pods/')) turnsAtWrite.push(turns);
    });
    try {
      store.create(rsDef, 'default', replicaSet('big', 1200));
      await controllers.idle();
      assert.equal(store.listObjects(store.registry.lookup('', 'v1', 'pods')!, 'default').length, 1200);
      const creates = turnsAtWrite.length;
      store.guaranteedUpdate(rsDef, 'default', 'big', (o) => ({ ...o, spec: { ...(o.spec as object), replicas: 0 } }));
      await controllers.idle();
      assert.equal(store.listObjects(store.registry.lookup('', 'v1', 'pods')!, 'default').length, 0);
      assert.ok(turnsAtWrite.length >= creates + 1200, 'every pod deleted');
      for (let i = 1; i < turnsAtWrite.length; i++) {
        assert.ok(turnsAtWrite[i]! > turnsAtWrite[i - 1]!, `a turn of the event loop between pod writes ${i - 1} and ${i}`);
      }
    } finally {
      running = false;
      unsubscribe();
      controllers.stop();
      store.storage.close();
    }
  });
});

describe('patterns and bodies', () => {
  it('matches CRD patterns with RE2 semantics in linear time and reports invalid ones', () => {
    const evil = compilePattern('^(a+)+$');
    assert.ok(!(evil instanceof Error));
    // 2^60 steps for a backtracking engine; linear for RE2.
    assert.equal(evil.test('a'.repeat(60) + '!'), false);
    assert.equal(evil.test('aaaa'), true);
    const unanchored = compilePattern('[0-9]');
    assert.ok(!(unanchored instanceof Error) && unanchored.test('ab1'), 'unanchored like Go regexp.MatchString');
    assert.ok(compilePattern('(') instanceof Error);
    assert.ok(compilePattern('(?=lookahead)') instanceof Error, 'RE2 has no lookaround');
  });

  it('bounds body depth in one linear pass, ignoring brackets inside strings', () => {
    checkJsonDepth(`${'['.repeat(1000)}${']'.repeat(1000)}`);
    checkJsonDepth(`{"a":"${'['.repeat(5000)}"}`);
    assert.throws(() => checkJsonDepth(`${'['.repeat(1001)}${']'.repeat(1001)}`), /exceeded max depth of 1000/);
  });
});

describe('hostile requests over HTTP', () => {
  let api: InProcessApiServer;
  before(async () => {
    api = await startInProcessApiServer();
  });
  after(async () => {
    await api.stop();
  });

  const crd = (pattern: string): KubeObject => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'things.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'things', singular: 'thing', kind: 'Thing', listKind: 'ThingList' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { s: { type: 'string', pattern } } } } } },
        },
      ],
    },
  });

  it('refuses an invalid CRD pattern at create and runs a backtracking-prone one in linear time', async () => {
    const bad = await api.call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd('('));
    assert.equal(bad.code, 422, bad.body);
    assert.match(bad.json<{ message: string }>().message, /properties\[s\]\.pattern: Invalid value: "\(": must be a valid regular expression/);
    const created = await api.call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd('^(a+)+$'));
    assert.equal(created.code, 201, created.body);
    await api.server.idle();
    const res = await api.call('POST', '/apis/example.com/v1/namespaces/default/things', {
      apiVersion: 'example.com/v1',
      kind: 'Thing',
      metadata: { name: 'slow' },
      spec: { s: 'a'.repeat(60) + '!' },
    });
    assert.equal(res.code, 422);
    assert.match(res.json<{ message: string }>().message, /spec\.s in body should match/);
  });

  it('answers JSON nested 3,000 levels with 400, not a stack overflow 500', async () => {
    let nested = '1';
    for (let i = 0; i < 3000; i++) nested = `{"a":${nested}}`;
    const res = await api.call('POST', '/api/v1/namespaces/default/configmaps', undefined, { raw: `{"metadata":{"name":"deep"},"data":${nested}}` });
    assert.equal(res.code, 400);
    assert.match(res.json<{ message: string }>().message, /exceeded max depth/);
    const yaml = `${Array.from({ length: 1100 }, (_, i) => `${' '.repeat(i)}a:`).join('\n')} 1\n`;
    const viaYaml = await api.call('POST', '/api/v1/namespaces/default/configmaps', undefined, { raw: yaml, contentType: 'application/yaml' });
    assert.equal(viaYaml.code, 400, viaYaml.body);
    assert.equal((await api.call('GET', '/api/v1/namespaces/default/configmaps/deep')).code, 404);
  });

  it('refuses replicas beyond int32 (a 10^12-replica Deployment is not accepted)', async () => {
    const deployment = {
      metadata: { name: 'huge' },
      spec: {
        replicas: 1_000_000_000_000,
        selector: { matchLabels: { a: 'b' } },
        template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
      },
    };
    const res = await api.call('POST', '/apis/apps/v1/namespaces/default/deployments', deployment);
    assert.equal(res.code, 422);
    assert.match(res.json<{ message: string }>().message, /spec\.replicas: Invalid value: 1000000000000: must be a 32-bit integer/);
    assert.equal((await api.call('GET', '/apis/apps/v1/namespaces/default/deployments/huge')).code, 404);
  });
});

// Its own server, so the short handshake timeout it needs cannot touch the calls of the suite above
// when a loaded machine is slow to finish an honest handshake.
describe('a silent TLS client', () => {
  let api: InProcessApiServer;
  before(async () => {
    api = await startInProcessApiServer({ handshakeTimeoutMs: 300 });
  });
  after(async () => {
    await api.stop();
  });

  it('drops a connection that never finishes its TLS handshake', async () => {
    const { hostname, port } = new URL(api.server.address);
    const closed = await new Promise<boolean>((resolve) => {
      const socket = connect(Number(port), hostname);
      socket.on('close', () => resolve(true));
      socket.on('error', () => undefined);
    });
    assert.ok(closed, 'the server closed the silent connection after its handshake timeout');
  });
});
