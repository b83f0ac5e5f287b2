import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyMergePatch } from '../../src/apiserver/patch/merge-patch.ts';
import { applyJsonPatch } from '../../src/apiserver/patch/json-patch.ts';
import { applyStrategicMergePatch } from '../../src/apiserver/patch/strategic-merge.ts';
import type { PatchSchema } from '../../src/apiserver/patch/strategic-merge.ts';
import { builtinPatchSchemas } from '../../src/apiserver/patch/builtin-schemas.ts';
import { StatusError } from '../../src/apiserver/errors.ts';

function schemaFor(key: string): PatchSchema {
  const schema = builtinPatchSchemas[key];
  assert.ok(schema, `no patch schema for ${key}`);
  return schema;
}

/** Asserts `fn` throws a StatusError with this code whose message matches every pattern. */
function assertStatus(fn: () => unknown, code: number, ...patterns: RegExp[]): StatusError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof StatusError, `expected a StatusError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const p of patterns) assert.match(caught.message, p);
  return caught;
}

describe('applyMergePatch (RFC 7386)', () => {
  // Appendix A of RFC 7386, verbatim.
  const examples: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, expected] of examples) {
    it(`${JSON.stringify(target)} + ${JSON.stringify(patch)}`, () => {
      assert.deepEqual(applyMergePatch(target, patch), expected);
    });
  }

  it('never mutates or shares its inputs', () => {
    const target = { metadata: { labels: { a: '1', b: '2' } }, spec: { x: { y: 1 } } };
    const patch = { metadata: { labels: { a: null, c: '3' } }, spec: { z: { deep: true } } };
    const before = structuredClone({ target, patch });
    const result = applyMergePatch(target, patch) as { spec: { x: { y: number }; z: { deep: boolean } } };
    assert.deepEqual({ target, patch }, before);
    result.spec.x.y = 99;
    result.spec.z.deep = false;
    assert.deepEqual({ target, patch }, before);
  });

  it('stores a "__proto__" key as data instead of changing the prototype', () => {
    const result = applyMergePatch({}, JSON.parse('{"__proto__": {"polluted": true}}')) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    assert.equal((result as { polluted?: boolean }).polluted, undefined);
    assert.deepEqual(Object.keys(result), ['__proto__']);
  });
});

describe('applyJsonPatch (RFC 6902)', () => {
  const doc = () => ({ metadata: { name: 'web', labels: { app: 'web' } }, spec: { replicas: 1, args: ['a', 'b'] } });

  it('applies add, remove, replace, move, copy and test in order', () => {
    const result = applyJsonPatch(doc(), [
      { op: 'test', path: '/metadata/name', value: 'web' },
      { op: 'add', path: '/metadata/labels/tier', value: 'frontend' },
      { op: 'replace', path: '/spec/replicas', value: 3 },
      { op: 'remove', path: '/spec/args/0' },
      { op: 'add', path: '/spec/args/-', value: 'c' },
      { op: 'copy', from: '/metadata/labels/app', path: '/metadata/labels/copied' },
      { op: 'move', from: '/metadata/labels/tier', path: '/metadata/labels/role' },
    ]);
    assert.deepEqual(result, {
      metadata: { name: 'web', labels: { app: 'web', copied: 'web', role: 'frontend' } },
      spec: { replicas: 3, args: ['b', 'c'] },
    });
  });

  it('does not mutate the target or the operations, and does not share added values', () => {
    const target = doc();
    const value = { nested: ['x'] };
    const ops = [
      { op: 'add', path: '/spec/extra', value },
      { op: 'remove', path: '/metadata/labels' },
    ];
    const before = structuredClone({ target, ops });
    const result = applyJsonPatch(target, ops) as { spec: { extra: { nested: string[] } } };
    assert.deepEqual({ target, ops }, before);
    result.spec.extra.nested.push('y');
    assert.deepEqual(value, { nested: ['x'] });
  });

  it('can replace the whole document with path ""', () => {
    assert.deepEqual(applyJsonPatch(doc(), [{ op: 'replace', path: '', value: { a: 1 } }]), { a: 1 });
  });

  it('refuses a patch that is not an array with 400', () => {
    assertStatus(() => applyJsonPatch(doc(), { op: 'add' }), 400, /must be a JSON array of operations, not an object/);
  });

  it('refuses malformed operations with 400 naming the operation', () => {
    assertStatus(() => applyJsonPatch(doc(), ['add']), 400, /operation 0 must be a JSON object/);
    assertStatus(() => applyJsonPatch(doc(), [{ op: 'test', path: '/a', value: 1 }, { op: 'frob', path: '/a' }]), 400, /operation 1 has unknown op "frob": must be one of add, remove/);
    assertStatus(() => applyJsonPatch(doc(), [{ path: '/a' }]), 400, /operation 0 has no "op"/);
    assertStatus(() => applyJsonPatch(doc(), [{ op: 'remove' }]), 400, /operation 0 \(remove\) has no "path"/);
    assertStatus(() => applyJsonPatch(doc(), [{ op: 'add', path: 'spec' , value: 1 }]), 400, /path "spec" must be empty or start with "\/"/);
    assertStatus(() => applyJsonPatch(doc(), [{ op: 'add', path: '/spec/x' }]), 400, /operation 0 \(add "\/spec\/x"\) has no "value"/);
    assertStatus(() => applyJsonPatch(doc(), [{ op: 'move', path: '/spec/x' }]), 400, /operation 0 \(move\) has no "from"/);
    assertStatus(() => applyJsonPatch({}, [{ op: 'add', path: '/__proto__/x', value: 1 }]), 400, /__proto__/);
  });

  it('reports a missing path with 422 naming the operation and the path', () => {
    const err = assertStatus(
      () => applyJsonPatch(doc(), [{ op: 'add', path: '/a', value: 1 }, { op: 'replace', path: '/spec/missing', value: 2 }]),
      422,
      /operation 1 \(replace "\/spec\/missing"\)/,
      /path "\/spec\/missing" does not exist/,
    );
    assert.equal(err.reason, 'Invalid');
    assert.equal(err.details?.causes?.[0]?.field, '/spec/missing');
    assertStatus(() => applyJsonPatch(doc(), [{ op: 'remove', path: '/metadata/annotations' }]), 422, /operation 0 \(remove "\/metadata\/annotations"\)/, /does not exist/);
    assertStatus(() => applyJsonPatch(doc(), [{ op: 'add', path: '/status/phase', value: 'x' }]), 422, /parent of "\/status\/phase" does not exist/);
    assertStatus(() => applyJsonPatch(doc(), [{ op: 'copy', from: '/nope', path: '/x' }]), 422, /from "\/nope" does not exist/);
    assertStatus(() => applyJsonPatch(doc(), [{ op: 'add', path: '/spec/args/7', value: 'x' }]), 422, /out of bounds/);
  });

  it('reports a failing test operation with 422 and leaves the target alone', () => {
    const target = doc();
    assertStatus(
      () => applyJsonPatch(target, [{ op: 'replace', path: '/spec/replicas', value: 5 }, { op: 'test', path: '/metadata/name', value: 'db' }]),
      422,
      /operation 1 \(test "\/metadata\/name"\)/,
      /test failed: the value at "\/metadata\/name" is not "db"/,
    );
    assert.equal(target.spec.replicas, 1);
  });
});

describe('applyStrategicMergePatch', () => {
  const pod = () => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', labels: { app: 'web', tier: 'fe' }, finalizers: ['a.io/one', 'b.io/two'] },
    spec: {
      containers: [
        { name: 'app', image: 'app:1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], args: ['--x', '--y'] },
        { name: 'sidecar', image: 'side:1' },
      ],
      tolerations: [{ key: 'k1', operator: 'Exists' }],
    },
  });
  const podSchema = schemaFor('/Pod');

  it('merges containers by name: an image change keeps the other containers and fields', () => {
    const result = applyStrategicMergePatch(pod(), { spec: { containers: [{ name: 'app', image: 'app:2' }] } }, podSchema);
    const expected = pod();
    expected.spec.containers[0]!.image = 'app:2';
    assert.deepEqual(result, expected);
  });

  it('merges env by name inside a container', () => {
    const result = applyStrategicMergePatch(
      pod(),
      { spec: { containers: [{ name: 'app', env: [{ name: 'B', value: 'two' }, { name: 'C', value: '3' }] }] } },
      podSchema,
    ) as ReturnType<typeof pod>;
    assert.deepEqual(result.spec.containers[0]!.env, [
      { name: 'A', value: '1' },
      { name: 'B', value: 'two' },
      { name: 'C', value: '3' },
    ]);
  });

  it('puts new elements next to the patch elements they were sent with, as the API server does', () => {
    // Only new elements in the patch: upstream's ordering places them before the existing ones.
    const added = applyStrategicMergePatch(pod(), { spec: { containers: [{ name: 'new', image: 'n:1' }] } }, podSchema) as ReturnType<typeof pod>;
    assert.deepEqual(added.spec.containers.map((c) => c.name), ['new', 'app', 'sidecar']);
  });

  it('replaces lists without a patch strategy and replaces scalars', () => {
    const result = applyStrategicMergePatch(
      pod(),
      { spec: { tolerations: [{ key: 'k2', operator: 'Exists' }], containers: [{ name: 'app', args: ['--z'] }] } },
      podSchema,
    ) as ReturnType<typeof pod>;
    assert.deepEqual(result.spec.tolerations, [{ key: 'k2', operator: 'Exists' }]);
    assert.deepEqual(result.spec.containers[0]!.args, ['--z']);
  });

  it('deletes a container with $patch: delete', () => {
    const result = applyStrategicMergePatch(
      pod(),
      { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } },
      podSchema,
    ) as ReturnType<typeof pod>;
    assert.deepEqual(result.spec.containers.map((c) => c.name), ['app']);
  });

  it('replaces a merge list with a {"$patch": "replace"} element', () => {
    const result = applyStrategicMergePatch(
      pod(),
      { spec: { containers: [{ name: 'only', image: 'only:1' }, { $patch: 'replace' }] } },
      podSchema,
    ) as ReturnType<typeof pod>;
    assert.deepEqual(result.spec.containers, [{ name: 'only', image: 'only:1' }]);
  });

  it('replaces a map with $patch: replace and empties it with $patch: delete', () => {
    const replaced = applyStrategicMergePatch(pod(), { metadata: { labels: { $patch: 'replace', only: 'me' } } }, podSchema) as ReturnType<typeof pod>;
    assert.deepEqual(replaced.metadata.labels, { only: 'me' });
    const deleted = applyStrategicMergePatch(pod(), { metadata: { labels: { $patch: 'delete' } } }, podSchema) as ReturnType<typeof pod>;
    assert.deepEqual(deleted.metadata.labels, {});
  });

  it('accepts $patch: merge as the explicit default', () => {
    const result = applyStrategicMergePatch(pod(), { metadata: { labels: { $patch: 'merge', extra: 'x' } } }, podSchema) as ReturnType<typeof pod>;
    assert.deepEqual(result.metadata.labels, { app: 'web', tier: 'fe', extra: 'x' });
  });

  it('deletes keys set to null, also inside merged list elements', () => {
    const result = applyStrategicMergePatch(
      pod(),
      { metadata: { labels: { tier: null, absent: null } }, spec: { containers: [{ name: 'app', args: null }] } },
      podSchema,
    ) as ReturnType<typeof pod>;
    assert.deepEqual(result.metadata.labels, { app: 'web' });
    assert.equal('args' in result.spec.containers[0]!, false);
  });

  it('unions finalizers and removes them with $deleteFromPrimitiveList', () => {
    const added = applyStrategicMergePatch(pod(), { metadata: { finalizers: ['b.io/two', 'c.io/three'] } }, podSchema) as ReturnType<typeof pod>;
    assert.deepEqual(added.metadata.finalizers, ['a.io/one', 'b.io/two', 'c.io/three']);
    const removed = applyStrategicMergePatch(
      pod(),
      { metadata: { '$deleteFromPrimitiveList/finalizers': ['a.io/one'] } },
      podSchema,
    ) as ReturnType<typeof pod>;
    assert.deepEqual(removed.metadata.finalizers, ['b.io/two']);
    assert.equal(Object.keys(removed.metadata).some((k) => k.startsWith('$')), false);
  });

  it('merges ownerReferences by uid', () => {
    const owned = {
      metadata: {
        name: 'rs',
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'Deployment', name: 'd1', uid: 'u1', controller: true },
          { apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', uid: 'u2' },
        ],
      },
    };
    const result = applyStrategicMergePatch(
      owned,
      { metadata: { ownerReferences: [{ uid: 'u1', blockOwnerDeletion: true }, { uid: 'u2', $patch: 'delete' }] } },
      schemaFor('apps/ReplicaSet'),
    );
    assert.deepEqual(result, {
      metadata: {
        name: 'rs',
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'd1', uid: 'u1', controller: true, blockOwnerDeletion: true }],
      },
    });
  });

  it('orders a merged list by $setElementOrder', () => {
    const result = applyStrategicMergePatch(
      pod(),
      {
        spec: {
          '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'new' }, { name: 'app' }],
          containers: [{ name: 'new', image: 'n:1' }],
        },
      },
      podSchema,
    ) as ReturnType<typeof pod>;
    assert.deepEqual(result.spec.containers.map((c) => c.name), ['sidecar', 'new', 'app']);
    assert.equal(Object.keys(result.spec).some((k) => k.startsWith('$')), false);
  });

  it('orders primitive lists by $setElementOrder together with $deleteFromPrimitiveList', () => {
    const result = applyStrategicMergePatch(
      pod(),
      {
        metadata: {
          '$setElementOrder/finalizers': ['c.io/three', 'b.io/two'],
          '$deleteFromPrimitiveList/finalizers': ['a.io/one'],
          finalizers: ['c.io/three'],
        },
      },
      podSchema,
    ) as ReturnType<typeof pod>;
    assert.deepEqual(result.metadata.finalizers, ['c.io/three', 'b.io/two']);
  });

  it('rejects a patch list that contradicts its $setElementOrder', () => {
    assertStatus(
      () =>
        applyStrategicMergePatch(
          pod(),
          { spec: { '$setElementOrder/containers': [{ name: 'app' }], containers: [{ name: 'sidecar', image: 's:2' }] } },
          podSchema,
        ),
      400,
      /doesn't match \$setElementOrder\/ list/,
    );
  });

  describe('Deployment', () => {
    const deployment = () => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'web',
        labels: { app: 'web', team: 'blue' },
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"old":true}' },
      },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              { name: 'web', image: 'nginx:1.25', ports: [{ containerPort: 80, protocol: 'TCP' }] },
              { name: 'log', image: 'fluentbit:2' },
            ],
          },
        },
      },
      status: { replicas: 2, conditions: [{ type: 'Available', status: 'True' }, { type: 'Progressing', status: 'True' }] },
    });
    const schema = schemaFor('apps/Deployment');

    it('$retainKeys on spec.strategy drops rollingUpdate when switching to Recreate', () => {
      const result = applyStrategicMergePatch(
        deployment(),
        { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } } },
        schema,
      ) as ReturnType<typeof deployment>;
      assert.deepEqual(result.spec.strategy, { type: 'Recreate' });
    });

    it('$retainKeys refuses patch fields it does not list', () => {
      assertStatus(
        () => applyStrategicMergePatch(deployment(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: {} } } }, schema),
        400,
        /retainKeys/,
        /"rollingUpdate"/,
      );
    });

    it('applies the patch kubectl apply sends for a new image and a removed label', () => {
      // What `kubectl apply` computes (CreateThreeWayMergePatch) when the manifest drops the
      // `team` label and bumps the image of the first container.
      const applyPatch = {
        metadata: {
          annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"new":true}' },
          labels: { team: null },
        },
        spec: {
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'web' }, { name: 'log' }],
              containers: [{ image: 'nginx:1.26', name: 'web' }],
            },
          },
        },
      };
      const original = deployment();
      const result = applyStrategicMergePatch(original, applyPatch, schema);
      const expected = deployment();
      expected.metadata.labels = { app: 'web' } as typeof expected.metadata.labels;
      expected.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] = '{"new":true}';
      expected.spec.template.spec.containers[0]!.image = 'nginx:1.26';
      assert.deepEqual(result, expected);
      assert.deepEqual(original, deployment());
    });

    it('merges status conditions by type', () => {
      const result = applyStrategicMergePatch(
        deployment(),
        { status: { conditions: [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' }] } },
        schema,
      ) as ReturnType<typeof deployment>;
      assert.deepEqual(result.status.conditions, [
        { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' },
        { type: 'Progressing', status: 'True' },
      ]);
    });

    it('merges container ports by containerPort inside the pod template', () => {
      const result = applyStrategicMergePatch(
        deployment(),
        { spec: { template: { spec: { containers: [{ name: 'web', ports: [{ containerPort: 80, name: 'http' }, { containerPort: 443 }] }] } } } },
        schema,
      ) as ReturnType<typeof deployment>;
      assert.deepEqual(result.spec.template.spec.containers[0]!.ports, [
        { containerPort: 80, protocol: 'TCP', name: 'http' },
        { containerPort: 443 },
      ]);
    });
  });

  it('merges volumes by name and applies a per-volume $retainKeys', () => {
    const original = {
      metadata: { name: 'p' },
      spec: { volumes: [{ name: 'data', emptyDir: {} }, { name: 'cfg', configMap: { name: 'c' } }] },
    };
    const result = applyStrategicMergePatch(
      original,
      { spec: { volumes: [{ name: 'data', $retainKeys: ['name', 'hostPath'], hostPath: { path: '/d' } }] } },
      schemaFor('/Pod'),
    );
    assert.deepEqual(result, {
      metadata: { name: 'p' },
      spec: { volumes: [{ name: 'data', hostPath: { path: '/d' } }, { name: 'cfg', configMap: { name: 'c' } }] },
    });
  });

  it('merges service ports by port and node addresses by type', () => {
    const svc = applyStrategicMergePatch(
      { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443, targetPort: 8443 }] } },
      { spec: { ports: [{ port: 80, targetPort: 9090 }] } },
      schemaFor('/Service'),
    );
    assert.deepEqual(svc, { spec: { ports: [{ port: 80, targetPort: 9090 }, { port: 443, targetPort: 8443 }] } });
    const node = applyStrategicMergePatch(
      { status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }, { type: 'Hostname', address: 'n1' }] } },
      { status: { addresses: [{ type: 'InternalIP', address: '10.0.0.2' }] } },
      schemaFor('/Node'),
    );
    assert.deepEqual(node, { status: { addresses: [{ type: 'InternalIP', address: '10.0.0.2' }, { type: 'Hostname', address: 'n1' }] } });
  });

  it('strips directives from values that had nothing to merge into', () => {
    const result = applyStrategicMergePatch(
      { metadata: { name: 'p' } },
      {
        spec: {
          '$setElementOrder/containers': [{ name: 'a' }],
          containers: [{ name: 'a', image: 'a:1', env: [{ name: 'X', value: '1' }, { name: 'Y', $patch: 'delete' }], args: null }],
        },
      },
      schemaFor('/Pod'),
    );
    assert.deepEqual(result, { metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'a:1', env: [{ name: 'X', value: '1' }] }] } });
  });

  it('never mutates the original or the patch', () => {
    const original = pod();
    const patch = {
      metadata: { labels: { tier: null }, '$deleteFromPrimitiveList/finalizers': ['a.io/one'] },
      spec: { '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'app' }], containers: [{ name: 'app', image: 'app:3' }] },
    };
    const before = structuredClone({ original, patch });
    const result = applyStrategicMergePatch(original, patch, podSchema) as ReturnType<typeof pod>;
    assert.deepEqual({ original, patch }, before);
    result.spec.containers[1]!.env![0]!.value = 'changed';
    assert.deepEqual(original, before.original);
  });

  it('refuses non-object patches and unknown directives with 400', () => {
    assertStatus(() => applyStrategicMergePatch(pod(), [{ op: 'add' }], podSchema), 400, /must be a JSON object, not an array/);
    assertStatus(() => applyStrategicMergePatch(pod(), null, podSchema), 400, /not null/);
    assertStatus(() => applyStrategicMergePatch(pod(), { metadata: { labels: { $patch: 'explode' } } }, podSchema), 400, /unknown patch type: "explode"/);
    assertStatus(() => applyStrategicMergePatch(pod(), { spec: { containers: [{ name: 'app', $patch: 'shred' }] } }, podSchema), 400, /unknown patch type: "shred"/);
    assertStatus(() => applyStrategicMergePatch(pod(), { spec: { containers: [{ image: 'nameless' }] } }, podSchema), 400, /does not contain declared merge key: name/);
  });

  it('has a schema for every built-in kind the server serves', () => {
    for (const key of [
      '/Pod', '/Node', '/Namespace', '/Service', '/Secret', '/ConfigMap', '/Event', '/ServiceAccount',
      'apps/Deployment', 'apps/ReplicaSet', 'autoscaling/HorizontalPodAutoscaler', 'coordination.k8s.io/Lease',
      'apiextensions.k8s.io/CustomResourceDefinition',
    ]) {
      assert.equal(schemaFor(key).fields?.['metadata']?.fields?.['finalizers']?.strategy, 'merge', key);
    }
    assert.ok(Object.isFrozen(schemaFor('/Pod')));
  });
});
