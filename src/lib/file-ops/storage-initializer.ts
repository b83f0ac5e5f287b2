// The storage initializer: what the init container the GM injects into worker pods does (Sedna's
// scripts/storage-initializer/download.py, spec control-plane §2.3.4). Its arguments are pairs
// `<src> <dst>`. A src with a leading `/` is a file:// URI and obs:// is s3://. Then:
//   s3://      every object under the prefix into dst; .tar/.tar.gz/.tgz/.zip files are extracted
//   http(s)://  a GET into dst/<file name>, extracted the same way
//   file://    a symlink in dst to the file (or to each entry of the folder)
// A dst starting with the indirect mark (INDIRECT_URL_MARK, default `@`) makes src an index file:
// `#` lines and blank lines are skipped, the first remaining line is the base URI (only s3:// is
// supported; anything else is skipped with a warning) and every further line a key relative to it,
// downloaded into dst/<dirname(key)>.
// Unlike download.py, a rerun (the kubelet retries a failed init container) replaces the symlinks
// it made before instead of failing on them.
import { execFile } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, posix } from 'node:path';
import { promisify } from 'node:util';
import type { Env } from '../context.ts';
import { download, s3Download } from './index.ts';

const run = promisify(execFile);

export const DEFAULT_INDIRECT_URL_MARK = '@';
export const USAGE = 'usage: sedna storage-initializer <src> <dst> [<src> <dst> ...]';
/** How many objects of an indirect index are fetched at once (download.py used a thread pool). */
const INDIRECT_CONCURRENCY = 8;

export interface DownloadPair {
  src: string;
  /** Without the indirect mark. */
  dst: string;
  /** dst carried the indirect mark: src is an index of objects to fetch. */
  indirect: boolean;
}

export interface IndirectIndex {
  /** The first line that is neither blank nor a comment; undefined for an index with none. */
  baseUri: string | undefined;
  /** The further lines, each once, in order of first appearance. */
  keys: string[];
}

export interface StorageLog {
  info(message: string): void;
  warn(message: string): void;
}

export interface StorageInitializerOptions {
  /** Where S3 settings (S3_ENDPOINT_URL, ACCESS_KEY_ID, SECRET_ACCESS_KEY) are read; default process.env. */
  env?: Env;
  log?: StorageLog;
}

/** `[src1, dst1, src2, dst2, …]` → pairs; throws the usage on an odd or empty list. */
export function parsePairs(args: readonly string[], indirectMark = DEFAULT_INDIRECT_URL_MARK): DownloadPair[] {
  if (args.length === 0 || args.length % 2 !== 0) throw new Error(`expected pairs of <src> <dst>, got ${args.length} argument(s); ${USAGE}`);
  const pairs: DownloadPair[] = [];
  for (let i = 0; i < args.length; i += 2) {
    const src = args[i]!;
    const dst = args[i + 1]!;
    const indirect = indirectMark !== '' && dst.startsWith(indirectMark);
    pairs.push({ src, dst: indirect ? dst.slice(indirectMark.length) : dst, indirect });
  }
  return pairs;
}

/** A leading `/` becomes `file:///…`, `obs://` becomes `s3://` (download.py's _normalize_uri). */
export function normalizeUri(uri: string): string {
  if (uri.startsWith('/')) return `file://${uri}`;
  if (uri.startsWith('obs://')) return `s3://${uri.slice('obs://'.length)}`;
  return uri;
}

export function parseIndirectIndex(text: string): IndirectIndex {
  let baseUri: string | undefined;
  const keys = new Set<string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (baseUri === undefined) baseUri = line;
    else keys.add(line);
  }
  return { baseUri, keys: [...keys] };
}

/** The URI of `key` under `baseUri`, and the folder (under `dst`) it lands in. */
export function indirectTarget(baseUri: string, key: string, dst: string): { uri: string; dir: string } {
  return { uri: `${baseUri.replace(/\/+$/, '')}/${key}`, dir: join(dst, posix.dirname(key)) };
}

