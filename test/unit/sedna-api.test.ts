import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../src/api/meta.ts';
import { CRD_DIR, renderCrds } from '../../src/api/gen-crds.ts';
import { crdFor, SEDNA_API_VERSION, sednaKinds } from '../../src/api/sedna/index.ts';
import type { KindDefinition } from '../../src/api/sedna/index.ts';
import type { IncrementalLearningJob } from '../../src/api/sedna/incremental-learning-job.ts';
import type { JointInferenceService } from '../../src/api/sedna/joint-inference-service.ts';
import type { ObjectSearchService } from '../../src/api/sedna/object-search-service.ts';
import type { FieldError } from '../../src/apiserver/errors.ts';
import type { ResourceDef } from '../../src/apiserver/registry/types.ts';
import { buildTable } from '../../src/apiserver/rest/table.ts';
import { validateCustomResourceDefinition } from '../../src/apiserver/schema/crd-validation.ts';
import { applyDefaults } from '../../src/apiserver/schema/defaults.ts';
import { pruneUnknownFields } from '../../src/apiserver/schema/prune.ts';
import { validateAgainstSchema } from '../../src/apiserver/schema/validate.ts';

const EXAMPLES_DIR = new URL('../../examples/', import.meta.url);

function kindNamed(name: string): KindDefinition {
  const kind = sednaKinds.find((k) => k.kind === name);
  assert.ok(kind, `no kind ${name}`);
  return kind;
}

/** examples/<kebab-case kind>.yaml, e.g. examples/joint-inference-service.yaml. */
function exampleFile(kind: KindDefinition): string {
  return `${kind.kind.replace(/[A-Z]/g, (c, i: number) => (i > 0 ? '-' : '') + c.toLowerCase())}.yaml`;
}

function example(kind: KindDefinition): KubeObject {
  return parse(readFileSync(new URL(exampleFile(kind), EXAMPLES_DIR), 'utf8')) as KubeObject;
}

/** Errors as kubectl prints them: "<field>: <detail>". */
function errorsOf(obj: unknown, kind: KindDefinition): string[] {
  return validateAgainstSchema(obj, kind.schema).map((e: FieldError) => `${e.field}: ${e.message}`);
}

type Changes = Record<string, unknown>;

/** Sets each `a.b[1].c` path of `changes` in obj; an undefined value deletes the field. */
function change(obj: KubeObject, changes: Changes): void {
  for (const [path, value] of Object.entries(changes)) {
    const keys = path.split(/\.|\[(\d+)\]\.?/).filter((k) => k !== undefined && k !== '');
    const last = keys.pop()!;
    let node = obj as Record<string, unknown>;
    for (const key of keys) node = node[key] as Record<string, unknown>;
    if (value === undefined) delete node[last];
    else node[last] = value;
  }
}

/** The errors of a valid example after `changes`. */
function edited(kindName: string, changes: Changes): string[] {
  const kind = kindNamed(kindName);
  const obj = example(kind);
  change(obj, changes);
  return errorsOf(obj, kind);
}

