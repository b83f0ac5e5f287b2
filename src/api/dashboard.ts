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
