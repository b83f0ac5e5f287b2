// `.tar.gz` packing and unpacking through the system `tar` binary (present on every machine we
// target), so the SDK needs no archive dependency.
import { execFile } from 'node:child_process';
import { basename, dirname } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export function isTarGz(path: string): boolean {
  return path.endsWith('.tar.gz');
}

async function tar(args: string[]): Promise<void> {
  try {
    await run('tar', args);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`tar ${args.join(' ')} failed: ${stderr || (err as Error).message}`);
  }
}

/** Extracts `archive` into `folder`. */
export function extractTarGz(archive: string, folder: string): Promise<void> {
  return tar(['-xzf', archive, '-C', folder]);
}

/** Packs `src` (file or folder) as `<src>.tar.gz`, holding `basename(src)`; returns the archive path. */
export async function packTarGz(src: string): Promise<string> {
  const bare = src.replace(/\/+$/, '');
  const archive = `${bare}.tar.gz`;
  await tar(['-czf', archive, '-C', dirname(bare), basename(bare)]);
  return archive;
}
