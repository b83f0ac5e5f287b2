// Lifelong learning's pipeline algorithms on small seeded data: task definition and allocation by
// attribute exactly as Sedna (key rule, group order, attribute columns dropped, unknown key → 0),
// the clustering definition, relation discovery, remodeling and integration round trip, the task
// filter, and unseen-sample recognition by attribute and by the calibrated k-NN distance.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/lib/context.ts';
import { seededRandom } from '../../src/lib/random.ts';
import { kMeans } from '../../src/features/lifelonglearning/kmeans.ts';
import { taskAllocations, taskDefinitions, unseenSampleRecognitions } from '../../src/features/lifelonglearning/registry.ts';
import { MissingAttributeError, samplesFromRows, taskKey, type Samples } from '../../src/features/lifelonglearning/samples.ts';
import { taskAllocationByDataAttr } from '../../src/features/lifelonglearning/task-allocation.ts';
import { taskDefinitionByClustering, taskDefinitionByDataAttr } from '../../src/features/lifelonglearning/task-definition.ts';
import { filterOperator, filterTasks } from '../../src/features/lifelonglearning/task-filter.ts';
import { defaultTaskRelationDiscover } from '../../src/features/lifelonglearning/task-relation.ts';
import { defaultInferenceIntegrate, defaultTaskRemodeling } from '../../src/features/lifelonglearning/task-remodeling.ts';
import { distanceScore, fitDistanceDetector, nearestDetectorTask, sampleRecognitionByAttrThenDistance } from '../../src/features/lifelonglearning/unseen-recognition.ts';

const rows = [
  { Season: 'summer', site: 'north_1', t: 30, label: 1 },
  { Season: 'winter', site: 'north_1', t: 2, label: 0 },
  { Season: 'summer', site: 'north_1', t: 28, label: 1 },
  { Season: 'summer', site: 'south 2', t: 33, label: 2 },
];

describe('task definition and allocation by attribute (Sedna’s TaskDefinitionByDataAttr / TaskAllocationByDataAttr)', () => {
  it('keys join values with _, each value’s _ becoming - and spaces removed', () => {
    assert.equal(taskKey(['north_1', 'south 2']), 'north-1_south2');
  });

  it('groups rows in sorted attribute order, drops the attribute columns and maps key → index', () => {
    const samples = samplesFromRows(rows, { label: 'label' });
    const { tasks, extractor, samples: stripped } = taskDefinitionByDataAttr(['Season', 'site'])(samples);
    assert.deepEqual(tasks.map((t) => t.entry), ['summer_north-1', 'summer_south2', 'winter_north-1']);
    assert.deepEqual(tasks.map((t) => t.sample_count), [2, 1, 1]);
    assert.deepEqual(tasks[0]!.meta_attr, ['summer', 'north_1']);
    assert.deepEqual(tasks[0]!.samples!.y, [1, 1]);
    assert.deepEqual(extractor, { kind: 'attribute', attribute: ['Season', 'site'], tasks: { 'summer_north-1': 0, 'summer_south2': 1, 'winter_north-1': 2 } });
    assert.deepEqual(stripped.meta[0], {});
    assert.deepEqual(stripped.columns, ['t']);
  });

  it('a numeric attribute column is grouped on and removed from the features', () => {
    const samples = samplesFromRows([{ zone: 1, t: 5, label: 0 }, { zone: 2, t: 6, label: 1 }, { zone: 10, t: 7, label: 1 }], { label: 'label' });
    const { tasks, samples: stripped } = taskDefinitionByDataAttr(['zone'])(samples);
    assert.deepEqual(tasks.map((t) => t.entry), ['1', '2', '10']);
    assert.deepEqual(stripped.columns, ['t']);
    assert.deepEqual(Array.from(stripped.x[2]!), [7]);
  });

  it('allocation answers extractor[key], 0 for an unknown key, and moves the attribute out', () => {
    const samples = samplesFromRows(rows, { label: 'label' });
    const { extractor } = taskDefinitionByDataAttr(['Season', 'site'])(samples);
    const stream = samplesFromRows([{ Season: 'winter', site: 'north_1', t: 1 }, { Season: 'spring', site: 'east', t: 15 }, { Season: 'summer', site: 'south 2', t: 31 }]);
    const { allocations, samples: out } = taskAllocationByDataAttr(extractor)(stream);
    assert.deepEqual(allocations, [2, 0, 1]);
    assert.deepEqual(out.meta, [{}, {}, {}]);
  });

  it('a row without the attribute is a clear error naming the row and the attribute', () => {
    const samples = samplesFromRows([{ Season: 'summer', t: 1, label: 0 }, { t: 2, label: 1 }], { label: 'label' });
    assert.throws(() => taskDefinitionByDataAttr(['Season'])(samples), (e: Error) => e instanceof MissingAttributeError && /row 2 has no task attribute "Season"/.test(e.message));
  });

  it('the registry builds them from {method, param} with a JSON string param; an unknown name lists the known ones', () => {
    const definition = taskDefinitions.create({ method: 'TaskDefinitionByDataAttr', param: '{"attribute": ["Season"]}' }, undefined);
    const { extractor } = definition(samplesFromRows(rows, { label: 'label' }));
    const allocation = taskAllocations.create({ method: 'TaskAllocationByDataAttr', param: { attribute: 'Season' } }, extractor);
    assert.deepEqual(allocation(samplesFromRows([{ Season: 'winter', t: 0 }])).allocations, [1]);
    assert.throws(() => taskDefinitions.create({ method: 'Nope' }, undefined), (e: Error) => e instanceof ConfigError && /known: TaskDefinitionByDataAttr/.test(e.message));
    assert.throws(() => taskDefinitions.create({ method: 'TaskDefinitionByDataAttr', param: '{bad' }, undefined), ConfigError);
  });
});

