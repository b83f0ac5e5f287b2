// The dataset manager (spec §4.3): for each Dataset the GM sends, read its index file (`txt`: every
// line a sample; `csv`: a header line, then samples), and report the sample count upstream
// whenever it changes. Sedna polled every 60 s; here a file watch notices appended samples at
// once, and the poll stays as the backup (watches miss events on some filesystems). Only local
// index files are supported: an `s3://` URL is refused with a log line (no object-storage client).
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { EdgeMessage } from '../../api/edge-protocol.ts';
import { type CancelTimer, type Clock, realClock } from '../../lib/clock.ts';
import type { LcDatabase } from '../../lc/db.ts';
import { resourceKey, type SednaObject } from '../../lc/objects.ts';
import type { Logger } from '../../lib/logger.ts';

/** Go's bufio.Scanner default: a longer line silently ends the read. */
export const MAX_LINE_BYTES = 64 * 1024;

export interface DataSource {
  /** The samples, in file order (csv: without the header). */
  samples: string[];
  numberOfSamples: number;
  /** csv only. */
  header?: string;
}

/** Splits like Go's line scanner: on `\n`, dropping one trailing `\r`, stopping at an over-long line. */
export function scanLines(data: Buffer | string): string[] {
  const buffer = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const lines: string[] = [];
  let start = 0;
  while (start < buffer.length) {
    let end = buffer.indexOf(0x0a, start);
    const last = end < 0;
    if (last) end = buffer.length;
    if (end - start >= MAX_LINE_BYTES) break;
    let lineEnd = end;
    if (lineEnd > start && buffer[lineEnd - 1] === 0x0d) lineEnd--;
    lines.push(buffer.toString('utf8', start, lineEnd));
    start = end + 1;
  }
  return lines;
}

export class DatasetFormatError extends Error {}

/** Parses an index file in Sedna's `txt` or `csv` format (case-insensitive). */
export function parseIndex(data: Buffer | string, format: string): DataSource {
  const lines = scanLines(data);
  switch (format.toLowerCase()) {
    case 'txt':
      return { samples: lines, numberOfSamples: lines.length };
    case 'csv': {
      const [header, ...samples] = lines;
      if (header === undefined) throw new DatasetFormatError('the csv index file is empty (it needs at least a header line)');
      return { samples, numberOfSamples: samples.length, header };
    }
    default:
      throw new DatasetFormatError(`unsupported dataset format ${JSON.stringify(format)} (want txt or csv)`);
  }
}

/** Where a dataset URL points: a node path (under the rootfs prefix) or object storage. */
export function classifyUrl(url: string): 'local' | 's3' | 'invalid' {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url)?.[1];
  if (scheme === undefined) return 'local';
  return scheme.toLowerCase() === 's3' ? 's3' : 'invalid';
}

export interface DatasetManagerOptions {
  db: LcDatabase;
  /** Queues an upstream message (the durable outbox). */
  send: (message: EdgeMessage) => void;
  /** Prefix of every node path (Sedna's ROOTFS_MOUNT_DIR); "" for none. */
  rootfs?: string;
  /** Backup poll; Sedna's period, 60 s, by default. */
  pollIntervalMs?: number;
  logger: Logger;
  /** Times the backup poll (default: real time). */
  clock?: Clock;
}

interface DatasetEntry {
  object: SednaObject;
  source: DataSource | undefined;
  /** Sedna reports only a count different from the last one reported (initially 0). */
  reported: number;
  cancelPoll: CancelTimer;
  watcher: FSWatcher | undefined;
  watchedPath: string | undefined;
  checking: Promise<void> | undefined;
  again: boolean;
  lastError: string | undefined;
}

export class DatasetManager {
  private readonly entries = new Map<string, DatasetEntry>();
  private readonly rootfs: string;
  private readonly pollIntervalMs: number;
  private readonly clock: Clock;

  constructor(private readonly options: DatasetManagerOptions) {
    this.rootfs = options.rootfs ?? '';
    this.pollIntervalMs = options.pollIntervalMs ?? 60_000;
    this.clock = options.clock ?? realClock;
  }

  /** A Dataset from the GM (insert or update): stored, then monitored. */
  insert(object: SednaObject): void {
    const key = resourceKey(object, 'dataset');
    this.options.db.saveResource(key, object as unknown as Record<string, unknown>);
    const existing = this.entries.get(key);
    if (existing) {
      existing.object = object;
      this.check(key);
      return;
    }
    const entry: DatasetEntry = {
      object,
      source: undefined,
      reported: 0,
      cancelPoll: () => undefined,
      watcher: undefined,
      watchedPath: undefined,
      checking: undefined,
      again: false,
      lastError: undefined,
    };
    this.entries.set(key, entry);
    this.schedulePoll(key, entry);
    this.check(key);
  }

