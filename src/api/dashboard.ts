// What the dashboard server sends its pages (GET /api/state and each `state` event of
// GET /api/stream): a bounded snapshot of the cluster plus the plotted history.

/** [x, y]: x is milliseconds since the epoch, or a round number for per-round series. */
export type Point = [x: number, y: number];

export interface NodeRow {
  name: string;
  ready: boolean;
  roles: string[];
  /** The Ready condition's reason or message when not Ready. */
  reason?: string;
}

export interface PodRow {
  namespace: string;
  name: string;
  phase: string;
  node: string;
  containers: string[];
  restarts: number;
}

export interface ConditionRow {
  type: string;
  status: string;
  stage?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** The latest condition of one stage within a learning cycle. */
export interface CycleStage {
  stage: string;
  /** The stage's latest condition type in the cycle (Waiting, Ready, Starting, Running, Completed, Failed). */
  state: string;
  /** When that condition was written. */
  at?: string;
  /** Failed conditions of the stage in the cycle (retries). */
  failures: number;
  message?: string;
}

/** A model's evaluation metric as the Eval stage reported it. */
export interface CycleMetric {
  /** The metric's key in the worker's report (accuracy, precision_score, …). */
  name: string;
  /** The newly trained model's value (a reported list is averaged). */
  trained?: number;
  /** The model deployed before the cycle, evaluated on the same data (incremental learning). */
  deployed?: number;
}

/** One train → eval → deploy cycle of an IncrementalLearningJob or LifelongLearningJob. */
export interface LearningCycle {
  /** The job's round (status.round) when it keeps one, else the count from the oldest kept condition. */
  cycle: number;
  started?: string;
  ended?: string;
  stages: CycleStage[];
  /** Deployed, not deployed (the LC said why in `reason`), or still in progress (the latest cycle). */
  outcome: 'deployed' | 'not deployed' | 'in progress';
  reason?: string;
  metric?: CycleMetric;
  /** The URL of the model the Train stage produced. */
  trainedModel?: string;
}

/** A LifelongLearningJob's status.knowledgeBase, bounded. */
export interface KnowledgeBaseView {
  classes: string[];
  numberOfClasses: number;
  models: { modelID: string; averagePrecision?: number; numberOfTrainSamples: number }[];
  numberOfModels: number;
  unseenSamples: number;
  labeledUnseenSamples: number;
}

export interface LearningView {
  /** Oldest first; only the cycles the kept conditions cover. */
  cycles: LearningCycle[];
  knowledgeBase?: KnowledgeBaseView;
}

export interface ResourceRow {
  kind: string;
  namespace: string;
  name: string;
  /** status.phase, else the last condition's type, else "Unknown". */
  phase: string;
  /** The last condition's stage (incremental and lifelong learning). */
  stage?: string;
  conditions: ConditionRow[];
  /** The object's status, as the API server holds it. */
  status: Record<string, unknown>;
  /** Where the resource's history is kept in `series`, by kind/namespace/name. */
  key: string;
  created?: string;
  /** Incremental and lifelong learning jobs: their cycles (and knowledge base). */
  learning?: LearningView;
}

export interface EventRow {
  namespace: string;
  name: string;
  type: string;
  reason: string;
  message: string;
  object: string;
  count: number;
  last: string;
}

export interface DashboardSnapshot {
  /** Milliseconds since the epoch when the snapshot was taken. */
  at: number;
  /** Whether every watch has listed once. */
  synced: boolean;
  nodes: NodeRow[];
  pods: PodRow[];
  /** Every Sedna resource, by kind (Dataset, Model, JointInferenceService, …). */
  resources: Record<string, ResourceRow[]>;
  /** Newest first, at most the server's event limit. */
  events: EventRow[];
  /** History per resource key, then per series name. */
  series: Record<string, Record<string, Point[]>>;
}

/** Series names the dashboard keeps. */
export const JI_SERIES = ['inferences', 'hardExamples', 'offloadShare', 'cloudFailures'] as const;
export const FL_SERIES = ['round', 'accuracy', 'loss', 'clients', 'bytes'] as const;
export const DATASET_SERIES = ['samples'] as const;
/** Per cycle (x = cycle): the Eval stage's metric of the trained and the deployed model. */
export const LEARNING_SERIES = ['cycle', 'trainedMetric', 'deployedMetric'] as const;
/** Over time: what a LifelongLearningJob's knowledge base holds. */
export const KNOWLEDGE_BASE_SERIES = ['kbModels', 'unseenSamples', 'labeledUnseenSamples'] as const;
