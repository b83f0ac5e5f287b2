// The upstream controller (spec §2.5): messages from the LocalControllers go to the handler of
// the feature owning their resource kind (lower-cased, as Sedna dispatches). Only `status` is an
// upstream operation; anything else, an unknown kind, or a message a handler refuses, is logged
// and acknowledged (a redelivery could never succeed). A handler that fails otherwise (the API
// server unreachable) leaves the message unacknowledged, so the node sends it again.
import type { EdgeMessage } from '../api/edge-protocol.ts';
import { Operation } from '../api/edge-protocol.ts';
import type { Logger } from '../lib/logger.ts';
import { type FeatureContext, type FeatureRegistration, RejectedMessage } from './feature.ts';

export interface UpstreamHub {
  onMessage(kind: string, handler: (node: string, message: EdgeMessage) => Promise<void>): void;
}

export class Upstream {
  private readonly handlers = new Map<string, FeatureRegistration>();

  constructor(
    private readonly ctx: FeatureContext,
    private readonly logger: Logger,
  ) {}

  register(feature: FeatureRegistration): void {
    if (!feature.handleUpstream) return;
    const key = feature.kind.toLowerCase();
    if (this.handlers.has(key)) throw new Error(`an upstream handler for kind ${key} is already registered`);
    this.handlers.set(key, feature);
  }

  /** Registers one hub handler per kind that has one; the hub drops (and acks) other kinds. */
  attach(hub: UpstreamHub): void {
    for (const key of this.handlers.keys()) hub.onMessage(key, (node, message) => this.dispatch(node, message));
  }

  async dispatch(node: string, message: EdgeMessage): Promise<void> {
    const { header } = message;
    const feature = this.handlers.get(header.resourceKind.toLowerCase());
    if (!feature?.handleUpstream) {
      this.logger.warn({ node, header }, 'upstream message for an unknown kind; dropped');
      return;
    }
    if (header.operation !== Operation.Status) {
      this.logger.warn({ node, header }, `unknown upstream operation ${JSON.stringify(header.operation)}; dropped`);
      return;
    }
    try {
      await feature.handleUpstream(this.ctx, node, message);
    } catch (err) {
      if (err instanceof RejectedMessage) {
        this.logger.warn({ node, header, reason: err.message }, 'upstream message refused');
        return;
      }
      throw err;
    }
  }
}
