// Property test (issue 12 part 2): for every kind the server stores, an object made invalid at one
// field, on create or on update, is refused with a 4xx naming that field, and the store is left
// exactly as it was. The invalid values are the ones kube-apiserver 1.32 refuses for the same
// fields (wrong Go types, out-of-range ints, names and label values its validators reject).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { KubeObject } from '../../src/api/meta.ts';
import { StatusError } from '../../src/apiserver/errors.ts';
import { builtinResources } from '../../src/apiserver/registry/builtins.ts';
import { GenericStore } from '../../src/apiserver/registry/generic-store.ts';
import { ResourceRegistry } from '../../src/apiserver/registry/registry.ts';
import type { ResourceDef } from '../../src/apiserver/registry/types.ts';
import { SqliteStore } from '../../src/apiserver/storage/sqlite-store.ts';

const container = { name: 'c', image: 'registry.example/app:1' };
const podSpec = { containers: [container] };
const template = { metadata: { labels: { app: 'x' } }, spec: podSpec };

/** A valid object of each kind, named `name`. */
const VALID: Record<string, (name: string) => KubeObject> = {
  Namespace: (name) => ({ metadata: { name } }),
  Node: (name) => ({ metadata: { name } }),
  Pod: (name) => ({ metadata: { name }, spec: structuredClone(podSpec) }),
  Service: (name) => ({ metadata: { name }, spec: { ports: [{ port: 80 }] } }),
  Secret: (name) => ({ metadata: { name }, data: { k: 'dmFsdWU=' } }),
  ConfigMap: (name) => ({ metadata: { name }, data: { k: 'v' } }),
  ServiceAccount: (name) => ({ metadata: { name } }),
  Event: (name) => ({ metadata: { name }, involvedObject: { kind: 'Pod', name: 'p' } }),
  Deployment: (name) => ({ metadata: { name }, spec: { replicas: 1, selector: { matchLabels: { app: 'x' } }, template: structuredClone(template) } }),
  ReplicaSet: (name) => ({ metadata: { name }, spec: { replicas: 1, selector: { matchLabels: { app: 'x' } }, template: structuredClone(template) } }),
  HorizontalPodAutoscaler: (name) => ({ metadata: { name }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'd' }, maxReplicas: 2 } }),
  Lease: (name) => ({ metadata: { name }, spec: {} }),
};

/** A way to break an object: the field it breaks, and values Kubernetes refuses there. */
interface Breakage {
  field: string;
  path: (string | number)[];
  values: fc.Arbitrary<unknown>;
}

const notAString = fc.oneof(fc.integer(), fc.boolean(), fc.constant([]), fc.constant({}));
const badDnsName = fc.oneof(fc.constantFrom('Upper', 'under_score', '-lead', 'trail-', 'a..b'), fc.constant('a'.repeat(254)));
const badLabelValue = fc.constantFrom('has space', '-lead', 'a'.repeat(64), 'sl/ash');
const badQualifiedName = fc.constantFrom('bad key', '/x', 'a/b/c', 'x'.repeat(64));
const badPort = fc.oneof(fc.integer({ min: 65536, max: 2 ** 40 }), fc.integer({ max: 0, min: -1000 }), fc.constant('80'), fc.constant(1.5));
const badInt32 = fc.oneof(fc.integer({ min: 2 ** 31, max: 2 ** 52 }), fc.integer({ max: -1, min: -1000 }), fc.constant('3'), fc.constant(0.5));

const METADATA: Breakage[] = [
  { field: 'metadata.name', path: ['metadata', 'name'], values: notAString.filter((v) => v !== 0) },
  { field: 'metadata.labels', path: ['metadata', 'labels', 'app'], values: badLabelValue },
  { field: 'metadata.labels', path: ['metadata', 'labels'], values: fc.oneof(fc.string(), fc.integer(), fc.constant(['x']), fc.constant({ k: 1 })) },
  { field: 'metadata.annotations', path: ['metadata', 'annotations'], values: fc.oneof(fc.constant({ k: 1 }), fc.constant('x')) },
  { field: 'metadata.finalizers', path: ['metadata', 'finalizers'], values: fc.oneof(fc.string(), fc.constant([1]), badQualifiedName.map((f) => [f])) },
  { field: 'metadata.generateName', path: ['metadata', 'generateName'], values: fc.oneof(fc.integer(), fc.constant(['x'])) },
];

