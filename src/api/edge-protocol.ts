// The GM ⇄ LC link on the wire. Sedna's envelope (spec §3.2: a header naming the resource and the
// operation, base64 JSON content) is kept as is, so the payloads stay those of spec appendix D; we
// add what Sedna lacks (§6 items 1, 14, 16): a per-node token, a message id per sender with
// acknowledgements, and the bookkeeping a receiver needs to drop duplicates.

/** Sedna's node identification header (§3.1); Node.js exposes request headers lower-cased. */
export const NODE_NAME_HEADER = 'node-name';
/** Carries `Bearer <token>`, the node's credential. */
export const AUTHORIZATION_HEADER = 'authorization';

/** Operations on the wire: GM → LC `insert`/`update`/`delete`, LC → GM `status`. */
export const Operation = {
  Insert: 'insert',
  Update: 'update',
  Delete: 'delete',
  Status: 'status',
} as const;

export interface MessageHeader {
  namespace: string;
  /** GM → LC: the lower-cased CR kind; LC → GM: whatever the LC reports (the GM lower-cases it). */
  resourceKind: string;
  resourceName: string;
  operation: string;
}

/** A message as components see it: the envelope with its content decoded from base64 JSON. */
export interface EdgeMessage {
  header: MessageHeader;
  /** Any JSON value; `null` when the message has no content. */
  content: unknown;
}

/**
 * A message frame: Sedna's `{header, content}` plus delivery fields. One JSON text frame each.
 * The receiver processes each `(stream, id)` once and answers with an {@link AckFrame}.
 */
export interface DataFrame {
  header: MessageHeader;
  /** Standard base64 (with padding) of the UTF-8 JSON content, or `null`: Sedna's Go `[]byte`. */
  content: string | null;
  /**
   * Names the sender's outbox. Ids restart when a sender restarts with a fresh outbox, so a new
   * stream tells the receiver to forget the ids it has seen.
   */
  stream: string;
  /** Assigned by the sender in increasing order; never reused within a stream. */
  id: number;
  /**
   * Every id of this stream below `floor` is settled (acknowledged, or superseded by a newer state)
   * and will never be sent again, so the receiver may forget those ids. Always ≤ `id`.
   */
  floor: number;
}

/** Sent by the receiver once the message with this id (of the stream it came on) is processed. */
export interface AckFrame {
  ack: number;
}

export type Frame = DataFrame | AckFrame;
