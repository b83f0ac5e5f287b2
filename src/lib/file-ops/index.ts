// Sedna's `FileOps.download` / `upload` (lib.md §3) over local paths, `file://`, http(s) and s3.
// Differences from Sedna, each deliberate: a missing local source, a failed http GET and `gs://`
// are errors instead of silently fetching nothing; `file://` is stripped; downloads are atomic;
// `upload` deletes its source only when asked (`clean: true`; Sedna deleted it by default).
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Env } from '../context.ts';
import { httpDownload } from './http.ts';
import { copyLocal, fileTarget } from './local.ts';
import { isGcs, isHttp, isRemote, isS3, localPath } from './paths.ts';
import { s3Download, s3Upload } from './s3.ts';
import { extractTarGz, isTarGz, packTarGz } from './tar.ts';

export { isGcs, isHttp, isLocal, isRemote, isS3, joinPath, localPath, removePathPrefix } from './paths.ts';
export { parseS3Url, s3Client, s3Download, s3Endpoint, s3Upload, type S3Location } from './s3.ts';
export { extractTarGz, packTarGz } from './tar.ts';

export interface DownloadOptions {
  /** Extract a `.tar.gz` destination into its folder. */
  unzip?: boolean;
  /** Where S3 settings are read (default process.env). */
  env?: Env;
}

export interface UploadOptions {
  /** Pack the source as `<src>.tar.gz` and send that. */
  tar?: boolean;
  /** Delete the local source afterwards (never when it is the destination itself). */
  clean?: boolean;
  env?: Env;
}

/** Fetches `src` to `dst` (default: a file in a fresh temp folder, named like the source); returns `dst`. */
export async function download(src: string, dst?: string, options: DownloadOptions = {}): Promise<string> {
  const target = dst ?? join(await mkdtemp(join(tmpdir(), 'sedna-download-')), basename(src.replace(/\/+$/, '')) || 'download');
  await mkdir(dirname(resolve(target)), { recursive: true });
  await fetchTo(src, target, options.env);
  if (options.unzip && isTarGz(target)) await extractTarGz(target, dirname(target));
  return target;
}

async function fetchTo(src: string, dst: string, env: Env | undefined): Promise<void> {
  if (isS3(src)) await s3Download(src, dst, env);
  else if (isGcs(src)) throw new Error(`${src}: gs:// is not supported`);
  else if (isHttp(src)) await httpDownload(src, await fileTarget(new URL(src).pathname, dst));
  else await copyLocal(localPath(src), dst);
}

/** Sends `src` (local, or first downloaded) to `dst`, an s3 URL or a local file/folder; returns `dst`. */
export async function upload(src: string, dst: string, options: UploadOptions = {}): Promise<string> {
  const remote = isRemote(src);
  const local = remote ? await download(src, undefined, { env: options.env }) : localPath(src);
  const archive = options.tar ? await packTarGz(local) : undefined;
  const sent = archive ?? local;
  if (isS3(dst)) await s3Upload(sent, dst, options.env);
  else if (isGcs(dst)) throw new Error(`${dst}: gs:// is not supported`);
  else await copyLocal(sent, localPath(dst));
  // The archive and a downloaded copy are ours to remove; the caller's source only with `clean`.
  if (archive && !(await isDestination(archive, dst))) await rm(archive, { force: true });
  if (remote) await rm(dirname(local), { recursive: true, force: true });
  else if (options.clean && !(await isDestination(local, dst))) await rm(local, { recursive: true, force: true });
  return dst;
}

async function isDestination(path: string, dst: string): Promise<boolean> {
  if (isRemote(dst)) return false;
  const target = localPath(dst);
  return resolve(path) === resolve(target) || resolve(path) === resolve(await fileTarget(path, target));
}
