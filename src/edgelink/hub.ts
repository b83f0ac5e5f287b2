// The edge hub: the GM's WebSocket server for LocalControllers (Sedna's message layer, §3), one
// connection per node, each authenticated with the node's own token. Per node it keeps an outbox
// (downstream messages until the node acknowledges them, across connections) and an inbox (which
// upstream ids were processed), so delivery is at-least-once and processing once per message.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Registry } from 'prom-client';
import { WebSocketServer, type WebSocket } from 'ws';
import { NODE_NAME_HEADER, type EdgeMessage } from '../api/edge-protocol.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { authenticate, isValidNodeName, refuseUpgrade } from './auth.ts';
import { KindHandlers } from './handlers.ts';
import { Inbox } from './inbox.ts';
import { Link, type HeartbeatOptions } from './link.ts';
import { EdgeHubMetrics } from './metrics.ts';
import { Outbox } from './outbox.ts';
import { subscribe } from './subscribe.ts';
import { tokenAuthenticator, type NodeAuthenticator, type NodeTokenSource } from './tokens.ts';

export interface EdgeHubOptions {
  /** Who may connect as which node: one token per node, or any {@link NodeAuthenticator}. */
  tokens: NodeTokenSource | NodeAuthenticator;
  /** Default 127.0.0.1: exposing the hub is a deliberate choice. */
  address?: string;
  /** Default 9000 (Sedna's); 0 picks a free port. */
  port?: number;
  /** PEM contents; without them the hub speaks plain ws:// (tokens then travel in clear). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Default: ping every 5 s, a node silent for 15 s is disconnected. */
  heartbeat?: HeartbeatOptions;
  /** Default 30 s: a downstream message not acknowledged by then is written again. */
  resendAfterMs?: number;
  /** Largest frame accepted (Sedna had no limit, §6 item 5). Default 4 MiB. */
  maxMessageBytes?: number;
  /** How long `stop()` waits for nodes to answer the close handshake. Default 1 s. */
  stopGraceMs?: number;
  registry?: Registry;
  logger?: Logger;
  now?: () => number;
}

/** Gets the sending node's name: the GM must check the node is entitled to report on the resource. */
export type UpstreamHandler = (node: string, message: EdgeMessage) => Promise<void> | void;
export type NodeConnectedHandler = (node: string) => Promise<void> | void;
export type NodeDisconnectedHandler = (node: string, reason: string) => void;

export class UnknownNodeError extends Error {
  constructor(readonly node: string) {
    super(`node ${JSON.stringify(node)} has no credential, so it can never connect; message not queued`);
    this.name = 'UnknownNodeError';
  }
}

interface NodeSession {
  outbox: Outbox;
  inbox: Inbox;
  link: Link | undefined;
}

export class EdgeHub {
  readonly registry: Registry;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly heartbeat: HeartbeatOptions;
  private readonly sessions = new Map<string, NodeSession>();
  private readonly handlers = new KindHandlers<UpstreamHandler>();
  private readonly connectedHandlers: NodeConnectedHandler[] = [];
  private readonly disconnectedHandlers: NodeDisconnectedHandler[] = [];
  private readonly wss: WebSocketServer;
  private readonly metrics: EdgeHubMetrics;
  private readonly nodes: NodeAuthenticator;
  private server: Server | undefined;
  private stopping = false;

