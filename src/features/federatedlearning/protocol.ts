// The federated-learning wire protocol between training workers and the aggregation server
// (spec lib.md §8.2, with binary weights). Route: WebSocket `/{aggregation name}`.
// - Control messages are JSON text frames in Sedna's envelope `{type, client, data, job_name}`.
// - Messages that carry weights are BINARY frames: uint32 LE header length, the JSON header
//   (the same envelope without the weights), then `encodeWeights(...)`. The header is padded with
//   spaces so the weights start 4-byte aligned and decode into Float32Array views without a copy.
// Every decode validates and throws a ProtocolError naming the field at fault.
import { decodeWeights, encodeWeights, type ModelWeights } from '../../lib/weights.ts';

export type ExitFlag = 'ok' | 'continue';

/** client → server: register (or re-register after a restart) under `client_id` (WORKER_NAME). */
export interface SubscribeMessage {
  type: 'subscribe';
  client_id: string;
  client?: string;
  job_name?: string;
}

/** server → client: the answer to subscribe; a `global_weight` frame follows when `has_weights`. */
export interface SubscribeAckMessage {
  type: 'subscribe_ack';
  data: {
    client_id: string;
    /** Rounds completed so far: the client trains round `round + 1` next. */
    round: number;
    exit_round: number;
    participants: number;
    has_weights: boolean;
    /** FedProx's μ, when the server's strategy has one. */
    proximal_mu?: number;
  };
}

/** server → already connected clients: another client joined (as Sedna). */
export interface ClientJoinMessage {
  type: 'CLIENT_JOIN';
  data: string;
}

/** server → client: a frame was refused; the connection stays open. */
export interface ErrorMessage {
  type: 'error';
  data: { message: string };
}

export type ControlMessage = SubscribeMessage | SubscribeAckMessage | ClientJoinMessage | ErrorMessage;

/** client → server: the client's locally trained weights for `round`. */
export interface UpdateWeightHeader {
  type: 'update_weight';
  client: string;
  job_name: string;
  data: { num_samples: number; round: number; metrics?: Record<string, number> };
}

export interface GlobalRoundData {
  total_sample: number;
  round_number: number;
  exit_flag: ExitFlag;
  /** The ids whose updates were aggregated. */
  clients: string[];
}

/** server → every client: the aggregate of a round. */
export interface RecvWeightHeader {
  type: 'recv_weight';
  job_name: string;
  round_number: number;
  data: GlobalRoundData;
}

/** server → one (re)joining client: the current global weights. */
export interface GlobalWeightHeader {
  type: 'global_weight';
  job_name: string;
  round_number: number;
  data: GlobalRoundData;
}

export type WeightsHeader = UpdateWeightHeader | RecvWeightHeader | GlobalWeightHeader;

export type Frame = { kind: 'control'; message: ControlMessage } | { kind: 'weights'; header: WeightsHeader; weights: ModelWeights };

/** A frame that breaks the protocol; the message says which field or byte range. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

const HEADER_LENGTH_BYTES = 4;
/** A header bigger than this is not a header: the frame is garbage or hostile. */
const MAX_HEADER_BYTES = 1024 * 1024;

// ---- encoding ---------------------------------------------------------------------------------

export function encodeControl(message: ControlMessage): string {
  return JSON.stringify(message);
}

/** header length, padded JSON header, weights: one Buffer ready for `ws.send(…, {binary: true})`. */
export function encodeWeightsFrame(header: WeightsHeader, weights: ModelWeights): Buffer {
  return encodeWeightsFrameFromBytes(header, encodeWeights(weights));
}

/** As encodeWeightsFrame, for weights already encoded (a broadcast encodes once). */
export function encodeWeightsFrameFromBytes(header: WeightsHeader, encodedWeights: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padding = (4 - ((HEADER_LENGTH_BYTES + json.length) % 4)) % 4;
  const headerLength = json.length + padding;
  const frame = Buffer.allocUnsafe(HEADER_LENGTH_BYTES + headerLength + encodedWeights.length);
  frame.writeUInt32LE(headerLength, 0);
  json.copy(frame, HEADER_LENGTH_BYTES);
  frame.fill(0x20, HEADER_LENGTH_BYTES + json.length, HEADER_LENGTH_BYTES + headerLength);
  frame.set(encodedWeights, HEADER_LENGTH_BYTES + headerLength);
  return frame;
}

// ---- decoding ---------------------------------------------------------------------------------

/** What `ws` hands a 'message' listener. */
export type RawFrame = Buffer | ArrayBuffer | Buffer[];

export function toBuffer(raw: RawFrame): Buffer {
  if (Array.isArray(raw)) return Buffer.concat(raw);
  if (raw instanceof ArrayBuffer) return Buffer.from(raw);
  return raw;
}

/** Decodes and validates one frame, text or binary. */
export function decodeFrame(raw: RawFrame, isBinary: boolean): Frame {
  const bytes = toBuffer(raw);
  if (!isBinary) return { kind: 'control', message: parseControl(bytes.toString('utf8')) };
  const { header, weights } = splitWeightsFrame(bytes);
  return { kind: 'weights', header, weights };
}

