// The storage initializer (`sedna storage-initializer`): argument and index parsing as pure
// functions, then real downloads from a local HTTP server, a local S3 server (s3rver) and local
// paths, and the command's exit code and message.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { containerArgv, DEFAULT_IMAGE_RUNTIMES, resolveImage, SEDNA_CLI } from '../../src/lc/kubelet/index.ts';
import { s3Client } from '../../src/lib/file-ops/index.ts';
import {
  archiveKind,
  indirectTarget,
  initializeStorage,
  normalizeUri,
  parseIndirectIndex,
  parsePairs,
  type StorageLog,
} from '../../src/lib/file-ops/storage-initializer.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

describe('storage initializer: parsing', () => {
  it('reads src/dst pairs and strips the indirect mark from a destination', () => {
    assert.deepEqual(parsePairs(['s3://b/m.pb', '/downloads/b/', '/home/data/idx.txt', '@/downloads/data/']), [
      { src: 's3://b/m.pb', dst: '/downloads/b/', indirect: false },
      { src: '/home/data/idx.txt', dst: '/downloads/data/', indirect: true },
    ]);
    assert.deepEqual(parsePairs(['http://h/x', '!!/out'], '!!'), [{ src: 'http://h/x', dst: '/out', indirect: true }]);
    assert.deepEqual(parsePairs(['http://h/x', '@/out'], '!!'), [{ src: 'http://h/x', dst: '@/out', indirect: false }]);
  });

  it('rejects an empty or odd argument list with the usage', () => {
    assert.throws(() => parsePairs([]), /got 0 argument\(s\); usage: sedna storage-initializer <src> <dst>/);
    assert.throws(() => parsePairs(['a', 'b', 'c']), /got 3 argument\(s\)/);
  });

  it('normalizes a leading / to file:// and obs:// to s3://, nothing else', () => {
    assert.equal(normalizeUri('/home/data/a.txt'), 'file:///home/data/a.txt');
    assert.equal(normalizeUri('obs://bucket/k'), 's3://bucket/k');
    assert.equal(normalizeUri('s3://bucket/k'), 's3://bucket/k');
    assert.equal(normalizeUri('https://h/p/x.bin'), 'https://h/p/x.bin');
    assert.equal(normalizeUri('relative/x'), 'relative/x');
  });

  it('parses an index: comments and blank lines skipped, the first line the base, keys once each', () => {
    const text = '# samples\r\n\n  s3://bucket/base/  \n# more\nimages/a.jpg\nb.jpg\r\nimages/a.jpg\n\n';
    assert.deepEqual(parseIndirectIndex(text), { baseUri: 's3://bucket/base/', keys: ['images/a.jpg', 'b.jpg'] });
    assert.deepEqual(parseIndirectIndex('# only comments\n\n'), { baseUri: undefined, keys: [] });
  });

  it('puts a key under dst/<dirname(key)> and joins it onto the base with one slash', () => {
    assert.deepEqual(indirectTarget('s3://b/base/', 'images/a.jpg', '/out'), { uri: 's3://b/base/images/a.jpg', dir: '/out/images' });
    assert.deepEqual(indirectTarget('s3://b/base', 'a.jpg', '/out'), { uri: 's3://b/base/a.jpg', dir: '/out' });
  });

  it('knows tar (any compression) and zip archives by name', () => {
    for (const name of ['m.tar', 'm.tar.gz', 'M.TGZ', 'm.tar.bz2', 'm.tar.xz']) assert.equal(archiveKind(name), 'tar', name);
    assert.equal(archiveKind('m.zip'), 'zip');
    for (const name of ['m.pb', 'm.gz', 'm.onnx', 'tar']) assert.equal(archiveKind(name), undefined, name);
  });

  it('maps the image kubeedge/sedna-storage-initializer (any tag) to `sedna storage-initializer`', () => {
    const runtime = resolveImage('kubeedge/sedna-storage-initializer:v0.3.0', DEFAULT_IMAGE_RUNTIMES);
    assert.ok(runtime);
    assert.equal(resolveImage('docker.io/kubeedge/sedna-storage-initializer', DEFAULT_IMAGE_RUNTIMES), runtime);
    assert.deepEqual(containerArgv(runtime, undefined, ['s3://b/m', '/downloads/b/']), [process.execPath, SEDNA_CLI, 'storage-initializer', 's3://b/m', '/downloads/b/']);
  });
});

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverCtor = new (options: Record<string, unknown>) => S3rverInstance;

