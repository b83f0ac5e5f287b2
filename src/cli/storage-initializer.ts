// `sedna storage-initializer <src1> <dst1> [<src2> <dst2> …]`: the program of the init container
// the GM injects to fetch models and datasets (image kubeedge/sedna-storage-initializer, which the
// embedded kubelet maps to this command). Logs JSON on stderr; on a failure the thrown error names
// the URL and `sedna` exits 1.
//
// The embedded kubelet rewrites arguments that are paths under a mountPath to host paths, but an
// indirect destination (`@/downloads/…`) does not start with `/`; it is mapped here through the
// mount table the kubelet passes in SEDNA_VOLUME_MOUNTS.
import { mapMountPaths } from '../lc/kubelet/pod-worker.ts';
import { DEFAULT_INDIRECT_URL_MARK, initializeStorage, parsePairs } from '../lib/file-ops/storage-initializer.ts';
import { createLogger } from '../lib/logger.ts';

export async function storageInitializerCommand(args: string[]): Promise<void> {
  const log = createLogger('storage-initializer');
  const pairs = parsePairs(args, process.env.INDIRECT_URL_MARK ?? DEFAULT_INDIRECT_URL_MARK).map((p) => (p.indirect ? { ...p, dst: toHostPath(p.dst) } : p));
  await initializeStorage(pairs, { log: { info: (m) => log.info(m), warn: (m) => log.warn(m) } });
}

function toHostPath(path: string): string {
  const raw = process.env.SEDNA_VOLUME_MOUNTS;
  if (!raw) return path;
  let table: Record<string, string>;
  try {
    table = JSON.parse(raw) as Record<string, string>;
  } catch {
    throw new Error('SEDNA_VOLUME_MOUNTS is not JSON');
  }
  const mounts = Object.entries(table).sort((a, b) => b[0].length - a[0].length);
  return mapMountPaths(path, mounts);
}
