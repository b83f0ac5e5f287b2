// The most recent events in memory, so that watches resuming from a recent resourceVersion (the
// common case: an informer reconnecting) replay without touching the database.
import type { StoredEvent } from './types.ts';

export class EventRing {
  private readonly events: (StoredEvent | undefined)[];
  private start = 0;
  private size = 0;

  constructor(private readonly capacity: number) {
    this.events = new Array<StoredEvent | undefined>(capacity);
  }

  push(event: StoredEvent): void {
    const end = (this.start + this.size) % this.capacity;
    this.events[end] = event;
    if (this.size < this.capacity) this.size++;
    else this.start = (this.start + 1) % this.capacity;
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
    while (this.size > 0 && this.at(0).rev <= rev) {
      this.events[this.start] = undefined;
      this.start = (this.start + 1) % this.capacity;
      this.size--;
    }
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
