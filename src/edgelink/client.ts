// The node's end of the edge link: what the LocalController runs (and the tests' stand-in LC).
// It presents the node's name and token, reconnects with backoff for as long as it runs, keeps
// upstream messages in its own outbox until the GM acknowledges them (Sedna's LC blocked its
// callers on a 100-message channel and could reorder on failure, §3.4, §6 item 17), processes
// downstream messages one at a time and once per id, and pings so a dead GM is noticed.
import type { WebSocket as WebSocketType } from 'ws';
import { requireCjs } from '../lib/require-cjs.ts';
import type { EdgeMessage } from '../api/edge-protocol.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { KindHandlers } from './handlers.ts';
import { Inbox } from './inbox.ts';
import { Link, type HeartbeatOptions } from './link.ts';
import { Outbox, type OutboxPersistence } from './outbox.ts';
import { subscribe } from './subscribe.ts';

const { WebSocket } = requireCjs('ws') as typeof import('ws');
type WebSocket = WebSocketType;

export interface EdgeClientOptions {
  /** `ws://host:9000/` or `wss://…` (Sedna's LC dials `ws://<GM_ADDRESS>/`). */
  url: string;
  nodeName: string;
  /** A function is asked on every connection: a projected ServiceAccount token rotates on disk. */
  token: string | (() => string);
  /** PEM CA certificate(s) trusted for a wss:// hub. */
  ca?: string | Buffer;
  /** Default: ping every 5 s, a hub silent for 15 s is dropped and dialled again. */
  heartbeat?: HeartbeatOptions;
  /** Default 30 s: an upstream message not acknowledged by then is written again. */
  resendAfterMs?: number;
  reconnect?: BackoffOptions;
  /**
   * Default 10 s: a dial not answered by then (the opening handshake included) is abandoned and
   * tried again. Without it a connection attempt made while the network was cut could wait for
   * the kernel's SYN retries (minutes) or forever for a handshake that was lost.
   */
  handshakeTimeoutMs?: number;
  maxMessageBytes?: number;
  /** The outbox's stream name; a fresh one by default. */
  stream?: string;
  /**
   * Keeps upstream messages durable (with a `stream` that is persisted too, the hub's dedup then
   * holds across a restart of the node agent). In memory only without it.
   */
  persistence?: OutboxPersistence;
  logger?: Logger;
  now?: () => number;
}

export type DownstreamHandler = (message: EdgeMessage) => Promise<void> | void;

/** A connection attempt that failed; `statusCode` is set when the hub answered (401: credentials). */
export class EdgeConnectError extends Error {
  constructor(
    message: string,
    readonly statusCode?: number,
  ) {
    super(message);
    this.name = 'EdgeConnectError';
  }
}