describe('Sedna kinds', () => {
  it('keep the names, short names and scope of Sedna (spec §1.2), in the sedna category', () => {
    const names = sednaKinds.map((k) => [k.kind, k.plural, k.singular, k.shortNames.join(','), k.listKind, k.scope]);
    assert.deepEqual(names, [
      ['Dataset', 'datasets', 'dataset', '', 'DatasetList', 'Namespaced'],
      ['Model', 'models', 'model', '', 'ModelList', 'Namespaced'],
      ['JointInferenceService', 'jointinferenceservices', 'jointinferenceservice', 'ji', 'JointInferenceServiceList', 'Namespaced'],
      ['FederatedLearningJob', 'federatedlearningjobs', 'federatedlearningjob', 'fl', 'FederatedLearningJobList', 'Namespaced'],
      ['IncrementalLearningJob', 'incrementallearningjobs', 'incrementallearningjob', 'il', 'IncrementalLearningJobList', 'Namespaced'],
      ['LifelongLearningJob', 'lifelonglearningjobs', 'lifelonglearningjob', 'll', 'LifelongLearningJobList', 'Namespaced'],
      ['ObjectSearchService', 'objectsearchservices', 'objectsearchservice', 'objs', 'ObjectSearchServiceList', 'Namespaced'],
      ['ObjectTrackingService', 'objecttrackingservices', 'objecttrackingservice', 'objt', 'ObjectTrackingServiceList', 'Namespaced'],
      ['FeatureExtractionService', 'featureextractionservices', 'featureextractionservice', 'fe', 'FeatureExtractionServiceList', 'Namespaced'],
      ['ReidJob', 'reidjobs', 'reidjob', 'reid', 'ReidJobList', 'Namespaced'],
      ['VideoAnalyticsJob', 'videoanalyticsjobs', 'videoanalyticsjob', 'va', 'VideoAnalyticsJobList', 'Namespaced'],
    ]);
    for (const kind of sednaKinds) assert.deepEqual(kind.categories, ['sedna']);
  });

  it('build one v1alpha1 CRD each, served and stored, with the status subresource', () => {
    const crd = crdFor(kindNamed('JointInferenceService'));
    assert.equal(crd.metadata.name, 'jointinferenceservices.sedna.io');
    assert.equal(crd.spec.group, 'sedna.io');
    assert.deepEqual(crd.spec.names.shortNames, ['ji']);
    assert.equal(crd.spec.versions.length, 1);
    const [version] = crd.spec.versions;
    assert.deepEqual([version?.name, version?.served, version?.storage], ['v1alpha1', true, true]);
    assert.deepEqual(version?.subresources, { status: {} });
    assert.equal(crdFor(kindNamed('Dataset')).spec.names.shortNames, undefined);
  });

  it('pass the API server CRD validation with no errors', () => {
    for (const kind of sednaKinds) assert.deepEqual(validateCustomResourceDefinition(crdFor(kind)), [], kind.kind);
  });

  it('end their printer columns with Age', () => {
    for (const kind of sednaKinds) {
      assert.deepEqual(kind.printerColumns.at(-1), { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }, kind.kind);
    }
  });
});

describe('deploy/crds', () => {
  const rendered = renderCrds();

  it('holds what npm run gen:crds renders from src/api/sedna', () => {
    for (const [name, text] of rendered) {
      let committed: string;
      try {
        committed = readFileSync(`${CRD_DIR}${name}`, 'utf8');
      } catch {
        assert.fail(`deploy/crds/${name} is missing: run npm run gen:crds`);
      }
      assert.ok(committed === text, `deploy/crds/${name} is out of date with src/api/sedna: run npm run gen:crds`);
    }
    const extra = readdirSync(CRD_DIR).filter((name) => !rendered.has(name));
    assert.deepEqual(extra, [], 'deploy/crds has files no kind generates: run npm run gen:crds');
  });

  it('has one file per kind plus all.yaml and kustomization.yaml, each starting with the generated-file notice', () => {
    assert.deepEqual([...rendered.keys()].sort(), [...sednaKinds.map((k) => `sedna.io_${k.plural}.yaml`), 'all.yaml', 'kustomization.yaml'].sort());
    for (const text of rendered.values()) assert.ok(text.startsWith('# Generated by npm run gen:crds from src/api/sedna; do not edit.\n'));
  });

  it('all.yaml holds every CRD, as crdFor builds it', () => {
    const docs = parseAllDocuments(rendered.get('all.yaml')!).map((d) => d.toJS() as unknown);
    assert.deepEqual(docs, sednaKinds.map((k) => JSON.parse(JSON.stringify(crdFor(k))) as unknown));
  });

  it('renders the same text every time', () => {
    assert.deepEqual(renderCrds(), rendered);
  });

  it('writes shared schemas out in full, without YAML anchors', () => {
    assert.doesNotMatch(rendered.get('all.yaml')!, /[&*]a\d+/);
  });
});

