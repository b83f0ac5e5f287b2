// End to end: a CustomResourceDefinition shaped like Sedna's Dataset, driven by the real kubectl
// against the real server process. Every expectation is what kubectl prints against a real
// kube-apiserver 1.32 for the same requests.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { eventually, KUBECTL, kubectl, type KubectlResult, type RunningApiServer, startApiServer } from '../helpers/apiserver.ts';
import { parseTable } from '../helpers/kubectl-table.ts';

const CRD_YAML = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: datasets.sedna.io
spec:
  group: sedna.io
  names:
    kind: Dataset
    listKind: DatasetList
    plural: datasets
    singular: dataset
    shortNames: [sds]  # not ds: that is apps/v1 DaemonSet's, and a built-in short name wins
    categories: [sedna]
  scope: Namespaced
  versions:
    - name: v1alpha1
      served: true
      storage: true
      subresources:
        status: {}
      additionalPrinterColumns:
        - name: NodeName
          type: string
          jsonPath: .spec.nodeName
        - name: Format
          type: string
          jsonPath: .spec.format
        - name: Samples
          type: integer
          jsonPath: .status.numberOfSamples
        - name: Age
          type: date
          jsonPath: .metadata.creationTimestamp
      schema:
        openAPIV3Schema:
          type: object
          description: Dataset describes a data set used by Sedna's training and evaluation workers.
          properties:
            spec:
              type: object
              description: DatasetSpec is the desired state of a Dataset.
              required: [url, format, nodeName]
              properties:
                url:
                  type: string
                  description: URL of the data set index file.
                  pattern: '^(s3|https?)://'
                format:
                  type: string
                  description: Format of the index file.
                  enum: [txt, csv]
                nodeName:
                  type: string
                  description: Node that holds the data set.
                replicas:
                  type: integer
                  minimum: 1
            status:
              type: object
              properties:
                numberOfSamples:
                  type: integer
`;

interface DatasetOptions {
  labels?: Record<string, string>;
  nodeName?: string;
  format?: string;
  url?: string;
  extraSpec?: string;
}

/** A Dataset manifest; `extraSpec` lines go verbatim under spec (4-space indent included). */
function datasetYaml(name: string, o: DatasetOptions = {}): string {
  const labels = o.labels ? `  labels:\n${Object.entries(o.labels).map(([k, v]) => `    ${k}: ${v}\n`).join('')}` : '';
  return `apiVersion: sedna.io/v1alpha1
kind: Dataset
metadata:
  name: ${name}
${labels}spec:
  url: ${o.url ?? `s3://sedna/${name}/index.txt`}
  format: ${o.format ?? 'txt'}
  nodeName: ${o.nodeName ?? 'edge-node-1'}
