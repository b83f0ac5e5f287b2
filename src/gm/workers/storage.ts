// Model and dataset URLs in worker pods (spec §2.3.4–2.3.6). A node path is mounted from the host
// under /home/data; an s3:// or http(s):// URL is fetched into the shared /downloads emptyDir by
// the storage-initializer init container; an "indirect" URL is an index file whose entries the
// initializer fetches. Each URL's in-container location reaches the worker in an env var, and S3
// credentials come from the URL's Secret. Pure functions over a pod template: nothing is mutated.
import type { Container, CoreSecret, EnvVar, PodTemplateSpec, VolumeMount, Volume } from '../../api/workloads.ts';
import { createHash } from 'node:crypto';
import { convertK8sValidName } from './names.ts';

export const DOWNLOAD_DIR = '/downloads';
export const DATA_PATH_PREFIX = '/home/data';
export const URL_SEPARATOR = ';';
export const INDIRECT_URL_MARK = '@';
export const STORAGE_INITIALIZER_NAME = 'storage-initializer';
export const STORAGE_INITIALIZER_IMAGE = 'kubeedge/sedna-storage-initializer:v0.3.0';
export const STORAGE_INITIALIZER_VOLUME = 'sedna-storage-initializer';
export const DEFAULT_VOLUME_NAME = 'sedna-default-volume-name';
export const S3_ENDPOINT_ANNOTATION = 's3-endpoint';
export const S3_USE_HTTPS_ANNOTATION = 's3-usehttps';

export interface MountUrl {
  url: string;
  /** Fetch an s3/http(s) URL into /downloads before the workers start. */
  downloadByInitializer?: boolean;
  /** The URL is an index file listing the objects to fetch. */
  indirect?: boolean;
  /** The credential Secret of the URL (Model/Dataset `credentialName`), already read. */
  secret?: CoreSecret;
  /** Skip this URL entirely. */
  disabled?: boolean;
}

export interface WorkerMount {
  /** Every URL's in-container location, `;`-joined, goes into this env var. */
  envName: string;
  urls: MountUrl[];
}

/** What one URL needs in the pod. */
interface ResolvedUrl {
  /** Where the worker finds it; the raw URL when nothing is mounted or downloaded. */
  containerPath: string;
  hostPath?: string;
  mountPath?: string;
  downloadSrc?: string;
  downloadDstDir?: string;
  indirect: boolean;
  s3Env: EnvVar[];
}

/** Go's path.Clean for slash-separated paths. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  return rooted ? `/${joined}` : joined || '.';
}

/** Go's path.Dir: everything before the last slash, cleaned (`/a/b/` → `/a/b`). */
export function dirPath(p: string): string {
  const slash = p.lastIndexOf('/');
  return cleanPath(p.slice(0, slash + 1));
}

function parseUrl(raw: string): { scheme: string; host: string; path: string } {
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/.exec(raw);
  if (!match) return { scheme: '', host: '', path: raw };
  return { scheme: match[1]!.toLowerCase(), host: match[2]!, path: match[3]! };
}

/**
 * S3 env of a credential Secret: S3_ENDPOINT_URL from its `s3-endpoint` annotation (http when
 * `s3-usehttps` is "0"), ACCESS_KEY_ID and SECRET_ACCESS_KEY from its data. A Secret without the
 * endpoint annotation yields none, as Sedna silently ignores it.
 */
export function s3EnvFromSecret(secret: CoreSecret | undefined): EnvVar[] {
  const endpoint = secret?.metadata.annotations?.[S3_ENDPOINT_ANNOTATION];
  if (!secret || !endpoint) return [];
  const scheme = secret.metadata.annotations?.[S3_USE_HTTPS_ANNOTATION] === '0' ? 'http' : 'https';
  const env: EnvVar[] = [{ name: 'S3_ENDPOINT_URL', value: `${scheme}://${endpoint}` }];
  for (const key of ['ACCESS_KEY_ID', 'SECRET_ACCESS_KEY']) {
    const value = secretValue(secret, key);
    if (value !== undefined) env.push({ name: key, value });
  }
  return env;
}

function secretValue(secret: CoreSecret, key: string): string | undefined {
  const encoded = secret.data?.[key];
  if (encoded !== undefined) return Buffer.from(encoded, 'base64').toString('utf8');
  return secret.stringData?.[key];
}

export function resolveUrl(mountUrl: MountUrl): ResolvedUrl {
  const { url } = mountUrl;
  const indirect = mountUrl.indirect === true;
  const u = parseUrl(url);
  const resolved: ResolvedUrl = { containerPath: url, indirect, s3Env: [] };
  if (mountUrl.downloadByInitializer && ['s3', 'http', 'https'].includes(u.scheme)) {
    resolved.containerPath = cleanPath(`${DOWNLOAD_DIR}/${u.host}${u.path}`);
    resolved.downloadSrc = url;
    resolved.downloadDstDir = `${dirPath(resolved.containerPath)}/`;
  } else if (u.scheme === '') {
    // A trailing slash would mount the folder's parent one level too deep (Sedna's Dir keeps the
    // last element of `/a/b/`), so a folder URL is treated as the folder itself.
    const path = url.length > 1 ? url.replace(/\/+$/, '') : url;
    resolved.hostPath = `${dirPath(path)}/`;
    resolved.containerPath = cleanPath(`${DATA_PATH_PREFIX}${path}`);
    resolved.mountPath = `${dirPath(resolved.containerPath)}/`;
    if (indirect) {
      resolved.downloadSrc = resolved.containerPath;
      resolved.containerPath = cleanPath(`${DOWNLOAD_DIR}${path}`);
      resolved.downloadDstDir = `${dirPath(resolved.containerPath)}/`;
    }
  }
  if (mountUrl.secret && (u.scheme === 's3' || indirect)) resolved.s3Env = s3EnvFromSecret(mountUrl.secret);
  return resolved;
}

