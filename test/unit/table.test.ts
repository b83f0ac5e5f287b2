import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/meta.ts';
import { evalJsonPath, parseJsonPath } from '../../src/apiserver/jsonpath.ts';
import { builtinColumns } from '../../src/apiserver/registry/builtin-columns.ts';
import type { ColumnSpec, ResourceDef } from '../../src/apiserver/registry/types.ts';
import { buildTable, humanDuration } from '../../src/apiserver/rest/table.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

const NOW = new Date('2024-06-01T12:00:00Z');
const ago = (ms: number): string => new Date(NOW.getTime() - ms).toISOString();

/** Only what buildTable reads; the rest of a ResourceDef does not matter to tables. */
function def(source: 'builtin' | 'crd', columns: ColumnSpec[]): ResourceDef {
  return { source, columns } as unknown as ResourceDef;
}

function table(d: ResourceDef, objects: KubeObject[], includeObject: 'None' | 'Metadata' | 'Object' = 'None') {
  return buildTable(d, objects, { includeObject, now: NOW, listMeta: { resourceVersion: '42' } });
}

/** The cells of one built-in kind's row, keyed by column name. */
function row(kind: string, obj: KubeObject): Record<string, unknown> {
  const columns = builtinColumns[kind];
  assert.ok(columns, `no columns for ${kind}`);
  const t = table(def('builtin', columns), [obj]);
  return Object.fromEntries(t.columnDefinitions.map((c, i) => [c.name, t.rows[0]?.cells[i]]));
}

describe('humanDuration', () => {
  const cases: [number, string][] = [
    [-2 * S, '<invalid>'],
    [-1 * S, '0s'],
    [-999, '0s'],
    [0, '0s'],
    [999, '0s'],
    [59 * S, '59s'],
    [119 * S, '119s'],
    [2 * M, '2m'],
    [2 * M + 30 * S, '2m30s'],
    [9 * M + 59 * S, '9m59s'],
    [10 * M, '10m'],
    [10 * M + 30 * S, '10m'],
    [179 * M, '179m'],
    [3 * H, '3h'],
    [3 * H + 5 * M, '3h5m'],
    [7 * H + 59 * M, '7h59m'],
    [8 * H, '8h'],
    [47 * H + 59 * M, '47h'],
    [48 * H, '2d'],
    [50 * H, '2d2h'],
    [7 * D + 23 * H, '7d23h'],
    [8 * D, '8d'],
    [729 * D, '729d'],
    [730 * D, '2y'],
    [731 * D, '2y1d'],
    [8 * 365 * D - D, '7y364d'],
    [8 * 365 * D, '8y'],
    [20 * 365 * D, '20y'],
  ];
  for (const [ms, expected] of cases) {
    it(`${ms}ms is ${expected}`, () => assert.equal(humanDuration(ms), expected));
  }
});

describe('evalJsonPath', () => {
  const pod = {
    metadata: {
      name: 'web-0',
      labels: { app: 'web', 'a.b': 'dotted', 'app.kubernetes.io/name': 'site' },
      annotations: { 'a.b/c': 'annotated' },
    },
    spec: {
      replicas: 3,
      containers: [
        { name: 'main', image: 'nginx:1' },
        { name: 'side', image: 'envoy:2' },
        { name: 'log', image: 'fluent:3' },
      ],
    },
    status: {
      conditions: [
        { type: 'Initialized', status: 'True' },
        { type: 'Ready', status: 'False', priority: 2 },
      ],
      empty: null,
    },
  };

  const cases: [string, unknown[]][] = [
    ['.metadata.name', ['web-0']],
    ['{.metadata.name}', ['web-0']],
    ['$.metadata.name', ['web-0']],
    ['.spec.replicas', [3]],
    ['.status.conditions[0].type', ['Initialized']],
    ['.status.conditions[-1].type', ['Ready']],
    ['.status.conditions[?(@.type=="Ready")].status', ['False']],
    [".status.conditions[?(@.type == 'Initialized')].status", ['True']],
    ['.status.conditions[?(@.priority > 1)].type', ['Ready']],
    ['.status.conditions[?(@.priority)].type', ['Ready']],
    ['.status.conditions[?(@.type!="Ready")].type', ['Initialized']],
    ['.spec.containers[*].image', ['nginx:1', 'envoy:2', 'fluent:3']],
    ['.spec.containers[0:2].name', ['main', 'side']],
    ['.spec.containers[::2].name', ['main', 'log']],
    ['.spec.containers[0,2].name', ['main', 'log']],
    ['.metadata.labels.app', ['web']],
    ['.metadata.labels.a\\.b', ['dotted']],
    ['.metadata.labels.app\\.kubernetes\\.io/name', ['site']],
    [".metadata.annotations['a.b/c']", ['annotated']],
    ['.metadata.annotations["a.b/c"]', ['annotated']],
    ["['metadata']['name']", ['web-0']],
    ['..image', ['nginx:1', 'envoy:2', 'fluent:3']],
    ['.metadata.labels.*', ['web', 'dotted', 'site']],
    ['.status.empty', [null]],
    ['.status.missing', []],
    ['.spec.containers[7].name', []],
    ['.metadata.name.first', []],
    ['.', [pod]],
  ];
  for (const [path, expected] of cases) {
    it(path, () => assert.deepEqual(evalJsonPath(pod, path), expected));
  }

  it('rejects bad syntax with a clear error', () => {
    for (const path of ['', 'metadata.name', '.a[', '.a[x]', '.a..', '.a[?(@.x ~ 1)]', '.a[?(x=="1")]', '.a b', '.a[::0]']) {
      assert.throws(() => parseJsonPath(path), /invalid JSONPath/, path);
    }
  });
});

