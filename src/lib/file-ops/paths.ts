// Kinds of location and path helpers of Sedna's `FileOps` (lib.md §3).
import { existsSync } from 'node:fs';
import { join, posix } from 'node:path';

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
const HTTP_URL = /^https?:\/\/(.+)\/(.+)/i;

export function isS3(url: string): boolean {
  return url.startsWith('s3://');
}

export function isGcs(url: string): boolean {
  return url.startsWith('gs://');
}

export function isHttp(url: string): boolean {
  return HTTP_URL.test(url);
}

/** `gs://`, `s3://` and http(s) URLs. */
export function isRemote(url: string): boolean {
  return isGcs(url) || isS3(url) || isHttp(url);
}

/** A `file://` URL or a path that exists on disk. */
export function isLocal(url: string): boolean {
  return url.startsWith('file://') || existsSync(url);
}

/**
 * The local path of a `file://` URL, else the path unchanged. Sedna kept the prefix (so such a URL
 * only worked if that literal path existed); we strip it, which is what every caller meant.
 */
export function localPath(url: string): string {
  return url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
}

/** Joins parts; for a URL the tail is joined onto the part after the scheme, keeping the scheme. */
export function joinPath(...parts: string[]): string {
  const [first, ...rest] = parts;
  if (first === undefined) return '';
  if (rest.length === 0) return first;
  const scheme = SCHEME.exec(first)?.[0];
  if (scheme === undefined) return join(first, ...rest);
  return scheme + posix.join(first.slice(scheme.length), ...rest);
}

/** Removes a leading `prefix` (a trailing `/` on it ignored): how reported URLs lose `DATA_PATH_PREFIX`. */
export function removePathPrefix(value: string, prefix: string): string {
  const bare = prefix.replace(/\/+$/, '');
  return bare !== '' && value.startsWith(bare) ? value.slice(bare.length) : value;
}

/**
 * A container path as this process sees it: under the embedded kubelet a pod is a local process,
 * which rewrites whole env values under a mountPath to host paths but not each entry of a list
 * (MODEL_URLS is `a;b`); the mount table it passes (SEDNA_VOLUME_MOUNTS) maps the rest. In a real
 * container there is no table and the path is used as is.
 */
export function mountedPath(path: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const raw = env.SEDNA_VOLUME_MOUNTS;
  if (!raw) return path;
  let table: Record<string, string>;
  try {
    table = JSON.parse(raw) as Record<string, string>;
  } catch {
    return path;
  }
  const mount = Object.keys(table)
    .sort((a, b) => b.length - a.length)
    .find((m) => path === m || path.startsWith(`${m}/`));
  return mount === undefined ? path : table[mount]! + path.slice(mount.length);
}