const containerAt = (prefix: (string | number)[]): Breakage[] => {
  const c = [...prefix, 'containers', 0];
  const f = `${prefix.join('.')}.containers[0]`;
  return [
    { field: `${f}.ports[0].containerPort`, path: [...c, 'ports', 0, 'containerPort'], values: badPort },
    { field: `${f}.command`, path: [...c, 'command'], values: fc.oneof(fc.string(), fc.constant([1]), fc.constant({})) },
    { field: `${f}.env[0].value`, path: [...c, 'env'], values: fc.oneof(fc.constant([{ name: 'A', value: ['x'] }]), fc.constant([{ name: 'A', value: 3 }])) },
    { field: `${f}.resources.limits[cpu]`, path: [...c, 'resources', 'limits', 'cpu'], values: fc.constantFrom('abc', 'one', '1.2.3', '') },
    { field: `${f}.livenessProbe`, path: [...c, 'livenessProbe'], values: fc.oneof(fc.constant({ periodSeconds: 3 }), fc.constant({ exec: { command: 'ls' } }), fc.constant('x')) },
    { field: `${f}.imagePullPolicy`, path: [...c, 'imagePullPolicy'], values: fc.constantFrom('Sometimes', 'always') },
    { field: `${prefix.join('.')}.volumes`, path: [...prefix, 'volumes'], values: fc.oneof(fc.constant('x'), fc.constant([{ name: 'Bad_Name' }]), fc.constant([{}])) },
  ];
};

const WORKLOAD: Breakage[] = [
  { field: 'spec.replicas', path: ['spec', 'replicas'], values: badInt32 },
  ...containerAt(['spec', 'template', 'spec']),
];

const SPECIFIC: Record<string, Breakage[]> = {
  Namespace: [{ field: 'metadata.name', path: ['metadata', 'name'], values: fc.constantFrom('a.b', 'Upper', 'a'.repeat(64)) }],
  Pod: [
    ...containerAt(['spec']),
    { field: 'spec.restartPolicy', path: ['spec', 'restartPolicy'], values: fc.constantFrom('Sometimes', 'always') },
    { field: 'spec', path: ['spec'], values: fc.oneof(fc.string(), fc.constant([])) },
  ],
  Service: [{ field: 'spec.ports[0].port', path: ['spec', 'ports', 0, 'port'], values: badPort }],
  Secret: [{ field: 'data[k]', path: ['data', 'k'], values: fc.constantFrom('not base64!', 'abc', '====') }],
  ConfigMap: [
    { field: 'data[k]', path: ['data', 'k'], values: fc.oneof(fc.integer(), fc.boolean(), fc.constant({})) },
    { field: 'binaryData[b]', path: ['binaryData', 'b'], values: fc.constantFrom('***', 'abc', 'a b=') },
  ],
  Deployment: [...WORKLOAD, { field: 'spec.strategy.type', path: ['spec', 'strategy', 'type'], values: fc.constantFrom('Yolo', 'rolling', 'recreate') }],
  ReplicaSet: WORKLOAD,
  Event: [{ field: 'involvedObject', path: ['involvedObject'], values: fc.constant(undefined) }],
  HorizontalPodAutoscaler: [{ field: 'spec.scaleTargetRef', path: ['spec', 'scaleTargetRef'], values: fc.constant({}) }],
};

function setPath(obj: KubeObject, path: (string | number)[], value: unknown): KubeObject {
  const copy = structuredClone(obj) as Record<string | number, unknown>;
  let at = copy;
  for (const key of path.slice(0, -1)) {
    if (typeof at[key] !== 'object' || at[key] === null) at[key] = typeof path[path.indexOf(key) + 1] === 'number' ? [{}] : {};
    at = at[key] as Record<string | number, unknown>;
  }
  const last = path[path.length - 1]!;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return copy as KubeObject;
}

