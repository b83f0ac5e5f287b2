// The Kubernetes protobuf request-body decoder: the wire reader, then real kubectl 1.32 bodies
// (test/fixtures/protobuf, see its README) against what kubectl prints as JSON for the same
// command, then hand-encoded bodies for the special types and for everything that must be refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StatusError } from '../../src/apiserver/errors.ts';
import { decodeKubernetesProtobuf, decodeSpecial } from '../../src/apiserver/protobuf/decode.ts';
import { kindDescriptor, supportedKinds } from '../../src/apiserver/protobuf/descriptors.ts';
import { ProtobufWireError, WireReader, WireType } from '../../src/apiserver/protobuf/wire.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/protobuf');

// --- a tiny encoder for hand-made bodies ---------------------------------------------------

type Part = Buffer;

function varint(value: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return Buffer.from(out);
}
const key = (field: number, wireType: number): Buffer => varint((field << 3) | wireType);
const int = (field: number, value: number | bigint): Part => Buffer.concat([key(field, 0), varint(value)]);
const bytes = (field: number, payload: Buffer): Part => Buffer.concat([key(field, 2), varint(payload.length), payload]);
const str = (field: number, s: string): Part => bytes(field, Buffer.from(s, 'utf8'));
const msg = (field: number, ...parts: Part[]): Part => bytes(field, Buffer.concat(parts));
const entry = (field: number, k: string, ...value: Part[]): Part => msg(field, str(1, k), ...value);

/** A complete body: magic, runtime.Unknown{typeMeta, raw}. */
function body(apiVersion: string, kind: string, ...raw: Part[]): Buffer {
  return Buffer.concat([
    Buffer.from('k8s\0', 'latin1'),
    msg(1, str(1, apiVersion), str(2, kind)),
    msg(2, ...raw),
    str(3, ''),
    str(4, ''),
  ]);
}

const meta = (name: string, ...more: Part[]): Part => msg(1, str(1, name), str(2, ''), str(3, ''), int(7, 0), msg(8), ...more);

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

const decode = (buf: Buffer, apiVersion = 'v1', kind = 'Pod'): Record<string, unknown> =>
  decodeKubernetesProtobuf(buf, { apiVersion, kind });

// -----------------------------------------------------------------------------------------------

describe('protobuf wire reader', () => {
  it('reads varints up to 64 bits, int32 sign extension and int64 beyond 2^53 as a string', () => {
    const buf = Buffer.concat([varint(300), varint(-1), varint(2n ** 53n - 1n), varint(2n ** 53n + 1n), varint(-5), varint(1)]);
    const r = new WireReader(buf);
    assert.equal(r.varint(), 300n);
    assert.equal(r.int32(), -1);
    assert.equal(r.int64(), Number.MAX_SAFE_INTEGER);
    assert.equal(r.int64(), '9007199254740993');
    assert.equal(r.int64(), -5);
    assert.equal(r.bool(), true);
    assert.ok(r.done());
  });

  it('reads tags and length-delimited fields, and skips fixed32/fixed64 values', () => {
    const buf = Buffer.concat([key(1, WireType.Fixed32), Buffer.alloc(4), key(2, WireType.Fixed64), Buffer.alloc(8), str(3, 'héllo')]);
    const r = new WireReader(buf);
    assert.deepEqual(r.tag(), { field: 1, wireType: WireType.Fixed32 });
    r.skip(WireType.Fixed32);
    assert.deepEqual(r.tag(), { field: 2, wireType: WireType.Fixed64 });
    r.skip(WireType.Fixed64);
    assert.deepEqual(r.tag(), { field: 3, wireType: WireType.LengthDelimited });
    assert.equal(r.string(), 'héllo');
    assert.ok(r.done());
  });

  it('is strict: truncated or malformed input throws', () => {
    assert.throws(() => new WireReader(Buffer.from([0x80])).varint(), ProtobufWireError);
    assert.throws(() => new WireReader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])).varint(), /64 bits/);
    const r = new WireReader(Buffer.from([0x0a, 0x05, 0x61, 0x62]));
    assert.deepEqual(r.tag(), { field: 1, wireType: WireType.LengthDelimited });
    assert.throws(() => r.bytes(), /truncated field/);
    const s = new WireReader(Buffer.from([0x0a, 0x05, 0x61]));
    s.tag();
    assert.throws(() => s.skip(WireType.LengthDelimited), ProtobufWireError);
    assert.throws(() => new WireReader(Buffer.from([0x0d, 0x01, 0x02])).skip(WireType.Fixed32), /truncated/);
    assert.throws(() => new WireReader(Buffer.from([0x0f])).tag(), /invalid wire type/);
    assert.throws(() => new WireReader(Buffer.from([0x00])).tag(), /field number 0/);
    const bad = new WireReader(Buffer.from([0x02, 0xc3, 0x28]));
    assert.throws(() => bad.string(), /UTF-8/);
    // A key beyond 32 bits is refused, not truncated (protobufjs's Reader reads this one as field 0).
    assert.throws(() => new WireReader(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])).tag(), /field key 34359738368 is out of range/);
  });
});