/** Two well separated blobs of 2-D points, seeded. */
function blobs(perBlob: number, seed: number, centres: number[][] = [[0, 0], [10, 10]]): Samples {
  const random = seededRandom(seed);
  const x = centres.flatMap((c) => Array.from({ length: perBlob }, () => Float32Array.from(c, (v) => v + (random() - 0.5))));
  return { columns: ['a', 'b'], x, y: x.map((_, i) => Math.floor(i / perBlob)), meta: x.map(() => ({})), dataType: 'train' };
}

describe('task definition without attributes (k-means)', () => {
  it('finds the two blobs as two tasks, the same on every run, and allocates new points to the nearest', () => {
    const samples = blobs(20, 3);
    const first = taskDefinitionByClustering(2, 7)(samples);
    const again = taskDefinitionByClustering(2, 7)(samples);
    assert.deepEqual(first.extractor, again.extractor);
    const sizes = first.tasks.map((t) => t.sample_count).sort();
    assert.deepEqual(sizes, [20, 20]);
    for (const task of first.tasks) assert.equal(new Set(task.samples!.y).size, 1, 'a cluster holds one blob');
    const allocate = taskAllocations.create({ method: 'TaskAllocationByClustering' }, first.extractor);
    const { allocations } = allocate({ ...samples, x: [Float32Array.of(0.2, -0.1), Float32Array.of(9.8, 10.3)] });
    assert.notEqual(allocations[0], allocations[1]);
    assert.equal(first.tasks[allocations[0]!]!.samples!.y![0], 0);
  });

  it('k-means refuses k < 1 and no rows', () => {
    assert.throws(() => kMeans([], { k: 2 }), RangeError);
    assert.throws(() => kMeans([Float32Array.of(1)], { k: 0 }), RangeError);
  });
});

describe('relation discovery, remodeling and integration', () => {
  it('one group per task; remodeling batches by allocation (model fallback to 0); integration restores the order', () => {
    const samples = samplesFromRows(rows, { label: 'label' });
    const { tasks } = taskDefinitionByDataAttr(['Season'])(samples);
    const groups = defaultTaskRelationDiscover()(tasks);
    assert.deepEqual(groups.map((g) => [g.entry, g.tasks.length, g.sample_count]), [['summer', 1, 3], ['winter', 1, 1]]);
    const batches = defaultTaskRemodeling(['m0', 'm1'])(samples, [1, 0, 5, 1]);
    assert.deepEqual(batches.map((b) => [b.group, b.inx, b.model]), [[0, [1], 'm0'], [1, [0, 3], 'm1'], [5, [2], 'm0']]);
    const merged = defaultInferenceIntegrate<string>()(batches.map((b) => ({ inx: b.inx, result: b.inx.map((i) => `r${i}`) })));
    assert.deepEqual(merged, ['r0', 'r1', 'r2', 'r3']);
    assert.throws(() => defaultInferenceIntegrate<string>()([{ inx: [0, 2], result: ['a', 'b'] }]), /row 2 outside the 2 integrated rows/);
    assert.throws(() => defaultInferenceIntegrate<string>()([{ inx: [0, 0], result: ['a', 'b'] }]), /row 1 has no result/);
  });
});

