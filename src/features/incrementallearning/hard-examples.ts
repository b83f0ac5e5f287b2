// Where the inference worker puts the hard examples it mines (lib.md §9.2): files in a folder the
// job's YAML names (Sedna's helmet example: env HE_SAVED_URL), for people to label and append to
// the job's Dataset. Each file is written under a temporary name and renamed, so a labeller never
// reads half of one; writes run in the background in order, and a worker that mines faster than
// the disk takes them waits (bounded queue) instead of holding unbounded memory.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One hard example: the input and what the model answered. */
export interface HardExample<I, O> {
  data: I;
  result: O;
  /** The post-processed result HEM judged. */
  processed: unknown;
}

/** A file's content and extension (without the dot). */
export interface EncodedExample {
  extension: string;
  content: string | Uint8Array;
}

export type HardExampleEncoder<I, O> = (example: HardExample<I, O>) => EncodedExample;

/** The default: `{data, result}` as JSON (typed arrays as lists). */
export function jsonEncoder<I, O>(example: HardExample<I, O>): EncodedExample {
  const plain = (value: unknown): unknown => (ArrayBuffer.isView(value) && !(value instanceof DataView) ? Array.from(value as unknown as ArrayLike<number>) : value);
  return { extension: 'json', content: JSON.stringify({ data: plain(example.data), result: plain(example.result) }) };
}

export interface HardExampleFolderOptions<I, O> {
  dir: string;
  encode?: HardExampleEncoder<I, O>;
  /** Writes queued at most before `save` waits (default 256). */
  maxPending?: number;
  onError?: (err: Error) => void;
}

export class HardExampleFolder<I, O> {
  private readonly encode: HardExampleEncoder<I, O>;
  private readonly maxPending: number;
  private readonly prefix = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  private sequence = 0;
  private pending = 0;
  private tail: Promise<void> = Promise.resolve();
  private made: Promise<unknown> | undefined;
  /** Files written, and writes that failed. */
  written = 0;
  failures = 0;

  constructor(private readonly options: HardExampleFolderOptions<I, O>) {
    this.encode = options.encode ?? jsonEncoder;
    this.maxPending = Math.max(1, options.maxPending ?? 256);
  }

  get dir(): string {
    return this.options.dir;
  }

  /** Queues the example; resolves at once unless the queue is full (then once there is room). */
  async save(example: HardExample<I, O>): Promise<void> {
    const encoded = this.encode(example);
    const name = `${this.prefix}-${String(this.sequence++).padStart(8, '0')}.${encoded.extension}`;
    this.pending++;
    const write = this.tail.then(() => this.write(name, encoded.content));
    this.tail = write;
    if (this.pending > this.maxPending) await write;
  }

  /** Resolves when every queued example is on disk. */
  flush(): Promise<void> {
    return this.tail;
  }

  private async write(name: string, content: string | Uint8Array): Promise<void> {
    try {
      this.made ??= mkdir(this.options.dir, { recursive: true });
      await this.made;
      const partial = join(this.options.dir, `.${name}.part`);
      await writeFile(partial, content);
      await rename(partial, join(this.options.dir, name));
      this.written++;
    } catch (err) {
      this.failures++;
      this.made = undefined;
      this.options.onError?.(err as Error);
    } finally {
      this.pending--;
    }
  }
}