describe('protobuf descriptors', () => {
  it('describe the kinds kubectl sends as protobuf', () => {
    for (const k of ['v1/Namespace', 'v1/ConfigMap', 'v1/Secret', 'v1/ServiceAccount', 'v1/Pod', 'v1/Service', 'apps/v1/Deployment']) {
      assert.ok(supportedKinds().includes(k), k);
    }
    assert.equal(kindDescriptor('apps/v1', 'Deployment')?.name, 'apps/v1 Deployment');
    assert.equal(kindDescriptor('batch/v1', 'Job')?.name, 'batch/v1 Job');
    assert.equal(kindDescriptor('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding')?.name, 'rbac/v1 ClusterRoleBinding');
    assert.equal(kindDescriptor('apps/v1', 'DaemonSet'), undefined);
  });
});

describe('apimachinery special types', () => {
  it('Time and MicroTime become RFC 3339 in UTC (seconds / microseconds); the zero time is null', () => {
    assert.equal(decodeSpecial(Buffer.alloc(0), 'Time', 't'), null);
    assert.equal(decodeSpecial(Buffer.concat([int(1, 1700000000), int(2, 123456789)]), 'Time', 't'), '2023-11-14T22:13:20Z');
    assert.equal(decodeSpecial(Buffer.concat([int(1, 1700000000), int(2, 123456789)]), 'MicroTime', 't'), '2023-11-14T22:13:20.123456Z');
    assert.equal(decodeSpecial(int(1, -62135596800), 'Time', 't'), '0001-01-01T00:00:00Z');
    assertStatus(() => decodeSpecial(int(1, 253402300800), 'Time', 't'), 400, /out of range/);
    assertStatus(() => decodeSpecial(Buffer.concat([int(1, 1), int(2, 1_000_000_000)]), 'MicroTime', 't'), 400, /out of range/);
  });

  it('IntOrString, Quantity and FieldsV1', () => {
    assert.equal(decodeSpecial(Buffer.concat([int(1, 0), int(2, 8080), str(3, '')]), 'IntOrString', 'p'), 8080);
    assert.equal(decodeSpecial(Buffer.concat([int(1, 1), int(2, 0), str(3, '50%')]), 'IntOrString', 'p'), '50%');
    assertStatus(() => decodeSpecial(int(1, 2), 'IntOrString', 'p'), 400, /neither 0 \(int\) nor 1 \(string\)/);
    assert.equal(decodeSpecial(str(1, '1500m'), 'Quantity', 'q'), '1500m');
    assert.deepEqual(decodeSpecial(bytes(1, Buffer.from('{"f:a":{}}')), 'FieldsV1', 'f'), { 'f:a': {} });
    assertStatus(() => decodeSpecial(bytes(1, Buffer.from('{nope')), 'FieldsV1', 'f'), 400, /does not hold JSON/);
    assertStatus(() => decodeSpecial(str(2, 'x'), 'Quantity', 'q'), 415, /field 2 of resource Quantity/);
  });
});