describe('buildTable for custom resources', () => {
  const widget: KubeObject = {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'w1', namespace: 'default', creationTimestamp: ago(3 * H + 5 * M), uid: 'u1' },
    spec: { replicas: 2.7, enabled: true, ratio: 0.5, selector: { b: 1, a: '<x>' }, images: ['a', 'b'] },
    status: {
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: ago(90 * S) }],
      started: 'yesterday',
    },
  };
  const columns: ColumnSpec[] = [
    { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
    { name: 'Ratio', type: 'number', jsonPath: '.spec.ratio' },
    { name: 'Enabled', type: 'boolean', jsonPath: '.spec.enabled' },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'Readiness' },
    { name: 'Since', type: 'date', jsonPath: '.status.conditions[0].lastTransitionTime' },
    { name: 'Started', type: 'date', jsonPath: '.status.started' },
    { name: 'Selector', type: 'string', jsonPath: '.spec.selector', priority: 1 },
    { name: 'Image', type: 'string', jsonPath: '.spec.images[*]' },
    { name: 'Missing', type: 'string', jsonPath: '.status.nothing' },
    { name: 'Mistyped', type: 'integer', jsonPath: '.status.started' },
  ];

  it('puts Name first and carries types, formats, priorities and descriptions', () => {
    const t = table(def('crd', columns), [widget]);
    assert.equal(t.apiVersion, 'meta.k8s.io/v1');
    assert.equal(t.kind, 'Table');
    assert.deepEqual(t.metadata, { resourceVersion: '42' });
    assert.deepEqual(
      t.columnDefinitions.map((c) => [c.name, c.type, c.format, c.priority]),
      [
        ['Name', 'string', 'name', 0],
        ['Replicas', 'integer', '', 0],
        ['Ratio', 'number', '', 0],
        ['Enabled', 'boolean', '', 0],
        ['Ready', 'string', '', 0],
        ['Since', 'date', '', 0],
        ['Started', 'date', '', 0],
        ['Selector', 'string', '', 1],
        ['Image', 'string', '', 0],
        ['Missing', 'string', '', 0],
        ['Mistyped', 'integer', '', 0],
      ],
    );
    assert.equal(t.columnDefinitions[4]?.description, 'Readiness');
    assert.equal(t.columnDefinitions[1]?.description, 'Custom resource definition column (in JSONPath format): .spec.replicas');
    assert.match(t.columnDefinitions[0]?.description ?? '', /^Name must be unique within a namespace/);
  });

  it('fills cells from the first JSONPath match, typed by the column', () => {
    const t = table(def('crd', columns), [widget]);
    assert.deepEqual(t.rows[0]?.cells, [
      'w1',
      2,
      0.5,
      true,
      'True',
      '90s',
      '<invalid>',
      '{"a":"\\u003cx\\u003e","b":1}',
      'a',
      null,
      null,
    ]);
  });

  it('gives a CRD without printer columns an Age column', () => {
    const t = table(def('crd', []), [widget]);
    assert.deepEqual(
      t.columnDefinitions.map((c) => [c.name, c.type]),
      [
        ['Name', 'string'],
        ['Age', 'date'],
      ],
    );
    assert.match(t.columnDefinitions[1]?.description ?? '', /^CreationTimestamp is a timestamp/);
    assert.deepEqual(t.rows[0]?.cells, ['w1', '3h5m']);
  });

  it('gives a built-in kind without a printer the default Created At column', () => {
    const t = table(def('builtin', []), [{ metadata: { name: 'x', creationTimestamp: '2024-01-02T03:04:05.678Z' } }]);
    assert.deepEqual(t.columnDefinitions.map((c) => c.name), ['Name', 'Created At']);
    assert.deepEqual(t.rows[0]?.cells, ['x', '2024-01-02T03:04:05Z']);
  });

  it('honours includeObject', () => {
    const none = table(def('crd', []), [widget], 'None');
    assert.equal('object' in (none.rows[0] ?? {}), false);
    const meta = table(def('crd', []), [widget], 'Metadata');
    assert.deepEqual(meta.rows[0]?.object, {
      kind: 'PartialObjectMetadata',
      apiVersion: 'meta.k8s.io/v1',
      metadata: widget.metadata,
    });
    const full = table(def('crd', []), [widget], 'Object');
    assert.equal(full.rows[0]?.object, widget);
  });

  it('copies list metadata and returns no rows for no objects', () => {
    const t = buildTable(def('crd', []), [], {
      includeObject: 'Metadata',
      now: NOW,
      listMeta: { resourceVersion: '7', continue: 'tok', remainingItemCount: 3 },
    });
    assert.deepEqual(t.metadata, { resourceVersion: '7', continue: 'tok', remainingItemCount: 3 });
    assert.deepEqual(t.rows, []);
  });
});

