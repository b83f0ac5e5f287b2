// The Fashion-MNIST loader's look-up and download: FASHION_MNIST_DIR, Debian's folder, the user
// cache, and a download from a real HTTP server on 127.0.0.1 (port 0) serving the dataset's files,
// with the SHA-256 check, the progress line, a mismatch that keeps nothing, and the one offline message.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readIdx } from '../../src/lib/datasources/idx.ts';
import { DEBIAN_FASHION_MNIST_DIR, FashionMnistUnavailable, locateFashionMnist, type PublishedFile } from '../../examples/shared/fashion-mnist-files.ts';

// The two label files are small and real IDX gz files; they stand in for the four.
const SOURCE = process.env['FASHION_MNIST_DIR'] ?? DEBIAN_FASHION_MNIST_DIR;
const NAMES = ['train-labels-idx1-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];
const bodies = new Map(NAMES.map((name) => [name, readFileSync(join(SOURCE, name))]));
const published: PublishedFile[] = NAMES.map((name) => ({ name, bytes: bodies.get(name)!.length, sha256: createHash('sha256').update(bodies.get(name)!).digest('hex') }));

interface Served {
  server: Server;
  url: string;
  requests: string[];
}

async function serve(body: (name: string) => Buffer | undefined): Promise<Served> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const name = (req.url ?? '/').slice(1);
    requests.push(name);
    const content = body(name);
    if (!content) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': content.length });
    // Two chunks, so the progress line moves.
    res.write(content.subarray(0, content.length >> 1));
    setImmediate(() => res.end(content.subarray(content.length >> 1)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests };
}

function close(server: Server): Promise<void> {
  return new Promise((r) => server.close(() => r()));
}

describe('Fashion-MNIST files', () => {
  let root: string;
  const env = {} as NodeJS.ProcessEnv;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'fmnist-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('downloads missing files into the cache with checksums and a progress line, then reuses the cache', async () => {
    const served = await serve((name) => bodies.get(name));
    try {
      const cacheDir = join(root, 'cache-ok');
      const lines: { line: string; final: boolean }[] = [];
      const options = { env, debianDir: join(root, 'no-debian'), cacheDir, url: served.url, files: published, progress: (line: string, final: boolean) => lines.push({ line, final }) };
      assert.equal(await locateFashionMnist(options), cacheDir);
      for (const name of NAMES) assert.deepEqual(readFileSync(join(cacheDir, name)), bodies.get(name));
      assert.equal((await readIdx(join(cacheDir, 't10k-labels-idx1-ubyte.gz'))).dims[0], 10_000);
      assert.deepEqual(readdirSync(cacheDir).sort(), [...NAMES].sort(), 'no partial files left');
      assert.ok(lines.some((l) => !l.final && /downloading t10k-labels-idx1-ubyte\.gz .*\(100%\)/.test(l.line)), lines.map((l) => l.line).join('\n'));
      assert.deepEqual(lines.filter((l) => l.final).map((l) => l.line), NAMES.map((name) => `Fashion-MNIST: downloaded ${name} (${(bodies.get(name)!.length / 1e6).toFixed(1)} MB, SHA-256 verified)`));
      assert.deepEqual(served.requests, NAMES);
      assert.equal(await locateFashionMnist(options), cacheDir);
      assert.equal(served.requests.length, NAMES.length, 'the second look-up reads the cache');
    } finally {
      await close(served.server);
    }
  });

  it('keeps nothing and names the file when a download does not match its SHA-256', async () => {
    const served = await serve((name) => (name === NAMES[1] ? Buffer.from('not the labels') : bodies.get(name)));
    try {
      const cacheDir = join(root, 'cache-bad');
      await assert.rejects(
        locateFashionMnist({ env, debianDir: join(root, 'no-debian'), cacheDir, url: served.url, files: published, progress: () => {} }),
        (error: Error) => error.message.includes(`checksum mismatch for ${NAMES[1]}`) && error.message.includes(published[1]!.sha256),
      );
      assert.ok(existsSync(join(cacheDir, NAMES[0]!)), 'the good file is kept');
      assert.ok(!existsSync(join(cacheDir, NAMES[1]!)) && !existsSync(join(cacheDir, `${NAMES[1]}.part`)), 'the bad file is not');
    } finally {
      await close(served.server);
    }
  });

  it('offline, stops with one message naming the Debian package', async () => {
    const closed = await serve(() => undefined);
    await close(closed.server);
    await assert.rejects(
      locateFashionMnist({ env, debianDir: join(root, 'no-debian'), cacheDir: join(root, 'cache-offline'), url: closed.url, files: published, progress: () => {} }),
      (error: Error) => error instanceof FashionMnistUnavailable && error.message.includes("'sudo apt-get install dataset-fashion-mnist'") && error.message.includes('FASHION_MNIST_DIR'),
    );
  });

  it('prefers FASHION_MNIST_DIR, then the Debian folder, then the cache, and names a FASHION_MNIST_DIR that lacks the files', async () => {
    const full = (name: string) => {
      const dir = join(root, name);
      mkdirSync(dir, { recursive: true });
      for (const n of NAMES) writeFileSync(join(dir, n), bodies.get(n)!);
      return dir;
    };
    const chosen = full('chosen');
    const debian = full('debian');
    const cache = full('cache-full');
    const unreachable = 'http://127.0.0.1:1/';
    assert.equal(await locateFashionMnist({ env: { FASHION_MNIST_DIR: chosen }, debianDir: debian, cacheDir: cache, url: unreachable, files: published }), chosen);
    assert.equal(await locateFashionMnist({ env, debianDir: debian, cacheDir: cache, url: unreachable, files: published }), debian);
    assert.equal(await locateFashionMnist({ env, debianDir: join(root, 'no-debian'), cacheDir: cache, url: unreachable, files: published }), cache);
    await assert.rejects(locateFashionMnist({ env: { FASHION_MNIST_DIR: join(root, 'empty') }, files: published }), /empty \(FASHION_MNIST_DIR\) does not hold/);
  });
});
