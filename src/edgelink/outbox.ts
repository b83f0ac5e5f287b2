// The sender's side of the link: every message stays here, in order, until the peer acknowledges
// it, and outlives any one connection. A connection attaches a writer; attaching writes everything
// still unacknowledged, in order, which is how messages survive a reconnect.
//
// Downstream (GM → LC) messages carry a resource's whole desired state, so an outbox may coalesce
// them. Sedna kept only the newest message per object and forgot it once a TCP write succeeded,
// which loses a state written just before a disconnect, loses the delete of an object that was
// re-created under the same name (its later insert overwrote it), and reorders objects through a
// rate-limited queue (§3.3, §6 item 14). Here a newer state replaces an older one only while the
// older one is unsent or unacknowledged, and:
// - it takes the older one's place in the order, so the node still sees resources in the order
//   they were first queued and a busy resource cannot starve the others;
// - it gets a fresh id: the node may already have processed the older id, and reusing it would
//   make the node drop the newer state as a duplicate;
// - a delete is never replaced (a later insert is queued after it): the delete ends the old
//   object's life on the node, and the object that follows is a different one with the same name.
// Since the node's controllers are level-triggered, skipping an intermediate state is harmless;
// dropping a delete or the newest state would not be, and neither can happen.
import { randomUUID } from 'node:crypto';
import { Operation, type DataFrame, type EdgeMessage, type MessageHeader } from '../api/edge-protocol.ts';
import { decodeContent, encodeContent } from './frames.ts';

export interface OutboxEntry {
  id: number;
  header: MessageHeader;
  /** Encoded once when queued: resends do not re-serialise the object. */
  content: string | null;
  /** When it was last written on the attached connection, if it was. */
  writtenAt: number | undefined;
  /** Writes of this id so far, over all connections (more than one means a resend). */
  writes: number;
}

/** Writes one frame on the current connection. */
export type FrameWriter = (frame: DataFrame, entry: OutboxEntry) => void;

/** A message as a persistent store keeps it: its id, header and encoded content. */
export interface StoredOutboxEntry {
  id: number;
  header: MessageHeader;
  content: string | null;
}

/**
 * Makes an outbox durable (the LocalController keeps it in SQLite): entries are saved before they
 * are written and removed once settled, and a restarted sender resumes with the saved entries and
 * its id sequence, so under the same stream the receiver's dedup holds across the restart.
 */
export interface OutboxPersistence {
  /** The entries saved earlier, in delivery order, and the lowest id never yet assigned. */
  load(): { entries: StoredOutboxEntry[]; nextId: number };
  /** Called before the entry is first written; throwing rejects the enqueue. */
  save(entry: StoredOutboxEntry): void;
  /** The entry with this id is settled (acknowledged, or replaced by a newer state). */
  remove(id: number): void;
}

export interface OutboxOptions {
  /** Coalesce states of one resource (downstream only: upstream reports are events, not states). */
  coalesce: boolean;
  /** Durable storage; in memory only without it. */
  persistence?: OutboxPersistence;
  /** Names this outbox on the wire; a fresh one by default. */
  stream?: string;
  now?: () => number;
}

const STATE_OPERATIONS: ReadonlySet<string> = new Set([Operation.Insert, Operation.Update, Operation.Delete]);

export class Outbox {
  readonly stream: string;
  private readonly coalesce: boolean;
  private readonly now: () => number;
  private nextId = 1;
  /** Delivery order. A Set keeps insertion order, and replacing an entry mutates it in place. */
  private readonly order = new Set<OutboxEntry>();
  /** By id; ids are assigned increasing, so the first key is the lowest unsettled id. */
  private readonly byId = new Map<number, OutboxEntry>();
  /** The newest queued entry per resource, the only one a newer state may replace. */
  private readonly latest = new Map<string, OutboxEntry>();
  private writer: FrameWriter | undefined;
  private readonly persistence: OutboxPersistence | undefined;

  constructor(options: OutboxOptions) {
    this.coalesce = options.coalesce;
    this.stream = options.stream ?? randomUUID();
    this.now = options.now ?? Date.now;
    this.persistence = options.persistence;
    if (this.persistence) this.restore(this.persistence);
  }

