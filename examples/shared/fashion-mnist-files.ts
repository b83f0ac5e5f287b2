// Where the four Fashion-MNIST IDX gz files come from: FASHION_MNIST_DIR when set, else Debian's
// dataset-fashion-mnist location, else the user cache (~/.cache/sedna/fashion-mnist), else a
// download from the dataset's canonical source into that cache, each file checked against the
// SHA-256 of the published file before it is kept. Offline, it stops with one message naming the
// Debian package. (Debian's files are recompressed, so their bytes differ from the published ones:
// local folders are used as they are; only downloads are checked.)
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
/** Zalando Research's download location, as the dataset's README gives it. */
export const FASHION_MNIST_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';
export const INSTALL_HINT = 'sudo apt-get install dataset-fashion-mnist';

export interface PublishedFile {
  name: string;
  bytes: number;
  sha256: string;
}

/** The four files as published (sizes and SHA-256 of the upstream gz files). */
export const FASHION_MNIST_FILES: readonly PublishedFile[] = [
  { name: 'train-images-idx3-ubyte.gz', bytes: 26_421_880, sha256: '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84' },
  { name: 'train-labels-idx1-ubyte.gz', bytes: 29_515, sha256: 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845' },
  { name: 't10k-images-idx3-ubyte.gz', bytes: 4_422_102, sha256: '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073' },
  { name: 't10k-labels-idx1-ubyte.gz', bytes: 5_148, sha256: '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5' },
];

export interface LocateOptions {
  /** An explicit folder (a command's --data): used as it is, never downloaded into. */
  dir?: string;
  env?: NodeJS.ProcessEnv;
  debianDir?: string;
  cacheDir?: string;
  /** Base URL of the files (env FASHION_MNIST_URL, else the canonical source). */
  url?: string;
  files?: readonly PublishedFile[];
  /** Where the progress line goes (stderr by default). */
  progress?: (line: string, final: boolean) => void;
}

export class FashionMnistUnavailable extends Error {}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'sedna', 'fashion-mnist');
}

async function holdsAll(dir: string, files: readonly PublishedFile[]): Promise<boolean> {
  const found = await Promise.all(files.map((f) => stat(join(dir, f.name)).then((s) => s.isFile() && s.size > 0, () => false)));
  return found.every(Boolean);
}

function stderrProgress(line: string, final: boolean): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${line}${final ? '\n' : ''}`);
  else if (final) process.stderr.write(`${line}\n`);
}

/** Downloads one file into dir, hashing as it streams; a checksum mismatch keeps nothing. */
export async function downloadFile(baseUrl: string, file: PublishedFile, dir: string, progress: (line: string, final: boolean) => void = stderrProgress): Promise<void> {
  const url = new URL(file.name, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).toString();
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`GET ${url}: HTTP ${response.status}`);
  const total = Number(response.headers.get('content-length')) || file.bytes;
  const hash = createHash('sha256');
  const partial = join(dir, `${file.name}.part`);
  let received = 0;
  let lastShown = -1;
  const counted = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>).map((chunk: Buffer) => {
    hash.update(chunk);
    received += chunk.length;
    const percent = Math.floor((received / total) * 100);
    if (percent !== lastShown) {
      lastShown = percent;
      progress(`Fashion-MNIST: downloading ${file.name} ${(received / 1e6).toFixed(1)}/${(total / 1e6).toFixed(1)} MB (${percent}%)`, false);
    }
    return chunk;
  });
  await pipeline(counted, createWriteStream(partial));
  const digest = hash.digest('hex');
  if (digest !== file.sha256) {
    await rm(partial, { force: true });
    throw new Error(`Fashion-MNIST: checksum mismatch for ${file.name} from ${url}: SHA-256 ${digest}, expected ${file.sha256}; the file was not kept`);
  }
  await rename(partial, join(dir, file.name));
  progress(`Fashion-MNIST: downloaded ${file.name} (${(received / 1e6).toFixed(1)} MB, SHA-256 verified)`, true);
}

/** The network's own words for a failed fetch (undici hides them in `cause`). */
function reason(error: unknown): string {
  const cause = (error as Error).cause;
  return cause instanceof Error ? cause.message : (error as Error).message;
}

/** The folder holding the four files, downloading them into the cache when no folder has them. */
export async function locateFashionMnist(options: LocateOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const files = options.files ?? FASHION_MNIST_FILES;
  const chosen = options.dir ?? env['FASHION_MNIST_DIR'];
  if (chosen) {
    if (await holdsAll(chosen, files)) return chosen;
    throw new FashionMnistUnavailable(`Fashion-MNIST: ${chosen} (${options.dir ? 'given' : 'FASHION_MNIST_DIR'}) does not hold ${files.map((f) => f.name).join(', ')}`);
  }
  const debianDir = options.debianDir ?? DEBIAN_FASHION_MNIST_DIR;
  if (await holdsAll(debianDir, files)) return debianDir;
  const cacheDir = options.cacheDir ?? defaultCacheDir(env);
  if (await holdsAll(cacheDir, files)) return cacheDir;
  const url = options.url ?? env['FASHION_MNIST_URL'] ?? FASHION_MNIST_URL;
  await mkdir(cacheDir, { recursive: true });
  for (const file of files) {
    if (await holdsAll(cacheDir, [file])) continue;
    try {
      await downloadFile(url, file, cacheDir, options.progress);
    } catch (error) {
      if ((error as Error).message.includes('checksum mismatch')) throw error;
      throw new FashionMnistUnavailable(
        `Fashion-MNIST is not in ${debianDir} or ${cacheDir}, and downloading it from ${url} failed (${reason(error)}). ` +
          `Install Debian's package with '${INSTALL_HINT}', or set FASHION_MNIST_DIR to a folder holding the four *-ubyte.gz files.`,
      );
    }
  }
  return cacheDir;
}
