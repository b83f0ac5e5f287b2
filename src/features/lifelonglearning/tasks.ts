// Lifelong learning's data model (lib.md §10.2) as plain JSON-able objects: a task is one kind of
// input (a camera), a task group holds the tasks one model serves, and the extractor is what
// task allocation needs to map a new sample to a group. In memory a task carries its samples; in
// the knowledge-base index (kb-index.ts) it carries the URL they were uploaded to instead.
import type { Samples } from './samples.ts';

export interface TaskModel {
  /** The group's position in the index: what allocation answers. */
  index: number;
  entry: string;
  /** Model file path or URL. */
  model: string;
  /** Training metrics. */
  result?: Record<string, number>;
  meta_attr?: string[];
}

export interface Task {
  entry: string;
  meta_attr: string[];
  samples?: Samples;
  /** Rows the task was defined on (kept when the samples themselves are not). */
  sample_count: number;
  /** Where its samples were uploaded (Sedna's `samples.data_url`). */
  samples_url?: string;
  model?: string;
  /** Evaluation scores. */
  scores?: Record<string, number>;
}

export interface TaskGroup {
  entry: string;
  tasks: Task[];
  samples?: Samples;
  sample_count: number;
  model?: TaskModel;
}

/** Task allocation by attribute: the attribute columns and each known task key's group index. */
export interface AttributeExtractor {
  kind: 'attribute';
  attribute: string[];
  tasks: Record<string, number>;
}

/** Task allocation by clustering: the nearest centroid's index is the group. */
export interface ClusterExtractor {
  kind: 'cluster';
  centroids: number[][];
}

export type TaskExtractor = AttributeExtractor | ClusterExtractor;

/** What task definition answers (Sedna's `(tasks, extractor, samples)`). */
export interface TaskDefinitionResult {
  tasks: Task[];
  extractor: TaskExtractor;
  /** The input with task attributes removed from the features. */
  samples: Samples;
}
