// FileOps (lib.md §3) against real endpoints: local paths and file:// URLs, a local http server,
// and a real S3 emulator (s3rver) on 127.0.0.1 in a temp folder.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { create as createTar } from 'tar';
import { download, extractTarGz, isLocal, isRemote, joinPath, packTarGz, removePathPrefix, upload } from '../../src/lib/file-ops/index.ts';

interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;
// s3rver ships no type declarations.
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

let dir = '';
let httpServer: Server;
let httpBase = '';
let s3: S3rverInstance;
let env: Record<string, string> = {};

const file = (rel: string, content: string): string => {
  const path = join(dir, rel);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  return path;
};
const read = (path: string): string => readFileSync(path, 'utf8');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sedna-fileops-'));
  httpServer = createServer((req, res) => {
    if (req.url === '/model.bin') return res.writeHead(200).end('weights');
    if (req.url === '/moved') return res.writeHead(302, { location: '/model.bin' }).end();
    res.writeHead(404).end('no');
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  httpBase = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  mkdirSync(join(dir, 's3rver'));
  s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: join(dir, 's3rver'), configureBuckets: [{ name: 'b' }] });
  const { port } = await s3.run();
  env = { S3_ENDPOINT_URL: `http://127.0.0.1:${port}`, ACCESS_KEY_ID: 'S3RVER', SECRET_ACCESS_KEY: 'S3RVER' };
});