/** Runs every pair in order; the first failure stops the run with an error naming its URL. */
export async function initializeStorage(pairs: readonly DownloadPair[], options: StorageInitializerOptions = {}): Promise<void> {
  const log = options.log ?? silentLog;
  for (const pair of pairs) {
    log.info(`initializing: src ${pair.src} dst ${pair.indirect ? '(indirect) ' : ''}${pair.dst}`);
    try {
      if (pair.indirect) await indirectDownload(pair.src, pair.dst, options.env, log);
      else await downloadInto(pair.src, pair.dst, options.env);
    } catch (err) {
      throw new Error(`failed to download ${pair.src} into ${pair.dst}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    log.info(`copied ${pair.src} to ${pair.dst}`);
  }
}

const silentLog: StorageLog = { info: () => undefined, warn: () => undefined };

/** download.py's download(): one URI into the folder `dst`. */
export async function downloadInto(src: string, dst: string, env: Env | undefined): Promise<void> {
  const uri = normalizeUri(src);
  await mkdir(dst, { recursive: true });
  if (uri.startsWith('s3://')) {
    const written = await s3Download(uri, dst.endsWith('/') ? dst : `${dst}/`, env);
    for (const file of written) await extractArchive(file, dst);
  } else if (uri.startsWith('file://')) {
    await linkLocal(uri.slice('file://'.length), dst);
  } else if (/^https?:\/\/.+\/.+/i.test(uri)) {
    const name = basename(new URL(uri).pathname);
    if (name === '') throw new Error(`no file name in URI ${uri}`);
    const file = await download(uri, join(dst, name), { ...(env ? { env } : {}) });
    await extractArchive(file, dst);
  } else {
    throw new Error(`cannot recognize the storage type of ${src}; supported: s3://, obs://, http(s)://, file:// and absolute paths`);
  }
}

/** Links `path` (a file), or each entry of it (a folder), into `dst`. */
async function linkLocal(path: string, dst: string): Promise<void> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) throw new Error(`local path ${path} does not exist`);
  const sources = info.isDirectory() ? (await readdir(path)).map((name) => join(path, name)) : [path];
  for (const source of sources) {
    const link = join(dst, basename(source));
    await replaceOwnSymlink(link);
    await symlink(source, link);
  }
}

/** Removes a symlink left by an earlier run; anything else in the way is an error. */
async function replaceOwnSymlink(link: string): Promise<void> {
  const existing = await lstat(link).catch(() => undefined);
  if (!existing) return;
  if (!existing.isSymbolicLink()) throw new Error(`${link} already exists`);
  await unlink(link);
}

/** download.py's _extract_compress: a tar (any compression) or zip archive is unpacked into `dir` and removed. */
export async function extractArchive(file: string, dir: string): Promise<void> {
  const kind = archiveKind(file);
  if (!kind) return;
  if (kind === 'tar') await runTool('tar', ['-xf', file, '-C', dir], file);
  else await runTool('unzip', ['-o', '-q', file, '-d', dir], file);
  await rm(file, { force: true });
}

/** What Python's mimetypes calls application/x-tar (with any encoding) or application/zip. */
export function archiveKind(file: string): 'tar' | 'zip' | undefined {
  const name = file.toLowerCase();
  if (/\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz)$/.test(name)) return 'tar';
  if (name.endsWith('.zip')) return 'zip';
  return undefined;
}

async function runTool(tool: string, args: string[], file: string): Promise<void> {
  try {
    await run(tool, args);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`cannot extract ${file}: the \`${tool}\` program is not installed`, { cause: err });
    throw new Error(`cannot extract ${file}: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}

/** download.py's indirect_download: fetch the index, then each listed object under its base URI. */
async function indirectDownload(src: string, dst: string, env: Env | undefined, log: StorageLog): Promise<void> {
  const index = parseIndirectIndex(await readIndex(src, env));
  if (index.baseUri === undefined || index.keys.length === 0) {
    log.info(`no files to download for indirect url ${src}`);
    return;
  }
  const base = normalizeUri(index.baseUri);
  if (!base.startsWith('s3://')) {
    log.warn(`unsupported base uri ${index.baseUri} for indirect url ${src}, skipped`);
    return;
  }
  await mkdir(dst, { recursive: true });
  log.info(`downloading ${index.keys.length} files indirectly from ${src} to ${dst}`);
  await forEachLimited(index.keys, INDIRECT_CONCURRENCY, async (key) => {
    const target = indirectTarget(base, key, dst);
    try {
      await downloadInto(target.uri, target.dir, env);
    } catch (err) {
      // download.py only warns about a listed object that does not exist, and carries on.
      if (!isMissingObject(err)) throw err;
      log.warn(`failed to download ${key} in base uri ${base}: ${(err as Error).message}`);
    }
  });
}

/** s3Download's error for a key that matches nothing. */
function isMissingObject(err: unknown): boolean {
  return err instanceof Error && /does not exist/.test(err.message);
}

/** The text of the index file; a remote one goes through a temp folder that must end up with one file. */
async function readIndex(src: string, env: Env | undefined): Promise<string> {
  const uri = normalizeUri(src);
  if (uri.startsWith('file://')) return readFile(uri.slice('file://'.length), 'utf8');
  const dir = await mkdtemp(join(tmpdir(), 'sedna-storage-index-'));
  try {
    await downloadInto(uri, dir, env);
    const files = await readdir(dir);
    if (files.length !== 1) throw new Error(`indirect url ${src} should be a file, not a directory`);
    return await readFile(join(dir, files[0]!), 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function forEachLimited<T>(items: readonly T[], limit: number, each: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await each(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
