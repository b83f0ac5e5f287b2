// The GlobalManager's configuration: Sedna's `sedna-gm.yaml` (spec §2.1), same keys and defaults
// except where noted, plus what the trustworthy edge link needs (TLS, per-node tokens, heartbeats)
// and the metrics listener. Unlike Sedna, unknown keys and wrong types are refused, each error
// naming the field: a typo must not silently leave a default in force.
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigSection, isMapping, type ConfigIssue } from './config-reader.ts';

export type NodeTokenSourceConfig =
  /** A Secret whose keys are node names and values their tokens. */
  | { kind: 'secret'; name: string; namespace: string }
  /** A YAML file of `node: token` pairs. */
  | { kind: 'file'; path: string }
  /**
   * On a cluster: the LC pod's projected ServiceAccount token, checked with a TokenReview and the
   * pod's node (src/gm/service-account-nodes.ts).
   */
  | { kind: 'serviceAccount'; namespace: string; name: string; audience: string };

export interface GmConfig {
  /** Kubeconfig path; empty with an empty `master` means in-cluster configuration. */
  kubeConfig: string;
  /** API server URL; overrides the kubeconfig's. */
  master: string;
  /** Restricts every informer to one namespace; empty means all. */
  namespace: string;
  websocket: {
    address: string;
    port: number;
    tls: { certFile: string; keyFile: string } | undefined;
    heartbeat: { intervalSeconds: number; timeoutSeconds: number };
    nodeTokens: NodeTokenSourceConfig;
  };
  /** Injected into workers as `LC_SERVER`. */
  localController: { server: string };
  /**
   * Injected into lifelong-learning workers as `KB_SERVER`; the file holding the knowledge base's
   * bearer token ('' = none), injected as `KB_TOKEN` from a Secret the job owns (secretKeyRef).
   */
  knowledgeBaseServer: { server: string; tokenFile: string };
  /** Each informer factory resyncs after a random period in [min, 2·min) seconds. */
  minResyncPeriodSeconds: number;
  metrics: { address: string; port: number };
}

/** The file's shape, every field optional: also what command-line flags override. */
export interface GmConfigInput {
  kubeConfig?: string;
  master?: string;
  namespace?: string;
  websocket?: {
    address?: string;
    port?: number;
    tls?: { certFile?: string; keyFile?: string };
    heartbeat?: { intervalSeconds?: number; timeoutSeconds?: number };
    nodeTokens?: { secretName?: string; secretNamespace?: string; file?: string; serviceAccountName?: string; serviceAccountNamespace?: string; audience?: string };
  };
  localController?: { server?: string };
  knowledgeBaseServer?: { server?: string; tokenFile?: string };
  minResyncPeriodSeconds?: number;
  metrics?: { address?: string; port?: number };
}

export class GmConfigError extends Error {
  constructor(
    readonly source: string,
    readonly issues: ConfigIssue[],
  ) {
    super(`invalid GM configuration (${source}):\n${issues.map((issue) => `  ${issue.path}: ${issue.message}`).join('\n')}`);
    this.name = 'GmConfigError';
  }
}

export const GM_CONFIG_DEFAULTS = {
  // Sedna binds 0.0.0.0; we listen on loopback unless told otherwise, as the API server does.
  websocketAddress: '127.0.0.1',
  websocketPort: 9000,
  heartbeatIntervalSeconds: 5,
  heartbeatTimeoutSeconds: 15,
  nodeTokenSecret: 'sedna-node-tokens',
  nodeTokenSecretNamespace: 'sedna',
  nodeTokenAudience: 'sedna-gm',
  localControllerServer: 'http://localhost:9100',
  knowledgeBaseServer: 'http://localhost:9020',
  minResyncPeriodSeconds: 30,
  metricsAddress: '127.0.0.1',
  metricsPort: 9091,
} as const;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_PORT = 65535;

/**
 * Reads the configuration: defaults, then the YAML file at `path` (if given; it must exist, as
 * Sedna's GM refuses to start without it), then `overrides` (command-line flags; undefined
 * fields are ignored). Throws {@link GmConfigError} listing every problem.
 */
export function loadGmConfig(path: string | undefined, overrides: GmConfigInput = {}): GmConfig {
  const source = path ?? 'defaults';
  const document = mergeOverrides(path === undefined ? {} : readDocument(path), overrides);
  const root = ConfigSection.root(document);
  const config = readConfig(root);
  root.finish();
  if (root.issues.length > 0) throw new GmConfigError(source, root.issues);
  return config;
}

function readDocument(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new GmConfigError(path, [{ path: '(file)', message: `cannot read: ${(err as Error).message}` }]);
  }
  try {
    return parse(text);
  } catch (err) {
    throw new GmConfigError(path, [{ path: '(file)', message: `not valid YAML: ${(err as Error).message}` }]);
  }
}

function readConfig(root: ConfigSection): GmConfig {
  return {
    kubeConfig: readExistingFile(root, 'kubeConfig', ''),
    master: readUrl(root, 'master', ''),
    namespace: readNamespace(root, 'namespace', ''),
    websocket: readWebsocket(root.section('websocket')),
    localController: { server: readUrl(root.section('localController'), 'server', GM_CONFIG_DEFAULTS.localControllerServer) },
    knowledgeBaseServer: readKnowledgeBase(root.section('knowledgeBaseServer')),
    minResyncPeriodSeconds: root.integer('minResyncPeriodSeconds', GM_CONFIG_DEFAULTS.minResyncPeriodSeconds, 1),
    metrics: readListener(root.section('metrics'), GM_CONFIG_DEFAULTS.metricsAddress, GM_CONFIG_DEFAULTS.metricsPort),
  };
}

