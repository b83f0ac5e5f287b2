// What a feature gets from the GM and what it gives back. A feature is one folder under
// src/features/ with one line in src/features/registry.ts; the machinery it uses (downstream
// sync, status writes, events, metrics) lives here in src/gm and is never copied into a feature.
import type { EdgeMessage } from '../api/edge-protocol.ts';
import type { Clock, ControllerMetrics, EventRecorder, InformerSource, KubeClient } from '../controller/index.ts';
import type { Logger } from '../lib/logger.ts';
import type { GmConfig } from './config.ts';
import type { DownstreamSync } from './downstream.ts';
import type { StatusWriter } from './status.ts';

export interface FeatureContext {
  /** Every read and write a feature makes to the API server goes through this. */
  client: KubeClient;
  /** Every time a feature reads or waits for. */
  clock: Clock;
  config: GmConfig;
  /** Namespace-scoped as `config.namespace` says ('' = all). */
  informers: InformerSource;
  /** Collection path of a Sedna kind, honouring `config.namespace`. */
  pathFor(plural: string): string;
  downstream: DownstreamSync;
  status: StatusWriter;
  events: EventRecorder;
  metrics: ControllerMetrics;
  logger: Logger;
}

/** A running feature controller. */
export interface FeatureController {
  /** Waits for its caches, then reconciles until stop(). */
  start(signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}

/** Handles one upstream message (operation `status`) about this feature's kind from `node`. */
export type UpstreamFeatureHandler = (ctx: FeatureContext, node: string, message: EdgeMessage) => Promise<void>;

export interface FeatureRegistration {
  /** The CR kind, e.g. `Dataset`; its lower-case form is the upstream dispatch key (§2.2). */
  kind: string;
  plural: string;
  /** Absent for kinds with no controller of their own (Sedna has none for Model). */
  createController?(ctx: FeatureContext): FeatureController;
  handleUpstream?: UpstreamFeatureHandler;
}

/** Raised by an upstream handler for a message it refuses: logged and acknowledged, never retried. */
export class RejectedMessage extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RejectedMessage';
  }
}