describe('the task filter (operator, model_threshold)', () => {
  const tasks = [
    { entry: 'good', meta_attr: [], sample_count: 1, scores: { accuracy: 0.9 } },
    { entry: 'bad', meta_attr: [], sample_count: 1, scores: { accuracy: 0.05 } },
    { entry: 'unscored', meta_attr: [], sample_count: 1 },
  ];

  it('drops a task when a score satisfies score <op> threshold; the default operator < keeps good tasks', () => {
    assert.deepEqual(filterTasks(tasks, filterOperator(undefined), 0.1).dropped.map((t) => t.entry), ['bad']);
    assert.deepEqual(filterTasks(tasks, filterOperator('>'), 0.1).dropped.map((t) => t.entry), ['good']);
    assert.deepEqual(filterTasks(tasks, filterOperator('<'), 0).kept.map((t) => t.entry), ['good', 'bad', 'unscored']);
    assert.deepEqual(filterTasks(tasks, filterOperator('>='), 0.9).dropped.map((t) => t.entry), ['good']);
  });

  it('an unknown operator is a ConfigError naming it', () => {
    assert.throws(() => filterOperator('!='), (e: Error) => e instanceof ConfigError && /operator must be one of/.test(e.message));
  });
});

describe('unseen-sample recognition', () => {
  const known = blobs(40, 11, [[0, 0]]);
  const valid = blobs(40, 12, [[0, 0]]);
  const other = blobs(40, 13, [[0, 5]]);
  const near = blobs(40, 14, [[0, 0]]);
  const detector = fitDistanceDetector([{ entry: 'a', train: known.x, validation: valid.x }], { k: 3, quantile: 0.95 });

  it('by distance: the threshold sits at the validation quantile; far samples are unseen, near ones seen', () => {
    const validScores = valid.x.map((r) => distanceScore(detector, r));
    assert.equal(validScores.filter((s) => s <= detector.threshold).length, Math.ceil(0.95 * 40));
    const recognise = unseenSampleRecognitions.create({ method: 'SampleRecognitionByDistance' }, { extractor: { kind: 'attribute', attribute: ['camera'], tasks: { a: 0 } }, detector });
    assert.ok(recognise(other).every(Boolean), 'every sample of the far blob is unseen');
    assert.ok(recognise(near).filter(Boolean).length <= 6, 'few samples of the known blob are flagged');
  });

  it('by attribute: a key the knowledge base has no task for is unseen; the combined one uses the distance where the attribute is missing', () => {
    const extractor = { kind: 'attribute' as const, attribute: ['camera'], tasks: { studio: 0 } };
    const mixed: Samples = { columns: ['a', 'b'], x: [Float32Array.of(0, 0), Float32Array.of(0, 0), Float32Array.of(0, 5), Float32Array.of(0, 0)], meta: [{ camera: 'studio' }, { camera: 'night' }, {}, {}], dataType: 'test' };
    assert.deepEqual(unseenSampleRecognitions.create({ method: 'SampleRecognitionByTaskAttr' }, { extractor })(mixed.x.length ? { ...mixed, meta: [{ camera: 'studio' }, { camera: 'night' }, { camera: 'studio' }, { camera: 'x' }] } : mixed), [false, true, false, true]);
    assert.deepEqual(sampleRecognitionByAttrThenDistance(extractor, detector)(mixed), [false, true, true, false]);
    assert.throws(() => sampleRecognitionByAttrThenDistance(extractor, undefined)(mixed), /carry no task attribute/);
  });

  it('the nearest known task of a sample is the one whose data it sits in', () => {
    const two = fitDistanceDetector([{ entry: 'a', train: known.x, validation: valid.x }, { entry: 'b', train: other.x, validation: blobs(40, 15, [[0, 5]]).x }], { k: 3 });
    assert.equal(nearestDetectorTask(two, [0.1, 4.9]), 'b');
    assert.equal(nearestDetectorTask(two, [0.1, 0.2]), 'a');
  });
});
