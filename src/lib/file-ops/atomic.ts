// Downloads land in a temporary sibling, renamed into place when complete, so a failed or
// interrupted download never leaves a partial file at the destination.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export async function writeStreamAtomically(source: Readable, dst: string): Promise<void> {
  await mkdir(dirname(dst), { recursive: true });
  const partial = join(dirname(dst), `.${basename(dst)}.${randomBytes(6).toString('hex')}.part`);
  try {
    await pipeline(source, createWriteStream(partial));
    await rename(partial, dst);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}
