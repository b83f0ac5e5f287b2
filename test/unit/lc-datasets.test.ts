// The dataset manager (spec §4.3): Sedna's index formats (Go line-scanner semantics, txt and csv),
// URL classes, and the monitor on a real file: the first count is reported, appended samples are
// noticed and reported, an unchanged count is not reported again, a delete stops the monitor.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { EdgeMessage } from '../../src/api/edge-protocol.ts';
import { classifyUrl, DatasetFormatError, DatasetManager, MAX_LINE_BYTES, parseIndex, scanLines } from '../../src/features/dataset/local-manager.ts';
import { FakeClock } from '../../src/lib/fake-clock.ts';
import { LcDatabase } from '../../src/lc/db.ts';
import { ModelManager } from '../../src/lc/models.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { until } from '../helpers/wait.ts';

describe('scanLines (Go bufio.Scanner semantics)', () => {
  const cases: [name: string, input: string, expected: string[]][] = [
    ['empty file', '', []],
    ['one line without newline', 'a', ['a']],
    ['one line with newline', 'a\n', ['a']],
    ['CRLF endings', 'a\r\nb\r\n', ['a', 'b']],
    ['only one trailing CR stripped', 'a\r\r\n', ['a\r']],
    ['blank lines count', 'a\n\nb\n', ['a', '', 'b']],
    ['a lone newline is one blank line', '\n', ['']],
    ['CR inside a line kept', 'a\rb\n', ['a\rb']],
    ['last line without newline', 'a\nb', ['a', 'b']],
    ['unicode', 'é/1.jpg 0\n', ['é/1.jpg 0']],
  ];
  for (const [name, input, expected] of cases) it(name, () => assert.deepEqual(scanLines(input), expected));

  it('an over-long line silently ends the read', () => {
    const long = 'x'.repeat(MAX_LINE_BYTES);
    assert.deepEqual(scanLines(`a\n${long}\nb\n`), ['a']);
    const fits = 'y'.repeat(MAX_LINE_BYTES - 1);
    assert.deepEqual(scanLines(`a\n${fits}\nb\n`), ['a', fits, 'b']);
  });
});

describe('parseIndex', () => {
  const cases: [name: string, input: string, format: string, samples: number, header?: string][] = [
    ['txt: every line a sample', 'a.jpg 1\nb.jpg 0\n', 'txt', 2],
    ['txt: blank lines count', 'a\n\n', 'txt', 2],
    ['txt: empty file is 0', '', 'txt', 0],
    ['TXT is txt', 'a\nb\nc', 'TXT', 3],
    ['csv: header then samples', 'x,y\n1,2\n3,4\n', 'csv', 2, 'x,y'],
    ['csv: header only is 0', 'x,y\n', 'csv', 0, 'x,y'],
    ['CSV is csv', 'h\r\n1\r\n', 'CSV', 1, 'h'],
  ];
  for (const [name, input, format, samples, header] of cases) {
    it(name, () => {
      const source = parseIndex(input, format);
      assert.equal(source.numberOfSamples, samples);
      assert.equal(source.samples.length, samples);
      assert.equal(source.header, header);
    });
  }
  it('csv: an empty file is an error', () => assert.throws(() => parseIndex('', 'csv'), DatasetFormatError));
  it('other formats are errors', () => assert.throws(() => parseIndex('a', 'json'), /unsupported dataset format/));
  it('keeps the samples in order', () => assert.deepEqual(parseIndex('h\n1\n2\n', 'csv').samples, ['1', '2']));
});

describe('classifyUrl', () => {
  const cases: [string, ReturnType<typeof classifyUrl>][] = [
    ['/data/train.txt', 'local'],
    ['data/train.txt', 'local'],
    ['s3://bucket/key.txt', 's3'],
    ['S3://bucket/key.txt', 's3'],
    ['http://host/x.txt', 'invalid'],
    ['file:///x.txt', 'invalid'],
  ];
  for (const [url, expected] of cases) it(`${url} → ${expected}`, () => assert.equal(classifyUrl(url), expected));
});

// ---------------------------------------------------------------------------------------------

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'lc-datasets-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}


function dataset(name: string, url: string, format = 'txt'): Record<string, unknown> & { kind: string; metadata: { name: string; namespace: string } } {
  return { kind: 'Dataset', metadata: { name, namespace: 'default' }, spec: { url, format, nodeName: 'edge-1' } };
}

const POLL_MS = 50;

/** The backup poll runs on a fake clock: a test advances it instead of sleeping. */
function startManager(t: TestContext, dir: string, pollIntervalMs = POLL_MS): { manager: DatasetManager; sent: EdgeMessage[]; db: LcDatabase; clock: FakeClock } {
  const db = new LcDatabase(join(dir, 'db', 'database.db'));
  const sent: EdgeMessage[] = [];
  const clock = new FakeClock();
  const manager = new DatasetManager({ db, send: (m) => sent.push(m), pollIntervalMs, logger: silentLogger(), clock });
  t.after(async () => {
    await manager.stop();
    await manager.settled();
    db.close();
  });
  return { manager, sent, db, clock };
}

