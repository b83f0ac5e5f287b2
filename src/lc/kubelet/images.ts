// Image → local runtime mapping. The embedded kubelet runs containers as host processes, so an
// image only says which local program plays its ENTRYPOINT and which host executables its
// commands name. Docker semantics otherwise: a container's `command` replaces the entrypoint and
// `args` follow it.
//
// Keys of `imageRuntimes` are image names without tag or digest ("node", "sedna/gm"), or prefixes
// ending in "*" ("sedna/*"); an exact name wins over prefixes, a longer prefix over a shorter one.
// The defaults (DEFAULT_IMAGE_RUNTIMES):
//   node                       → entrypoint [node]; `node` in a command is this Node binary
//   sedna/*, kubeedge/sedna-example* → entrypoint [node, <this project>/bin/sedna.js]; `node` and
//                                `sedna` in a command are mapped the same way
//   kubeedge/sedna-storage-initializer → entrypoint [node, bin/sedna.js, storage-initializer], so
//                                the init container the GM injects (args: src dst …) downloads here
// An image that matches nothing is never run: its container waits with reason ImageNotMapped.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface ImageRuntime {
  /** argv used when the container has no `command` (the image's ENTRYPOINT). */
  entrypoint: string[];
  /** Executable names in `command[0]` mapped to host argv prefixes, e.g. { node: [process.execPath] }. */
  binaries?: Record<string, string[]>;
  /** Extra environment (the image's ENV); the pod's env wins. */
  env?: Record<string, string>;
  /** Default working directory (the image's WORKDIR); the per-pod directory when unset. */
  workingDir?: string;
}

export type ImageRuntimes = Record<string, ImageRuntime>;

/** The root of this project: the nearest folder up with this package's package.json (from src/, dist/ or the CLI bundle alike). */
export const PROJECT_ROOT = findProjectRoot(import.meta.dirname);
export const SEDNA_CLI = resolve(PROJECT_ROOT, 'bin/sedna.js');

export function defaultImageRuntimes(): ImageRuntimes {
  const node = [process.execPath];
  const sedna: ImageRuntime = {
    entrypoint: [process.execPath, SEDNA_CLI],
    binaries: { node, sedna: [process.execPath, SEDNA_CLI] },
    env: { SEDNA_PROJECT_ROOT: PROJECT_ROOT },
  };
  return {
    node: { entrypoint: node, binaries: { node } },
    'sedna/*': sedna,
    'kubeedge/sedna-example*': sedna,
    'kubeedge/sedna-storage-initializer': { ...sedna, entrypoint: [...sedna.entrypoint, 'storage-initializer'] },
  };
}

export const DEFAULT_IMAGE_RUNTIMES: ImageRuntimes = defaultImageRuntimes();

/** "docker.io/library/node:20@sha256:..." → "docker.io/library/node"; tags and digests go. */
export function imageName(image: string): string {
  let name = image.split('@')[0]!;
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > lastSlash) name = name.slice(0, colon);
  return name;
}

/** Names an image is known by: as written, and without docker.io/ and library/. */
function aliases(name: string): string[] {
  const out = [name];
  const short = name.replace(/^docker\.io\//, '').replace(/^library\//, '');
  if (short !== name) out.push(short);
  return out;
}

export function resolveImage(image: string, runtimes: ImageRuntimes): ImageRuntime | undefined {
  const names = aliases(imageName(image));
  for (const n of names) {
    const exact = runtimes[n];
    if (exact && !n.endsWith('*')) return exact;
  }
  let best: { length: number; runtime: ImageRuntime } | undefined;
  for (const [key, runtime] of Object.entries(runtimes)) {
    if (!key.endsWith('*')) continue;
    const prefix = key.slice(0, -1);
    if (names.some((n) => n.startsWith(prefix)) && (!best || prefix.length > best.length)) best = { length: prefix.length, runtime };
  }
  return best?.runtime;
}

/** The argv to spawn for a container under `runtime` (after $(VAR) expansion of command/args). */
export function containerArgv(runtime: ImageRuntime, command: readonly string[] | undefined, args: readonly string[] | undefined): string[] {
  if (command && command.length > 0) {
    const [exe, ...rest] = command as [string, ...string[]];
    const mapped = runtime.binaries?.[exe] ?? runtime.binaries?.[exe.split('/').pop()!];
    return [...(mapped ?? [exe]), ...rest, ...(args ?? [])];
  }
  return [...runtime.entrypoint, ...(args ?? [])];
}

function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'sedna') return dir;
    } catch {
      // no package.json here: go up
    }
    if (dirname(dir) === dir) throw new Error(`no sedna package.json above ${from}`);
  }
}
