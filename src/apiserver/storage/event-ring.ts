// The most recent events in memory, so that watches resuming from a recent resourceVersion (the
// common case: an informer reconnecting) replay without touching the database.
//
// Bounded by count AND by the bytes of the JSON text it holds: each event carries the object and
// its previous state, so 20,000 events of a few-kB status object are tens of MB. A count cap alone
// made the API server's heap grow for hours under a steady status stream (the soak's +33 MB/h)
// until the ring was full. Watches older than the ring fall back to the log table, as before.
import type { StoredEvent } from './types.ts';

/** Characters of JSON text an event pins in memory (one byte each for the ASCII JSON we store). */
export function eventBytes(event: StoredEvent): number {
  return event.key.length + event.value.length + (event.prev?.length ?? 0);
}

export class EventRing {
  private readonly events: (StoredEvent | undefined)[];
  private start = 0;
  private size = 0;
  private bytes = 0;

  constructor(
    private readonly capacity: number,
    private readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {
    this.events = new Array<StoredEvent | undefined>(capacity);
  }

  /** Events held now. */
  get length(): number {
    return this.size;
  }

  /** Revision of the oldest event held, undefined when empty. */
  oldestRevision(): number | undefined {
    return this.size === 0 ? undefined : this.at(0).rev;
  }

  /** Bytes of JSON text held now (see eventBytes). */
  get heldBytes(): number {
    return this.bytes;
  }

  push(event: StoredEvent): void {
    if (this.size === this.capacity) this.dropOldest();
    const end = (this.start + this.size) % this.capacity;
    this.events[end] = event;
    this.size++;
    this.bytes += eventBytes(event);
    // Keep at least the newest event so a watch at the head still replays from memory.
    while (this.bytes > this.maxBytes && this.size > 1) this.dropOldest();
  }

  /**
   * Events with revision > rev, or undefined when the ring cannot prove it holds all of them
   * (the caller then reads the log table).
   */
  after(rev: number): StoredEvent[] | undefined {
    if (this.size === 0) return undefined;
    const oldest = this.at(0);
    // Revisions are consecutive, so the ring covers (rev, newest] iff oldest.rev <= rev + 1.
    if (oldest.rev > rev + 1) return undefined;
    const out: StoredEvent[] = [];
    for (let i = this.firstIndexAfter(rev); i < this.size; i++) out.push(this.at(i));
    return out;
  }

  /** Forgets events at or below `rev` (they were compacted away). */
  dropThrough(rev: number): void {
    while (this.size > 0 && this.at(0).rev <= rev) this.dropOldest();
  }

  private dropOldest(): void {
    this.bytes -= eventBytes(this.at(0));
    this.events[this.start] = undefined;
    this.start = (this.start + 1) % this.capacity;
    this.size--;
  }

  private at(i: number): StoredEvent {
    return this.events[(this.start + i) % this.capacity]!;
  }

  private firstIndexAfter(rev: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.at(mid).rev <= rev) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
