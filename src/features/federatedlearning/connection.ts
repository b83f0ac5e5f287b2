// The training worker's WebSocket link to the aggregation server (protocol.ts). It connects
// through the SDK's service lookup (so `<svc>.<ns>` resolves on the embedded default too), retries
// until CONNECT_TIMEOUT, and — unlike Sedna, whose dropped socket raised — reconnects after a drop
// and subscribes again under the same id; an update the server may not have received is sent again.
import WebSocket from 'ws';
import { serviceLookup } from '../../lib/net/lookup.ts';
import type { ModelWeights } from '../../lib/weights.ts';
import { decodeFrame, encodeControl, ProtocolError, type ExitFlag, type Frame, type RawFrame, type SubscribeAckMessage } from './protocol.ts';

export type SubscribeAck = SubscribeAckMessage['data'];

/** A global model from the server: a round's aggregate, or the current one on (re)joining. */
export interface GlobalModel {
  round: number;
  weights: ModelWeights;
  exitFlag: ExitFlag;
  totalSample: number;
  clients: string[];
}

export interface AggregationConnectionOptions {
  /** `ws://host:port/{aggregation}`. */
  url: string;
  clientId: string;
  jobName: string;
  token?: string;
  /** How long (re)connecting may take before giving up. */
  connectTimeoutMs: number;
  maxPayloadBytes?: number;
  /** The server refused a frame (stale round, bad shapes, …). */
  onServerError?: (message: string) => void;
}

interface GlobalWaiter {
  afterRound: number;
  resolve: (model: GlobalModel) => void;
  reject: (error: Error) => void;
}

/** The server refused us (401/404) or another instance took our id: retrying cannot help. */
class FatalConnectionError extends Error {}

const ATTEMPT_TIMEOUT_MS = 5000;
const FIRST_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 3000;
const DEFAULT_MAX_PAYLOAD = 256 * 1024 * 1024;
/** The server closes a connection with this code when the same id subscribed again elsewhere. */
export const REPLACED_CLOSE_CODE = 4000;

export class AggregationConnection {
  /** Bytes of every weights frame sent, resends included. */
  bytesSent = 0;
  /** Connections opened (1 + reconnects). */
  connections = 0;
  private socket: WebSocket | undefined;
  private latest: GlobalModel | undefined;
  private pending: { round: number; frame: Buffer } | undefined;
  private readonly waiters: GlobalWaiter[] = [];
  private awaitingAck: ((ack: SubscribeAck) => void) | undefined;
  private closed = false;
  private failure: Error | undefined;

  constructor(private readonly options: AggregationConnectionOptions) {}

  /** Connects and subscribes; answers the server's acknowledgement. */
  open(): Promise<SubscribeAck> {
    return this.connectWithRetry();
  }

  /** The newest global model received so far. */
  get latestGlobal(): GlobalModel | undefined {
    return this.latest;
  }

  /** Sends this round's update; kept until a newer global arrives, to resend after a reconnect. */
  async sendUpdate(round: number, frame: Buffer): Promise<void> {
    this.pending = { round, frame };
    const socket = this.socket;
    if (socket?.readyState !== WebSocket.OPEN) return; // the reconnect sends it
    await this.sendFrame(socket, frame);
  }