${o.extraSpec ?? ''}`;
}

interface Dataset {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    generation: number;
    creationTimestamp: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
}


/** A running `kubectl ... -w`: its stdout so far, and a way to end it. */
interface Watch {
  stdout(): string;
  lines(): string[];
  stop(): Promise<void>;
}

describe('kubectl with a Sedna-style CustomResourceDefinition', () => {
  let server: RunningApiServer;
  let cacheDir: string;
  const watches: Watch[] = [];
  let crdApply: KubectlResult;

  /** kubectl with a discovery cache private to this server. */
  const k = (args: string[], input?: string): Promise<KubectlResult> => kubectl(server.kubeconfig, ['--cache-dir', cacheDir, ...args], input);
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await k(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}\nserver log:\n${server.logs()}`);
    return r.stdout;
  };
  const getDataset = async (name: string): Promise<Dataset> => JSON.parse(await ok(['get', 'sds', name, '-o', 'json'])) as Dataset;

  function startWatch(args: string[]): Watch {
    const child: ChildProcessWithoutNullStreams = spawn(KUBECTL, ['--kubeconfig', server.kubeconfig, '--cache-dir', cacheDir, ...args]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.resume();
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const watch: Watch = {
      stdout: () => out,
      lines: () => out.split('\n').filter((l) => l.trim() !== ''),
      async stop() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
      },
    };
    watches.push(watch);
    return watch;
  }

  before(async () => {
    server = await startApiServer();
    cacheDir = join(server.dataDir, 'kubectl-cache');
    crdApply = await k(['apply', '-f', '-'], CRD_YAML);
  });

  after(async () => {
    await Promise.all(watches.map((w) => w.stop()));
    await server?.stop();
  });

  it('kubectl apply creates the CRD, it becomes Established and api-resources lists the kind', async () => {
    assert.equal(crdApply.code, 0, crdApply.stderr);
    assert.equal(crdApply.stdout, 'customresourcedefinition.apiextensions.k8s.io/datasets.sedna.io created\n');
    assert.equal(
      await ok(['wait', '--for=condition=Established', 'crd/datasets.sedna.io', '--timeout=20s']),
      'customresourcedefinition.apiextensions.k8s.io/datasets.sedna.io condition met\n',
    );
    const all = parseTable(await ok(['api-resources']));
    assert.deepEqual(all.header, ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND']);
    assert.deepEqual(
      all.rows.find((r) => r.KIND === 'Dataset'),
      { NAME: 'datasets', SHORTNAMES: 'sds', APIVERSION: 'sedna.io/v1alpha1', NAMESPACED: 'true', KIND: 'Dataset' },
    );
    assert.equal(await ok(['api-resources', '--api-group=sedna.io', '-o', 'name']), 'datasets.sedna.io\n');
  });

  it('apply creates, then configures a changed field (generation 2), then leaves an unchanged one alone', async () => {
    assert.equal(await ok(['apply', '-f', '-'], datasetYaml('surface', { nodeName: 'edge-node-1' })), 'dataset.sedna.io/surface created\n');
    assert.equal((await getDataset('surface')).metadata.generation, 1);

    const changed = datasetYaml('surface', { nodeName: 'edge-node-2' });
    assert.equal(await ok(['apply', '-f', '-'], changed), 'dataset.sedna.io/surface configured\n');
    const configured = await getDataset('surface');
    assert.equal(configured.metadata.generation, 2);
    assert.equal(configured.spec.nodeName, 'edge-node-2');

    assert.equal(await ok(['apply', '-f', '-'], changed), 'dataset.sedna.io/surface unchanged\n');
    const unchanged = await getDataset('surface');
    assert.equal(unchanged.metadata.generation, 2);
    assert.equal(unchanged.metadata.resourceVersion, configured.metadata.resourceVersion);
  });

  it('kubectl get ds prints the printer columns', async () => {
    await ok(['apply', '-f', '-'], datasetYaml('columns-a', { nodeName: 'edge-a', format: 'csv' }));
    await ok(['apply', '-f', '-'], datasetYaml('columns-b', { nodeName: 'edge-b', format: 'txt' }));
    await ok(['patch', 'sds', 'columns-b', '--subresource=status', '--type=merge', '-p', '{"status":{"numberOfSamples":1234}}']);
    const table = parseTable(await ok(['get', 'sds', 'columns-a', 'columns-b']));
    assert.deepEqual(table.header, ['NAME', 'NODENAME', 'FORMAT', 'SAMPLES', 'AGE']);
    assert.equal(table.rows.length, 2);
    const [a, b] = table.rows;
    assert.match(a!.AGE!, /^\d+s$/);
    assert.match(b!.AGE!, /^\d+s$/);
    assert.deepEqual({ ...a, AGE: '' }, { NAME: 'columns-a', NODENAME: 'edge-a', FORMAT: 'csv', SAMPLES: '', AGE: '' });
    assert.deepEqual({ ...b, AGE: '' }, { NAME: 'columns-b', NODENAME: 'edge-b', FORMAT: 'txt', SAMPLES: '1234', AGE: '' });

    // The short name, the plural, the fully qualified name and the category all reach the same kind.
    for (const alias of ['datasets', 'datasets.sedna.io', 'dataset.v1alpha1.sedna.io', 'sedna']) {
      const names = (await ok(['get', alias, '-o', 'name'])).split('\n').filter(Boolean);
      assert.ok(names.includes('dataset.sedna.io/columns-a'), `${alias}: ${names.join(' ')}`);
    }
  });

  it('kubectl get -o yaml and -o json show the stored object with its server-set metadata', async () => {
    const manifest = datasetYaml('shown', { labels: { app: 'shown' }, nodeName: 'edge-y' });
    await ok(['apply', '-f', '-'], manifest);
    const json = await getDataset('shown');
    const yaml = parseYaml(await ok(['get', 'sds', 'shown', '-o', 'yaml'])) as Dataset;
    assert.deepEqual(yaml, json);

    assert.equal(json.apiVersion, 'sedna.io/v1alpha1');
    assert.equal(json.kind, 'Dataset');
    assert.equal(json.metadata.name, 'shown');
    assert.equal(json.metadata.namespace, 'default');
    assert.match(json.metadata.uid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.match(json.metadata.resourceVersion, /^[1-9]\d*$/);
    assert.match(json.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Math.abs(Date.parse(json.metadata.creationTimestamp) - Date.now()) < 60_000);
    assert.equal(json.metadata.generation, 1);
    assert.deepEqual(json.metadata.labels, { app: 'shown' });
    assert.deepEqual(json.spec, { url: 's3://sedna/shown/index.txt', format: 'txt', nodeName: 'edge-y' });
    assert.equal(json.status, undefined);
    const lastApplied = json.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'];
    assert.ok(lastApplied, 'last-applied-configuration annotation');
    assert.deepEqual(JSON.parse(lastApplied), {
      apiVersion: 'sedna.io/v1alpha1',
      kind: 'Dataset',
      metadata: { annotations: {}, labels: { app: 'shown' }, name: 'shown', namespace: 'default' },
      spec: { format: 'txt', nodeName: 'edge-y', url: 's3://sedna/shown/index.txt' },
    });
  });

  it('the status subresource changes status but not generation; the main endpoint ignores status', async () => {
    await ok(['apply', '-f', '-'], datasetYaml('status-door'));
    const before = await getDataset('status-door');

    assert.equal(
      await ok(['patch', 'sds', 'status-door', '--subresource=status', '--type=merge', '-p', '{"status":{"numberOfSamples":42}}']),
      'dataset.sedna.io/status-door patched\n',
    );
    const afterStatus = await getDataset('status-door');
    assert.deepEqual(afterStatus.status, { numberOfSamples: 42 });
    assert.equal(afterStatus.metadata.generation, before.metadata.generation);
    assert.notEqual(afterStatus.metadata.resourceVersion, before.metadata.resourceVersion);

    // Through the main endpoint a status change is dropped: nothing changes at all.
    assert.equal(
      await ok(['patch', 'sds', 'status-door', '--type=merge', '-p', '{"status":{"numberOfSamples":7}}']),
      'dataset.sedna.io/status-door patched (no change)\n',
    );
    const afterMain = await getDataset('status-door');
    assert.deepEqual(afterMain.status, { numberOfSamples: 42 });
    assert.equal(afterMain.metadata.resourceVersion, afterStatus.metadata.resourceVersion);

    // And a spec change through the status door is dropped too.
    await ok(['patch', 'sds', 'status-door', '--subresource=status', '--type=merge', '-p', '{"spec":{"format":"csv"},"status":{"numberOfSamples":43}}']);
    const mixed = await getDataset('status-door');
    assert.equal(mixed.spec.format, 'txt');
    assert.deepEqual(mixed.status, { numberOfSamples: 43 });
    assert.equal(mixed.metadata.generation, before.metadata.generation);

    const row = parseTable(await ok(['get', 'sds', 'status-door'])).rows[0];
    assert.equal(row?.SAMPLES, '43');
  });

  it('kubectl patch --type=merge and --type=json change the spec and bump generation', async () => {
    await ok(['apply', '-f', '-'], datasetYaml('patched'));
    assert.equal(await ok(['patch', 'sds', 'patched', '--type=merge', '-p', '{"spec":{"format":"csv","replicas":3}}']), 'dataset.sedna.io/patched patched\n');
    let ds = await getDataset('patched');
    assert.deepEqual(ds.spec, { url: 's3://sedna/patched/index.txt', format: 'csv', nodeName: 'edge-node-1', replicas: 3 });
    assert.equal(ds.metadata.generation, 2);

    assert.equal(
      await ok(['patch', 'sds', 'patched', '--type=json', '-p', '[{"op":"replace","path":"/spec/nodeName","value":"edge-node-9"},{"op":"remove","path":"/spec/replicas"}]']),
      'dataset.sedna.io/patched patched\n',
    );
    ds = await getDataset('patched');
    assert.deepEqual(ds.spec, { url: 's3://sedna/patched/index.txt', format: 'csv', nodeName: 'edge-node-9' });
    assert.equal(ds.metadata.generation, 3);

    // A merge patch that breaks the schema is refused with the field's reason.
    const bad = await k(['patch', 'sds', 'patched', '--type=merge', '-p', '{"spec":{"format":"xml"}}']);
    assert.notEqual(bad.code, 0);
    assert.equal(bad.stderr, 'The Dataset "patched" is invalid: spec.format: Unsupported value: "xml": supported values: "txt", "csv"\n');

    // A JSON patch whose test fails changes nothing.
    const failedTest = await k(['patch', 'sds', 'patched', '--type=json', '-p', '[{"op":"test","path":"/spec/format","value":"txt"},{"op":"replace","path":"/spec/format","value":"txt"}]']);
    assert.notEqual(failedTest.code, 0);
    // kube-apiserver says "testing value /spec/format failed: test failed"; the wording may differ.
    assert.match(failedTest.stderr, /^The request is invalid: .*\/spec\/format.*test failed/);
    assert.equal((await getDataset('patched')).spec.format, 'csv');
  });

  it('an invalid Dataset is refused with each field path and reason', async () => {
    const many = await k(
      ['apply', '-f', '-'],
      `apiVersion: sedna.io/v1alpha1
kind: Dataset
metadata:
  name: invalid
spec:
  url: ftp://sedna/index.txt
  format: xml
  replicas: 0
`,
    );
    assert.notEqual(many.code, 0);
    assert.equal(many.stdout, '');
    const [first, ...causes] = many.stderr.trimEnd().split('\n');
    assert.equal(first, 'The Dataset "invalid" is invalid: ');
    // kube-apiserver's order follows Go map iteration, so compare the causes as a set.
    assert.deepEqual(causes.sort(), [
      '* spec.format: Unsupported value: "xml": supported values: "txt", "csv"',
      '* spec.nodeName: Required value',
      '* spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1',
      "* spec.url: Invalid value: \"ftp://sedna/index.txt\": spec.url in body should match '^(s3|https?)://'",
    ]);

    const wrongType = await k(['apply', '-f', '-'], datasetYaml('invalid', { extraSpec: '  replicas: three\n' }));
    assert.notEqual(wrongType.code, 0);
    assert.equal(wrongType.stderr, 'The Dataset "invalid" is invalid: spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"\n');

    const notObject = await k(['create', '-f', '-'], 'apiVersion: sedna.io/v1alpha1\nkind: Dataset\nmetadata:\n  name: invalid\nspec: just-a-string\n');
    assert.notEqual(notObject.code, 0);
    assert.equal(notObject.stderr, 'The Dataset "invalid" is invalid: spec: Invalid value: "string": spec in body must be of type object: "string"\n');

    const missing = await k(['get', 'sds', 'invalid']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error from server (NotFound): datasets.sedna.io "invalid" not found\n');
  });

  it('an unknown field is refused under strict validation, and warned about then pruned under --validate=warn', async () => {
    const manifest = datasetYaml('unknown', { extraSpec: '  bogus: 1\n' });
    const strict = await k(['apply', '-f', '-'], manifest);
    assert.notEqual(strict.code, 0);
    assert.equal(
      strict.stderr,
      'Error from server (BadRequest): error when creating "STDIN": Dataset in version "v1alpha1" cannot be handled as a Dataset: strict decoding error: unknown field "spec.bogus"\n',
    );
    assert.equal((await k(['get', 'sds', 'unknown'])).code, 1);

    const warned = await k(['apply', '--validate=warn', '-f', '-'], manifest);
    assert.equal(warned.code, 0, warned.stderr);
    assert.equal(warned.stdout, 'dataset.sedna.io/unknown created\n');
    assert.equal(warned.stderr, 'Warning: unknown field "spec.bogus"\n');
    const stored = parseYaml(await ok(['get', 'sds', 'unknown', '-o', 'yaml'])) as Dataset;
    assert.deepEqual(stored.spec, { url: 's3://sedna/unknown/index.txt', format: 'txt', nodeName: 'edge-node-1' });

    // Ignore drops the field without a word.
    const ignored = await k(['create', '--validate=false', '-f', '-'], datasetYaml('unknown-ignored', { extraSpec: '  bogus: 1\n' }));
    assert.equal(ignored.code, 0, ignored.stderr);
    assert.equal(ignored.stdout, 'dataset.sedna.io/unknown-ignored created\n');
    assert.equal(ignored.stderr, '');
    assert.equal((await getDataset('unknown-ignored')).spec.bogus, undefined);
  });

  it('kubectl get ds -w streams a Dataset created afterwards', async () => {
    await ok(['apply', '-f', '-'], datasetYaml('watched-old', { nodeName: 'edge-old' }));
    const watch = startWatch(['get', 'sds', '-w']);
    // The initial list has been printed: the watch resumes from the list's resourceVersion, so any
    // change made from here on is streamed.
    await eventually(() => (watch.lines().some((l) => l.startsWith('watched-old ')) ? true : undefined), 20_000, 'initial list');
    assert.deepEqual(watch.lines()[0]?.split(/\s+/), ['NAME', 'NODENAME', 'FORMAT', 'SAMPLES', 'AGE']);
    const initial = watch.lines().length;

    await ok(['apply', '-f', '-'], datasetYaml('watched-new', { nodeName: 'edge-new', format: 'csv' }));
    const row = await eventually(() => watch.lines().find((l) => l.startsWith('watched-new ')), 20_000, 'the new row');
    const cells = row.split(/\s+/);
    assert.deepEqual(cells.slice(0, 3), ['watched-new', 'edge-new', 'csv']);
    assert.match(cells[3]!, /^\d+s$/);
    assert.equal(cells.length, 4);
    assert.equal(watch.lines().length, initial + 1);

    await ok(['patch', 'sds', 'watched-new', '--subresource=status', '--type=merge', '-p', '{"status":{"numberOfSamples":5}}']);
    const modified = await eventually(() => watch.lines().slice(initial + 1).find((l) => l.startsWith('watched-new ')), 20_000, 'the modified row');
    assert.deepEqual(modified.split(/\s+/).slice(0, 4), ['watched-new', 'edge-new', 'csv', '5']);
    await watch.stop();
  });

  it('kubectl get pods -w --output-watch-events streams ADDED and MODIFIED', async () => {
    const pod = (name: string): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {app: watched}
spec:
  containers:
    - name: main
      image: kubeedge/sedna-example:v0.6.0
`;
    assert.equal(await ok(['apply', '-f', '-'], pod('watch-pod-0')), 'pod/watch-pod-0 created\n');
    const watch = startWatch(['get', 'pods', '-l', 'app=watched', '-w', '--output-watch-events']);
    await eventually(() => (watch.lines().some((l) => l.startsWith('ADDED ')) ? true : undefined), 20_000, 'initial ADDED');
    assert.deepEqual(watch.lines()[0]?.split(/\s+/), ['EVENT', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    assert.deepEqual(watch.lines()[1]?.split(/\s+/).slice(0, 5), ['ADDED', 'watch-pod-0', '0/1', 'Pending', '0']);

    await ok(['apply', '-f', '-'], pod('watch-pod-1'));
    const added = await eventually(() => watch.lines().find((l) => /^ADDED\s+watch-pod-1\s/.test(l)), 20_000, 'ADDED watch-pod-1');
    assert.deepEqual(added.split(/\s+/).slice(0, 5), ['ADDED', 'watch-pod-1', '0/1', 'Pending', '0']);

    await ok(['patch', 'pod', 'watch-pod-1', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Running"}}']);
    const modified = await eventually(() => watch.lines().find((l) => /^MODIFIED\s+watch-pod-1\s/.test(l)), 20_000, 'MODIFIED watch-pod-1');
    assert.deepEqual(modified.split(/\s+/).slice(0, 5), ['MODIFIED', 'watch-pod-1', '0/1', 'Running', '0']);

    assert.equal(await ok(['delete', 'pod', 'watch-pod-1', '--wait=false']), 'pod "watch-pod-1" deleted\n');
    const deleted = await eventually(() => watch.lines().find((l) => /^DELETED\s+watch-pod-1\s/.test(l)), 20_000, 'DELETED watch-pod-1');
    assert.equal(deleted.split(/\s+/)[1], 'watch-pod-1');
    await watch.stop();
  });

  it('label selectors and field selectors filter; an unsupported field is an error', async () => {
    await ok(['apply', '-f', '-'], datasetYaml('sel-a', { labels: { app: 'selx', env: 'a' } }));
    await ok(['apply', '-f', '-'], datasetYaml('sel-b', { labels: { app: 'selx', env: 'b' } }));
    await ok(['apply', '-f', '-'], datasetYaml('sel-c', { labels: { app: 'sely', env: 'c' } }));
    const names = async (...args: string[]): Promise<string[]> => (await ok(['get', 'sds', '-o', 'name', ...args])).split('\n').filter(Boolean).sort();

    assert.deepEqual(await names('-l', 'app=selx'), ['dataset.sedna.io/sel-a', 'dataset.sedna.io/sel-b']);
    assert.deepEqual(await names('-l', 'env in (a,c)'), ['dataset.sedna.io/sel-a', 'dataset.sedna.io/sel-c']);
    assert.deepEqual(await names('-l', 'app=selx,env notin (a)'), ['dataset.sedna.io/sel-b']);
    assert.deepEqual(await names('-l', 'app in (selx,sely),env!=b'), ['dataset.sedna.io/sel-a', 'dataset.sedna.io/sel-c']);
    assert.deepEqual(await names('--field-selector', 'metadata.name=sel-b'), ['dataset.sedna.io/sel-b']);
    assert.deepEqual(await names('-l', 'app=selx', '--field-selector', 'metadata.name!=sel-a'), ['dataset.sedna.io/sel-b']);
    assert.deepEqual(await names('--field-selector', 'metadata.namespace=default', '-l', 'app=sely'), ['dataset.sedna.io/sel-c']);

    const none = await k(['get', 'sds', '-l', 'env in (zz)']);
    assert.equal(none.code, 0);
    assert.equal(none.stdout, '');
    assert.equal(none.stderr, 'No resources found in default namespace.\n');

    const unsupported = await k(['get', 'sds', '--field-selector', 'spec.format=csv']);
    assert.equal(unsupported.code, 1);
    assert.equal(
      unsupported.stderr,
      'Error from server (BadRequest): Unable to find "sedna.io/v1alpha1, Resource=datasets" that match label selector "", field selector "spec.format=csv": field label not supported: spec.format\n',
    );

    const badLabel = await k(['get', 'sds', '-l', 'app in selx']);
    assert.notEqual(badLabel.code, 0);
    assert.match(badLabel.stderr, /unable to parse requirement|found 'selx', expected: '\('/);
  });

  it('kubectl delete -f removes a Dataset; deleting the CRD removes the kind and its objects', async () => {
    const manifest = datasetYaml('deleted');
    await ok(['apply', '-f', '-'], manifest);
    assert.equal(await ok(['delete', '-f', '-'], manifest), 'dataset.sedna.io "deleted" deleted\n');
    const gone = await k(['get', 'sds', 'deleted']);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, 'Error from server (NotFound): datasets.sedna.io "deleted" not found\n');

    // Some Datasets remain from the tests above; they go with their CRD.
    assert.ok((await ok(['get', 'sds', '-o', 'name'])).includes('dataset.sedna.io/surface'));
    assert.equal(await ok(['delete', '-f', '-'], CRD_YAML), 'customresourcedefinition.apiextensions.k8s.io "datasets.sedna.io" deleted\n');
    await eventually(async () => ((await ok(['api-resources', '-o', 'name'])).includes('datasets.sedna.io') ? undefined : true), 20_000, 'kind gone from discovery');
    const kinds = parseTable(await ok(['api-resources'])).rows.map((r) => r.KIND);
    assert.ok(!kinds.includes('Dataset'));
    assert.ok(kinds.includes('ConfigMap'));
    const noType = await k(['get', 'sds']);
    assert.equal(noType.code, 1);
    assert.equal(noType.stderr, 'error: the server doesn\'t have a resource type "sds"\n');

    // A new CRD of the same name starts empty: the old objects went with the old one.
    await ok(['apply', '-f', '-'], CRD_YAML);
    await ok(['wait', '--for=condition=Established', 'crd/datasets.sedna.io', '--timeout=20s']);
    const empty = await eventually(async () => {
      const r = await k(['get', 'sds', '-A']);
      return r.code === 0 ? r : undefined;
    }, 20_000, 'datasets served again');
    assert.equal(empty.stdout, '');
    assert.equal(empty.stderr, 'No resources found\n');
  });
});