describe('pod columns', () => {
  const base = (status: Record<string, unknown>, spec: Record<string, unknown> = {}, meta: Partial<KubeObject['metadata']> = {}): KubeObject => ({
    metadata: { name: 'p', creationTimestamp: ago(5 * M), ...meta },
    spec: { containers: [{ name: 'a' }, { name: 'b' }], ...spec },
    status,
  });
  const running = { running: { startedAt: ago(4 * M) } };

  it('lists the kubectl columns with the wide ones at priority 1', () => {
    const t = table(def('builtin', builtinColumns['/Pod'] ?? []), []);
    assert.deepEqual(
      t.columnDefinitions.map((c) => `${c.name}:${c.priority}`),
      ['Name:0', 'Ready:0', 'Status:0', 'Restarts:0', 'Age:0', 'IP:1', 'Node:1', 'Nominated Node:1', 'Readiness Gates:1'],
    );
  });

  it('shows a healthy running pod', () => {
    const r = row(
      '/Pod',
      base(
        {
          phase: 'Running',
          podIP: '10.0.0.5',
          conditions: [{ type: 'Ready', status: 'True' }, { type: 'gate/x', status: 'True' }],
          containerStatuses: [
            { name: 'a', ready: true, restartCount: 0, state: running },
            { name: 'b', ready: true, restartCount: 0, state: running },
          ],
        },
        { nodeName: 'n1', readinessGates: [{ conditionType: 'gate/x' }, { conditionType: 'gate/y' }] },
      ),
    );
    assert.deepEqual(r, {
      Name: 'p',
      Ready: '2/2',
      Status: 'Running',
      Restarts: '0',
      Age: '5m',
      IP: '10.0.0.5',
      Node: 'n1',
      'Nominated Node': '<none>',
      'Readiness Gates': '1/2',
    });
  });

  it('reports a crash-looping container and when it last restarted', () => {
    const r = row(
      '/Pod',
      base({
        phase: 'Running',
        containerStatuses: [
          {
            name: 'a',
            ready: false,
            restartCount: 3,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(150 * S) } },
          },
          { name: 'b', ready: true, restartCount: 1, state: running },
        ],
      }),
    );
    assert.equal(r.Ready, '1/2');
    assert.equal(r.Status, 'CrashLoopBackOff');
    assert.equal(r.Restarts, '4 (2m30s ago)');
    assert.equal(r.IP, '<none>');
    assert.equal(r.Node, '<none>');
  });

  it('reports init container progress and failures', () => {
    const spec = { initContainers: [{ name: 'i1' }, { name: 'i2' }] };
    const waiting = row('/Pod', base({ phase: 'Pending', initContainerStatuses: [{ name: 'i1', state: { running: {} } }] }, spec));
    assert.equal(waiting.Status, 'Init:0/2');
    const second = row(
      '/Pod',
      base(
        {
          phase: 'Pending',
          initContainerStatuses: [
            { name: 'i1', state: { terminated: { exitCode: 0 } } },
            { name: 'i2', state: { waiting: { reason: 'ImagePullBackOff' } } },
          ],
        },
        spec,
      ),
    );
    assert.equal(second.Status, 'Init:ImagePullBackOff');
    const failed = row('/Pod', base({ phase: 'Pending', initContainerStatuses: [{ name: 'i1', restartCount: 2, state: { terminated: { exitCode: 2 } } }] }, spec));
    assert.equal(failed.Status, 'Init:ExitCode:2');
    assert.equal(failed.Restarts, '2');
  });

  it('counts a started sidecar init container as a ready container', () => {
    const r = row(
      '/Pod',
      base(
        {
          phase: 'Running',
          conditions: [{ type: 'Initialized', status: 'True' }],
          initContainerStatuses: [{ name: 'proxy', started: true, ready: true, restartCount: 1, state: running }],
          containerStatuses: [
            { name: 'a', ready: true, state: running },
            { name: 'b', ready: false, state: { waiting: { reason: 'ContainerCreating' } } },
          ],
        },
        { initContainers: [{ name: 'proxy', restartPolicy: 'Always' }] },
      ),
    );
    assert.equal(r.Ready, '2/3');
    assert.equal(r.Status, 'ContainerCreating');
    assert.equal(r.Restarts, '1');
  });

  it('shows Completed, Terminating, Unknown and the pod reason', () => {
    const completed = base({
      phase: 'Succeeded',
      containerStatuses: [
        { name: 'a', state: { terminated: { exitCode: 0, reason: 'Completed' } } },
        { name: 'b', state: { terminated: { exitCode: 0, reason: 'Completed' } } },
      ],
    });
    assert.equal(row('/Pod', completed).Status, 'Completed');
    assert.equal(row('/Pod', completed).Ready, '0/2');

    const deleting = { deletionTimestamp: ago(0) };
    assert.equal(row('/Pod', base({ phase: 'Running' }, {}, deleting)).Status, 'Terminating');
    assert.equal(row('/Pod', base({ phase: 'Succeeded' }, {}, deleting)).Status, 'Succeeded');
    assert.equal(row('/Pod', base({ phase: 'Running', reason: 'NodeLost' }, {}, deleting)).Status, 'Unknown');
    assert.equal(row('/Pod', base({ phase: 'Failed', reason: 'Evicted' })).Status, 'Evicted');
    assert.equal(row('/Pod', base({ phase: 'Pending' })).Status, 'Pending');
    const signalled = base({ phase: 'Running', containerStatuses: [{ name: 'a', state: { terminated: { exitCode: 137, signal: 9 } } }] });
    assert.equal(row('/Pod', signalled).Status, 'Signal:9');
  });

  it('turns Completed back into Running while a container still runs', () => {
    const r = row(
      '/Pod',
      base({
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'False' }],
        containerStatuses: [
          { name: 'a', ready: true, state: running },
          { name: 'b', ready: false, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
        ],
      }),
    );
    assert.equal(r.Status, 'NotReady');
  });
});

