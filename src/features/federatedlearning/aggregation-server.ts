// The aggregation worker's server (spec lib.md §8.2, `AggregationServer`): training workers
// subscribe on WebSocket `/{aggregation}`, send their weights each round, and get the aggregate.
//
// Where this differs from Sedna, on purpose:
// - weights travel as binary frames (protocol.ts), with a large configurable message cap instead of
//   Sedna's 10/16 MiB;
// - a round does not wait forever for a client that died: it closes when every expected client
//   sent its update, or `roundDeadlineSeconds` after the round's first update once a quorum
//   (`minClients`) is in; a client that disconnects leaves the round's expected set;
// - a client that subscribes again with the same id (a restarted pod) replaces its old connection
//   and is sent the current round and global weights, so it rejoins instead of failing;
// - callers need the job's bearer token (AGG_TOKEN), or, with no token, must be on loopback;
// - a bad frame gets an error message back; it never crashes the server or drops other updates;
// - training may stop early on convergence (relative L2 change of the global weights);
// - with a checkpoint folder (AGG_CHECKPOINT_DIR; the GM gives one) every round is saved before
//   its aggregate is sent (checkpoint.ts), and a restarted server resumes from it: trainers that
//   reconnect go on from the current round, and a server restarted after the final round is done
//   at once. A checkpoint of another job (JOB_UID) or algorithm is ignored and overwritten.
import { appendFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { getParameter, numberParameter, optionalNumberParameter, type Env } from '../../lib/context.ts';
import { aggregationNameFromEnv, createAggregation, parseAggregationParameters, type AggregationStrategy, type ClientUpdate } from '../../lib/aggregation/index.ts';
import { listenAddress } from '../../lib/net/bind.ts';
import { bearerToken, tokenMatches } from '../../lib/token-match.ts';
import { readCheckpoint, writeCheckpoint, type AggregatorCheckpoint } from './checkpoint.ts';
import { encodeWeights, sameShapes, type ModelWeights } from '../../lib/weights.ts';
import { listen } from '../../lib/net/listen.ts';
import { isLoopback } from '../../lib/net/loopback.ts';
import {
  decodeFrame,
  encodeControl,
  encodeWeightsFrameFromBytes,
  ProtocolError,
  type ControlMessage,
  type ExitFlag,
  type GlobalRoundData,
  type RawFrame,
  type UpdateWeightHeader,
} from './protocol.ts';

export interface AggregationServerOptions {
  /** Algorithm and route name; default env `aggregation_algorithm`, else FedAvg. */
  aggregation?: string;
  /** Default createAggregation(aggregation, env `aggregation_parameters` as a JSON object). */
  strategy?: AggregationStrategy;
  /** Rounds to run; default env `exit_round`, else 3. */
  exitRound?: number;
  /** Training workers expected each round; default env `participants_count`/`PARTICIPANTS_COUNT`, else 1. */
  participantsCount?: number;
  /** Default env `round_deadline_seconds`, else 60. */
  roundDeadlineSeconds?: number;
  /** Quorum for closing a round at the deadline; default env `min_clients`, else ceil(participants / 2). */
  minClients?: number;
  /** Stop early when the global weights' relative L2 change falls below this; default env `convergence_tolerance`, else off. */
  convergenceTolerance?: number;
  /** Bearer token clients must present; default env AGG_TOKEN; none → loopback callers only. */
  token?: string;
  /** Default env AGG_BIND_IP, else 127.0.0.1. */
  host?: string;
  /** Default the kubelet's port for AGG_BIND_PORT (7363); 0 picks a free one. */
  port?: number;
  /** Largest frame accepted; default env AGG_MAX_PAYLOAD_BYTES, else 256 MiB. */
  maxPayloadBytes?: number;
  /** The global model before round 1 (sent to subscribers); default none. */
  initialWeights?: ModelWeights;
  /** Sent as `job_name`; default env JOB_NAME, else sedna. */
  jobName?: string;
  /** One line per round; default console.log. */
  log?: (line: string) => void;
  /** Called after each round with its summary and the new global model (e.g. to evaluate it); rounds go on while it runs. */
  onRound?: (summary: RoundSummary, weights: ModelWeights) => void | Promise<void>;
  /** Appends one JSON line per round; default env ROUND_METRICS_FILE. */
  roundMetricsFile?: string;
  /** Where each round is checkpointed and resumed from; default env AGG_CHECKPOINT_DIR, else none. */
  checkpointDir?: string;
  /** The job's uid, so a checkpoint of a deleted job of the same name is never resumed; default env JOB_UID. */
  jobUid?: string;
  env?: Env;
}

export interface RoundSummary {
  round: number;
  /** Ids whose updates were aggregated, sorted. */
  clients: string[];
  samples: number;
  /** Bytes of the update frames aggregated. */
  bytesIn: number;
  /** Bytes of the recv_weight frames sent (one per connected client). */
  bytesOut: number;
  /** L2 norm of (new global − previous global); null in a first round without initial weights. */
  weightChange: number | null;
  /** weightChange / ‖previous global‖; null when undefined. */
  relativeChange: number | null;
  exitFlag: ExitFlag;
  /** Why the round closed. */
  closedBy: 'all' | 'deadline';
  durationMs: number;
}

interface StoredUpdate extends ClientUpdate {
  bytes: number;
}

interface ClientConnection {
  id: string;
  socket: WebSocket;
}

const DEFAULT_PORT = 7363;
const DEFAULT_MAX_PAYLOAD = 256 * 1024 * 1024;

export class AggregationServer {
  readonly aggregation: string;
  readonly exitRound: number;
  readonly participantsCount: number;
  readonly roundDeadlineSeconds: number;
  readonly minClients: number;
  readonly convergenceTolerance: number | undefined;
  /** Completed rounds, oldest first. */
  readonly rounds: RoundSummary[] = [];
  /** Resolves with every round's summary once the last round was broadcast. */
  readonly done: Promise<RoundSummary[]>;
  /** The round a checkpoint resumed (0 for a fresh start). */
  readonly resumedRound: number;

  private readonly strategy: AggregationStrategy;
  private readonly token: string | undefined;
  private readonly jobName: string;
  private readonly maxPayloadBytes: number;
  private readonly log: (line: string) => void;
  private readonly onRound: AggregationServerOptions['onRound'];
  private readonly roundMetricsFile: string | undefined;
  private readonly checkpointDir: string | undefined;
  private readonly jobUid: string | undefined;
  private readonly clients = new Map<string, ClientConnection>();
  /** Clients that disconnected and have not come back: no longer expected. */
  private readonly dropped = new Set<string>();
  private readonly updates = new Map<string, StoredUpdate>();
  private globalWeights: ModelWeights | undefined;
  private globalData: GlobalRoundData | undefined;
  private round = 0;
  private finished = false;
  private roundStartedAt: number | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private deadlinePassed = false;
  private resolveDone!: (rounds: RoundSummary[]) => void;
  private http: Server | undefined;
  private wss: WebSocketServer | undefined;

  constructor(private readonly options: AggregationServerOptions = {}) {
    const env = options.env ?? process.env;
    this.aggregation = options.aggregation ?? aggregationNameFromEnv(env);
    this.strategy = options.strategy ?? createAggregation(this.aggregation, parametersFromEnv(env));
    this.exitRound = Math.max(1, options.exitRound ?? numberParameter('exit_round', 3, env, { integer: true, min: 1 }));
    this.participantsCount = options.participantsCount ?? numberParameter('participants_count', 1, env, { integer: true, min: 1 });
    this.roundDeadlineSeconds = options.roundDeadlineSeconds ?? numberParameter('round_deadline_seconds', 60, env, { min: 0 });
    this.minClients = options.minClients ?? numberParameter('min_clients', Math.ceil(this.participantsCount / 2), env, { integer: true, min: 1 });
    this.convergenceTolerance = options.convergenceTolerance ?? optionalNumberParameter('convergence_tolerance', env, { min: 0 });
    this.token = options.token ?? (env.AGG_TOKEN || undefined);
    this.jobName = options.jobName ?? getParameter('JOB_NAME', 'sedna', env)!;
    this.maxPayloadBytes = options.maxPayloadBytes ?? numberParameter('AGG_MAX_PAYLOAD_BYTES', DEFAULT_MAX_PAYLOAD, env, { integer: true, min: 1 });
    this.log = options.log ?? ((line) => console.log(line));
    this.roundMetricsFile = options.roundMetricsFile ?? (env.ROUND_METRICS_FILE || undefined);
    this.globalWeights = options.initialWeights;
    // Subscribers get the initial model at once, so every client starts round 1 from it.
    if (options.initialWeights) this.globalData = { total_sample: 0, round_number: 0, exit_flag: 'continue', clients: [] };
    this.onRound = options.onRound;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.checkpointDir = options.checkpointDir ?? (env.AGG_CHECKPOINT_DIR || undefined);
    this.jobUid = options.jobUid ?? (env.JOB_UID || undefined);
    this.resumedRound = this.resume();
  }

  /** Takes up the checkpoint of this job, if any; answers the round it resumes. */
  private resume(): number {
    if (!this.checkpointDir) return 0;
    const checkpoint = readCheckpoint<RoundSummary>(this.checkpointDir);
    if (!checkpoint) return 0;
    const other = this.notOurs(checkpoint);
    if (other) {
      this.log(`aggregation: checkpoint in ${this.checkpointDir} ignored (${other}); starting at round 0`);
      return 0;
    }
    if (checkpoint.strategyState) {
      if (!this.strategy.importState) throw new Error(`aggregation: the checkpoint holds optimiser state but ${this.aggregation} cannot take it back`);
      this.strategy.importState(checkpoint.strategyState);
    }
    this.round = checkpoint.round;
    this.globalWeights = checkpoint.weights;
    this.globalData = checkpoint.globalData;
    this.rounds.push(...checkpoint.rounds);
    this.log(`aggregation: resumed from the checkpoint after round ${this.round}${checkpoint.globalData.exit_flag === 'ok' ? ' (training was over)' : ''}`);
    if (checkpoint.globalData.exit_flag === 'ok') this.complete();
    return this.round;
  }

  /** Why a checkpoint belongs to another job or algorithm, or undefined when it is this one's. */
  private notOurs(checkpoint: AggregatorCheckpoint<RoundSummary>): string | undefined {
    if (checkpoint.jobName !== this.jobName) return `it is job ${checkpoint.jobName}'s`;
    if (checkpoint.jobUid !== this.jobUid) return `it is of job uid ${checkpoint.jobUid ?? 'unknown'}, this is ${this.jobUid ?? 'unknown'}`;
    if (checkpoint.aggregation !== this.aggregation) return `it was made by ${checkpoint.aggregation}, this server runs ${this.aggregation}`;
    return undefined;
  }

  /** Listens; resolves with the port. */
  async start(): Promise<number> {
    const env = this.options.env ?? process.env;
    const wss = new WebSocketServer({ noServer: true, maxPayload: this.maxPayloadBytes, perMessageDeflate: false });
    const http = createServer((_req, res) => res.writeHead(426, { 'content-type': 'text/plain' }).end(`connect with a WebSocket to /${this.aggregation}\n`));
    http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(wss, req, socket, head));
    http.on('clientError', (_error, socket) => socket.destroy());
    wss.on('connection', (socket: WebSocket) => this.accept(socket));
    const host = this.options.host ?? getParameter('AGG_BIND_IP', '127.0.0.1', env)!;
    const port = this.options.port ?? listenAddress(numberParameter('AGG_BIND_PORT', DEFAULT_PORT, env, { integer: true, min: 0 }), env);
    await listen(http, port, host);
    this.http = http;
    this.wss = wss;
    return this.port;
  }

  get port(): number {
    return (this.http?.address() as AddressInfo | null)?.port ?? 0;
  }

  /** Rounds completed so far. */
  get currentRound(): number {
    return this.round;
  }

  get connectedClients(): string[] {
    return [...this.clients.keys()].sort();
  }

  /** The current global model (undefined before round 1 without initial weights). */
  get weights(): ModelWeights | undefined {
    return this.globalWeights;
  }

  /** After the last round: waits until every client left, at most `graceMs`, then stops. */
  async finish(graceMs = 5000): Promise<void> {
    await this.done;
    const deadline = Date.now() + graceMs;
    while (this.clients.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    await this.stop();
  }

  async stop(): Promise<void> {
    clearTimeout(this.deadlineTimer);
    const { http, wss } = this;
    this.http = undefined;
    this.wss = undefined;
    for (const client of wss?.clients ?? []) client.terminate();
    wss?.close();
    if (!http) return;
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  }

  // ---- connections ------------------------------------------------------------------------------

  private upgrade(wss: WebSocketServer, req: IncomingMessage, socket: Socket, head: Buffer): void {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    if (path !== `/${this.aggregation}`) return refuseUpgrade(socket, 404, `no route ${path}; the aggregation route is /${this.aggregation}`);
    const refusal = this.authenticate(req);
    if (refusal) return refuseUpgrade(socket, 401, refusal);
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  }

  /** Why the caller is refused, or undefined. */
  private authenticate(req: IncomingMessage): string | undefined {
    if (this.token === undefined) return isLoopback(req.socket.remoteAddress) ? undefined : 'this aggregation server takes loopback callers only (no AGG_TOKEN is set)';
    return tokenMatches(bearerToken(req.headers.authorization) ?? '', this.token) ? undefined : 'missing or wrong bearer token';
  }

  private accept(socket: WebSocket): void {
    let clientId: string | undefined;
    socket.on('message', (raw: RawFrame, isBinary: boolean) => {
      try {
        clientId = this.handleFrame(socket, clientId, raw, isBinary);
      } catch (error) {
        // A bad frame costs its sender an error message, never the server or the round.
        const message = error instanceof ProtocolError ? error.message : `server error: ${(error as Error).message}`;
        if (!(error instanceof ProtocolError)) this.log(`aggregation: ${message}`);
        sendControl(socket, { type: 'error', data: { message } });
      }
    });
    socket.on('close', () => {
      if (clientId !== undefined) this.disconnect(clientId, socket);
    });
    socket.on('error', () => socket.terminate());
  }

  /** Handles one frame; answers the connection's client id. */
  private handleFrame(socket: WebSocket, clientId: string | undefined, raw: RawFrame, isBinary: boolean): string | undefined {
    const frame = decodeFrame(raw, isBinary);
    if (frame.kind === 'control') {
      if (frame.message.type !== 'subscribe') throw new ProtocolError(`the server takes subscribe and update_weight messages, not ${frame.message.type}`);
      this.subscribe(socket, frame.message.client_id);
      return frame.message.client_id;
    }
    if (clientId === undefined) throw new ProtocolError('subscribe first: this connection has no client id');
    if (frame.header.type !== 'update_weight') throw new ProtocolError(`the server takes update_weight frames, not ${frame.header.type}`);
    this.receiveUpdate(clientId, frame.header, frame.weights, toByteLength(raw));
    return clientId;
  }

  private subscribe(socket: WebSocket, id: string): void {
    const previous = this.clients.get(id);
    // A restarted worker: its new connection replaces the old one, which may not have closed yet.
    if (previous && previous.socket !== socket) previous.socket.close(4000, 'replaced by a new connection with the same client id');
    for (const other of this.clients.values()) if (other.id !== id) sendControl(other.socket, { type: 'CLIENT_JOIN', data: id });
    this.clients.set(id, { id, socket });
    this.dropped.delete(id);
    sendControl(socket, { type: 'subscribe_ack', data: this.ackData(id) });
    if (this.globalWeights && this.globalData) {
      const header = { type: 'global_weight' as const, job_name: this.jobName, round_number: this.round, data: this.globalData };
      socket.send(encodeWeightsFrameFromBytes(header, encodeWeights(this.globalWeights)), { binary: true });
    }
  }

  private ackData(id: string): Extract<ControlMessage, { type: 'subscribe_ack' }>['data'] {
    const mu = (this.strategy as { proximalMu?: unknown }).proximalMu;
    return {
      client_id: id,
      round: this.round,
      exit_round: this.exitRound,
      participants: this.participantsCount,
      has_weights: this.globalWeights !== undefined && this.globalData !== undefined,
      ...(typeof mu === 'number' ? { proximal_mu: mu } : {}),
    };
  }

  private disconnect(id: string, socket: WebSocket): void {
    // The close of a connection that a rejoin already replaced changes nothing.
    if (this.clients.get(id)?.socket !== socket) return;
    this.clients.delete(id);
    this.dropped.add(id);
    this.closeRoundIfReady();
  }

  // ---- rounds -----------------------------------------------------------------------------------

  private receiveUpdate(id: string, header: UpdateWeightHeader, weights: ModelWeights, bytes: number): void {
    if (this.finished) throw new ProtocolError(`training finished after round ${this.round}; no more updates are taken`);
    const expectedRound = this.round + 1;
    if (header.data.round !== expectedRound) throw new ProtocolError(`update for round ${header.data.round} refused: the current round is ${expectedRound}`);
    const reference = this.globalWeights ?? this.updates.values().next().value?.weights;
    if (reference && !sameShapes(reference, weights)) {
      throw new ProtocolError(`update_weight shapes ${describeShapes(weights)} differ from the global model's ${describeShapes(reference)}`);
    }
    this.updates.set(id, { weights, numSamples: header.data.num_samples, client: id, bytes });
    if (this.updates.size === 1) this.startDeadline();
    this.closeRoundIfReady();
  }

  private startDeadline(): void {
    this.roundStartedAt = Date.now();
    this.deadlinePassed = false;
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(() => {
      this.deadlinePassed = true;
      this.closeRoundIfReady();
    }, this.roundDeadlineSeconds * 1000);
    this.deadlineTimer.unref();
  }

  /** Closes the round when every expected client is in, or at the deadline with a quorum. */
  private closeRoundIfReady(): void {
    if (this.finished || this.updates.size === 0) return;
    const quorum = this.updates.size >= this.minClients;
    if (this.allExpectedIn()) return this.closeRound('all');
    if (this.deadlinePassed && quorum) this.closeRound('deadline');
  }

  private allExpectedIn(): boolean {
    if (this.updates.size >= this.participantsCount) return true;
    // Fewer than the job's participants: only when the missing ones dropped out and the rest are in.
    const connectedWithoutUpdate = [...this.clients.keys()].some((id) => !this.updates.has(id));
    const expected = Math.max(this.minClients, this.participantsCount - this.dropped.size);
    return !connectedWithoutUpdate && this.updates.size >= expected;
  }

  private closeRound(closedBy: RoundSummary['closedBy']): void {
    clearTimeout(this.deadlineTimer);
    const contributors = [...this.updates.keys()].sort();
    const updates = contributors.map((id) => this.updates.get(id)!);
    this.updates.clear();
    const previous = this.globalWeights;
    const next = this.strategy.aggregate(previous, updates);
    this.round += 1;
    const change = weightChange(previous, next);
    const converged = this.convergenceTolerance !== undefined && change.relative !== null && change.relative < this.convergenceTolerance;
    const exitFlag: ExitFlag = this.round >= this.exitRound || converged ? 'ok' : 'continue';
    const samples = updates.reduce((sum, update) => sum + update.numSamples, 0);
    this.globalWeights = next;
    this.globalData = { total_sample: samples, round_number: this.round, exit_flag: exitFlag, clients: contributors };
    const frame = this.roundFrame(next, this.globalData);
    const summary: RoundSummary = {
      round: this.round,
      clients: contributors,
      samples,
      bytesIn: updates.reduce((sum, update) => sum + update.bytes, 0),
      // One frame per connected client, counted before it goes, so the checkpoint holds it.
      bytesOut: frame.length * this.clients.size,
      weightChange: change.absolute,
      relativeChange: change.relative,
      exitFlag,
      closedBy,
      durationMs: Date.now() - (this.roundStartedAt ?? Date.now()),
    };
    this.rounds.push(summary);
    // Durable before any trainer sees the round: no trainer is ever ahead of the checkpoint.
    this.saveCheckpoint();
    for (const client of this.clients.values()) client.socket.send(frame, { binary: true });
    this.record(summary);
    this.reportRound(summary, next);
    if (exitFlag === 'ok') this.complete();
  }

  /** A failed write (a full disk) is logged, not fatal: training goes on, only resuming suffers. */
  private saveCheckpoint(): void {
    if (!this.checkpointDir || !this.globalWeights || !this.globalData) return;
    try {
      this.writeCheckpoint(this.checkpointDir);
    } catch (error) {
      this.log(`aggregation: checkpoint of round ${this.round} in ${this.checkpointDir} failed: ${(error as Error).message}`);
    }
  }

  private writeCheckpoint(dir: string): void {
    writeCheckpoint<RoundSummary>(dir, {
      jobUid: this.jobUid,
      jobName: this.jobName,
      aggregation: this.aggregation,
      round: this.round,
      globalData: this.globalData!,
      rounds: this.rounds,
      weights: this.globalWeights!,
      strategyState: this.strategy.exportState?.(),
    });
  }

  /** The round's aggregate as the frame every client gets. */
  private roundFrame(weights: ModelWeights, data: GlobalRoundData): Buffer {
    const header = { type: 'recv_weight' as const, job_name: this.jobName, round_number: data.round_number, data };
    return encodeWeightsFrameFromBytes(header, encodeWeights(weights));
  }

  private record(summary: RoundSummary): void {
    this.log(`round ${summary.round}: clients ${summary.clients.join(',')} samples ${summary.samples} weights-bytes ${summary.bytesIn}`);
    if (this.roundMetricsFile) appendFileSync(this.roundMetricsFile, `${JSON.stringify(summary)}\n`);
  }

  /** The onRound hook; its failure is logged, never fatal to the aggregation. */
  private reportRound(summary: RoundSummary, weights: ModelWeights): void {
    if (!this.onRound) return;
    Promise.resolve()
      .then(() => this.onRound!(summary, weights))
      .catch((error: unknown) => this.log(`aggregation: onRound hook for round ${summary.round} failed: ${(error as Error).message}`));
  }

  private complete(): void {
    this.finished = true;
    this.resolveDone([...this.rounds]);
  }
}

// ---- helpers ------------------------------------------------------------------------------------

function weightChange(previous: ModelWeights | undefined, next: ModelWeights): { absolute: number | null; relative: number | null } {
  if (!previous) return { absolute: null, relative: null };
  let diff = 0;
  let base = 0;
  for (let l = 0; l < next.length; l++) {
    const a = previous[l]!.data;
    const b = next[l]!.data;
    for (let i = 0; i < b.length; i++) {
      const d = b[i]! - a[i]!;
      diff += d * d;
      base += a[i]! * a[i]!;
    }
  }
  const absolute = Math.sqrt(diff);
  return { absolute, relative: base > 0 ? absolute / Math.sqrt(base) : null };
}

function describeShapes(weights: ModelWeights): string {
  return `[${weights.map((layer) => `[${layer.shape.join(',')}]`).join(', ')}]`;
}

function toByteLength(raw: RawFrame): number {
  if (Array.isArray(raw)) return raw.reduce((sum, chunk) => sum + chunk.length, 0);
  return raw.byteLength;
}

function sendControl(socket: WebSocket, message: ControlMessage): void {
  if (socket.readyState === socket.OPEN) socket.send(encodeControl(message));
}

function refuseUpgrade(socket: Socket, status: 401 | 404, reason: string): void {
  const text = status === 401 ? 'Unauthorized' : 'Not Found';
  const body = `${reason}\n`;
  socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}


/** `aggregation_parameters` (or upper case): a JSON object {key: value}. */
function parametersFromEnv(env: Env): Record<string, string> {
  const variable = env.aggregation_parameters === undefined ? 'AGGREGATION_PARAMETERS' : 'aggregation_parameters';
  return parseAggregationParameters(env[variable], variable);
}

