// Node paths that Sedna fixes (the model hot-update folder under /var/lib/sedna) mapped to where
// this LC keeps them. On a real node they are the node's own paths (under ROOTFS_MOUNT_DIR when
// the LC runs in a container); with the embedded kubelet, several nodes share one machine, so each
// node's /var/lib/sedna is a folder of its data dir, and the kubelet maps hostPath volumes the
// same way, so the LC and the node's pods see the same files.
import { join } from 'node:path';

/** Where Sedna keeps node state (the hot-update folders). */
export const SEDNA_STATE_DIR = '/var/lib/sedna';

/** Host path prefix → local folder; longest prefix first. */
export type HostPathMap = Readonly<Record<string, string>>;

/** The map an LC running the embedded kubelet uses: /var/lib/sedna → <data dir>/var/lib/sedna. */
export function embeddedHostPaths(dataDir: string): HostPathMap {
  return { [SEDNA_STATE_DIR]: join(dataDir, SEDNA_STATE_DIR) };
}

/** `path` through the map, or unchanged when no prefix matches. */
export function mapHostPath(path: string, map: HostPathMap | undefined): string {
  if (!map) return path;
  const prefixes = Object.keys(map).sort((a, b) => b.length - a.length);
  for (const prefix of prefixes) {
    const bare = prefix.replace(/\/+$/, '');
    if (path === bare || path.startsWith(`${bare}/`)) return map[prefix]! + path.slice(bare.length);
  }
  return path;
}