  /** Resolves with the first global model newer than `afterRound` (or the final one). */
  nextGlobal(afterRound: number): Promise<GlobalModel> {
    if (this.latest && (this.latest.round > afterRound || this.latest.exitFlag === 'ok')) return Promise.resolve(this.latest);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ afterRound, resolve, reject }));
  }

  close(): void {
    this.closed = true;
    this.socket?.close(1000, 'training finished');
    this.socket = undefined;
  }

  private sendFrame(socket: WebSocket, frame: Buffer): Promise<void> {
    this.bytesSent += frame.length;
    return new Promise((resolve) => socket.send(frame, { binary: true }, () => resolve()));
  }

  // ---- connecting -------------------------------------------------------------------------------

  private async connectWithRetry(): Promise<SubscribeAck> {
    const deadline = Date.now() + this.options.connectTimeoutMs;
    let backoff = FIRST_BACKOFF_MS;
    for (;;) {
      try {
        return await this.connectOnce();
      } catch (error) {
        if (error instanceof FatalConnectionError || this.closed) throw error;
        if (Date.now() + backoff > deadline) {
          throw new Error(`cannot reach the aggregation server at ${this.options.url} within ${this.options.connectTimeoutMs / 1000} s: ${(error as Error).message}`);
        }
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
      }
    }
  }

  private connectOnce(): Promise<SubscribeAck> {
    const headers: Record<string, string> = this.options.token ? { authorization: `Bearer ${this.options.token}` } : {};
    const socket = new WebSocket(this.options.url, {
      headers,
      handshakeTimeout: ATTEMPT_TIMEOUT_MS,
      maxPayload: this.options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD,
      perMessageDeflate: false,
      lookup: serviceLookup,
    });
    return new Promise<SubscribeAck>((resolve, reject) => {
      const fail = (error: Error): void => {
        this.awaitingAck = undefined;
        // terminate() on a connecting socket emits one more error; it is this same failure.
        socket.removeAllListeners('error');
        socket.on('error', () => undefined);
        socket.terminate();
        reject(error);
      };
      const timer = setTimeout(() => fail(new Error(`no subscribe_ack within ${ATTEMPT_TIMEOUT_MS} ms`)), ATTEMPT_TIMEOUT_MS * 2);
      socket.once('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        const status = res.statusCode ?? 0;
        res.resume();
        const error = `the aggregation server at ${this.options.url} refused the connection: HTTP ${status}`;
        fail(status === 401 || status === 404 ? new FatalConnectionError(error) : new Error(error));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        fail(error);
      });
      socket.once('open', () => socket.send(encodeControl({ type: 'subscribe', client_id: this.options.clientId, client: this.options.clientId, job_name: this.options.jobName })));
      socket.on('message', (raw: RawFrame, isBinary: boolean) => this.receive(raw, isBinary));
      this.awaitingAck = (ack) => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.on('error', () => socket.terminate());
        socket.on('close', (code) => this.onClose(socket, code));
        this.adopt(socket, ack);
        resolve(ack);
      };
    });
  }

  /** The subscribed socket becomes the live one; an update the server may have missed goes again. */
  private adopt(socket: WebSocket, ack: SubscribeAck): void {
    this.awaitingAck = undefined;
    this.socket = socket;
    this.connections += 1;
    if (this.pending && ack.round < this.pending.round && this.latest?.exitFlag !== 'ok') void this.sendFrame(socket, this.pending.frame);
  }

  private onClose(socket: WebSocket, code: number): void {
    if (this.socket !== socket || this.closed) return;
    this.socket = undefined;
    if (code === REPLACED_CLOSE_CODE) return this.failWaiters(new Error(`another worker subscribed as ${this.options.clientId}; this one stops`));
    this.connectWithRetry().catch((error: Error) => this.failWaiters(error));
  }

  private failWaiters(error: Error): void {
    this.failure = error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  // ---- receiving --------------------------------------------------------------------------------

  private receive(raw: RawFrame, isBinary: boolean): void {
    let frame: Frame;
    try {
      frame = decodeFrame(raw, isBinary);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.options.onServerError?.(`unreadable frame from the server: ${error.message}`);
      return;
    }
    if (frame.kind === 'control') {
      if (frame.message.type === 'subscribe_ack') this.awaitingAck?.(frame.message.data);
      else if (frame.message.type === 'error') this.options.onServerError?.(frame.message.data.message);
      return; // CLIENT_JOIN and echoes need nothing
    }
    if (frame.header.type === 'update_weight') return;
    const { data } = frame.header;
    this.acceptGlobal({ round: data.round_number, weights: frame.weights, exitFlag: data.exit_flag, totalSample: data.total_sample, clients: data.clients });
  }

  private acceptGlobal(model: GlobalModel): void {
    if (this.latest && model.round < this.latest.round) return;
    this.latest = model;
    if (this.pending && model.round >= this.pending.round) this.pending = undefined;
    const ready = this.waiters.filter((w) => model.round > w.afterRound || model.exitFlag === 'ok');
    for (const waiter of ready) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(model);
    }
  }
}
