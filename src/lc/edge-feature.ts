// What a feature gives the LocalController (its `edge.ts`) and what the LC gives it. The LC core is
// shared machinery only: the GM link, the durable outbox, the worker API, the database. Which
// downstream kinds a node keeps, which worker reports go upstream and how, and any job manager
// that runs on the node all come from the features (src/features/registry.ts).
import type { EdgeMessage } from '../api/edge-protocol.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { LcDatabase } from './db.ts';
import type { SednaObject } from './objects.ts';

/**
 * How a worker report about an owner of some kind goes upstream (spec §4.5–4.9):
 * - `status`: `{phase, status, output: {models: null, ownerInfo}}` (joint inference);
 * - `results`: the same with the worker's results as `output.models` (federated learning);
 * - `held-job`: as `results`, but only for a job this LC holds, under the job's stored kind.
 */
export type RelayRule = 'status' | 'results' | 'held-job';

/** What a local manager may use on the node. */
export interface LocalManagerContext {
  nodeName: string;
  db: LcDatabase;
  /** Queues an upstream message in the durable outbox. */
  send: (message: EdgeMessage) => void;
  clock: Clock;
  logger: Logger;
  /** Prefix of node paths in CRs (Sedna's ROOTFS_MOUNT_DIR); '' for none. */
  rootfs: string;
  /** Where this LC keeps a node path Sedna fixes (/var/lib/sedna/…; src/lc/node-paths.ts); absent: the rootfs rule. */
  nodePath?: (path: string) => string;
  /** Period of backup polls (dataset index re-reads), when the LC was told one. */
  pollIntervalMs?: number;
  /** Another feature's local manager by feature name (an IL job watching its Dataset), once all are made. */
  manager: (feature: string) => LocalJobManager | undefined;
}

/** A manager for a feature's objects on this node (spec §4.3, §4.6, §4.11). */
export interface LocalJobManager {
  /** An object of one of the feature's kinds from the GM (insert or update). */
  insert(object: SednaObject): void;
  delete(object: SednaObject): void;
  /** Resumes from the database after the LC (re)starts, before the GM link connects. */
  resume?(): void;
  stop(): Promise<void> | void;
}

export interface EdgeFeature {
  /** Downstream resource kinds (lower case, e.g. `jointinferenceservice`) this feature receives. */
  kinds: string[];
  /** Worker reports this feature relays, by lower-case owner kind. */
  relays?: Record<string, RelayRule>;
  /** A manager for the kinds above; without one the LC only stores them (for held-job routing). */
  createLocalManager?(ctx: LocalManagerContext): LocalJobManager;
}