describe('decodeKubernetesProtobuf: bodies captured from kubectl 1.32', () => {
  const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.hex')).map((f) => f.slice(0, -4)).sort();
  it('has the fixtures', () => assert.ok(fixtures.length >= 17, fixtures.join(',')));
  for (const name of fixtures) {
    it(`${name} decodes to what kubectl --dry-run=client -o json prints`, () => {
      const buf = Buffer.from(readFileSync(join(FIXTURES, `${name}.hex`), 'utf8').trim(), 'hex');
      const want = JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as { apiVersion: string; kind: string };
      assert.deepEqual(decode(buf, want.apiVersion, want.kind), want);
    });
  }

  it('keeps a pointer field set to zero (replicas: 0) and base64-encodes bytes maps', () => {
    const dep = decode(Buffer.from(readFileSync(join(FIXTURES, 'deployment-command.hex'), 'utf8').trim(), 'hex'), 'apps/v1', 'Deployment');
    assert.equal((dep.spec as { replicas: number }).replicas, 0);
    const cm = decode(Buffer.from(readFileSync(join(FIXTURES, 'configmap-binary.hex'), 'utf8').trim(), 'hex'), 'v1', 'ConfigMap');
    assert.deepEqual(Buffer.from((cm.binaryData as Record<string, string>).blob!, 'base64'), Buffer.from([0x00, 0xff, 0xfe, ...Buffer.from('binary'), 0x80]));
  });

  it('a truncated body is a 400', () => {
    const buf = Buffer.from(readFileSync(join(FIXTURES, 'deployment.hex'), 'utf8').trim(), 'hex');
    for (const cut of [5, 20, buf.length - 1]) assertStatus(() => decode(buf.subarray(0, cut), 'apps/v1', 'Deployment'), 400, /error decoding application\/vnd\.kubernetes\.protobuf body/);
  });
});