  constructor(private readonly options: EdgeHubOptions) {
    this.registry = options.registry ?? new Registry();
    this.logger = options.logger ?? createLogger('edge-hub');
    this.now = options.now ?? Date.now;
    this.heartbeat = options.heartbeat ?? { intervalMs: 5_000, timeoutMs: 15_000 };
    this.nodes = 'verify' in options.tokens ? options.tokens : tokenAuthenticator(options.tokens);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes ?? 4 * 1024 * 1024 });
    this.metrics = new EdgeHubMetrics(this.registry, {
      connectedNodes: () => this.connectedNodes().length,
      outboxDepths: () => [...this.sessions].map(([node, session]) => [node, session.outbox.depth]),
    });
  }

  /** Listens; resolves with the bound port. */
  async start(): Promise<number> {
    const server = this.options.tls ? createHttpsServer({ cert: this.options.tls.cert, key: this.options.tls.key }) : createHttpServer();
    server.on('request', answerPlainRequest);
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    server.on('clientError', (_err, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 9000, this.options.address ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.logger.info({ port: this.port, tls: Boolean(this.options.tls) }, 'edge hub listening');
    return this.port;
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  /**
   * Closes every connection (politely, then forcibly) and the listener. Outboxes live in memory,
   * so what is unacknowledged is gone: nodes get the full state again from the next GM.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    const server = this.server;
    this.server = undefined;
    const closing = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    const grace = this.options.stopGraceMs ?? 1_000;
    await Promise.all(this.links().map((link) => link.shutdown(1001, 'GM shutting down', grace)));
    server?.closeAllConnections();
    this.wss.close();
    await closing;
  }

  /**
   * Queues `message` for `node`; resolves once queued. The message waits in the node's outbox,
   * across connections, until the node acknowledges it. Rejects with {@link UnknownNodeError} for
   * a node without credentials (Sedna queued for any name forever, §6 item 15).
   */
  async send(node: string, message: EdgeMessage): Promise<void> {
    // Synchronous for a known node, so states queued by an onNodeConnected handler before its first
    // await coalesce with the unacknowledged ones before they are flushed.
    const session = this.sessions.get(node) ?? (await this.sessionForNewNode(node));
    session.outbox.enqueue(message);
  }

  /** Queues `message` for every node the hub knows (connected now or before, or sent to). */
  broadcast(message: EdgeMessage): void {
    for (const session of this.sessions.values()) session.outbox.enqueue(message);
  }

  /** Upstream dispatch by resource kind (case-insensitive); the ack follows the handler's success. */
  onMessage(kind: string, handler: UpstreamHandler): void {
    this.handlers.register(kind, handler);
  }

  /**
   * Called on every (re)connection, before the node's unacknowledged messages are written: the GM
   * queues the full state of the node's resources here. Returns the handler's removal.
   */
  onNodeConnected(handler: NodeConnectedHandler): () => void {
    return subscribe(this.connectedHandlers, handler);
  }

  /** Returns the handler's removal, as `onNodeConnected` does. */
  onNodeDisconnected(handler: NodeDisconnectedHandler): () => void {
    return subscribe(this.disconnectedHandlers, handler);
  }

  connectedNodes(): string[] {
    return [...this.sessions].filter(([, session]) => session.link !== undefined).map(([node]) => node);
  }

  /** Downstream messages `node` has not acknowledged yet. */
  pendingFor(node: string): EdgeMessage[] {
    return this.sessions.get(node)?.outbox.pending() ?? [];
  }

  private async sessionForNewNode(node: string): Promise<NodeSession> {
    if (!isValidNodeName(node) || !(await this.nodes.mayConnect(node))) throw new UnknownNodeError(node);
    return this.session(node);
  }

  private session(node: string): NodeSession {
    let session = this.sessions.get(node);
    if (!session) {
      session = { outbox: new Outbox({ coalesce: true, now: this.now }), inbox: new Inbox(), link: undefined };
      this.sessions.set(node, session);
    }
    return session;
  }

  private links(): Link[] {
    return [...this.sessions.values()].flatMap((session) => (session.link ? [session.link] : []));
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A peer resetting during authentication must not surface as an unhandled error.
    socket.on('error', () => socket.destroy());
    void this.admit(req, socket, head);
  }

  private async admit(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const result = await authenticate(req, this.nodes);
    if (!result.ok) {
      this.metrics.refusedConnection(result.reason);
      const context = { remote: req.socket.remoteAddress, node: req.headers[NODE_NAME_HEADER], reason: result.reason, err: result.error };
      this.logger.warn(context, 'edge connection refused');
      return refuseUpgrade(socket, result.status);
    }
    if (this.stopping || socket.destroyed) return refuseUpgrade(socket, 503);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(result.node, ws));
  }

  private connected(node: string, ws: WebSocket): void {
    const session = this.session(node);
    const previous = session.link;
    const link = new Link(ws, session.outbox, session.inbox, (message) => this.dispatch(node, message), {
      heartbeat: this.heartbeat,
      resendAfterMs: this.options.resendAfterMs ?? 30_000,
      now: this.now,
      logger: this.logger.child({ node }),
      observer: this.metrics.observer(node),
    });
    session.link = link;
    // One connection per node (Sedna split messages between duplicates, §6 item 15); the newest
    // wins, since the older one is the likelier to be half-open.
    previous?.terminate('replaced by a newer connection');
    void link.closed.then(({ code, reason }) => this.disconnected(node, link, code, reason));
    link.start();
    this.logger.info({ node, pending: session.outbox.depth }, 'node connected');
    this.notifyConnected(node);
    link.flush();
  }

  private disconnected(node: string, link: Link, code: number, reason: string): void {
    const session = this.sessions.get(node);
    if (session?.link !== link) return; // replaced: the node is still connected
    session.link = undefined;
    this.logger.info({ node, code, reason, pending: session.outbox.depth }, 'node disconnected');
    for (const handler of [...this.disconnectedHandlers]) {
      try {
        handler(node, reason);
      } catch (err) {
        this.logger.error({ err, node }, 'onNodeDisconnected handler failed');
      }
    }
  }

  private notifyConnected(node: string): void {
    for (const handler of [...this.connectedHandlers]) {
      try {
        // Called directly, not from a promise callback, so its synchronous part runs before the flush.
        Promise.resolve(handler(node)).catch((err: unknown) => this.logger.error({ err, node }, 'onNodeConnected handler failed'));
      } catch (err) {
        this.logger.error({ err, node }, 'onNodeConnected handler failed');
      }
    }
  }

  private async dispatch(node: string, message: EdgeMessage): Promise<void> {
    const handler = this.handlers.get(message.header.resourceKind);
    if (!handler) {
      // Acknowledged and dropped: no handler will appear for it later in this process.
      this.logger.warn({ node, header: message.header }, 'no handler for this resource kind; message dropped');
      return;
    }
    await handler(node, message);
  }
}

/** The hub speaks only WebSocket. */
function answerPlainRequest(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(426, { Upgrade: 'websocket', Connection: 'Upgrade', 'Content-Type': 'text/plain' });
  res.end('Upgrade Required');
}
