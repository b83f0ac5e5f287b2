// The receiver's side of the link: frames from one sender are processed one at a time, in arrival
// order, and each id of the sender's stream at most once. Sedna handled every LC message in its
// own goroutine (§6 item 11), so an insert and a delete of one object could run out of order.
//
// The inbox belongs to the sender, not to a connection: a resend on a new connection queues behind
// a copy still being processed from the old one, then finds its id done and is only acknowledged.
import type { DataFrame } from '../api/edge-protocol.ts';

/** Processes one frame; resolves once it is done, rejects when it should be delivered again. */
export type FrameProcessor = (frame: DataFrame) => Promise<void>;

export type Receipt = 'processed' | 'duplicate' | 'failed';

/**
 * Ids remembered at most. The sender's floor normally keeps the set to its unacknowledged
 * messages; the cap stops a sender that never raises its floor from growing it without bound,
 * at the price of at-least-once (not once) processing for ids that old.
 */
const MAX_TRACKED_IDS = 65_536;

export class Inbox {
  private stream: string | undefined;
  /** Ids of the current stream processed so far, at or above the sender's last floor. */
  private readonly done = new Set<number>();
  private floor = 0;
  private tail: Promise<unknown> = Promise.resolve();

  /**
   * Queues `frame`; `ack` is called once it is processed, or at once in turn if it was a duplicate.
   * A failed frame is not acknowledged: the sender keeps it and delivers it again.
   */
  receive(frame: DataFrame, process: FrameProcessor, ack: (id: number) => void): Promise<Receipt> {
    const receipt = this.tail.then(() => this.handle(frame, process, ack));
    this.tail = receipt;
    return receipt;
  }

  private async handle(frame: DataFrame, process: FrameProcessor, ack: (id: number) => void): Promise<Receipt> {
    this.follow(frame);
    if (this.done.has(frame.id)) {
      ack(frame.id);
      return 'duplicate';
    }
    try {
      await process(frame);
    } catch {
      return 'failed';
    }
    this.remember(frame.id);
    ack(frame.id);
    return 'processed';
  }

  private remember(id: number): void {
    this.done.add(id);
    if (this.done.size <= MAX_TRACKED_IDS) return;
    const oldest = this.done.values().next();
    if (!oldest.done) this.done.delete(oldest.value);
  }

  /** Starts over on a new stream and forgets ids the sender has settled. */
  private follow(frame: DataFrame): void {
    if (frame.stream !== this.stream) {
      this.stream = frame.stream;
      this.done.clear();
      this.floor = 0;
    }
    if (frame.floor <= this.floor) return;
    this.floor = frame.floor;
    for (const id of this.done) if (id < this.floor) this.done.delete(id);
  }
}