describe('storage initializer: downloads', () => {
  let dir: string;
  let http: Server;
  let httpBase: string;
  let s3: S3rverInstance;
  let s3Env: Record<string, string>;
  const warnings: string[] = [];
  const log: StorageLog = { info: () => undefined, warn: (m) => warnings.push(m) };
  const files: Record<string, Buffer> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sedna-storage-init-'));
    // Archives made with the system tools, served over HTTP and stored in S3.
    const staging = join(dir, 'staging');
    mkdirSync(join(staging, 'pkg'), { recursive: true });
    writeFileSync(join(staging, 'pkg', 'weights.txt'), 'w1');
    await run('tar', ['-czf', join(dir, 'pkg.tar.gz'), '-C', staging, 'pkg']);
    await run('zip', ['-q', '-r', join(dir, 'pkg.zip'), 'pkg'], { cwd: staging });
    files['/model.bin'] = Buffer.from('model-bytes');
    files['/pkg.tar.gz'] = readFileSync(join(dir, 'pkg.tar.gz'));
    files['/pkg.zip'] = readFileSync(join(dir, 'pkg.zip'));
    files['/index.txt'] = Buffer.from('# remote index\ns3://data/set/\nimg/1.jpg\n');
    http = createServer((req, res) => {
      const body = files[req.url ?? ''];
      if (!body) {
        res.statusCode = 404;
        return void res.end('no');
      }
      res.end(body);
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    httpBase = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

    const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor;
    s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: join(dir, 's3'), configureBuckets: [{ name: 'models' }, { name: 'data' }] });
    const { port } = await s3.run();
    s3Env = { S3_ENDPOINT_URL: `http://127.0.0.1:${port}`, ACCESS_KEY_ID: 'S3RVER', SECRET_ACCESS_KEY: 'S3RVER' };
    const put = async (bucket: string, key: string, body: Buffer | string) => (await s3Client(s3Env)).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    await put('models', 'm1/model.pb', 'pb-bytes');
    await put('models', 'm1/pkg.tar.gz', files['/pkg.tar.gz']);
    await put('data', 'set/img/1.jpg', 'jpg-1');
    await put('data', 'set/img/2.jpg', 'jpg-2');
    await put('data', 'set/3.jpg', 'jpg-3');
  });

  after(async () => {
    await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
    await s3?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const out = (name: string): string => join(dir, 'out', name);

  it('http(s): GETs the file into dst under its own name; a .tar.gz or .zip is extracted and removed', async () => {
    await initializeStorage(
      [
        { src: `${httpBase}/model.bin`, dst: out('http'), indirect: false },
        { src: `${httpBase}/pkg.tar.gz`, dst: out('tgz'), indirect: false },
        { src: `${httpBase}/pkg.zip`, dst: out('zip'), indirect: false },
      ],
      { log },
    );
    assert.equal(readFileSync(join(out('http'), 'model.bin'), 'utf8'), 'model-bytes');
    assert.equal(readFileSync(join(out('tgz'), 'pkg', 'weights.txt'), 'utf8'), 'w1');
    assert.equal(existsSync(join(out('tgz'), 'pkg.tar.gz')), false, 'archive removed after extraction');
    assert.equal(readFileSync(join(out('zip'), 'pkg', 'weights.txt'), 'utf8'), 'w1');
    assert.equal(existsSync(join(out('zip'), 'pkg.zip')), false);
  });

  it('a failed download stops the run with an error naming the URL', async () => {
    const url = `${httpBase}/missing.bin`;
    await assert.rejects(
      initializeStorage([{ src: url, dst: out('missing'), indirect: false }], { log }),
      (err: Error) => err.message.includes(`failed to download ${url} into ${out('missing')}`) && /HTTP 404/.test(err.message),
    );
    await assert.rejects(initializeStorage([{ src: 'ftp://h/x', dst: out('ftp'), indirect: false }], { log }), /ftp:\/\/h\/x.*cannot recognize the storage type/);
  });

  it('s3:// (and obs://): every object under the prefix into dst, archives extracted', async () => {
    await initializeStorage([{ src: 's3://models/m1', dst: out('s3'), indirect: false }], { log, env: s3Env });
    assert.equal(readFileSync(join(out('s3'), 'model.pb'), 'utf8'), 'pb-bytes');
    assert.equal(readFileSync(join(out('s3'), 'pkg', 'weights.txt'), 'utf8'), 'w1');
    assert.equal(existsSync(join(out('s3'), 'pkg.tar.gz')), false);
    await initializeStorage([{ src: 'obs://models/m1/model.pb', dst: out('obs'), indirect: false }], { log, env: s3Env });
    assert.equal(readFileSync(join(out('obs'), 'model.pb'), 'utf8'), 'pb-bytes');
    await assert.rejects(initializeStorage([{ src: 's3://models/nothing', dst: out('none'), indirect: false }], { log, env: s3Env }), /s3:\/\/models\/nothing/);
  });

  it('file:// and absolute paths: symlinks to the file or to each entry of the folder; a rerun replaces them', async () => {
    const src = join(dir, 'local');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'a.txt'), 'a');
    writeFileSync(join(src, 'sub', 'b.txt'), 'b');
    const pairs = [
      { src, dst: out('local-dir'), indirect: false },
      { src: `file://${join(src, 'a.txt')}`, dst: out('local-file'), indirect: false },
    ];
    await initializeStorage(pairs, { log });
    await initializeStorage(pairs, { log });
    assert.equal(readlinkSync(join(out('local-dir'), 'a.txt')), join(src, 'a.txt'));
    assert.equal(readlinkSync(join(out('local-dir'), 'sub')), join(src, 'sub'));
    assert.equal(readFileSync(join(out('local-dir'), 'sub', 'b.txt'), 'utf8'), 'b');
    assert.ok(lstatSync(join(out('local-file'), 'a.txt')).isSymbolicLink());
    await assert.rejects(initializeStorage([{ src: join(dir, 'nope'), dst: out('nope'), indirect: false }], { log }), /does not exist/);
  });

  it('indirect: the index lists keys under an s3 base; each lands in dst/<dirname(key)>, a missing one only warns', async () => {
    const index = join(dir, 'index.txt');
    writeFileSync(index, '# samples\ns3://data/set/\nimg/1.jpg\nimg/2.jpg\n3.jpg\nimg/gone.jpg\n');
    warnings.length = 0;
    await initializeStorage([{ src: index, dst: out('indirect'), indirect: true }], { log, env: s3Env });
    assert.equal(readFileSync(join(out('indirect'), 'img', '1.jpg'), 'utf8'), 'jpg-1');
    assert.equal(readFileSync(join(out('indirect'), 'img', '2.jpg'), 'utf8'), 'jpg-2');
    assert.equal(readFileSync(join(out('indirect'), '3.jpg'), 'utf8'), 'jpg-3');
    assert.equal(existsSync(join(out('indirect'), 'img', 'gone.jpg')), false);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /img\/gone\.jpg/);
  });

  it('indirect: a remote index is fetched first; a base that is not s3:// is skipped with a warning', async () => {
    await initializeStorage([{ src: `${httpBase}/index.txt`, dst: out('remote-index'), indirect: true }], { log, env: s3Env });
    assert.equal(readFileSync(join(out('remote-index'), 'img', '1.jpg'), 'utf8'), 'jpg-1');
    const index = join(dir, 'http-index.txt');
    writeFileSync(index, `${httpBase}/\nmodel.bin\n`);
    warnings.length = 0;
    await initializeStorage([{ src: index, dst: out('http-base'), indirect: true }], { log });
    assert.equal(existsSync(join(out('http-base'), 'model.bin')), false);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /unsupported base uri http:.*skipped/);
  });

  it('the command: maps an indirect destination through SEDNA_VOLUME_MOUNTS; bad arguments and failures exit 1', async () => {
    const cli = [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'src/cli/main.ts'), 'storage-initializer'];
    const index = join(dir, 'cmd-index.txt');
    writeFileSync(index, 's3://data/set/\nimg/1.jpg\n');
    const hostDownloads = out('cmd');
    const env = { ...process.env, ...s3Env, SEDNA_LOG_LEVEL: 'warn', SEDNA_VOLUME_MOUNTS: JSON.stringify({ '/downloads': hostDownloads }) };
    await run(process.execPath, [...cli, index, '@/downloads/set/'], { env });
    assert.equal(readFileSync(join(hostDownloads, 'set', 'img', '1.jpg'), 'utf8'), 'jpg-1');

    const odd = await run(process.execPath, [...cli, 'only-src'], { env }).then(() => undefined, (e: { code: number; stderr: string }) => e);
    assert.equal(odd?.code, 1);
    assert.match(odd.stderr, /expected pairs of <src> <dst>/);
    const url = `${httpBase}/missing.bin`;
    const failed = await run(process.execPath, [...cli, url, out('cmd-missing')], { env }).then(() => undefined, (e: { code: number; stderr: string }) => e);
    assert.equal(failed?.code, 1);
    assert.ok(failed.stderr.includes(`sedna: failed to download ${url}`), failed.stderr);
  });
});