describe('decodeKubernetesProtobuf: hand-encoded bodies', () => {
  it('decodes Time, MicroTime-free metadata, owner references, managed fields and int64', () => {
    const fields = Buffer.from(JSON.stringify({ 'f:metadata': { 'f:labels': { '.': {} } } }));
    const b = body(
      'v1',
      'ConfigMap',
      msg(
        1,
        str(1, 'cm'),
        str(3, 'ns1'),
        int(7, 3),
        msg(8, int(1, 1700000000), int(2, 500)),
        msg(9, int(1, 0)),
        int(10, 2n ** 60n),
        entry(11, 'app', str(2, 'x')),
        entry(12, 'note', str(2, '')),
        msg(13, str(1, 'Deployment'), str(3, 'web'), str(4, 'uid-1'), str(5, 'apps/v1'), int(6, 1), int(7, 0)),
        str(14, 'example.com/f'),
        msg(17, str(1, 'kubectl'), str(2, 'Update'), str(3, 'v1'), msg(4, int(1, 1700000000)), str(6, 'FieldsV1'), msg(7, bytes(1, fields)), str(8, '')),
      ),
      int(4, 1),
    );
    assert.deepEqual(decode(b, 'v1', 'ConfigMap'), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'cm',
        namespace: 'ns1',
        generation: 3,
        creationTimestamp: '2023-11-14T22:13:20Z',
        deletionTimestamp: '1970-01-01T00:00:00Z',
        deletionGracePeriodSeconds: '1152921504606846976',
        labels: { app: 'x' },
        annotations: { note: '' },
        ownerReferences: [{ kind: 'Deployment', name: 'web', uid: 'uid-1', apiVersion: 'apps/v1', controller: true, blockOwnerDeletion: false }],
        finalizers: ['example.com/f'],
        managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', time: '2023-11-14T22:13:20Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {} } } } }],
      },
      immutable: true,
    });
  });

  it('decodes IntOrString both ways, Quantity maps, probes, env sources and a pod security context', () => {
    const b = body(
      'apps/v1',
      'Deployment',
      meta('web'),
      msg(
        2,
        int(1, 3),
        msg(2, msg(2, str(1, 'tier'), str(2, 'In'), str(3, 'a'), str(3, 'b'))),
        msg(
          3,
          meta(''),
          msg(
            2,
            msg(1, str(1, 'data'), msg(2, msg(2, str(1, 'Memory'), msg(2, str(1, '64Mi'))))),
            msg(
              2,
              str(1, 'app'),
              str(2, 'nginx'),
              msg(6, str(1, 'http'), int(3, 8080), str(4, 'TCP')),
              msg(19, str(1, 'CFG_'), msg(2, msg(1, str(1, 'settings')), int(2, 1))),
              msg(7, str(1, 'POD'), msg(3, msg(1, str(1, 'v1'), str(2, 'metadata.name')))),
              msg(7, str(1, 'PW'), msg(3, msg(4, msg(1, str(1, 'creds')), str(2, 'password')))),
              msg(8, entry(1, 'cpu', msg(2, str(1, '500m'))), entry(2, 'memory', msg(2, str(1, '128Mi')))),
              msg(9, str(1, 'data'), int(2, 1), str(3, '/data'), str(4, '')),
              msg(11, msg(1, msg(2, str(1, '/healthz'), msg(2, int(1, 1), str(3, 'http')))), int(2, 5), int(4, 10)),
              msg(15, msg(1, str(2, 'ALL')), int(5, 1), int(4, 1000)),
              str(14, 'IfNotPresent'),
            ),
            int(4, 0),
            msg(14, int(2, 1000), int(4, 1000), int(4, 2000), key(4, 2), varint(2), varint(5), varint(6)),
            msg(22, str(1, 'k'), str(2, 'Equal'), str(3, 'v'), str(4, 'NoExecute'), int(5, 60)),
            int(25, -5),
          ),
        ),
        msg(4, str(1, 'RollingUpdate'), msg(2, msg(1, int(1, 1), str(3, '25%')), msg(2, int(1, 0), int(2, 2)))),
        int(6, 0),
      ),
    );
    assert.deepEqual(decode(b, 'apps/v1', 'Deployment'), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', creationTimestamp: null },
      spec: {
        replicas: 3,
        selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] },
        template: {
          metadata: { creationTimestamp: null },
          spec: {
            volumes: [{ name: 'data', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } }],
            containers: [
              {
                name: 'app',
                image: 'nginx',
                ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
                envFrom: [{ prefix: 'CFG_', configMapRef: { name: 'settings', optional: true } }],
                env: [
                  { name: 'POD', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
                  { name: 'PW', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
                ],
                resources: { limits: { cpu: '500m' }, requests: { memory: '128Mi' } },
                volumeMounts: [{ name: 'data', readOnly: true, mountPath: '/data' }],
                readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 5, periodSeconds: 10 },
                securityContext: { capabilities: { drop: ['ALL'] }, runAsNonRoot: true, runAsUser: 1000 },
                imagePullPolicy: 'IfNotPresent',
              },
            ],
            terminationGracePeriodSeconds: 0,
            securityContext: { runAsUser: 1000, supplementalGroups: [1000, 2000, 5, 6] },
            tolerations: [{ key: 'k', operator: 'Equal', value: 'v', effect: 'NoExecute', tolerationSeconds: 60 }],
            priority: -5,
          },
        },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 2 } },
        revisionHistoryLimit: 0,
      },
    });
  });

  it('decodes a Service with named target ports and the newer optional spec fields', () => {
    const b = body(
      'v1',
      'Service',
      meta('svc'),
      msg(
        2,
        msg(1, str(1, 'web'), str(2, 'TCP'), str(6, 'http'), int(3, 80), msg(4, int(1, 1), int(2, 0), str(3, 'http')), int(5, 0)),
        entry(2, 'app', str(2, 'web')),
        str(3, '10.0.0.10'),
        str(18, '10.0.0.10'),
        str(4, 'ClusterIP'),
        str(5, '192.0.2.1'),
        str(7, 'ClientIP'),
        msg(14, msg(1, int(1, 10800))),
        str(19, 'IPv4'),
        str(17, 'SingleStack'),
        str(22, 'Cluster'),
        str(11, ''),
      ),
      msg(3, msg(1)),
    );
    assert.deepEqual(decode(b, 'v1', 'Service'), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'svc', creationTimestamp: null },
      spec: {
        ports: [{ name: 'web', protocol: 'TCP', appProtocol: 'http', port: 80, targetPort: 'http' }],
        selector: { app: 'web' },
        clusterIP: '10.0.0.10',
        clusterIPs: ['10.0.0.10'],
        type: 'ClusterIP',
        externalIPs: ['192.0.2.1'],
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        internalTrafficPolicy: 'Cluster',
      },
      status: { loadBalancer: {} },
    });
  });

  it('falls back to the URL kind when the envelope has no TypeMeta', () => {
    const b = Buffer.concat([Buffer.from('k8s\0', 'latin1'), msg(2, meta('sa1'))]);
    assert.deepEqual(decode(b, 'v1', 'ServiceAccount'), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa1', creationTimestamp: null } });
  });
});

