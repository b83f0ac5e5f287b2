// The LC's link to the GM: the edge client (node name + per-node token, acknowledgements, dedup,
// heartbeat) over the durable outbox in SQLite. Every upstream message is committed before it is
// written and deleted only when the GM acknowledges it; on every (re)connection everything
// pending is written again in order; the outbox's stream name and id sequence live in the
// database, so after an LC restart the hub still recognises (and drops) what it already processed.
// Reconnects use jittered exponential backoff from 250 ms, capped at 4 s (Sedna: every 5 s, §3.4):
// a 30 s cap made a GM restart cost the reports up to 30 s (17 s measured), against a 15 s target;
// a dial that is refused costs nothing, so a low cap is cheap even for a fleet, and the jitter
// (half to all of the delay) keeps the nodes from dialling in step.
import type { EdgeMessage } from '../api/edge-protocol.ts';
import type { BackoffOptions } from '../edgelink/backoff.ts';
import { EdgeClient, type DownstreamHandler } from '../edgelink/client.ts';
import type { HeartbeatOptions } from '../edgelink/link.ts';
import type { Logger } from '../lib/logger.ts';
import type { SqliteOutbox } from './outbox.ts';

export interface GmLinkOptions {
  /** `ws://host:port/`, `wss://…`, or Sedna's `GM_ADDRESS` form `host:port`. */
  url: string;
  nodeName: string;
  /** A function is asked on every connection (a projected token file is re-read). */
  token: string | (() => string);
  /** The durable outbox. */
  outbox: SqliteOutbox;
  ca?: string | Buffer;
  reconnect?: BackoffOptions;
  heartbeat?: HeartbeatOptions;
  resendAfterMs?: number;
  logger: Logger;
}

export const GM_RECONNECT = { initialDelayMs: 250, maxDelayMs: 4_000 } as const;

/** Accepts Sedna's bare `host:port` as well as a ws(s) URL. */
export function gmUrl(address: string): string {
  if (/^wss?:\/\//i.test(address)) return address;
  if (/^https?:\/\//i.test(address)) return address.replace(/^http/i, 'ws');
  return `ws://${address.replace(/\/*$/, '')}/`;
}

export class GmLink {
  private readonly client: EdgeClient;

  constructor(private readonly options: GmLinkOptions) {
    this.client = new EdgeClient({
      url: gmUrl(options.url),
      nodeName: options.nodeName,
      token: options.token,
      ca: options.ca,
      reconnect: options.reconnect ?? GM_RECONNECT,
      heartbeat: options.heartbeat,
      resendAfterMs: options.resendAfterMs,
      stream: options.outbox.stream(),
      persistence: options.outbox,
      logger: options.logger,
    });
    this.client.onConnectError((err) => {
      if (err.statusCode === 401) options.logger.error({ node: options.nodeName }, 'the GM refused this node\'s credentials; check --node and --token');
    });
  }

  /** Downstream messages of one resource kind (lower-case, as the GM sends them). */
  onMessage(kind: string, handler: DownstreamHandler): void {
    this.client.onMessage(kind, handler);
  }

  onConnected(listener: () => void): () => void {
    return this.client.onConnected(listener);
  }

  onDisconnected(listener: (reason: string) => void): () => void {
    return this.client.onDisconnected(listener);
  }

  /** Commits `message` to the outbox (throws if it cannot be stored) and sends it when connected. */
  send(message: EdgeMessage): void {
    this.client.send(message);
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Upstream messages not acknowledged yet. */
  get pending(): number {
    return this.client.pending;
  }

  start(): void {
    this.client.start();
  }

  stop(graceMs?: number): Promise<void> {
    return this.client.stop(graceMs);
  }
}