/** Appends `env` entries whose names are not yet in `target` (first wins). */
function mergeEnv(target: EnvVar[], env: readonly EnvVar[]): void {
  for (const entry of env) if (!target.some((e) => e.name === entry.name)) target.push(entry);
}

function withEnv(container: Container, env: readonly EnvVar[]): Container {
  return env.length === 0 ? container : { ...container, env: [...(container.env ?? []), ...env] };
}

function withMounts(container: Container, mounts: readonly VolumeMount[]): Container {
  return mounts.length === 0 ? container : { ...container, volumeMounts: [...(container.volumeMounts ?? []), ...mounts] };
}

function initializerContainer(downloads: readonly ResolvedUrl[]): Container {
  const args = downloads.flatMap((d) => [d.downloadSrc!, d.indirect ? `${INDIRECT_URL_MARK}${d.downloadDstDir!}` : d.downloadDstDir!]);
  const env: EnvVar[] = [];
  for (const d of downloads) mergeEnv(env, d.s3Env);
  env.push({ name: 'INDIRECT_URL_MARK', value: INDIRECT_URL_MARK });
  return {
    name: STORAGE_INITIALIZER_NAME,
    image: STORAGE_INITIALIZER_IMAGE,
    imagePullPolicy: 'IfNotPresent',
    args,
    env,
    resources: { limits: { cpu: '1', memory: '1Gi' } },
    terminationMessagePolicy: 'FallbackToLogsOnError',
    volumeMounts: [{ name: STORAGE_INITIALIZER_VOLUME, mountPath: DOWNLOAD_DIR }],
  };
}

/** The template with every mount's URLs wired in: init container, host paths, env. */
/**
 * Sedna's volume name for a host path; when another host path already took that name (long paths
 * that ConvertK8SValidName cuts to the same 63 characters, where Sedna mounted the wrong folder),
 * the name ends in a hash of the path instead.
 */
function volumeNameFor(hostPath: string, volumes: readonly Volume[]): string {
  const name = convertK8sValidName(hostPath) || DEFAULT_VOLUME_NAME;
  const taken = volumes.find((v) => v.name === name);
  if (!taken || taken.hostPath?.path === hostPath) return name;
  const hash = createHash('sha256').update(hostPath).digest('hex').slice(0, 8);
  return `${name.slice(0, 54).replace(/-+$/, '')}-${hash}`;
}

export function injectStorage(template: PodTemplateSpec, mounts: readonly WorkerMount[]): PodTemplateSpec {
  const resolvedByMount = mounts.map((mount) => ({ mount, urls: mount.urls.filter((u) => !u.disabled).map(resolveUrl) }));
  const all = resolvedByMount.flatMap((m) => m.urls);
  let containers = template.spec.containers.map((c) => ({ ...c }));
  let initContainers = [...(template.spec.initContainers ?? [])];
  const volumes: Volume[] = [...(template.spec.volumes ?? [])];

  // 1. The storage initializer, when any URL has something to fetch.
  const downloads = all.filter((u) => u.downloadSrc !== undefined && u.downloadDstDir !== undefined);
  if (downloads.length > 0) {
    initContainers.push(initializerContainer(downloads));
    volumes.push({ name: STORAGE_INITIALIZER_VOLUME, emptyDir: {} });
    containers = containers.map((c) => withMounts(c, [{ name: STORAGE_INITIALIZER_VOLUME, mountPath: DOWNLOAD_DIR, readOnly: true }]));
  }

  // 2. Host paths: one volume per host directory; an index file is read by the initializer only.
  const mainMounts: VolumeMount[] = [];
  const initMounts: VolumeMount[] = [];
  for (const u of all.filter((x) => x.hostPath !== undefined)) {
    const name = volumeNameFor(u.hostPath!, volumes);
    if (!volumes.some((v) => v.name === name)) volumes.push({ name, hostPath: { path: u.hostPath!, type: 'Directory' } });
    const target = u.indirect ? initMounts : mainMounts;
    if (!target.some((m) => m.name === name && m.mountPath === u.mountPath)) target.push({ name, mountPath: u.mountPath! });
  }
  if (initMounts.length > 0) initContainers = initContainers.map((c, i) => (i === initContainers.length - 1 ? withMounts(c, initMounts) : c));
  const mainEnv: EnvVar[] = [];
  if (mainMounts.length > 0) {
    containers = containers.map((c) => withMounts(c, mainMounts));
    mainEnv.push({ name: 'DATA_PATH_PREFIX', value: DATA_PATH_PREFIX });
  }

  // 3. S3 credentials for URLs the worker reads itself.
  const workerSecretEnv: EnvVar[] = [];
  for (const u of all.filter((x) => x.downloadSrc === undefined)) mergeEnv(workerSecretEnv, u.s3Env);

  // 4. Each mount's env var: the in-container locations of its URLs.
  const urlEnv = resolvedByMount.map(({ mount, urls }): EnvVar => ({ name: mount.envName, value: urls.map((u) => u.containerPath).join(URL_SEPARATOR) }));
  containers = containers.map((c) => withEnv(c, [...urlEnv, ...mainEnv, ...workerSecretEnv]));

  const spec: PodTemplateSpec['spec'] = { ...template.spec, containers };
  if (initContainers.length > 0) spec.initContainers = initContainers;
  if (volumes.length > 0) spec.volumes = volumes;
  return { ...template, spec };
}