describe('decodeKubernetesProtobuf: refusals', () => {
  it('an unknown field is a 415 naming the message, the path and the JSON alternative', () => {
    // Container field 25 (restartPolicyRules) is not in the descriptors
    const b = body('v1', 'Pod', meta('p'), msg(2, msg(2, str(1, 'c'), str(2, 'busybox')), msg(2, str(1, 'd'), msg(25, str(1, 'Restart')))));
    const err = assertStatus(() => decode(b), 415, /protobuf field 25 of core\/v1 Container \(at spec\.containers\[1\]\) is not supported/, /kubectl apply -f/, /JSON/);
    assert.equal(err.reason, 'UnsupportedMediaType');
    // PodSpec.affinity (18)
    assertStatus(() => decode(body('v1', 'Pod', meta('p'), msg(2, msg(18)))), 415, /field 18 of core\/v1 PodSpec \(at spec\)/);
    // a field unknown at the top level
    assertStatus(() => decode(body('v1', 'Namespace', meta('n'), str(9, 'x')), 'v1', 'Namespace'), 415, /field 9 of core\/v1 Namespace is not supported/);
    // inside a special type
    assertStatus(() => decode(body('v1', 'Service', meta('s'), msg(2, msg(1, int(3, 80), msg(4, int(9, 1)))))), 415, /IntOrString \(at spec\.ports\[0\]\.targetPort\)/);
  });

  it('a kind without a descriptor is a 415 listing what is supported', () => {
    const b = body('apps/v1', 'DaemonSet', meta('j'));
    assertStatus(() => decode(b, 'apps/v1', 'DaemonSet'), 415, /cannot decode apps\/v1 DaemonSet/, /apps\/v1\/Deployment/, /kubectl create -f/);
  });

  it('an envelope naming another kind than the URL is a 400 (unless that kind decodes, then the store compares)', () => {
    assertStatus(() => decode(body('apps/v1', 'DaemonSet', meta('j')), 'v1', 'Pod'), 400, /API version in the data \(apps\/v1\) does not match/);
    assert.equal(decode(body('v1', 'ConfigMap', meta('c')), 'v1', 'Pod').kind, 'ConfigMap');
  });

  it('a body without the magic prefix, with a content encoding, or with a mistyped field is refused', () => {
    assertStatus(() => decode(Buffer.from('{"kind":"Pod"}')), 400, /does not start with the Kubernetes protobuf prefix/);
    const gz = Buffer.concat([Buffer.from('k8s\0', 'latin1'), msg(1, str(1, 'v1'), str(2, 'Pod')), msg(2, meta('p')), str(3, 'gzip')]);
    assertStatus(() => decode(gz), 415, /content encoding "gzip"/);
    assertStatus(() => decode(body('v1', 'Pod', msg(1, int(1, 7)))), 400, /field 1 of meta\/v1 ObjectMeta \(metadata\.name\) has wire type 0, expected 2/);
    assertStatus(() => decode(body('v1', 'Pod', msg(1, msg(8, int(1, 2n ** 62n))))), 400, /Time .* out of range/);
  });
});
