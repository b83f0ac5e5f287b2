// Task definition (lib.md §10.8): split training samples into tasks. By data attribute, exactly as
// Sedna's `TaskDefinitionByDataAttr`; or, for data without attributes, by k-means clustering of the
// features (Sedna lists a `TaskDefinitionByCluster` it never wrote; its SVC variant clusters too).
import { ConfigError } from '../../lib/context.ts';
import { kMeans } from './kmeans.ts';
import { attributeValues, dropAttributes, subsetSamples, taskKey, type Samples } from './samples.ts';
import type { TaskDefinitionResult } from './tasks.ts';

export type TaskDefinition = (samples: Samples) => TaskDefinitionResult;

/**
 * Groups rows by the attribute values (groups ordered by their values, as pandas `groupby`
 * sorts); task entry = Sedna's key; meta_attr = the values; the attribute columns are dropped from
 * each task's samples and from the returned samples; extractor = `{key: task index}`.
 */
export function taskDefinitionByDataAttr(attribute: readonly string[]): TaskDefinition {
  if (attribute.length === 0) throw new ConfigError('TaskDefinitionByDataAttr needs the parameter "attribute" (the columns that name a task)');
  return (samples) => {
    const groups = new Map<string, { values: string[]; rows: number[] }>();
    samples.x.forEach((_, row) => {
      const values = attributeValues(samples, row, attribute);
      const key = taskKey(values);
      const group = groups.get(key) ?? { values, rows: [] };
      group.rows.push(row);
      groups.set(key, group);
    });
    const ordered = [...groups.entries()].sort(([, a], [, b]) => compareValues(a.values, b.values));
    const stripped = dropAttributes(samples, attribute);
    const tasks = ordered.map(([entry, group]) => ({ entry, meta_attr: group.values, samples: subsetSamples(stripped, group.rows), sample_count: group.rows.length }));
    const extractor = { kind: 'attribute' as const, attribute: [...attribute], tasks: Object.fromEntries(ordered.map(([entry], index) => [entry, index])) };
    return { tasks, extractor, samples: stripped };
  };
}

/** k-means on the features into `nClass` tasks `cluster_<i>`; the centroids are the extractor. */
export function taskDefinitionByClustering(nClass: number, seed = 1): TaskDefinition {
  if (!Number.isInteger(nClass) || nClass < 1) throw new ConfigError(`TaskDefinitionByClustering: "n_class" must be a positive integer, got ${nClass}`);
  return (samples) => {
    const { centroids, assignments } = kMeans(samples.x, { k: nClass, seed });
    const tasks = centroids.map((_, c) => {
      const rows = [...assignments.keys()].filter((i) => assignments[i] === c);
      return { entry: `cluster_${c}`, meta_attr: [`${c}`], samples: subsetSamples(samples, rows), sample_count: rows.length };
    });
    return { tasks, extractor: { kind: 'cluster', centroids: centroids.map((c) => Array.from(c)) }, samples };
  };
}

/** Numbers as numbers, otherwise as strings, value by value. */
function compareValues(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [a[i]!, b[i]!];
    const [nx, ny] = [Number(x), Number(y)];
    const order = Number.isFinite(nx) && Number.isFinite(ny) && x !== '' && y !== '' ? nx - ny : x < y ? -1 : x > y ? 1 : 0;
    if (order !== 0) return order;
  }
  return 0;
}
