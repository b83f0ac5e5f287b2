// The knowledge base's file folder: model and sample files that workers upload and download.
// A file name is one path segment, checked before any path is built, and the joined path is
// checked again to lie directly in the folder, so neither an upload's file name nor a download's
// `files=` can reach outside it (Sedna joined both to its folder unchecked). Uploads land in a
// temporary file and are renamed into place only when complete, so a cut upload never replaces
// a good file.
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KbInputError } from './index-file.ts';

/** The index is served from the database under this name; an upload may not take it. */
export const INDEX_FILE_NAME = 'index.json';
const MAX_FILE_NAME_BYTES = 255;
const TMP_PREFIX = '.upload-';

/** Thrown when an upload passes its size limit: the server answers 413. */
export class KbTooLargeError extends Error {}

/** `name` if it is a safe single file name, else a KbInputError naming `field`. */
export function checkFileName(name: string, field: string): string {
  if (name === '') throw new KbInputError(`${field}: a file name is required`);
  if (Buffer.byteLength(name) > MAX_FILE_NAME_BYTES) throw new KbInputError(`${field}: file name longer than ${MAX_FILE_NAME_BYTES} bytes`);
  // eslint-disable-next-line no-control-regex
  if (/[/\\\u0000-\u001f]/.test(name) || name === '.' || name === '..') {
    throw new KbInputError(`${field}: "${name}" is not a plain file name (no folders, no "..", no control characters): the path would leave the knowledge base's folder`);
  }
  if (name.startsWith(TMP_PREFIX)) throw new KbInputError(`${field}: names starting with ${TMP_PREFIX} are reserved`);
  return name;
}

export class KbFiles {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** The path of file `name` (already checked), guaranteed to be directly inside the folder. */
  pathOf(name: string, field: string): string {
    const path = join(this.dir, checkFileName(name, field));
    if (dirname(path) !== this.dir || basename(path) !== name) throw new KbInputError(`${field}: "${name}" would leave the knowledge base's folder`);
    return path;
  }

  /** Writes `source` to file `name`, at most `maxBytes`; replaces an older file of that name only once complete. */
  async save(name: string, source: Readable, maxBytes: number, truncated: () => boolean): Promise<number> {
    const target = this.pathOf(name, 'file');
    const tmp = join(this.dir, `${TMP_PREFIX}${randomBytes(8).toString('hex')}`);
    let bytes = 0;
    source.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    try {
      await pipeline(source, createWriteStream(tmp, { mode: 0o600 }));
      if (truncated() || bytes > maxBytes) throw new KbTooLargeError(`file: larger than the limit of ${maxBytes} bytes; nothing was stored`);
      const handle = await open(tmp, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, target);
      return bytes;
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /** Removes uploads a crash cut short. */
  async removeLeftovers(): Promise<void> {
    for (const entry of await readdir(this.dir)) if (entry.startsWith(TMP_PREFIX)) await rm(join(this.dir, entry), { force: true });
  }
}