after(async () => {
  await s3.close();
  httpServer.closeAllConnections();
  await new Promise((resolve) => httpServer.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('paths', () => {
  it('classifies locations and joins/strips paths', () => {
    assert.equal(isRemote('s3://b/k'), true);
    assert.equal(isRemote('gs://b/k'), true);
    assert.equal(isRemote('https://host/a'), true);
    assert.equal(isRemote('/tmp'), false);
    assert.equal(isLocal('file:///nowhere'), true);
    assert.equal(isLocal(tmpdir()), true);
    assert.equal(isLocal('/definitely/not/here'), false);
    assert.equal(joinPath('s3://b/models', 'v1', 'm.pb'), 's3://b/models/v1/m.pb');
    assert.equal(joinPath('/data', 'a', 'b.txt'), '/data/a/b.txt');
    assert.equal(removePathPrefix('/home/data/models/m.pb', '/home/data/'), '/models/m.pb');
    assert.equal(removePathPrefix('/other/m.pb', '/home/data'), '/other/m.pb');
  });
});

describe('local and file://', () => {
  it('copies a file, a file:// URL and a folder', async () => {
    const src = file('local/a.txt', 'A');
    assert.equal(read(await download(src, join(dir, 'out/a-copy.txt'))), 'A');
    assert.equal(read(await download(`file://${src}`, join(dir, 'out/a-file-url.txt'))), 'A');
    file('local/tree/x/y.txt', 'Y');
    const target = await download(join(dir, 'local/tree'), join(dir, 'out/tree'));
    assert.equal(read(join(target, 'x/y.txt')), 'Y');
    const temp = await download(src);
    assert.equal(read(temp), 'A');
    rmSync(join(temp, '..'), { recursive: true });
  });
  it('a missing source is an error naming it', async () => {
    await assert.rejects(download(join(dir, 'nope.txt'), join(dir, 'out/nope.txt')), /nope\.txt does not exist/);
  });
  it('upload copies a file into a folder and deletes the source only with clean', async () => {
    const src = file('up/m.pb', 'M');
    mkdirSync(join(dir, 'up-dst'));
    await upload(src, join(dir, 'up-dst'));
    assert.equal(read(join(dir, 'up-dst/m.pb')), 'M');
    assert.ok(existsSync(src));
    await upload(src, join(dir, 'up-dst/renamed.pb'), { clean: true });
    assert.equal(read(join(dir, 'up-dst/renamed.pb')), 'M');
    assert.equal(existsSync(src), false);
  });
  it('tar.gz round trip: upload with tar, download with unzip', async () => {
    file('pack/model/w.bin', 'W');
    await upload(join(dir, 'pack/model'), join(dir, 'archives/'), { tar: true });
    assert.ok(existsSync(join(dir, 'archives/model.tar.gz')));
    assert.equal(existsSync(join(dir, 'pack/model.tar.gz')), false, 'the archive made for the upload is removed');
    const archive = await download(join(dir, 'archives/model.tar.gz'), join(dir, 'unpacked/model.tar.gz'), { unzip: true });
    assert.equal(read(join(archive, '../model/w.bin')), 'W');
  });
  it('a truncated archive, one that is no archive, or an entry climbing out of the folder is an error naming the archive', async () => {
    file('bad/model/w.bin', 'W'.repeat(100_000));
    const whole = readFileSync(await packTarGz(join(dir, 'bad/model')));
    writeFileSync(join(dir, 'bad/truncated.tar.gz'), whole.subarray(0, whole.length >> 1));
    writeFileSync(join(dir, 'bad/text.tar.gz'), 'not an archive');
    file('bad/inner/x', '');
    file('bad/escape', 'E');
    await createTar({ gzip: true, file: join(dir, 'bad/climbing.tar.gz'), cwd: join(dir, 'bad/inner'), preservePaths: true }, ['../escape']);
    for (const [name, cause] of [['truncated', /unexpected end of file/], ['text', /Unrecognized archive format/], ['climbing', /path contains '\.\.'/]] as const) {
      const into = join(dir, `bad/out-${name}`);
      mkdirSync(into);
      await assert.rejects(extractTarGz(join(dir, `bad/${name}.tar.gz`), into), (err: Error) => err.message.includes(`${name}.tar.gz`) && cause.test(err.message));
    }
    assert.deepEqual(readdirSync(join(dir, 'bad/out-climbing')), [], 'nothing is written for a refused entry');
  });
});

describe('http', () => {
  it('downloads, following redirects', async () => {
    assert.equal(read(await download(`${httpBase}/model.bin`, join(dir, 'http/m.bin'))), 'weights');
    assert.equal(read(await download(`${httpBase}/moved`, join(dir, 'http/moved.bin'))), 'weights');
  });
  it('a non-2xx answer is an error naming status and URL, leaving no file', async () => {
    await assert.rejects(download(`${httpBase}/missing`, join(dir, 'http/missing.bin')), (err: Error) => err.message.includes('404') && err.message.includes(`${httpBase}/missing`));
    assert.equal(existsSync(join(dir, 'http/missing.bin')), false);
    assert.deepEqual(readdirSync(join(dir, 'http')).sort(), ['m.bin', 'moved.bin']);
  });
});

describe('s3', () => {
  it('uploads a file and downloads the single object to a file', async () => {
    const src = file('s3src/model.pb', 'PB');
    await upload(src, 's3://b/models/v1/model.pb', { env });
    assert.equal(read(await download('s3://b/models/v1/model.pb', join(dir, 's3out/one.pb'), { env })), 'PB');
  });
  it('uploads a folder and downloads the prefix into a folder', async () => {
    file('s3tree/a.txt', 'a');
    file('s3tree/sub/b.txt', 'b');
    await upload(join(dir, 's3tree'), 's3://b/data/set', { env });
    const target = await download('s3://b/data/set', join(dir, 's3out/set'), { env });
    assert.equal(read(join(target, 'a.txt')), 'a');
    assert.equal(read(join(target, 'sub/b.txt')), 'b');
  });
  it('a single object into an existing folder keeps its name', async () => {
    mkdirSync(join(dir, 's3out/folder'), { recursive: true });
    await download('s3://b/models/v1/model.pb', join(dir, 's3out/folder'), { env });
    assert.equal(read(join(dir, 's3out/folder/model.pb')), 'PB');
  });
  it('a missing prefix is an error', async () => {
    await assert.rejects(download('s3://b/absent/x', join(dir, 's3out/x'), { env }), { message: 'Failed to fetch files. The path s3://b/absent/x does not exist.' });
  });
  it('a prefix does not match a longer sibling name', async () => {
    await assert.rejects(download('s3://b/data/se', join(dir, 's3out/se'), { env }), /does not exist/);
  });
  it('tar.gz round trip through s3', async () => {
    file('s3pack/ckpt/w.txt', 'ckpt');
    await upload(join(dir, 's3pack/ckpt'), 's3://b/archives/', { tar: true, env });
    const archive = await download('s3://b/archives/ckpt.tar.gz', join(dir, 's3unpack/ckpt.tar.gz'), { unzip: true, env });
    assert.equal(read(join(archive, '../ckpt/w.txt')), 'ckpt');
  });
  it('uploads an http source by downloading it first', async () => {
    await upload(`${httpBase}/model.bin`, 's3://b/from-http/model.bin', { env });
    assert.equal(read(await download('s3://b/from-http/model.bin', join(dir, 's3out/from-http.bin'), { env })), 'weights');
  });
});
