// Task allocation (lib.md §10.8): which known task group serves each sample. By attribute, exact
// to Sedna's `TaskAllocationByDataAttr` (an unknown key goes to group 0: unseen samples are meant
// to be caught before, by unseen-sample recognition); by nearest cluster centroid; or Sedna's
// default, everything to group 0.
import { ConfigError } from '../../lib/context.ts';
import { nearestCentroid } from './kmeans.ts';
import { attributeValues, dropAttributes, taskKey, type Samples } from './samples.ts';
import type { TaskExtractor } from './tasks.ts';

export interface Allocation {
  /** The samples as the models take them (attribute columns removed from the features). */
  samples: Samples;
  /** One group index per sample. */
  allocations: number[];
}

export type TaskAllocation = (samples: Samples) => Allocation;

/** Key built as in the definition → `extractor.get(key, 0)`; attributes move out of the features. */
export function taskAllocationByDataAttr(extractor: TaskExtractor, attribute?: readonly string[]): TaskAllocation {
  if (extractor.kind !== 'attribute') throw new ConfigError(`TaskAllocationByDataAttr needs an attribute extractor; the knowledge base has a ${extractor.kind} one`);
  const columns = attribute && attribute.length > 0 ? attribute : extractor.attribute;
  return (samples) => {
    const allocations = samples.x.map((_, row) => extractor.tasks[taskKey(attributeValues(samples, row, columns))] ?? 0);
    return { samples: dropAttributes(samples, columns), allocations };
  };
}

/** The nearest centroid of a clustering extractor. */
export function taskAllocationByClustering(extractor: TaskExtractor): TaskAllocation {
  if (extractor.kind !== 'cluster') throw new ConfigError(`TaskAllocationByClustering needs a cluster extractor; the knowledge base has an ${extractor.kind} one`);
  return (samples) => ({ samples, allocations: samples.x.map((row) => nearestCentroid(extractor.centroids, row).index) });
}

/** Sedna's `TaskAllocationDefault`: every sample to group 0. */
export function taskAllocationDefault(): TaskAllocation {
  return (samples) => ({ samples, allocations: samples.x.map(() => 0) });
}
