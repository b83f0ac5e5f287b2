// The discovery documents kubectl and the client libraries read before anything else: /version,
// /api, /apis, /api/v1, /apis/GROUP/VERSION and the aggregated (apidiscovery.k8s.io) forms of
// /api and /apis. Everything here is a pure function of the served ResourceDefs, so a CRD that
// appears or disappears shows up on the next request without any cache to invalidate.
import { createHash } from 'node:crypto';
import type { ResourceDef } from '../registry/types.ts';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

// ---------------------------------------------------------------------------------------------
// /version

/** k8s.io/apimachinery/pkg/version.Info as served by Kubernetes 1.32. */
export interface VersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
  gitCommit: string;
  gitTreeState: string;
  buildDate: string;
  goVersion: string;
  compiler: string;
  platform: string;
}

// Node's names for operating systems and CPUs differ from Go's; clients expect Go's (GOOS/GOARCH).
const GO_ARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };
const GO_OS: Record<string, string> = { win32: 'windows', linux: 'linux', darwin: 'darwin', freebsd: 'freebsd' };

export function versionInfo(): VersionInfo {
  return {
    major: '1',
    minor: '32',
    gitVersion: 'v1.32.0-sedna',
    gitCommit: '',
    gitTreeState: 'clean',
    // The release date of the Kubernetes API level we implement, not of this build.
    buildDate: '2024-12-11T00:00:00Z',
    // There is no Go toolchain behind this server; report the runtime that actually runs it.
    goVersion: `node${process.versions.node}`,
    compiler: 'node',
    platform: `${GO_OS[process.platform] ?? process.platform}/${GO_ARCH[process.arch] ?? process.arch}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Version priority (k8s.io/apimachinery/pkg/version.CompareKubeAwareVersionStrings)

const KUBE_VERSION = /^v(\d+)(?:(alpha|beta)(\d+))?$/;
const STABILITY: Record<string, number> = { alpha: 0, beta: 1, '': 2 };

interface KubeVersion {
  major: number;
  stability: number;
  minor: number;
}

function parseKubeVersion(v: string): KubeVersion | undefined {
  const m = KUBE_VERSION.exec(v);
  if (!m) return undefined;
  const stage = m[2] ?? '';
  return { major: Number(m[1]), stability: STABILITY[stage] ?? 2, minor: stage ? Number(m[3]) : 0 };
}

/**
 * Positive when `a` has the higher priority: GA before beta before alpha, then the higher major,
 * then the higher minor (v2 > v1 > v1beta2 > v1beta1 > v1alpha1). Strings that are not
 * Kubernetes versions rank below all that are, and among themselves in plain lexical order.
 */
export function compareKubeAwareVersionStrings(a: string, b: string): number {
  if (a === b) return 0;
  const va = parseKubeVersion(a);
  const vb = parseKubeVersion(b);
  if (!va && !vb) return b < a ? -1 : 1;
  if (!va) return -1;
  if (!vb) return 1;
  if (va.stability !== vb.stability) return va.stability - vb.stability;
  if (va.major !== vb.major) return va.major - vb.major;
  return va.minor - vb.minor;
}

/** Versions ordered highest priority first; the first is the group's preferred version. */
export function sortVersionsByPriority(versions: Iterable<string>): string[] {
  return [...new Set(versions)].sort((a, b) => compareKubeAwareVersionStrings(b, a));
}

// ---------------------------------------------------------------------------------------------
// Grouping the served kinds

/** The served groups and their versions (priority order). Built-in groups keep their registration
 *  order, ahead of CRD groups, which are alphabetical, so kubectl resolves an ambiguous short
 *  resource name to the built-in kind the way it does against a real cluster. */
export function servedGroups(defs: readonly ResourceDef[]): { group: string; versions: string[] }[] {
  const byGroup = new Map<string, { builtin: boolean; versions: string[] }>();
  for (const def of defs) {
    const entry = byGroup.get(def.group) ?? { builtin: false, versions: [] };
    entry.builtin ||= def.source === 'builtin';
    entry.versions.push(def.version);
    byGroup.set(def.group, entry);
  }
  const groups = [...byGroup.entries()].map(([group, e]) => ({ group, builtin: e.builtin, versions: sortVersionsByPriority(e.versions) }));
  groups.sort((a, b) => {
    if (a.builtin !== b.builtin) return a.builtin ? -1 : 1;
    return a.builtin ? 0 : a.group.localeCompare(b.group);
  });
  return groups.map(({ group, versions }) => ({ group, versions }));
}

/** The kinds of one group-version, ordered by resource name as the upstream server does. */
export function defsOf(defs: readonly ResourceDef[], group: string, version: string): ResourceDef[] {
  return defs.filter((d) => d.group === group && d.version === version).sort((a, b) => a.plural.localeCompare(b.plural));
}

function groupVersionString(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

// ---------------------------------------------------------------------------------------------
// Subresources

export interface SubresourceInfo {
  /** The path segment after the object name: status, scale, log, finalize. */
  name: string;
  /** What the subresource reads and writes; Scale for /scale, the parent kind otherwise. */
  gvk: GroupVersionKind;
  verbs: string[];
}

export const SCALE_GVK: GroupVersionKind = { group: 'autoscaling', version: 'v1', kind: 'Scale' };

export function kindOf(def: ResourceDef): GroupVersionKind {
  return { group: def.group, version: def.version, kind: def.kind };
}

/** The subresources a kind serves, alphabetically (the order upstream discovery lists them in). */
export function subresourcesOf(def: ResourceDef): SubresourceInfo[] {
  const own = kindOf(def);
  const subs: SubresourceInfo[] = [];
  if (def.subresources.finalize) subs.push({ name: 'finalize', gvk: own, verbs: ['update'] });
  if (def.subresources.log) subs.push({ name: 'log', gvk: own, verbs: ['get'] });
  if (def.subresources.scale) subs.push({ name: 'scale', gvk: SCALE_GVK, verbs: ['get', 'patch', 'update'] });
  if (def.subresources.status) subs.push({ name: 'status', gvk: own, verbs: ['get', 'patch', 'update'] });
  return subs;
}

// ---------------------------------------------------------------------------------------------
// Unaggregated discovery: /api, /apis, /api/v1, /apis/GROUP/VERSION

export interface APIVersions {
  kind: 'APIVersions';
  versions: string[];
  serverAddressByClientCIDRs: { clientCIDR: string; serverAddress: string }[];
}

/** `/api`: the legacy core group has the single version v1. `serverAddress` is host:port. */
export function coreApiVersions(serverAddress: string): APIVersions {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

export interface GroupVersionForDiscovery {
  groupVersion: string;
  version: string;
}

export interface APIGroup {
  name: string;
  versions: GroupVersionForDiscovery[];
  preferredVersion: GroupVersionForDiscovery;
}

export interface APIGroupList {
  kind: 'APIGroupList';
  apiVersion: 'v1';
  groups: APIGroup[];
}

function apiGroup(group: string, versions: string[]): APIGroup {
  const entries = versions.map((version) => ({ groupVersion: groupVersionString(group, version), version }));
  return { name: group, versions: entries, preferredVersion: entries[0] ?? { groupVersion: '', version: '' } };
}

/** `/apis`: every named group; the core group lives at /api instead. */
export function apiGroupList(defs: readonly ResourceDef[]): APIGroupList {
  const groups = servedGroups(defs).filter((g) => g.group !== '');
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map((g) => apiGroup(g.group, g.versions)) };
}

/** `/apis/GROUP`: one group, or undefined when nothing is served in it. */
export function apiGroupDocument(defs: readonly ResourceDef[], group: string): (APIGroup & { kind: 'APIGroup'; apiVersion: 'v1' }) | undefined {
  const found = servedGroups(defs).find((g) => g.group === group && group !== '');
  return found ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(found.group, found.versions) } : undefined;
}

export interface APIResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  group?: string;
  version?: string;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  storageVersionHash?: string;
}

export interface APIResourceList {
  kind: 'APIResourceList';
  apiVersion: 'v1';
  groupVersion: string;
  resources: APIResource[];
}

/**
 * Upstream's discovery.StorageVersionHash: the first 8 bytes of sha256("group/version/kind") of
 * the storage version, base64. Clients only compare it for equality (e.g. the storage migrator).
 */
export function storageVersionHash(group: string, version: string, kind: string): string {
  return createHash('sha256').update(`${group}/${version}/${kind}`).digest().subarray(0, 8).toString('base64');
}

function mainResource(def: ResourceDef): APIResource {
  const r: APIResource = { name: def.plural, singularName: def.singular, namespaced: def.namespaced, kind: def.kind, verbs: [...def.verbs] };
  if (def.shortNames.length) r.shortNames = [...def.shortNames];
  if (def.categories.length) r.categories = [...def.categories];
  r.storageVersionHash = storageVersionHash(def.group, def.storageVersion, def.kind);
  return r;
}

function subresourceEntry(def: ResourceDef, sub: SubresourceInfo): APIResource {
  const r: APIResource = { name: `${def.plural}/${sub.name}`, singularName: '', namespaced: def.namespaced, kind: sub.gvk.kind, verbs: [...sub.verbs] };
  // Group and version are only spelled out when they differ from the list's (autoscaling/v1 Scale).
  if (sub.gvk.group !== def.group || sub.gvk.version !== def.version) {
    r.group = sub.gvk.group;
    r.version = sub.gvk.version;
  }
  return r;
}

/** `/api/v1` and `/apis/GROUP/VERSION`: each kind followed by its subresources. */
export function apiResourceList(defs: readonly ResourceDef[], group: string, version: string): APIResourceList {
  const resources: APIResource[] = [];
  for (const def of defsOf(defs, group, version)) {
    resources.push(mainResource(def));
    for (const sub of subresourcesOf(def)) resources.push(subresourceEntry(def, sub));
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersionString(group, version), resources };
}

// ---------------------------------------------------------------------------------------------
// Aggregated discovery (k8s.io/api/apidiscovery/v2 and v2beta1, which share one JSON shape)

export type DiscoveryApiVersion = 'apidiscovery.k8s.io/v2' | 'apidiscovery.k8s.io/v2beta1';

export interface APISubresourceDiscovery {
  subresource: string;
  responseKind: GroupVersionKind;
  verbs: string[];
}

export interface APIResourceDiscovery {
  resource: string;
  responseKind: GroupVersionKind;
  scope: 'Namespaced' | 'Cluster';
  singularResource: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  subresources?: APISubresourceDiscovery[];
}

export interface APIVersionDiscovery {
  version: string;
  resources: APIResourceDiscovery[];
  freshness: 'Current' | 'Stale';
}

export interface APIGroupDiscovery {
  metadata: { name?: string };
  versions: APIVersionDiscovery[];
}

export interface APIGroupDiscoveryList {
  kind: 'APIGroupDiscoveryList';
  apiVersion: DiscoveryApiVersion;
  metadata: Record<string, never>;
  items: APIGroupDiscovery[];
}

function resourceDiscovery(def: ResourceDef): APIResourceDiscovery {
  const r: APIResourceDiscovery = {
    resource: def.plural,
    responseKind: kindOf(def),
    scope: def.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: def.singular,
    verbs: [...def.verbs],
  };
  if (def.shortNames.length) r.shortNames = [...def.shortNames];
  if (def.categories.length) r.categories = [...def.categories];
  const subs = subresourcesOf(def);
  if (subs.length) r.subresources = subs.map((s) => ({ subresource: s.name, responseKind: { ...s.gvk }, verbs: [...s.verbs] }));
  return r;
}

function groupDiscovery(defs: readonly ResourceDef[], group: string, versions: string[]): APIGroupDiscovery {
  return {
    // The core group has no name; upstream leaves metadata.name empty for it.
    metadata: group ? { name: group } : {},
    // Clients take the first version as the preferred one, so the order carries meaning.
    versions: versions.map((version) => ({ version, resources: defsOf(defs, group, version).map(resourceDiscovery), freshness: 'Current' })),
  };
}

/** `/api` (scope 'core') or `/apis` (scope 'apis') in the aggregated format. */
export function aggregatedDiscovery(defs: readonly ResourceDef[], scope: 'core' | 'apis', apiVersion: DiscoveryApiVersion): APIGroupDiscoveryList {
  const groups = servedGroups(defs).filter((g) => (scope === 'core') === (g.group === ''));
  return { kind: 'APIGroupDiscoveryList', apiVersion, metadata: {}, items: groups.map((g) => groupDiscovery(defs, g.group, g.versions)) };
}

// ---------------------------------------------------------------------------------------------
// Accept negotiation for /api and /apis

export type DiscoveryNegotiation =
  | { aggregated: false }
  | { aggregated: true; apiVersion: DiscoveryApiVersion; contentType: string };

interface MediaRange {
  type: string;
  params: Map<string, string>;
  q: number;
}

function parseMediaRange(part: string): MediaRange {
  const [type = '', ...rest] = part.split(';').map((s) => s.trim());
  const params = new Map<string, string>();
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq > 0) params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'));
  }
  const q = params.has('q') ? Number(params.get('q')) : 1;
  params.delete('q');
  return { type: type.toLowerCase(), params, q: Number.isFinite(q) ? q : 0 };
}

const AGGREGATED_VERSIONS: Record<string, DiscoveryApiVersion> = { v2: 'apidiscovery.k8s.io/v2', v2beta1: 'apidiscovery.k8s.io/v2beta1' };

/** What one media range asks for: the aggregated form, the plain one, or something we can't serve. */
function mediaRangeChoice(range: MediaRange): DiscoveryNegotiation | undefined {
  const jsonish = range.type === 'application/json' || range.type === 'application/*' || range.type === '*/*';
  if (!jsonish) return undefined;
  if (!range.params.has('g') && !range.params.has('as')) return { aggregated: false };
  if (range.type !== 'application/json' || range.params.get('g') !== 'apidiscovery.k8s.io' || range.params.get('as') !== 'APIGroupDiscoveryList') return undefined;
  const apiVersion = AGGREGATED_VERSIONS[range.params.get('v') ?? ''];
  // profile=nopeer asks to leave out peer servers' groups; a single server has none to leave out.
  const profile = range.params.get('profile');
  if (!apiVersion || (profile !== undefined && profile !== 'nopeer')) return undefined;
  const version = apiVersion.slice(apiVersion.indexOf('/') + 1);
  return { aggregated: true, apiVersion, contentType: `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList` };
}

/**
 * Chooses the /api or /apis format from the Accept header. client-go lists the aggregated v2 form
 * first and only recognises the answer by a Content-Type carrying the same g/v/as parameters, so
 * the chosen content type is returned for the response. No header, or nothing we serve, means
 * the plain format (upstream answers those with plain JSON as well).
 */
export function negotiateDiscovery(accept: string | undefined): DiscoveryNegotiation {
  if (!accept) return { aggregated: false };
  const ranges = accept.split(',').map(parseMediaRange).filter((r) => r.q > 0);
  // A stable sort keeps the client's own order among equal weights.
  ranges.sort((a, b) => b.q - a.q);
  for (const range of ranges) {
    const choice = mediaRangeChoice(range);
    if (choice) return choice;
  }
  return { aggregated: false };
}