export class EdgeClient {
  private readonly outbox: Outbox;
  private readonly inbox = new Inbox();
  private readonly handlers = new KindHandlers<DownstreamHandler>();
  private readonly backoff: Backoff;
  private readonly logger: Logger;
  private readonly listeners = {
    connected: [] as (() => void)[],
    disconnected: [] as ((reason: string) => void)[],
    connectError: [] as ((err: EdgeConnectError) => void)[],
  };
  private socket: WebSocket | undefined;
  private link: Link | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly options: EdgeClientOptions) {
    this.outbox = new Outbox({ coalesce: false, stream: options.stream, persistence: options.persistence, now: options.now });
    this.backoff = new Backoff(options.reconnect);
    this.logger = options.logger ?? createLogger('edge-client');
  }

  /** Downstream dispatch by resource kind; register before `start()`. Unhandled kinds are dropped. */
  onMessage(kind: string, handler: DownstreamHandler): void {
    this.handlers.register(kind, handler);
  }

  /** Each listener registration returns its removal. */
  onConnected(listener: () => void): () => void {
    return subscribe(this.listeners.connected, listener);
  }

  onDisconnected(listener: (reason: string) => void): () => void {
    return subscribe(this.listeners.disconnected, listener);
  }

  onConnectError(listener: (err: EdgeConnectError) => void): () => void {
    return subscribe(this.listeners.connectError, listener);
  }

  /** Queues an upstream message; it is delivered, now or after a reconnect, until acknowledged. */
  send(message: EdgeMessage): void {
    this.outbox.enqueue(message);
  }

  get connected(): boolean {
    return this.link?.open ?? false;
  }

  /** Upstream messages not yet acknowledged. */
  get pending(): number {
    return this.outbox.depth;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  /** Stops reconnecting and closes the connection (politely, within `graceMs`). */
  async stop(graceMs = 1_000): Promise<void> {
    this.running = false;
    clearTimeout(this.reconnectTimer);
    if (this.link) return this.link.shutdown(1000, 'node agent stopping', graceMs);
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.terminate();
    await closed;
  }

  private connect(): void {
    this.reconnectTimer = undefined;
    const socket = new WebSocket(this.options.url, {
      headers: { 'Node-Name': this.options.nodeName, Authorization: `Bearer ${typeof this.options.token === 'function' ? this.options.token() : this.options.token}` },
      ca: this.options.ca,
      handshakeTimeout: this.options.handshakeTimeoutMs ?? 10_000,
      maxPayload: this.options.maxMessageBytes ?? 4 * 1024 * 1024,
    });
    this.socket = socket;
    let refusedWith: number | undefined;
    let failure: Error | undefined;
    socket.on('unexpected-response', (_req, res) => {
      refusedWith = res.statusCode;
      res.resume();
      socket.terminate();
    });
    socket.on('error', (err) => (failure ??= err));
    socket.once('open', () => this.opened(socket));
    socket.once('close', () => {
      if (this.socket === socket) this.socket = undefined;
      if (this.link) return; // opened: the link reports the end
      this.connectFailed(refusedWith, failure);
    });
  }

  private connectFailed(status: number | undefined, failure: Error | undefined): void {
    const message = status === undefined ? `cannot connect: ${failure?.message ?? 'closed'}` : `hub refused the connection with HTTP ${status}`;
    const err = new EdgeConnectError(message, status);
    this.logger.warn({ url: this.options.url, status, err: failure }, message);
    this.emit(this.listeners.connectError, err);
    this.scheduleReconnect();
  }

  private opened(socket: WebSocket): void {
    this.backoff.reset();
    const link = new Link(socket, this.outbox, this.inbox, (message) => this.dispatch(message), {
      heartbeat: this.options.heartbeat ?? { intervalMs: 5_000, timeoutMs: 15_000 },
      resendAfterMs: this.options.resendAfterMs ?? 30_000,
      now: this.options.now ?? Date.now,
      logger: this.logger,
    });
    this.link = link;
    void link.closed.then(({ reason }) => {
      this.link = undefined;
      this.logger.info({ reason }, 'disconnected from the GM');
      this.emit(this.listeners.disconnected, reason);
      this.scheduleReconnect();
    });
    link.start();
    link.flush();
    this.logger.info({ url: this.options.url, pending: this.outbox.depth }, 'connected to the GM');
    this.emit(this.listeners.connected);
  }

  private scheduleReconnect(): void {
    if (!this.running) return;
    this.reconnectTimer = setTimeout(() => this.connect(), this.backoff.next());
  }

  private async dispatch(message: EdgeMessage): Promise<void> {
    const handler = this.handlers.get(message.header.resourceKind);
    if (!handler) {
      this.logger.warn({ header: message.header }, 'no handler for this resource kind; message dropped');
      return;
    }
    await handler(message);
  }

  private emit<A extends unknown[]>(listeners: ((...args: A) => void)[], ...args: A): void {
    for (const listener of [...listeners]) {
      try {
        listener(...args);
      } catch (err) {
        this.logger.error({ err }, 'edge client listener failed');
      }
    }
  }
}
