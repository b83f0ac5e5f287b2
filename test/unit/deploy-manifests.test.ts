// The committed install files (deploy/kubernetes, deploy/helm/sedna, deploy/crds/kustomization.yaml)
// are exactly what `npm run gen:deploy` writes, and what they install keeps the promises of
// src/deploy/manifests.ts: the GM's ClusterRole is deploy/rbac/gm.yaml, no namespace is written into a
// chart template, the LC cannot write the host outside its data folder, and every container is
// restricted, probed and bounded.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';
import { gmClusterRoleRules } from '../../src/deploy/manifests.ts';
import { DEPLOY_DIR, renderDeploy, substitute } from '../../src/deploy/render.ts';
import { DEFAULT_VALUES } from '../../src/deploy/values.ts';

type Obj = k8s.KubernetesObject;
type Workload = k8s.V1Deployment | k8s.V1DaemonSet;

const rendered = renderDeploy();

function baseObjects(): Obj[] {
  return [...rendered].filter(([path]) => path.startsWith('kubernetes/base/') && !path.endsWith('kustomization.yaml')).flatMap(([, text]) => parseAllDocuments(text).map((d) => d.toJS() as Obj));
}

function find<T extends Obj>(kind: string, name?: string): T {
  const found = baseObjects().find((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  assert.ok(found, `${kind} ${name ?? ''} in the base`);
  return found as T;
}

function containers(objects: Obj[]): [string, k8s.V1Container, k8s.V1PodSpec][] {
  return objects
    .filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet')
    .flatMap((o) => {
      const pod = (o as Workload).spec!.template.spec!;
      return pod.containers.map((c): [string, k8s.V1Container, k8s.V1PodSpec] => [`${o.kind}/${o.metadata!.name}`, c, pod]);
    });
}

test('the committed install files are what npm run gen:deploy writes', () => {
  for (const [path, text] of rendered) {
    let committed = '';
    try {
      committed = readFileSync(join(DEPLOY_DIR, path), 'utf8');
    } catch {
      assert.fail(`deploy/${path} is missing: run npm run gen:deploy`);
    }
    assert.equal(committed, text, `deploy/${path} differs from src/deploy: run npm run gen:deploy`);
  }
});

test('markers become the defaults in the kustomize base and Helm expressions in the chart, keeping types', () => {
  const text = 'port: \u27eagm.websocket.port\u27eb\nimage: \u27eagm.image\u27eb\nresources: \u27eagm.resources\u27eb\nargs:\n  - --gm=\u27ealc.gmAddress\u27eb\n  - \u27ealc.bindPort\u27eb\nnamespace: \u27ea@namespace\u27eb';
  assert.deepEqual(parse(substitute(text, 'kustomize')), {
    port: 9000,
    image: DEFAULT_VALUES.gm.image,
    resources: DEFAULT_VALUES.gm.resources,
    args: [`--gm=${DEFAULT_VALUES.lc.gmAddress}`, 9100],
    namespace: 'sedna',
  });
  assert.equal(
    substitute(text, 'helm'),
    'port: {{ .Values.gm.websocket.port }}\nimage: {{ .Values.gm.image | quote }}\nresources:\n{{- toYaml .Values.gm.resources | nindent 2 }}\nargs:\n  - --gm={{ .Values.lc.gmAddress }}\n  - {{ .Values.lc.bindPort }}\nnamespace: {{ .Release.Namespace }}',
  );
  assert.throws(() => substitute('x: \u27eagm.nope\u27eb', 'helm'), /no value gm.nope/);
});

test('the GM ClusterRole installed is deploy/rbac/gm.yaml, the one every scenario test runs the GM under', () => {
  const role = find<k8s.V1ClusterRole>('ClusterRole', 'sedna');
  assert.deepEqual(role.rules, gmClusterRoleRules());
  // Nothing that would let the GM widen its own rights.
  for (const rule of role.rules ?? []) {
    assert.ok(!rule.apiGroups?.includes('rbac.authorization.k8s.io') && !rule.apiGroups?.includes('apiextensions.k8s.io'), JSON.stringify(rule));
    assert.ok(!rule.verbs.includes('*') && !rule.resources?.includes('*'), JSON.stringify(rule));
  }
});

test('no chart template names a namespace: objects go to the release namespace', () => {
  for (const [path, text] of rendered) {
    if (!path.startsWith('helm/sedna/templates/')) continue;
    assert.doesNotMatch(text, /namespace: sedna\b/, path);
    assert.match(text, /namespace: \{\{ \.Release\.Namespace \}\}/, path);
  }
});

test('the LC mounts the host root read-only and only its data folder read-write; it proves its node with a pod-bound token for the GM only', () => {
  const spec = find<k8s.V1DaemonSet>('DaemonSet').spec!.template.spec!;
  assert.equal(spec.hostNetwork, true);
  assert.equal(spec.automountServiceAccountToken, false, 'the LC needs no API token');
  const [lc] = spec.containers;
  assert.deepEqual(lc!.env, [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }]);
  const volumes = spec.volumes ?? [];
  const hostPaths = new Map(volumes.flatMap((v) => (v.hostPath ? [[v.name, v.hostPath.path] as const] : [])));
  for (const mount of lc!.volumeMounts ?? []) {
    const hostPath = hostPaths.get(mount.name);
    if (hostPath === undefined) continue;
    if (hostPath === '/') assert.equal(mount.readOnly, true, 'host root must be read-only');
    else assert.equal(hostPath, DEFAULT_VALUES.lc.dataPath);
  }
  const token = volumes.find((v) => v.projected)?.projected?.sources?.[0]?.serviceAccountToken;
  assert.equal(token?.audience, 'sedna-gm');
  const config = parse(find<k8s.V1ConfigMap>('ConfigMap').data!['gm.yaml']!) as { websocket: { nodeTokens: unknown } };
  assert.deepEqual(config.websocket.nodeTokens, { serviceAccountName: 'sedna-lc', serviceAccountNamespace: 'sedna', audience: 'sedna-gm' });
});

test('every container is restricted, probed and has requests and limits', () => {
  const all = containers(baseObjects());
  assert.deepEqual(all.map(([owner]) => owner).sort(), ['DaemonSet/lc', 'Deployment/gm', 'Deployment/kb', 'Deployment/sedna-dashboard']);
  for (const [owner, c, pod] of all) {
    assert.ok(c.livenessProbe && c.readinessProbe, `${owner}: probes`);
    assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory && c.resources.limits?.memory, `${owner}: requests and limits`);
    const sc = c.securityContext ?? {};
    assert.equal(sc.allowPrivilegeEscalation, false, owner);
    assert.equal(sc.readOnlyRootFilesystem, true, owner);
    assert.deepEqual(sc.capabilities?.drop, ['ALL'], owner);
    if (owner !== 'DaemonSet/lc') assert.ok(sc.runAsNonRoot && sc.runAsUser !== 0 && pod.securityContext?.runAsNonRoot, `${owner}: non-root`);
    assert.deepEqual(c.args?.[0], { 'DaemonSet/lc': 'lc', 'Deployment/gm': 'gm', 'Deployment/kb': 'kb', 'Deployment/sedna-dashboard': 'dashboard' }[owner]);
  }
});
