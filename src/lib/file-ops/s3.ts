// S3 access (lib.md §3) with @aws-sdk/client-s3: endpoint `S3_ENDPOINT_URL` (default
// http://s3.amazonaws.com; without a scheme https:// is assumed), credentials `ACCESS_KEY_ID` /
// `SECRET_ACCESS_KEY`, path-style addressing (MinIO and most on-premise stores need it), one
// client per endpoint and credentials for the life of the process.
import type { S3Client } from '@aws-sdk/client-s3';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import type { Env } from '../context.ts';
import { writeStreamAtomically } from './atomic.ts';
import { isDirectory } from './local.ts';

const clients = new Map<string, S3Client>();

export function s3Endpoint(env: Env = process.env): string {
  const raw = env.S3_ENDPOINT_URL || 'http://s3.amazonaws.com';
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`;
}

/** The AWS SDK loads on first use: a worker that never touches s3:// never pays for it. */
const sdk = (): Promise<typeof import('@aws-sdk/client-s3')> => import('@aws-sdk/client-s3');

export async function s3Client(env: Env = process.env): Promise<S3Client> {
  const endpoint = s3Endpoint(env);
  const accessKeyId = env.ACCESS_KEY_ID ?? '';
  const secretAccessKey = env.SECRET_ACCESS_KEY ?? '';
  const cacheKey = JSON.stringify([endpoint, accessKeyId, secretAccessKey]);
  let client = clients.get(cacheKey);
  if (!client) {
    const { S3Client } = await sdk();
    client = new S3Client({
      endpoint,
      forcePathStyle: true,
      region: env.AWS_REGION || 'us-east-1',
      // Checksums only where S3 demands them: the default streams uploads as aws-chunked with a
      // trailing CRC, which many S3-compatible stores (s3rver, older MinIO, Ceph) store verbatim.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Without keys the SDK's own chain (profile, instance role…) is used.
      ...(accessKeyId || secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
    });
    clients.set(cacheKey, client);
  }
  return client;
}

export interface S3Location {
  bucket: string;
  key: string;
}

export function parseS3Url(url: string): S3Location {
  if (!url.startsWith('s3://')) throw new Error(`${url} is not an s3:// URL`);
  const [bucket = '', key = ''] = url.slice('s3://'.length).split(/\/(.*)/s);
  if (!bucket) throw new Error(`${url} names no bucket`);
  return { bucket, key };
}

async function listKeys(client: S3Client, { bucket, key: prefix }: S3Location): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const { ListObjectsV2Command } = await sdk();
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  // "a/b" names the object a/b or the folder a/b/, not a/bc (Sedna's plain prefix match took those too).
  const folder = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  return keys.filter((k) => k === prefix || k.startsWith(folder));
}

/** Downloads an object, or every object under a prefix; returns the written paths. */
export async function s3Download(url: string, dst: string, env: Env = process.env): Promise<string[]> {
  const client = await s3Client(env);
  const location = parseS3Url(url);
  const keys = await listKeys(client, location);
  if (keys.length === 0) throw new Error(`Failed to fetch files. The path ${url} does not exist.`);
  const intoFolder = keys.length > 1 || (await isDirectory(dst)) || dst.endsWith('/');
  const written: string[] = [];
  for (const key of keys) {
    const target = intoFolder ? join(dst, relativeKey(key, location.key)) : dst;
    const { GetObjectCommand } = await sdk();
    const object = await client.send(new GetObjectCommand({ Bucket: location.bucket, Key: key }));
    if (!object.Body) throw new Error(`s3://${location.bucket}/${key} has no body`);
    await writeStreamAtomically(object.Body as Readable, target);
    written.push(target);
  }
  return written;
}

function relativeKey(key: string, prefix: string): string {
  const rest = key.slice(prefix.length).replace(/^\/+/, '');
  return rest === '' ? basename(key) : rest;
}

/**
 * Uploads a file to the key of `url` (or, when the URL ends with `/`, to that prefix plus the file's
 * name), or a folder's files under the URL's key. Sedna dropped the URL's key for folders and put
 * them at the bucket root; we keep it. Returns the keys written.
 */
export async function s3Upload(src: string, url: string, env: Env = process.env): Promise<string[]> {
  const client = await s3Client(env);
  const { bucket, key } = parseS3Url(url);
  if (!(await isDirectory(src))) {
    const target = key === '' || key.endsWith('/') ? `${key}${basename(src)}` : key;
    await putFile(client, bucket, target, src);
    return [target];
  }
  const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
  const written: string[] = [];
  for (const file of await filesUnder(src)) {
    const target = prefix + relative(src, file).split('\\').join('/');
    await putFile(client, bucket, target, file);
    written.push(target);
  }
  return written;
}

async function putFile(client: S3Client, bucket: string, key: string, file: string): Promise<void> {
  const { size } = await stat(file);
  const { PutObjectCommand } = await sdk();
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(file), ContentLength: size }));
}

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}
