// The knowledge-base index (spec lib.md §10.2, §10.7) as JSON, and the knowledge-base server's
// query answer: shared by the KB server that stores them and the SDK that writes and reads them.
// Sedna pickles Python objects (`Task`, `TaskGroup`, `Model`); here the same fields are plain
// JSON, with the sample count written out (`sample_num`) since a JSON file carries no data source
// whose length could be taken, and model and sample files referred to by URL.

/** A set of samples: how many, and where they were uploaded (a KB download URL), if they were. */
export interface KbSampleSet {
  sample_num: number;
  data_url?: string | null;
  /** Sedna's data type of the samples: "train", "eval", "test", "unseen"… */
  data_type?: string | null;
}

export interface KbTask {
  /** The task's name (Sedna's `entry`), e.g. "front_sunny". */
  entry: string;
  /** The attribute values that define it (Sedna's `meta_attr`), kept as given. */
  meta_attr?: unknown;
  samples: KbSampleSet;
  /** URL of the task's model when it has one of its own. */
  model?: string | null;
}

export interface KbModel {
  /** URL of the model file. */
  model: string;
  index?: number;
  entry?: string;
  /** Training metrics. */
  result?: Record<string, unknown> | null;
  meta_attr?: unknown;
  /** Evaluation scores by metric name, set by `evaluate`. */
  scores?: Record<string, number> | null;
  /** Class names the model predicts, when the trainer states them. */
  classes?: string[] | null;
}

export interface KbTaskGroup {
  entry: string;
  tasks: KbTask[];
  samples: KbSampleSet;
  model: KbModel;
}

export interface KbTaskSide {
  /** URL of the task-attribute extractor file, or the extractor inline (e.g. `{entry: index}`). */
  extractor: unknown;
  task_groups: KbTaskGroup[];
}

export interface KbIndex {
  seen_task: KbTaskSide;
  unseen_task: KbTaskSide;
  create_time?: string;
}

/** `POST /knowledgebase/update/status` (Sedna's `KBUpdateResult`). */
export interface KbStatusUpdate {
  status: number;
  /** Comma-separated group names, or null for none. */
  tasks?: string | null;
}

/** One task as `POST /knowledgebase/query` answers it. */
export interface KbQueryTask {
  name: string;
  /** Its attributes (`meta_attr`), parsed from the stored JSON. */
  attributes: unknown;
  /** The groups it belongs to, with the transfer ratio of each relation. */
  groups: Array<{ name: string; transferRatio: number }>;
  /** Sample sets recorded for it, newest last, and their total. */
  samples: Array<{ dataUrl: string | null; dataType: string | null; sampleNum: number; updatedAt: string }>;
  sampleNum: number;
  createdAt: string;
  updatedAt: string;
}

export interface KbQueryGroup {
  name: string;
  deploy: boolean;
  sampleNum: number;
  taskNum: number;
  models: Array<{ modelUrl: string | null; isCurrent: boolean; createdAt: string }>;
  /** Which side of the current index holds the group (null: an earlier index did). */
  inIndex: 'seen' | 'unseen' | null;
  /** Its model's evaluation scores and classes in the current index. */
  scores: Record<string, number> | null;
  classes: string[] | null;
}

export interface KbQueryResult {
  tasks: KbQueryTask[];
  groups: KbQueryGroup[];
  /** Samples recorded over all tasks by `data_type` ("" when none was given), e.g. {"train": 900, "unseen": 120}. */
  samplesByType: Record<string, number>;
}