describe('other built-in columns', () => {
  it('prints Deployments and ReplicaSets', () => {
    const template = { spec: { containers: [{ name: 'web', image: 'nginx' }, { name: 'log', image: 'fluent' }] } };
    const selector = { matchLabels: { app: 'web' } };
    const deploy = row('apps/Deployment', {
      metadata: { name: 'd', creationTimestamp: ago(2 * D) },
      spec: { replicas: 3, selector, template },
      status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    });
    assert.deepEqual(deploy, {
      Name: 'd',
      Ready: '2/3',
      'Up-to-date': 3,
      Available: 2,
      Age: '2d',
      Containers: 'web,log',
      Images: 'nginx,fluent',
      Selector: 'app=web',
    });
    const rs = row('apps/ReplicaSet', { metadata: { name: 'r' }, spec: { replicas: 3, selector: {}, template }, status: { replicas: 3 } });
    assert.deepEqual([rs.Desired, rs.Current, rs.Ready, rs.Age, rs.Selector], [3, 3, 0, '<unknown>', '<none>']);
  });

  it('prints Nodes', () => {
    const r = row('/Node', {
      metadata: { name: 'n1', creationTimestamp: ago(10 * D), labels: { 'node-role.kubernetes.io/edge': '', 'node-role.kubernetes.io/agent': '' } },
      spec: { unschedulable: true },
      status: {
        conditions: [{ type: 'Ready', status: 'False' }],
        nodeInfo: { kubeletVersion: 'v1.30.0', osImage: 'Linux' },
        addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
      },
    });
    assert.deepEqual(r, {
      Name: 'n1',
      Status: 'NotReady,SchedulingDisabled',
      Roles: 'agent,edge',
      Age: '10d',
      Version: 'v1.30.0',
      'Internal-IP': '10.0.0.1',
      'External-IP': '<none>',
      'OS-Image': 'Linux',
      'Kernel-Version': '<unknown>',
      'Container-Runtime': '<unknown>',
    });
    assert.deepEqual([row('/Node', { metadata: { name: 'x' } }).Status, row('/Node', { metadata: { name: 'x' } }).Roles], ['Unknown', '<none>']);
  });

  it('prints Services, Secrets, ConfigMaps, Namespaces, ServiceAccounts and Leases', () => {
    const svc = row('/Service', {
      metadata: { name: 's' },
      spec: { type: 'NodePort', clusterIPs: ['10.96.0.9'], ports: [{ port: 80, protocol: 'TCP', nodePort: 30080 }, { port: 53, protocol: 'UDP' }], selector: { b: '2', a: '1' } },
    });
    assert.deepEqual([svc.Type, svc['Cluster-IP'], svc['External-IP'], svc['Port(s)'], svc.Selector], ['NodePort', '10.96.0.9', '<none>', '80:30080/TCP,53/UDP', 'a=1,b=2']);
    const lb = row('/Service', { metadata: { name: 'lb' }, spec: { type: 'LoadBalancer', clusterIP: 'None' } });
    assert.deepEqual([lb['Cluster-IP'], lb['External-IP'], lb['Port(s)']], ['None', '<pending>', '<none>']);

    assert.deepEqual(row('/Secret', { metadata: { name: 's' }, type: 'Opaque', data: { a: 'eA==', b: 'eQ==' } }).Data, 2);
    assert.deepEqual(row('/ConfigMap', { metadata: { name: 'c' }, data: { a: 'x' }, binaryData: { b: 'eQ==' } }).Data, 2);
    assert.equal(row('/Namespace', { metadata: { name: 'ns' }, status: { phase: 'Active' } }).Status, 'Active');
    assert.equal(row('/ServiceAccount', { metadata: { name: 'sa' }, secrets: [{ name: 'tok' }] }).Secrets, 1);
    assert.equal(row('coordination.k8s.io/Lease', { metadata: { name: 'l' }, spec: { holderIdentity: 'gm-1' } }).Holder, 'gm-1');
  });

  it('prints Events with Name among the wide columns, not first', () => {
    const t = table(def('builtin', builtinColumns['/Event'] ?? []), [
      {
        metadata: { name: 'web.17a' },
        type: 'Warning',
        reason: 'BackOff',
        message: ' Back-off restarting failed container \n',
        involvedObject: { kind: 'Pod', name: 'web', fieldPath: 'spec.containers{web}' },
        source: { component: 'kubelet', host: 'n1' },
        firstTimestamp: ago(10 * M),
        lastTimestamp: ago(30 * S),
        count: 5,
      },
    ]);
    assert.deepEqual(
      t.columnDefinitions.map((c) => `${c.name}:${c.priority}`),
      ['Last Seen:0', 'Type:0', 'Reason:0', 'Object:0', 'Subobject:1', 'Source:1', 'Message:0', 'First Seen:1', 'Count:1', 'Name:1'],
    );
    assert.deepEqual(t.rows[0]?.cells, [
      '30s',
      'Warning',
      'BackOff',
      'pod/web',
      'spec.containers{web}',
      'kubelet, n1',
      'Back-off restarting failed container',
      '10m',
      5,
      'web.17a',
    ]);
  });

  it('prints HorizontalPodAutoscalers of both API versions', () => {
    const v2 = row('autoscaling/HorizontalPodAutoscaler', {
      metadata: { name: 'h' },
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'web' },
        minReplicas: 1,
        maxReplicas: 5,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
          { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } },
          { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '1Gi' } } },
        ],
      },
      status: {
        currentReplicas: 2,
        currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 35 } } }],
      },
    });
    assert.deepEqual(
      [v2.Reference, v2.Targets, v2.MinPods, v2.MaxPods, v2.Replicas],
      ['Deployment/web', 'cpu: 35%/80%, <unknown>/10 + 1 more...', '1', 5, 2],
    );
    const v1 = row('autoscaling/HorizontalPodAutoscaler', {
      metadata: { name: 'h' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 3, targetCPUUtilizationPercentage: 50 },
      status: { currentReplicas: 1 },
    });
    assert.deepEqual([v1.Targets, v1.MinPods], ['cpu: <unknown>/50%', '<unset>']);
  });

  it('prints CustomResourceDefinitions with the default Created At column', () => {
    const r = row('apiextensions.k8s.io/CustomResourceDefinition', {
      metadata: { name: 'widgets.example.com', creationTimestamp: '2024-05-01T10:00:00Z' },
    });
    assert.deepEqual(r, { Name: 'widgets.example.com', 'Created At': '2024-05-01T10:00:00Z' });
  });
});