/** One field broken with one value, printed plainly when a counterexample is reported. */
function invalidEdits(breakages: Breakage[]): fc.Arbitrary<{ breakage: Omit<Breakage, 'values'>; value: unknown }> {
  return fc.constantFrom(...breakages).chain(({ field, path, values }) => values.map((value) => ({ breakage: { field, path }, value })));
}

function newStore(): GenericStore {
  const store = new GenericStore(new SqliteStore({ path: ':memory:' }), new ResourceRegistry(builtinResources));
  store.create(store.registry.lookup('', 'v1', 'namespaces')!, undefined, { metadata: { name: 'default' } });
  return store;
}

function defOf(store: GenericStore, kind: string): ResourceDef {
  const def = store.registry.all().find((d) => d.kind === kind && d.source === 'builtin');
  assert.ok(def, kind);
  return def;
}

/** The refusal names the field: in a cause (422) or in the message (400). */
function assertRefusedNaming(err: unknown, field: string, what: string): void {
  assert.ok(err instanceof StatusError, `${what}: expected a StatusError, got ${String(err)}`);
  assert.ok(err.code >= 400 && err.code < 500, `${what}: ${err.code} ${err.message}`);
  const fields = (err.details?.causes ?? []).map((c) => c.field ?? '');
  const named = fields.some((f) => f === field || f.startsWith(`${field}.`) || f.startsWith(`${field}[`) || field.startsWith(f + '.') || field.startsWith(f + '[')) || err.message.includes(field);
  assert.ok(named, `${what}: ${field} not named in ${err.message}`);
}

describe('every kind refuses invalid objects with a 4xx naming the field, storing nothing', () => {
  for (const kind of Object.keys(VALID)) {
    it(kind, () => {
      const store = newStore();
      const def = defOf(store, kind);
      const ns = def.namespaced ? 'default' : undefined;
      const make = VALID[kind]!;
      const existing = store.create(def, ns, make('existing'));
      // Events are named as path segments (any length), every other kind here as a DNS subdomain.
      const dnsName: Breakage[] = kind === 'Event' ? [] : [{ field: 'metadata.name', path: ['metadata', 'name'], values: badDnsName }];
      const breakages = [...METADATA, ...dnsName, ...(SPECIFIC[kind] ?? [])];
      let runs = 0;
      fc.assert(
        fc.property(invalidEdits(breakages), fc.boolean(), ({ breakage, value }, onUpdate) => {
          const revision = store.storage.currentRevision();
          const fresh = `fresh-${runs++}`; // a name of its own, so a failing run cannot hide behind an earlier one
          if (!onUpdate || breakage.field === 'metadata.name' || breakage.field === 'metadata.generateName') {
            const bad = setPath(make(fresh), breakage.path, value);
            if (breakage.field === 'metadata.generateName') delete bad.metadata.name;
            assert.throws(() => store.create(def, ns, bad), (err) => (assertRefusedNaming(err, breakage.field, `create ${kind} ${JSON.stringify(value)}`), true));
            assert.equal(store.tryGet(def, ns, fresh), undefined, 'nothing stored');
          } else {
            const current = store.get(def, ns, 'existing');
            const bad = setPath(current, breakage.path, value);
            assert.throws(
              () => store.update(def, ns, 'existing', bad),
              (err) => (assertRefusedNaming(err, breakage.field, `update ${kind} ${JSON.stringify(value)}`), true),
            );
            assert.deepEqual(store.get(def, ns, 'existing'), current, 'stored object unchanged');
          }
          assert.equal(store.storage.currentRevision(), revision, 'no write at all');
        }),
        { numRuns: 150, seed: 12, includeErrorInReport: true },
      );
      assert.equal(store.get(def, ns, 'existing').metadata.uid, existing.metadata.uid);
      store.storage.close();
    });
  }
});
