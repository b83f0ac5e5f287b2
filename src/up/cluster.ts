// What `sedna up` and `sedna status` do through the API: apply the Sedna CRDs, wait for Nodes to
// be Ready, list nodes and pods.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { PROJECT_ROOT } from '../lc/kubelet/images.ts';

export const CRDS_FILE = resolve(PROJECT_ROOT, 'deploy/crds/all.yaml');

export function loadKubeConfig(file: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

function statusCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** Creates each CRD of the file, or replaces it when it exists; then waits until all are Established. */
export async function applyCrds(kc: k8s.KubeConfig, file = CRDS_FILE, timeoutMs = 30_000): Promise<string[]> {
  const api = kc.makeApiClient(k8s.ApiextensionsV1Api);
  // loadAllYaml deserializes into the client's models (x-kubernetes-* keys become typed fields), so
  // serializing them for the request keeps those keys.
  const docs = (k8s.loadAllYaml(readFileSync(file, 'utf8')) as (k8s.V1CustomResourceDefinition | null)[])
    .filter((d): d is k8s.V1CustomResourceDefinition => d !== null && d.kind === 'CustomResourceDefinition');
  const names: string[] = [];
  for (const crd of docs) {
    const name = crd.metadata!.name!;
    names.push(name);
    try {
      await api.createCustomResourceDefinition({ body: crd });
    } catch (err) {
      if (statusCode(err) !== 409) throw err;
      const current = await api.readCustomResourceDefinition({ name });
      await api.replaceCustomResourceDefinition({ name, body: { ...crd, metadata: { ...crd.metadata, resourceVersion: current.metadata!.resourceVersion } } });
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const crd = await api.readCustomResourceDefinition({ name });
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after ${timeoutMs} ms`);
      await sleep(100);
    }
  }
  return names;
}

export function isNodeReady(node: k8s.V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Polls the Nodes until every one of `names` is Ready; `check` may abort (a child died). */
export async function waitForNodesReady(kc: k8s.KubeConfig, names: string[], timeoutMs: number, check: () => void = () => {}): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const deadline = Date.now() + timeoutMs;
  let missing = names;
  for (;;) {
    check();
    try {
      const list = await core.listNode();
      const ready = new Set(list.items.filter(isNodeReady).map((n) => n.metadata!.name!));
      missing = names.filter((n) => !ready.has(n));
      if (missing.length === 0) return;
    } catch {
      // The API server is reachable (it printed its address); retry a transient error.
    }
    if (Date.now() > deadline) throw new Error(`nodes not Ready after ${Math.round(timeoutMs / 1000)} s: ${missing.join(', ')}`);
    await sleep(200);
  }
}

export interface ClusterView {
  /** ready: Ready, NotReady or Unknown (the node's Lease expired), as kubectl shows it. */
  nodes: { name: string; ready: string; roles: string[] }[];
  pods: { namespace: string; name: string; phase: string; ready: string; node: string; restarts: number }[];
}

/** kubectl's node STATUS: Ready, NotReady (False or Unknown), plus SchedulingDisabled. */
function nodeStatus(node: k8s.V1Node): string {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  const base = ready?.status === 'True' ? 'Ready' : 'NotReady';
  return node.spec?.unschedulable ? `${base},SchedulingDisabled` : base;
}

export async function clusterView(kc: k8s.KubeConfig): Promise<ClusterView> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const [nodes, pods] = await Promise.all([core.listNode(), core.listPodForAllNamespaces()]);
  return {
    nodes: nodes.items.map((n) => ({
      name: n.metadata!.name!,
      ready: nodeStatus(n),
      roles: Object.keys(n.metadata?.labels ?? {})
        .filter((l) => l.startsWith('node-role.kubernetes.io/'))
        .map((l) => l.slice('node-role.kubernetes.io/'.length)),
    })),
    pods: pods.items.map((p) => ({
      namespace: p.metadata!.namespace ?? 'default',
      name: p.metadata!.name!,
      phase: p.metadata?.deletionTimestamp ? 'Terminating' : (p.status?.phase ?? 'Pending'),
      ready: `${(p.status?.containerStatuses ?? []).filter((c) => c.ready).length}/${p.spec?.containers.length ?? 0}`,
      node: p.spec?.nodeName ?? '<none>',
      restarts: (p.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0),
    })),
  };
}

/** The running containers' processes of every pod (`process://<pid>` container IDs of the embedded kubelet). */
export async function runningPods(kubeconfig: string): Promise<{ name: string; pid: number }[]> {
  const core = loadKubeConfig(kubeconfig).makeApiClient(k8s.CoreV1Api);
  const out: { name: string; pid: number }[] = [];
  for (const p of (await core.listPodForAllNamespaces()).items) {
    for (const c of p.status?.containerStatuses ?? []) {
      const pid = Number(c.containerID?.startsWith('process://') ? c.containerID.slice('process://'.length) : NaN);
      if (c.state?.running && pid > 0) out.push({ name: `${p.metadata!.namespace}/${p.metadata!.name} container ${c.name}`, pid });
    }
  }
  return out;
}

/** Left-aligned columns, as kubectl prints them. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n');
}