/** Several backup polls, each check finished. */
async function polls(clock: FakeClock, manager: DatasetManager, n = 4): Promise<void> {
  for (let i = 0; i < n; i++) {
    await clock.advance(POLL_MS);
    await manager.settled();
  }
}

describe('DatasetManager on a real index file', () => {
  it('reports the count, notices appended samples, and does not repeat an unchanged count', async (t) => {
    const dir = tempDir(t);
    const index = join(dir, 'train.txt');
    writeFileSync(index, 'a.jpg 0\nb.jpg 1\n');
    const { manager, sent, db, clock } = startManager(t, dir);
    manager.insert(dataset('ds', index));
    await until(() => sent.length === 1, 'the first report');
    assert.deepEqual(sent[0], { header: { namespace: 'default', resourceKind: 'Dataset', resourceName: 'ds', operation: 'status' }, content: { numberOfSamples: 2 } });
    assert.ok(db.getResource('default/dataset/ds'), 'saved in the resources table');
    assert.equal(manager.get('default', 'ds')?.source?.numberOfSamples, 2);

    appendFileSync(index, 'c.jpg 1\nd.jpg 0\ne.jpg 1\n');
    await until(() => sent.length === 2, 'the report of appended samples');
    assert.deepEqual(sent[1]?.content, { numberOfSamples: 5 });
    assert.deepEqual(manager.get('default', 'ds')?.source?.samples.slice(-1), ['e.jpg 1']);

    // An update from the GM and several polls with the same count: no new report.
    manager.insert(dataset('ds', index));
    await polls(clock, manager);
    assert.equal(sent.length, 2);

    manager.delete(dataset('ds', index));
    assert.equal(db.getResource('default/dataset/ds'), undefined);
    appendFileSync(index, 'f.jpg 0\n');
    await polls(clock, manager);
    assert.equal(clock.pending, 0, 'no poll left for a deleted dataset');
    assert.equal(sent.length, 2, 'no report after the delete');
  });

  it('csv: the header is not a sample; an empty dataset is never reported (Sedna)', async (t) => {
    const dir = tempDir(t);
    const index = join(dir, 'train.csv');
    writeFileSync(index, 'image,label\n');
    const { manager, sent, clock } = startManager(t, dir);
    manager.insert(dataset('c', index, 'csv'));
    await manager.settled();
    await polls(clock, manager);
    assert.equal(sent.length, 0);
    appendFileSync(index, 'x.jpg,1\n');
    await until(() => sent.length === 1, 'the report');
    assert.deepEqual(sent[0]?.content, { numberOfSamples: 1 });
    assert.equal(manager.get('default', 'c')?.source?.header, 'image,label');
  });

  it('a missing file is picked up once it appears; s3 and other schemes are not read', async (t) => {
    const dir = tempDir(t);
    const index = join(dir, 'later', 'train.txt');
    const { manager, sent, clock } = startManager(t, dir);
    manager.insert(dataset('later', index));
    manager.insert(dataset('remote', 's3://bucket/train.txt'));
    manager.insert(dataset('web', 'http://host/train.txt'));
    await manager.settled();
    await polls(clock, manager, 2);
    assert.equal(sent.length, 0);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'later'));
    writeFileSync(index, '1\n2\n3\n');
    await polls(clock, manager, 1); // no watch on a missing directory: the poll finds it
    assert.equal(sent.length, 1, 'the report once the file exists');
    assert.equal(sent[0]?.header.resourceName, 'later');
    assert.deepEqual(sent[0]?.content, { numberOfSamples: 3 });
  });

  it('the rootfs prefix applies to node paths', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'i.txt'), 'a\n');
    const db = new LcDatabase(join(dir, 'database.db'));
    const sent: EdgeMessage[] = [];
    const manager = new DatasetManager({ db, send: (m) => sent.push(m), rootfs: dir, pollIntervalMs: 50, logger: silentLogger() });
    t.after(async () => {
      await manager.stop();
      await manager.settled();
      db.close();
    });
    manager.insert(dataset('r', '/i.txt'));
    await until(() => sent.length === 1, 'the report');
  });
});

describe('ModelManager', () => {
  it('stores models in memory and in the database, and reloads them', (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'database.db');
    let db = new LcDatabase(path);
    let models = new ModelManager(db);
    models.insert({ kind: 'Model', metadata: { name: 'm1', namespace: 'ns' }, spec: { url: '/models/m1.pb', format: 'pb' } });
    models.insert({ kind: 'Model', metadata: { name: 'm2', namespace: 'ns' }, spec: { url: '/models/m2.pb', format: 'pb' } });
    models.delete({ kind: 'Model', metadata: { name: 'm2', namespace: 'ns' } });
    assert.equal(models.spec('ns', 'm1')?.format, 'pb');
    assert.equal(models.get('ns', 'm2'), undefined);
    db.close();
    db = new LcDatabase(path);
    t.after(() => db.close());
    models = new ModelManager(db);
    assert.equal(models.size, 1);
    assert.equal(models.spec('ns', 'm1')?.url, '/models/m1.pb');
  });
});
