// `.tar.gz` packing and unpacking with node-tar (`tar`, npm's own archiver): no system binary
// needed, and extraction refuses entries that would land outside the folder (absolute paths,
// `..`, links out of it). `strict` turns every bad entry into an error instead of a warning, so a
// corrupt or truncated archive fails as the system tar did, rather than half-extracting quietly.
import { basename, dirname } from 'node:path';
import { create, extract } from 'tar';

export function isTarGz(path: string): boolean {
  return path.endsWith('.tar.gz');
}

function failed(what: string, err: unknown): Error {
  return new Error(`${what} failed: ${(err as Error).message}`, { cause: err });
}

/** Extracts `archive` into `folder` (which must exist). */
export async function extractTarGz(archive: string, folder: string): Promise<void> {
  try {
    await extract({ file: archive, cwd: folder, strict: true });
  } catch (err) {
    throw failed(`extracting ${archive} into ${folder}`, err);
  }
}

/** Packs `src` (file or folder) as `<src>.tar.gz`, holding `basename(src)`; returns the archive path. */
export async function packTarGz(src: string): Promise<string> {
  const bare = src.replace(/\/+$/, '');
  const archive = `${bare}.tar.gz`;
  try {
    await create({ gzip: true, file: archive, cwd: dirname(bare), strict: true }, [basename(bare)]);
  } catch (err) {
    throw failed(`packing ${bare} as ${archive}`, err);
  }
  return archive;
}