export function parseControl(text: string): ControlMessage {
  const message = parseJsonObject(text, 'text frame');
  switch (message.type) {
    case 'subscribe':
      return validateSubscribe(message);
    case 'subscribe_ack':
      return validateSubscribeAck(message);
    case 'CLIENT_JOIN':
      requireString(message, 'data', 'CLIENT_JOIN');
      return message as unknown as ClientJoinMessage;
    case 'error':
      requireString(objectField(message, 'data', 'error'), 'message', 'error.data');
      return message as unknown as ErrorMessage;
    case 'update_weight':
    case 'recv_weight':
    case 'global_weight':
      throw new ProtocolError(`a ${message.type} message carries weights and must be a binary frame, not text`);
    default:
      throw new ProtocolError(`unknown message type ${JSON.stringify(message.type)} (field "type")`);
  }
}

function splitWeightsFrame(bytes: Buffer): { header: WeightsHeader; weights: ModelWeights } {
  if (bytes.length < HEADER_LENGTH_BYTES) throw new ProtocolError(`binary frame of ${bytes.length} bytes is shorter than its 4-byte header length`);
  const headerLength = bytes.readUInt32LE(0);
  if (headerLength > MAX_HEADER_BYTES) throw new ProtocolError(`binary frame declares a header of ${headerLength} bytes (more than ${MAX_HEADER_BYTES}): not a weights frame`);
  const weightsStart = HEADER_LENGTH_BYTES + headerLength;
  if (weightsStart > bytes.length) throw new ProtocolError(`binary frame truncated: header of ${headerLength} bytes declared, ${bytes.length - HEADER_LENGTH_BYTES} present`);
  const header = validateWeightsHeader(parseJsonObject(bytes.toString('utf8', HEADER_LENGTH_BYTES, weightsStart), 'binary frame header'));
  let weights: ModelWeights;
  try {
    weights = decodeWeights(bytes.subarray(weightsStart));
  } catch (error) {
    throw new ProtocolError(`${header.type} weights: ${(error as Error).message}`);
  }
  return { header, weights };
}

function validateWeightsHeader(header: Record<string, unknown>): WeightsHeader {
  const type = header.type;
  if (type === 'update_weight') {
    requireString(header, 'client', 'update_weight');
    const data = objectField(header, 'data', 'update_weight');
    requireNonNegativeInteger(data, 'num_samples', 'update_weight.data');
    requireNonNegativeInteger(data, 'round', 'update_weight.data');
    if (data.metrics !== undefined) validateMetrics(data.metrics);
    return header as unknown as UpdateWeightHeader;
  }
  if (type === 'recv_weight' || type === 'global_weight') {
    const data = objectField(header, 'data', type);
    requireNonNegativeInteger(data, 'total_sample', `${type}.data`);
    requireNonNegativeInteger(data, 'round_number', `${type}.data`);
    if (data.exit_flag !== 'ok' && data.exit_flag !== 'continue') throw new ProtocolError(`${type}.data.exit_flag must be "ok" or "continue", got ${JSON.stringify(data.exit_flag)}`);
    if (!Array.isArray(data.clients) || !data.clients.every((c) => typeof c === 'string')) throw new ProtocolError(`${type}.data.clients must be a list of client ids`);
    return header as unknown as WeightsHeader;
  }
  throw new ProtocolError(`binary frame header has type ${JSON.stringify(type)}; binary frames carry update_weight, recv_weight or global_weight`);
}

function validateSubscribe(message: Record<string, unknown>): SubscribeMessage {
  const id = message.client_id ?? message.client;
  if (typeof id !== 'string' || id.trim() === '') throw new ProtocolError('subscribe needs a non-empty string "client_id"');
  return { ...message, type: 'subscribe', client_id: id };
}

function validateSubscribeAck(message: Record<string, unknown>): SubscribeAckMessage {
  const data = objectField(message, 'data', 'subscribe_ack');
  requireString(data, 'client_id', 'subscribe_ack.data');
  for (const field of ['round', 'exit_round', 'participants']) requireNonNegativeInteger(data, field, 'subscribe_ack.data');
  if (typeof data.has_weights !== 'boolean') throw new ProtocolError('subscribe_ack.data.has_weights must be a boolean');
  if (data.proximal_mu !== undefined && (typeof data.proximal_mu !== 'number' || data.proximal_mu < 0)) throw new ProtocolError('subscribe_ack.data.proximal_mu must be a non-negative number');
  return message as unknown as SubscribeAckMessage;
}

function validateMetrics(metrics: unknown): void {
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) throw new ProtocolError('update_weight.data.metrics must be an object of numbers');
  for (const [name, value] of Object.entries(metrics)) {
    if (typeof value !== 'number') throw new ProtocolError(`update_weight.data.metrics.${name} must be a number, got ${JSON.stringify(value)}`);
  }
}

function parseJsonObject(text: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ProtocolError(`${what} is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ProtocolError(`${what} must be a JSON object`);
  if (typeof (parsed as { type?: unknown }).type !== 'string') throw new ProtocolError(`${what} has no string field "type"`);
  return parsed as Record<string, unknown>;
}

function objectField(parent: Record<string, unknown>, field: string, where: string): Record<string, unknown> {
  const value = parent[field];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ProtocolError(`${where}.${field} must be an object`);
  return value as Record<string, unknown>;
}

function requireString(parent: Record<string, unknown>, field: string, where: string): void {
  if (typeof parent[field] !== 'string' || parent[field] === '') throw new ProtocolError(`${where}.${field} must be a non-empty string`);
}

function requireNonNegativeInteger(parent: Record<string, unknown>, field: string, where: string): void {
  const value = parent[field];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new ProtocolError(`${where}.${field} must be a non-negative integer, got ${JSON.stringify(value)}`);
}