  /** Unacknowledged messages. */
  get depth(): number {
    return this.order.size;
  }

  /** The lowest id that may still be sent; every id below it is settled. */
  get floor(): number {
    const first = this.byId.keys().next();
    return first.done ? this.nextId : first.value;
  }

  enqueue(message: EdgeMessage): void {
    const key = resourceKey(message.header);
    const previous = this.coalesce ? this.latest.get(key) : undefined;
    if (previous && supersedes(message.header, previous.header)) this.replace(previous, message);
    else this.append(key, message);
  }

  /** Settles a message; false when the id is not (or no longer) waiting, e.g. it was superseded. */
  ack(id: number): boolean {
    const entry = this.byId.get(id);
    if (!entry) return false;
    this.persistence?.remove(id);
    this.byId.delete(id);
    this.order.delete(entry);
    const key = resourceKey(entry.header);
    if (this.latest.get(key) === entry) this.latest.delete(key);
    return true;
  }

  /** Sends through `writer` from now on, starting with everything unacknowledged, in order. */
  attach(writer: FrameWriter): void {
    this.writer = writer;
    for (const entry of this.order) entry.writtenAt = undefined;
    for (const entry of this.order) this.write(entry);
  }

  /** Stops writing through `writer` (a no-op when another writer has replaced it meanwhile). */
  detach(writer: FrameWriter): void {
    if (this.writer === writer) this.writer = undefined;
  }

  /** Writes again what was written at or before `cutoff` and is still unacknowledged. */
  resendWrittenBefore(cutoff: number): void {
    for (const entry of this.order) {
      if (entry.writtenAt !== undefined && entry.writtenAt <= cutoff) this.write(entry);
    }
  }

  /** The messages waiting, in delivery order (for inspection and tests). */
  pending(): EdgeMessage[] {
    return [...this.order].map((entry) => ({ header: { ...entry.header }, content: decodeContent(entry.content) }));
  }

  private restore(persistence: OutboxPersistence): void {
    const { entries, nextId } = persistence.load();
    for (const stored of entries) {
      const entry: OutboxEntry = { id: stored.id, header: { ...stored.header }, content: stored.content, writtenAt: undefined, writes: 0 };
      this.order.add(entry);
      this.byId.set(entry.id, entry);
      this.latest.set(resourceKey(entry.header), entry);
      this.nextId = Math.max(this.nextId, entry.id + 1);
    }
    this.nextId = Math.max(this.nextId, nextId);
  }

  private append(key: string, message: EdgeMessage): void {
    const entry: OutboxEntry = { id: this.nextId, header: { ...message.header }, content: encodeContent(message.content), writtenAt: undefined, writes: 0 };
    this.persistence?.save({ id: entry.id, header: entry.header, content: entry.content });
    this.nextId++;
    this.order.add(entry);
    this.byId.set(entry.id, entry);
    this.latest.set(key, entry);
    this.write(entry);
  }

  private replace(entry: OutboxEntry, message: EdgeMessage): void {
    const header = { ...message.header };
    const content = encodeContent(message.content);
    this.persistence?.save({ id: this.nextId, header, content });
    this.persistence?.remove(entry.id);
    this.byId.delete(entry.id);
    entry.id = this.nextId++;
    entry.header = header;
    entry.content = content;
    entry.writtenAt = undefined;
    entry.writes = 0;
    this.byId.set(entry.id, entry);
    this.write(entry);
  }

  private write(entry: OutboxEntry): void {
    if (!this.writer) return;
    entry.writtenAt = this.now();
    entry.writes++;
    const frame: DataFrame = { header: entry.header, content: entry.content, stream: this.stream, id: entry.id, floor: this.floor };
    this.writer(frame, entry);
  }
}

function resourceKey(header: MessageHeader): string {
  return `${header.resourceKind}/${header.namespace}/${header.resourceName}`;
}

/** Whether `newer` may take `older`'s place (see the file comment). */
function supersedes(newer: MessageHeader, older: MessageHeader): boolean {
  return STATE_OPERATIONS.has(newer.operation) && STATE_OPERATIONS.has(older.operation) && older.operation !== Operation.Delete;
}
