// Local copies: a file into a file or folder (written through a temporary sibling, so a failed copy
// leaves no partial file), a folder merged recursively into a folder.
import { createReadStream } from 'node:fs';
import { cp, mkdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { writeStreamAtomically } from './atomic.ts';

export async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/** Where a file copied to `dst` lands: inside `dst` when it is a folder (or ends with `/`). */
export async function fileTarget(src: string, dst: string): Promise<string> {
  return dst.endsWith('/') || (await isDirectory(dst)) ? join(dst, basename(src)) : dst;
}

export async function copyLocal(src: string, dst: string): Promise<string> {
  const info = await stat(src).catch(() => undefined);
  if (!info) throw new Error(`${src} does not exist`);
  if (info.isDirectory()) {
    if (resolve(src) === resolve(dst)) return dst;
    await mkdir(dst, { recursive: true });
    await cp(src, dst, { recursive: true, force: true });
    return dst;
  }
  const target = await fileTarget(src, dst);
  if (resolve(src) !== resolve(target)) await writeStreamAtomically(createReadStream(src), target);
  return target;
}
