// Encoding and strict decoding of the frames in src/api/edge-protocol.ts. A peer is trusted with
// its identity only; every frame it sends is checked here before anything acts on it.
import type { DataFrame, MessageHeader } from '../api/edge-protocol.ts';

export type ParsedFrame =
  | { type: 'data'; frame: DataFrame }
  | { type: 'ack'; id: number }
  /** Sedna's LC opens with a bare header object (§3.1); it carries nothing, so it is ignored. */
  | { type: 'hello' }
  | { type: 'invalid'; reason: string };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEADER_FIELDS = ['namespace', 'resourceKind', 'resourceName', 'operation'] as const;

/** Sedna's content encoding: base64 of the JSON document; `null`/`undefined` mean no content. */
export function encodeContent(content: unknown): string | null {
  if (content === null || content === undefined) return null;
  return Buffer.from(JSON.stringify(content), 'utf8').toString('base64');
}

/** Inverse of {@link encodeContent}; throws on anything that is not base64 of JSON. */
export function decodeContent(content: string | null): unknown {
  if (content === null) return null;
  if (!BASE64.test(content)) throw new Error('content is not standard base64');
  return JSON.parse(Buffer.from(content, 'base64').toString('utf8')) as unknown;
}

export function parseFrame(text: string): ParsedFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { type: 'invalid', reason: 'not JSON' };
  }
  if (!isRecord(value)) return { type: 'invalid', reason: 'not a JSON object' };
  if ('ack' in value) return parseAck(value.ack);
  if (!('header' in value) && isLegacyHello(value)) return { type: 'hello' };
  return parseData(value);
}

function parseAck(id: unknown): ParsedFrame {
  return isMessageId(id) ? { type: 'ack', id } : { type: 'invalid', reason: 'ack is not a message id' };
}

function parseData(value: Record<string, unknown>): ParsedFrame {
  const header = parseHeader(value.header);
  if (typeof header === 'string') return { type: 'invalid', reason: header };
  const { content, stream, id, floor } = value;
  if (content !== null && typeof content !== 'string') return { type: 'invalid', reason: 'content must be a string or null' };
  if (typeof stream !== 'string' || stream === '') return { type: 'invalid', reason: 'stream must be a non-empty string' };
  if (!isMessageId(id)) return { type: 'invalid', reason: 'id must be a positive integer' };
  if (!isMessageId(floor) || floor > id) return { type: 'invalid', reason: 'floor must be a positive integer ≤ id' };
  return { type: 'data', frame: { header, content, stream, id, floor } };
}

/** Missing header fields read as "" (as Go's decoder leaves them); present ones must be strings. */
function parseHeader(value: unknown): MessageHeader | string {
  if (!isRecord(value)) return 'header must be an object';
  const header: MessageHeader = { namespace: '', resourceKind: '', resourceName: '', operation: '' };
  for (const field of HEADER_FIELDS) {
    const fieldValue = value[field];
    if (fieldValue === undefined) continue;
    if (typeof fieldValue !== 'string') return `header.${field} must be a string`;
    header[field] = fieldValue;
  }
  return header;
}

function isLegacyHello(value: Record<string, unknown>): boolean {
  return HEADER_FIELDS.some((field) => field in value);
}

function isMessageId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