  /** Monitoring resumes from the database at once, not only when the GM re-sends the Datasets. */
  resume(): void {
    for (const row of this.options.db.listResources()) {
      if (row.name.split('/')[1] !== 'dataset') continue;
      const kind = typeof row.typeMeta.kind === 'string' && row.typeMeta.kind ? row.typeMeta.kind : 'Dataset';
      this.insert({ kind, metadata: row.objectMeta, spec: row.spec });
    }
  }

  delete(object: SednaObject): void {
    const key = resourceKey(object, 'dataset');
    const entry = this.entries.get(key);
    if (entry) this.stopEntry(entry);
    this.entries.delete(key);
    this.options.db.deleteResource(key);
  }

  /** The dataset's samples as last read, if it is known and was read. */
  get(namespace: string, name: string): { object: SednaObject; source: DataSource | undefined } | undefined {
    const entry = this.entries.get(`${namespace}/dataset/${name}`);
    return entry && { object: entry.object, source: entry.source };
  }

  /** Resolves once the checks under way (and any they queued) are done: for tests and shutdown. */
  async settled(): Promise<void> {
    for (;;) {
      const running = [...this.entries.values()].flatMap((e) => (e.checking ? [e.checking] : []));
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /** Stops monitoring and waits for the checks under way. */
  async stop(): Promise<void> {
    for (const entry of this.entries.values()) this.stopEntry(entry);
    const running = [...this.entries.values()].flatMap((e) => (e.checking ? [e.checking] : []));
    this.entries.clear();
    await Promise.all(running);
  }

  /** Re-reads the index now (coalescing with a check under way). */
  check(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    if (entry.checking) {
      entry.again = true;
      return;
    }
    entry.checking = this.runChecks(key, entry).finally(() => (entry.checking = undefined));
  }

  private async runChecks(key: string, entry: DatasetEntry): Promise<void> {
    do {
      entry.again = false;
      await this.checkOnce(key, entry);
    } while (entry.again && this.entries.get(key) === entry);
  }

  private async checkOnce(key: string, entry: DatasetEntry): Promise<void> {
    const { object } = entry;
    const spec = (object.spec ?? {}) as { url?: unknown; format?: unknown };
    const url = typeof spec.url === 'string' ? spec.url : '';
    const format = typeof spec.format === 'string' ? spec.format : '';
    let source: DataSource;
    try {
      const kind = classifyUrl(url);
      if (kind === 's3') throw new Error(`dataset url ${url}: object storage is not supported by this LocalController`);
      if (kind === 'invalid' || url === '') throw new Error(`dataset url ${JSON.stringify(url)}: want a node path or s3://`);
      if (format.toLowerCase() !== 'txt' && format.toLowerCase() !== 'csv') throw new DatasetFormatError(`unsupported dataset format ${JSON.stringify(format)} (want txt or csv)`);
      const path = this.rootfs ? join(this.rootfs, url) : url;
      this.ensureWatch(key, entry, path);
      source = parseIndex(await readFile(path), format);
    } catch (err) {
      const message = (err as Error).message;
      if (message !== entry.lastError) this.options.logger.warn({ dataset: key, err: message }, 'cannot read the dataset index');
      entry.lastError = message;
      return;
    }
    entry.lastError = undefined;
    if (this.entries.get(key) !== entry) return; // deleted meanwhile
    entry.source = source;
    if (source.numberOfSamples === entry.reported) return;
    entry.reported = source.numberOfSamples;
    const namespace = object.metadata?.namespace ?? 'default';
    const name = object.metadata?.name ?? '';
    this.options.send({
      header: { namespace, resourceKind: object.kind || 'Dataset', resourceName: name, operation: 'status' },
      content: { numberOfSamples: source.numberOfSamples },
    });
    this.options.logger.info({ dataset: key, numberOfSamples: source.numberOfSamples }, 'dataset sample count reported');
  }

  /** Watches the index file's directory (the file may be replaced, not only appended to). */
  private ensureWatch(key: string, entry: DatasetEntry, path: string): void {
    if (entry.watchedPath === path) return;
    entry.watcher?.close();
    entry.watcher = undefined;
    entry.watchedPath = path;
    const file = basename(path);
    try {
      const watcher = watch(dirname(path), { persistent: false }, (_event, changed) => {
        if (changed === null || changed === file) this.check(key);
      });
      watcher.on('error', () => {
        watcher.close();
        if (entry.watcher === watcher) entry.watcher = undefined;
      });
      entry.watcher = watcher;
    } catch {
      // No watch (e.g. the directory is missing yet): the poll covers it; retried at the next check.
      entry.watchedPath = undefined;
    }
  }

  /** The backup poll: a check every pollIntervalMs on the clock, while the entry lives. */
  private schedulePoll(key: string, entry: DatasetEntry): void {
    entry.cancelPoll = this.clock.setTimeout(
      () => {
        if (this.entries.get(key) !== entry) return;
        this.check(key);
        this.schedulePoll(key, entry);
      },
      this.pollIntervalMs,
      { background: true },
    );
  }

  private stopEntry(entry: DatasetEntry): void {
    entry.cancelPoll();
    entry.watcher?.close();
    entry.watcher = undefined;
  }
}