describe('examples', () => {
  for (const kind of sednaKinds) {
    it(`${exampleFile(kind)} is a valid ${kind.kind}, in Sedna's format`, () => {
      const obj = example(kind);
      assert.equal(obj.apiVersion, SEDNA_API_VERSION);
      assert.equal(obj.kind, kind.kind);
      assert.equal(obj.metadata.namespace, undefined, 'examples apply to the current namespace');
      assert.deepEqual(errorsOf(obj, kind), []);
    });

    it(`${exampleFile(kind)} loses no field to pruning`, () => {
      assert.deepEqual(pruneUnknownFields(example(kind), kind.schema), []);
    });
  }
});

describe('schemas', () => {
  it('refuse a Dataset without spec.url', () => {
    assert.deepEqual(
      edited('Dataset', { 'spec.url': undefined }),
      ['spec.url: Required value'],
    );
  });

  it('refuse a resource without spec', () => {
    assert.deepEqual(
      edited('Model', { spec: undefined }),
      ['spec: Required value'],
    );
  });

  it('name nested required fields', () => {
    assert.deepEqual(
      edited('JointInferenceService', { 'spec.edgeWorker.hardExampleMining.name': undefined }),
      ['spec.edgeWorker.hardExampleMining.name: Required value'],
    );
    assert.deepEqual(
      edited('FederatedLearningJob', { 'spec.trainingWorkers[1].dataset': undefined }),
      ['spec.trainingWorkers[1].dataset: Required value'],
    );
  });

  it('refuse a value of the wrong type', () => {
    assert.deepEqual(
      edited('IncrementalLearningJob', { 'spec.dataset.trainProb': '0.8' }),
      ['spec.dataset.trainProb: Invalid value: "string": spec.dataset.trainProb in body must be of type number: "string"'],
    );
    assert.deepEqual(
      edited('FeatureExtractionService', { 'spec.replicas': 'two' }),
      ['spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"'],
    );
  });

  it('refuse an unknown trigger operator, which Sedna would accept and never fire', () => {
    assert.deepEqual(
      edited('LifelongLearningJob', { 'spec.trainSpec.trigger.condition.operator': '=>' }),
      [
        'spec.trainSpec.trigger.condition.operator: Unsupported value: "=>": supported values: ">", "gt", ">=", "ge", "=", "==", "eq", "!=", "ne", "<", "lt", "<=", "le"',
      ],
    );
  });

  it('refuse an unknown phase or stage in status', () => {
    assert.deepEqual(
      edited('FederatedLearningJob', { status: { phase: 'Done' } }),
      ['status.phase: Unsupported value: "Done": supported values: "Pending", "Running", "Succeeded", "Failed"'],
    );
    assert.deepEqual(
      edited('IncrementalLearningJob', { status: { conditions: [{ type: 'Running', status: 'True', stage: 'Test' }] } }),
      ['status.conditions[0].stage: Unsupported value: "Test": supported values: "Train", "Eval", "Deploy"'],
    );
  });

  it('refuse a federated learning job without training workers', () => {
    assert.deepEqual(
      edited('FederatedLearningJob', { 'spec.trainingWorkers': [] }),
      ['spec.trainingWorkers: Invalid value: 0: spec.trainingWorkers in body should have at least 1 items'],
    );
  });

  it('default the deploy model poll period to 60 seconds, at least 1', () => {
    const kind = kindNamed('IncrementalLearningJob');
    const obj = example(kind) as IncrementalLearningJob;
    delete obj.spec.deploySpec.model.pollPeriodSeconds;
    applyDefaults(obj, kind.schema);
    assert.equal(obj.spec.deploySpec.model.pollPeriodSeconds, 60);
    assert.deepEqual(
      edited('IncrementalLearningJob', { 'spec.deploySpec.model.pollPeriodSeconds': 0 }),
      ['spec.deploySpec.model.pollPeriodSeconds: Invalid value: 0: spec.deploySpec.model.pollPeriodSeconds in body should be greater than or equal to 1'],
    );
  });

  it('keep pod template labels and any pod spec field, and prune unknown Sedna fields', () => {
    const kind = kindNamed('ObjectSearchService');
    const obj = example(kind) as ObjectSearchService;
    change(obj, { 'spec.reidWorkers.template.spec.futurePodField': { enabled: true }, 'spec.userWorker.nodeName': 'edge-node' });
    assert.deepEqual(pruneUnknownFields(obj, kind.schema), ['spec.userWorker.nodeName']);
    assert.deepEqual(obj.spec.reidWorkers.template.metadata, { labels: { app: 'reid-worker' } });
    assert.deepEqual(obj.spec.reidWorkers.template.spec?.futurePodField, { enabled: true });
  });

  it('accept the status Sedna GlobalManager writes, with our round and observedGeneration', () => {
    const status = {
      conditions: [
        { type: 'Training', status: 'True', lastProbeTime: '2025-01-01T00:00:00Z', lastHeartbeatTime: '2025-01-01T00:00:00Z', reason: 'TrainingRound', message: 'round 2' },
        { type: 'Complete', status: 'True', lastTransitionTime: '2025-01-01T00:10:00Z', observedGeneration: 1 },
      ],
      startTime: '2025-01-01T00:00:00Z',
      completionTime: '2025-01-01T00:10:00Z',
      active: 0,
      succeeded: 3,
      failed: 0,
      phase: 'Succeeded',
      round: 3,
      observedGeneration: 1,
    };
    assert.deepEqual(
      edited('FederatedLearningJob', { status }),
      [],
    );
  });

  it("accept the nulls Sedna's Go types write for unset fields, once pruning drops them", () => {
    const kind = kindNamed('JointInferenceService');
    const obj = example(kind);
    change(obj, { 'spec.edgeWorker.hpa': null, 'spec.cloudWorker.hpa': null, status: { conditions: [{ type: 'Running', status: 'True', lastTransitionTime: null }] } });
    assert.deepEqual(pruneUnknownFields(obj, kind.schema), []);
    assert.deepEqual(errorsOf(obj, kind), []);
    assert.equal(Object.hasOwn((obj as JointInferenceService).spec.edgeWorker, 'hpa'), false);
  });

  it('require numberOfSamples in a Dataset status, as Sedna does', () => {
    assert.deepEqual(
      edited('Dataset', { status: { updateTime: '2025-01-01T00:00:00Z' } }),
      ['status.numberOfSamples: Required value'],
    );
  });
});

