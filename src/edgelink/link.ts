// One live connection between the GM and a node, the same code on both ends: it writes the
// sender's outbox, feeds received frames through the inbox to a dispatcher, acknowledges them, and
// runs the heartbeat. The outbox and inbox outlive it; a new connection gets a new Link.
//
// Heartbeat: each side pings every interval, and anything heard from the peer (a frame, a ping, a
// pong) proves it alive. Silence for longer than the timeout means the connection is half-open
// (a peer that vanished without a FIN, §6 item 16): the socket is terminated, which ends the link,
// and unacknowledged messages wait in the outbox for the next connection.
import type { RawData, WebSocket } from 'ws';
import type { DataFrame, EdgeMessage } from '../api/edge-protocol.ts';
import type { Logger } from '../lib/logger.ts';
import { decodeContent, parseFrame } from './frames.ts';
import type { Inbox, Receipt } from './inbox.ts';
import type { Outbox, OutboxEntry } from './outbox.ts';

export interface HeartbeatOptions {
  /** Between pings, and between checks for silence. */
  intervalMs: number;
  /** Silence after which the peer is declared gone. Detection takes at most timeout + interval. */
  timeoutMs: number;
}

export interface LinkOptions {
  heartbeat: HeartbeatOptions;
  /** An unacknowledged message is written again after this long (e.g. the peer's handler failed). */
  resendAfterMs: number;
  now: () => number;
  logger: Logger;
  observer?: LinkObserver;
}

/** Hooks for metrics. */
export interface LinkObserver {
  written?(entry: OutboxEntry): void;
  received?(frame: DataFrame, receipt: Receipt): void;
  heartbeatTimedOut?(): void;
}

/** Handles one decoded message; rejecting means "not processed, deliver again". */
export type Dispatch = (message: EdgeMessage) => Promise<void>;

export interface LinkClosed {
  code: number;
  reason: string;
}

export class Link {
  /** Settles once, when the socket has closed for any reason. */
  readonly closed: Promise<LinkClosed>;
  private lastHeard: number;
  private timer: NodeJS.Timeout | undefined;
  private closeReason: string | undefined;
  private readonly writer = (frame: DataFrame, entry: OutboxEntry): void => this.writeFrame(frame, entry);

  constructor(
    private readonly ws: WebSocket,
    private readonly outbox: Outbox,
    private readonly inbox: Inbox,
    private readonly dispatch: Dispatch,
    private readonly options: LinkOptions,
  ) {
    this.lastHeard = options.now();
    this.closed = new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        this.stop();
        resolve({ code, reason: this.closeReason ?? (reason.toString() || `connection lost (code ${code})`) });
      });
    });
    ws.on('error', (err) => options.logger.debug({ err }, 'edge link error'));
    ws.on('message', (data, isBinary) => this.onData(textOf(data), isBinary));
    ws.on('ping', () => this.heard());
    ws.on('pong', () => this.heard());
  }

  /** Starts the heartbeat. */
  start(): void {
    if (!this.open) return;
    this.timer = setInterval(() => this.tick(), this.options.heartbeat.intervalMs);
  }

  /**
   * Writes the outbox, then every message queued later. Separate from `start` so that the hub can
   * let the GM queue fresh states first, which then replace stale ones instead of following them.
   */
  flush(): void {
    if (this.ws.readyState === this.ws.OPEN) this.outbox.attach(this.writer);
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  /** Closes politely; the close handshake still ends in `closed`. */
  close(code: number, reason: string): void {
    this.closeReason ??= reason;
    this.ws.close(code, reason);
  }

  /** Closes politely, and drops the connection if the peer has not answered within `graceMs`. */
  async shutdown(code: number, reason: string, graceMs: number): Promise<void> {
    this.close(code, reason);
    const grace = setTimeout(() => this.terminate(reason), graceMs);
    await this.closed;
    clearTimeout(grace);
  }

  /** Drops the connection without a close handshake (a dead or replaced peer). */
  terminate(reason: string): void {
    this.closeReason ??= reason;
    this.ws.terminate();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.outbox.detach(this.writer);
  }

  private heard(): void {
    this.lastHeard = this.options.now();
  }

  private tick(): void {
    const now = this.options.now();
    if (now - this.lastHeard > this.options.heartbeat.timeoutMs) {
      this.options.observer?.heartbeatTimedOut?.();
      this.terminate(`no heartbeat for ${now - this.lastHeard} ms`);
      return;
    }
    this.ws.ping();
    this.outbox.resendWrittenBefore(now - this.options.resendAfterMs);
  }

  private writeFrame(frame: DataFrame, entry: OutboxEntry): void {
    if (!this.open) return; // stays unacknowledged; the next connection writes it again
    this.ws.send(JSON.stringify(frame));
    this.options.observer?.written?.(entry);
  }

  private onData(text: string, isBinary: boolean): void {
    this.heard();
    if (isBinary) return this.options.logger.warn('edge link: binary frame ignored');
    const parsed = parseFrame(text);
    if (parsed.type === 'ack') this.outbox.ack(parsed.id);
    else if (parsed.type === 'data') this.receive(parsed.frame);
    else if (parsed.type === 'invalid') this.options.logger.warn({ reason: parsed.reason }, 'edge link: invalid frame ignored');
  }

  private receive(frame: DataFrame): void {
    const ack = (id: number): void => {
      if (this.open) this.ws.send(JSON.stringify({ ack: id }));
    };
    void this.inbox.receive(frame, (f) => this.process(f), ack).then((receipt) => this.options.observer?.received?.(frame, receipt));
  }

  /** Decodes and dispatches; content that cannot be decoded will never decode, so it is dropped. */
  private async process(frame: DataFrame): Promise<void> {
    let content: unknown;
    try {
      content = decodeContent(frame.content);
    } catch (err) {
      this.options.logger.warn({ err, header: frame.header }, 'edge link: undecodable content dropped');
      return;
    }
    try {
      await this.dispatch({ header: frame.header, content });
    } catch (err) {
      this.options.logger.error({ err, header: frame.header, id: frame.id }, 'edge message handler failed; it will be delivered again');
      throw err;
    }
  }
}

/** ws hands over a Buffer with the default binaryType; the other shapes are handled all the same. */
function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return (Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
}