function readKnowledgeBase(section: ConfigSection): GmConfig['knowledgeBaseServer'] {
  return { server: readUrl(section, 'server', GM_CONFIG_DEFAULTS.knowledgeBaseServer), tokenFile: readExistingFile(section, 'tokenFile', '') };
}

function readWebsocket(section: ConfigSection): GmConfig['websocket'] {
  const listener = readListener(section, GM_CONFIG_DEFAULTS.websocketAddress, GM_CONFIG_DEFAULTS.websocketPort);
  return {
    ...listener,
    tls: section.has('tls') ? readTls(section.section('tls')) : undefined,
    heartbeat: readHeartbeat(section.section('heartbeat')),
    nodeTokens: readNodeTokens(section.section('nodeTokens')),
  };
}

function readListener(section: ConfigSection, address: string, port: number): { address: string; port: number } {
  const value = { address: section.string('address', address), port: section.integer('port', port, 0, MAX_PORT) };
  if (value.address === '') section.issue('address', 'must not be empty');
  return value;
}

function readTls(section: ConfigSection): { certFile: string; keyFile: string } {
  const tls = { certFile: readExistingFile(section, 'certFile', ''), keyFile: readExistingFile(section, 'keyFile', '') };
  if (tls.certFile === '') section.issue('certFile', 'is required when tls is set');
  if (tls.keyFile === '') section.issue('keyFile', 'is required when tls is set');
  return tls;
}

function readHeartbeat(section: ConfigSection): GmConfig['websocket']['heartbeat'] {
  const intervalSeconds = section.integer('intervalSeconds', GM_CONFIG_DEFAULTS.heartbeatIntervalSeconds, 1);
  const timeoutSeconds = section.integer('timeoutSeconds', GM_CONFIG_DEFAULTS.heartbeatTimeoutSeconds, 1);
  // A timeout within one interval would drop healthy nodes between two pings.
  if (timeoutSeconds <= intervalSeconds) section.issue('timeoutSeconds', `must be greater than intervalSeconds (${intervalSeconds})`);
  return { intervalSeconds, timeoutSeconds };
}

function readNodeTokens(section: ConfigSection): NodeTokenSourceConfig {
  const hasSecret = section.has('secretName') || section.has('secretNamespace');
  if (section.has('serviceAccountName')) {
    if (hasSecret || section.has('file')) section.issue('serviceAccountName', 'set one of file, secretName or serviceAccountName');
    const name = section.string('serviceAccountName', '');
    if (!isDnsSubdomain(name)) section.issue('serviceAccountName', `must be a valid ServiceAccount name, got ${JSON.stringify(name)}`);
    const audience = section.string('audience', GM_CONFIG_DEFAULTS.nodeTokenAudience);
    if (audience === '') section.issue('audience', 'must not be empty');
    return { kind: 'serviceAccount', name, audience, namespace: readNamespace(section, 'serviceAccountNamespace', GM_CONFIG_DEFAULTS.nodeTokenSecretNamespace, false) };
  }
  for (const key of ['serviceAccountNamespace', 'audience']) if (section.has(key)) section.issue(key, 'only applies with serviceAccountName');
  if (section.has('file')) {
    if (hasSecret) section.issue('file', 'set either file or secretName/secretNamespace, not both');
    return { kind: 'file', path: readExistingFile(section, 'file', '') };
  }
  const name = section.string('secretName', GM_CONFIG_DEFAULTS.nodeTokenSecret);
  if (!isDnsSubdomain(name)) section.issue('secretName', `must be a valid Secret name, got ${JSON.stringify(name)}`);
  return { kind: 'secret', name, namespace: readNamespace(section, 'secretNamespace', GM_CONFIG_DEFAULTS.nodeTokenSecretNamespace, false) };
}

function readExistingFile(section: ConfigSection, key: string, fallback: string): string {
  const path = section.string(key, fallback);
  if (path !== '' && !existsSync(path)) section.issue(key, `file ${JSON.stringify(path)} does not exist`);
  return path;
}

function readUrl(section: ConfigSection, key: string, fallback: string): string {
  const value = section.string(key, fallback);
  if (value === '') return value;
  if (!URL.canParse(value) || !['http:', 'https:'].includes(new URL(value).protocol)) {
    section.issue(key, `must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  return value;
}

function readNamespace(section: ConfigSection, key: string, fallback: string, allowEmpty = true): string {
  const value = section.string(key, fallback);
  if ((value !== '' || !allowEmpty) && (value.length > 63 || !DNS1123_LABEL.test(value))) {
    section.issue(key, `must be a namespace name (DNS-1123 label), got ${JSON.stringify(value)}`);
  }
  return value;
}

function isDnsSubdomain(value: string): boolean {
  return value.length <= 253 && value.split('.').every((label) => DNS1123_LABEL.test(label));
}

/** Deep-merges `overrides` onto the document; undefined override fields leave the file's value. */
function mergeOverrides(document: unknown, overrides: object): unknown {
  const base = document ?? {};
  if (!isMapping(base)) return base; // not a mapping: kept, so the error names it
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides) as [string, unknown][]) {
    if (value !== undefined) merged[key] = isMapping(value) ? mergeOverrides(merged[key], value) : value;
  }
  return merged;
}
