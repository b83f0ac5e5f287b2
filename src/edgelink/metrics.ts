// The edge hub's Prometheus metrics. Gauges are read from the hub when scraped, so they can never
// drift from its state. Make one per registry: prom-client refuses a name registered twice.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DataFrame } from '../api/edge-protocol.ts';
import type { RefusalReason } from './auth.ts';
import type { Receipt } from './inbox.ts';
import type { LinkObserver } from './link.ts';
import type { OutboxEntry } from './outbox.ts';

export type Direction = 'downstream' | 'upstream';

/** What the metrics read from the hub at scrape time. */
export interface HubState {
  connectedNodes(): number;
  outboxDepths(): Iterable<[node: string, depth: number]>;
}

export class EdgeHubMetrics {
  private readonly messages: Counter<'direction' | 'kind'>;
  private readonly resent: Counter<'node'>;
  private readonly duplicates: Counter<'node'>;
  private readonly failed: Counter<'node'>;
  private readonly refused: Counter<'reason'>;
  private readonly heartbeatTimeouts: Counter<'node'>;

  constructor(registry: Registry, state: HubState) {
    const registers = [registry];
    this.messages = new Counter({
      name: 'sedna_edge_messages_total',
      help: 'Edge messages by direction and resource kind: downstream when first written to a node, upstream when processed (duplicates and failed attempts excluded).',
      labelNames: ['direction', 'kind'],
      registers,
    });
    this.resent = new Counter({ name: 'sedna_edge_messages_resent_total', help: 'Downstream messages written again (after a reconnect or an overdue acknowledgement).', labelNames: ['node'], registers });
    this.duplicates = new Counter({ name: 'sedna_edge_duplicate_messages_total', help: 'Upstream messages received again and only acknowledged.', labelNames: ['node'], registers });
    this.failed = new Counter({ name: 'sedna_edge_handler_failures_total', help: 'Upstream messages whose handler failed; they are left unacknowledged for redelivery.', labelNames: ['node'], registers });
    this.refused = new Counter({ name: 'sedna_edge_refused_connections_total', help: 'Connections refused at the upgrade, by reason.', labelNames: ['reason'], registers });
    this.heartbeatTimeouts = new Counter({ name: 'sedna_edge_heartbeat_timeouts_total', help: 'Connections dropped because the node fell silent.', labelNames: ['node'], registers });
    new Gauge({
      name: 'sedna_edge_connected_nodes',
      help: 'Nodes with a live connection.',
      registers,
      collect() {
        this.set(state.connectedNodes());
      },
    });
    new Gauge({
      name: 'sedna_edge_outbox_depth',
      help: 'Downstream messages not yet acknowledged, per node.',
      labelNames: ['node'],
      registers,
      collect() {
        this.reset();
        for (const [node, depth] of state.outboxDepths()) this.set({ node }, depth);
      },
    });
  }

  refusedConnection(reason: RefusalReason): void {
    this.refused.inc({ reason });
  }

  /** Hooks for the link of one node. */
  observer(node: string): LinkObserver {
    return {
      written: (entry: OutboxEntry) => {
        if (entry.writes > 1) this.resent.inc({ node });
        else this.messages.inc({ direction: 'downstream', kind: entry.header.resourceKind });
      },
      received: (frame: DataFrame, receipt: Receipt) => {
        if (receipt === 'duplicate') this.duplicates.inc({ node });
        else if (receipt === 'failed') this.failed.inc({ node });
        else this.messages.inc({ direction: 'upstream', kind: frame.header.resourceKind.toLowerCase() });
      },
      heartbeatTimedOut: () => this.heartbeatTimeouts.inc({ node }),
    };
  }
}
