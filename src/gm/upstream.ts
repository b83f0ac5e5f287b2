// The upstream controller (spec §2.5): messages from the LocalControllers go to the handler of
// the feature owning their resource kind (lower-cased, as Sedna dispatches). Only `status` is an
// upstream operation; anything else, an unknown kind, or a message a handler refuses, is logged
// and acknowledged (a redelivery could never succeed). A handler that fails otherwise (the API
// server unreachable) leaves the message unacknowledged, so the node sends it again.
//
// The GM never retries forever: a message that can never be processed is dead-lettered (logged,
// acknowledged, and a Warning Event recorded on the reporting Node) at once when it names an
// object Kubernetes could never store or the API server refuses it for good (400, 404, 422), and
// after MAX_UPSTREAM_ATTEMPTS otherwise.
import type { EdgeMessage } from '../api/edge-protocol.ts';
import { Operation } from '../api/edge-protocol.ts';
import { dnsLabelErrors, dnsSubdomainErrors } from '../api/names.ts';
import type { Logger } from '../lib/logger.ts';
import { type FeatureContext, type FeatureRegistration, RejectedMessage } from './feature.ts';

/** Tries of one message (same node, header and content) before it is dead-lettered. */
export const MAX_UPSTREAM_ATTEMPTS = 5;
/** Distinct failing messages remembered; the oldest is forgotten first. */
const MAX_TRACKED_FAILURES = 10_000;

/** API answers no retry can change: the request itself is wrong, or its object is gone. */
const PERMANENT_STATUS = new Set([400, 404, 405, 413, 415, 422]);

function httpStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { statusCode?: unknown; code?: unknown };
  if (typeof e.statusCode === 'number') return e.statusCode;
  return typeof e.code === 'number' ? e.code : undefined;
}

/** Why the header can never name a Kubernetes object, or undefined when it can. */
export function unprocessableHeader(header: EdgeMessage['header']): string | undefined {
  const namespace = typeof header.namespace === 'string' ? header.namespace : '';
  const name = typeof header.resourceName === 'string' ? header.resourceName : '';
  const nsErrors = namespace === '' ? ['must not be empty'] : dnsLabelErrors(namespace);
  if (nsErrors.length > 0) return `namespace ${JSON.stringify(namespace.slice(0, 80))}: ${nsErrors.join('; ')}`;
  const nameErrors = name === '' ? ['must not be empty'] : dnsSubdomainErrors(name);
  if (nameErrors.length > 0) return `name ${JSON.stringify(name.slice(0, 80))}${name.length > 80 ? '...' : ''}: ${nameErrors.join('; ')}`;
  return undefined;
}

export interface UpstreamHub {
  onMessage(kind: string, handler: (node: string, message: EdgeMessage) => Promise<void>): void;
}

export class Upstream {
  private readonly handlers = new Map<string, FeatureRegistration>();
  /** Failed tries per message identity, in insertion order (oldest first). */
  private readonly failures = new Map<string, number>();

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
    const unprocessable = unprocessableHeader(header);
    if (unprocessable) return this.deadLetter(node, message, unprocessable);
    const identity = JSON.stringify([node, header, message.content]);
    try {
      await feature.handleUpstream(this.ctx, node, message);
      this.failures.delete(identity);
    } catch (err) {
      if (err instanceof RejectedMessage) {
        this.logger.warn({ node, header, reason: err.message }, 'upstream message refused');
        return;
      }
      const status = httpStatusOf(err);
      if (status !== undefined && PERMANENT_STATUS.has(status)) {
        this.failures.delete(identity);
        return this.deadLetter(node, message, `the API server refused it with ${status}: ${(err as Error).message}`);
      }
      const tries = (this.failures.get(identity) ?? 0) + 1;
      this.failures.delete(identity);
      if (tries >= MAX_UPSTREAM_ATTEMPTS) {
        return this.deadLetter(node, message, `it failed ${tries} times, last: ${err instanceof Error ? err.message : String(err)}`);
      }
      this.failures.set(identity, tries);
      if (this.failures.size > MAX_TRACKED_FAILURES) this.failures.delete(this.failures.keys().next().value!);
      throw err;
    }
  }

  /** Acknowledges a message that can never be processed, and says so where an operator looks. */
  private async deadLetter(node: string, message: EdgeMessage, why: string): Promise<void> {
    const { header } = message;
    const text = `upstream ${header.operation} for ${header.resourceKind} ${header.namespace}/${header.resourceName}`.slice(0, 300);
    this.logger.warn({ node, header, reason: why }, 'upstream message dead-lettered');
    const nodeRef = { apiVersion: 'v1', kind: 'Node', metadata: { name: node } };
    await this.ctx.events.event(nodeRef, 'Warning', 'UpstreamMessageDropped', `${text} from node ${node} was dropped: ${why}`.slice(0, 1024));
  }
}