describe('printer columns', () => {
  const NOW = new Date('2025-01-01T01:00:00Z');

  function row(kindName: string, status: unknown): Record<string, unknown> {
    const kind = kindNamed(kindName);
    const obj = example(kind);
    obj.metadata.creationTimestamp = '2025-01-01T00:00:00Z';
    obj.status = status;
    const def = { source: 'crd', columns: kind.printerColumns } as unknown as ResourceDef;
    const t = buildTable(def, [obj], { includeObject: 'None', now: NOW, listMeta: {} });
    return Object.fromEntries(t.columnDefinitions.map((c, i) => [c.name, t.rows[0]?.cells[i]]));
  }

  it('show phase, round and workers of a federated learning job', () => {
    const cells = row('FederatedLearningJob', { phase: 'Running', round: 2, active: 3, succeeded: 0, failed: 0 });
    assert.deepEqual(cells, { Name: 'surface-defect-detection', Phase: 'Running', Round: 2, Active: 3, Succeeded: 0, Failed: 0, Age: '60m' });
  });

  it('show the stage and state of the current (last) condition, the round and the deployed model of an incremental learning job', () => {
    const conditions = [
      { type: 'Completed', status: 'True', stage: 'Train' },
      { type: 'Running', status: 'True', stage: 'Eval' },
    ];
    const cells = row('IncrementalLearningJob', { conditions, round: 2, deployedModel: '/output/train/1/model.pb' });
    assert.deepEqual(cells, {
      Name: 'helmet-detection-demo',
      Stage: 'Eval',
      Status: 'Running',
      Round: 2,
      'Deployed Model': '/output/train/1/model.pb',
      Dataset: 'incremental-dataset',
      Age: '60m',
    });
  });

  it('show node, format and sample count of a dataset', () => {
    const cells = row('Dataset', { numberOfSamples: 1200 });
    assert.deepEqual(cells, {
      Name: 'incremental-dataset',
      Node: 'edge-node',
      Format: 'txt',
      Samples: 1200,
      URL: '/data/helmet_detection/train_data/train_data.txt',
      Age: '60m',
    });
  });
});
