import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { GmConfigError, loadGmConfig, type GmConfig } from '../../src/gm/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'sedna-gm-config-'));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The issues a failing load reports, as `path: message` lines. */
function issuesOf(load: () => unknown): string[] {
  try {
    load();
  } catch (err) {
    assert.ok(err instanceof GmConfigError, `expected a GmConfigError, got ${String(err)}`);
    return err.issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
  assert.fail('the configuration was accepted');
}

describe('GM configuration', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("has Sedna's defaults, with the hub on loopback and our additions", () => {
    const expected: GmConfig = {
      kubeConfig: '',
      master: '',
      namespace: '',
      websocket: {
        address: '127.0.0.1',
        port: 9000,
        tls: undefined,
        heartbeat: { intervalSeconds: 5, timeoutSeconds: 15 },
        nodeTokens: { kind: 'secret', name: 'sedna-node-tokens', namespace: 'sedna' },
      },
      localController: { server: 'http://localhost:9100' },
      knowledgeBaseServer: { server: 'http://localhost:9020', tokenFile: '' },
      minResyncPeriodSeconds: 30,
      metrics: { address: '127.0.0.1', port: 9091 },
    };
    assert.deepEqual(loadGmConfig(undefined), expected);
    assert.deepEqual(loadGmConfig(file('empty.yaml', '')), expected);
  });

  it('reads a Sedna gm.yaml and our fields from a file', () => {
    const kubeconfig = file('kubeconfig', 'apiVersion: v1\n');
    const cert = file('hub.crt', 'cert');
    const key = file('hub.key', 'key');
    const tokens = file('tokens.yaml', 'edge-1: secret\n');
    const path = file(
      'gm.yaml',
      [
        `kubeConfig: ${kubeconfig}`,
        'master: https://10.0.0.1:6443',
        'namespace: sedna-jobs',
        'websocket:',
        '  address: 0.0.0.0',
        '  port: 9443',
        `  tls: {certFile: ${cert}, keyFile: ${key}}`,
        '  heartbeat: {intervalSeconds: 2, timeoutSeconds: 6}',
        `  nodeTokens: {file: ${tokens}}`,
        'localController:',
        '  server: http://localhost:9100',
        'knowledgeBaseServer:',
        '  server: http://kb.sedna:9020',
        'minResyncPeriodSeconds: 60',
        'metrics: {port: 0}',
      ].join('\n'),
    );
    const config = loadGmConfig(path);
    assert.equal(config.kubeConfig, kubeconfig);
    assert.equal(config.master, 'https://10.0.0.1:6443');
    assert.equal(config.namespace, 'sedna-jobs');
    assert.deepEqual(config.websocket, {
      address: '0.0.0.0',
      port: 9443,
      tls: { certFile: cert, keyFile: key },
      heartbeat: { intervalSeconds: 2, timeoutSeconds: 6 },
      nodeTokens: { kind: 'file', path: tokens },
    });
    assert.equal(config.knowledgeBaseServer.server, 'http://kb.sedna:9020');
    assert.equal(config.minResyncPeriodSeconds, 60);
    assert.deepEqual(config.metrics, { address: '127.0.0.1', port: 0 });
  });

  it('applies overrides over the file, ignoring undefined ones', () => {
    const path = file('override.yaml', 'websocket: {port: 9001, address: 0.0.0.0}\nnamespace: a\n');
    const config = loadGmConfig(path, { websocket: { port: 0, address: undefined }, namespace: undefined, master: 'http://127.0.0.1:8080' });
    assert.equal(config.websocket.port, 0);
    assert.equal(config.websocket.address, '0.0.0.0');
    assert.equal(config.namespace, 'a');
    assert.equal(config.master, 'http://127.0.0.1:8080');
  });

  it('takes a Secret name for node tokens', () => {
    const config = loadGmConfig(undefined, { websocket: { nodeTokens: { secretName: 'edge-tokens', secretNamespace: 'kube-system' } } });
    assert.deepEqual(config.websocket.nodeTokens, { kind: 'secret', name: 'edge-tokens', namespace: 'kube-system' });
  });

  it('refuses unknown fields, naming their path', () => {
    const path = file('unknown.yaml', 'websocket:\n  prot: 9000\n  heartbeat: {interval: 3}\nkubeconfig: /x\n');
    assert.deepEqual(issuesOf(() => loadGmConfig(path)).sort(), [
      'kubeconfig: unknown field',
      'websocket.heartbeat.interval: unknown field',
      'websocket.prot: unknown field',
    ]);
  });

  it('refuses wrong types and out-of-range values, naming every field at once', () => {
    const path = file('types.yaml', 'websocket:\n  port: "9000"\n  address: [a]\nminResyncPeriodSeconds: 0\nlocalController: http://x\nmetrics: {port: 70000}\n');
    const issues = issuesOf(() => loadGmConfig(path));
    assert.deepEqual(issues.sort(), [
      'localController: must be a mapping, got "http://x"',
      'metrics.port: must be an integer from 0 to 65535, got 70000',
      'minResyncPeriodSeconds: must be an integer from 1 to 9007199254740991, got 0',
      'websocket.address: must be a string, got a list',
      'websocket.port: must be an integer from 0 to 65535, got "9000"',
    ]);
  });

  it('checks values: files that must exist, URLs, names, heartbeat timing, one token source', () => {
    const tokens = file('tokens2.yaml', 'edge-1: t\n');
    const issues = issuesOf(() =>
      loadGmConfig(undefined, {
        kubeConfig: join(dir, 'missing-kubeconfig'),
        master: 'not a url',
        namespace: 'Bad_NS',
        websocket: { tls: { certFile: join(dir, 'missing.crt') }, heartbeat: { intervalSeconds: 10, timeoutSeconds: 10 }, nodeTokens: { file: tokens, secretName: 'x' } },
        knowledgeBaseServer: { server: 'ftp://kb' },
      }),
    );
    assert.deepEqual(issues.sort(), [
      `kubeConfig: file "${join(dir, 'missing-kubeconfig')}" does not exist`,
      'knowledgeBaseServer.server: must be an http(s) URL, got "ftp://kb"',
      'master: must be an http(s) URL, got "not a url"',
      'namespace: must be a namespace name (DNS-1123 label), got "Bad_NS"',
      `websocket.heartbeat.timeoutSeconds: must be greater than intervalSeconds (10)`,
      'websocket.nodeTokens.file: set either file or secretName/secretNamespace, not both',
      `websocket.tls.certFile: file "${join(dir, 'missing.crt')}" does not exist`,
      'websocket.tls.keyFile: is required when tls is set',
    ].sort());
  });

  it('names the file in every error, and refuses a missing file, bad YAML and a non-mapping document', () => {
    const missing = join(dir, 'nope.yaml');
    assert.throws(() => loadGmConfig(missing), (err: Error) => err instanceof GmConfigError && err.message.includes(missing) && /cannot read/.test(err.message));
    const broken = file('broken.yaml', 'websocket: {port: 1\n');
    assert.throws(() => loadGmConfig(broken), (err: Error) => err instanceof GmConfigError && err.message.includes(broken) && /not valid YAML/.test(err.message));
    const list = file('list.yaml', '- a\n- b\n');
    assert.deepEqual(issuesOf(() => loadGmConfig(list)), ['(top level): must be a mapping, got a list']);
    const bad = file('bad.yaml', 'websocket: {port: -1}\n');
    assert.throws(() => loadGmConfig(bad), (err: Error) => err.message.startsWith(`invalid GM configuration (${bad}):\n  websocket.port:`));
  });
});
