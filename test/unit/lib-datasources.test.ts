// Datasources (lib.md §4): the txt index, csv (with an RFC 4180 reader) and the IDX format.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { CsvSyntaxError, IdxFormatError, parseCsv, parseCsvText, parseTxtIndex, readIdx } from '../../src/lib/datasources/index.ts';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sedna-ds-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, content: string | Uint8Array): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe('parseTxtIndex', () => {
  it('strips and splits lines; x = field 0, y = field 1 or "0"; blank lines and missing files skipped', () => {
    const index = write('train.txt', '  a.jpg 1 extra \n\nb.jpg\t2\r\nc.jpg\n');
    const ds = parseTxtIndex([index, join(dir, 'missing.txt')]);
    assert.deepEqual(ds.x, ['a.jpg', 'b.jpg', 'c.jpg']);
    assert.deepEqual(ds.y, ['1', '2', '0']);
    assert.equal(ds.length, 3);
    assert.equal(ds.dataType, 'train');
  });
  it('test data has no labels; useRaw keeps the whole tuple', () => {
    const index = write('test.txt', 'a.jpg 1\nb.jpg\n');
    assert.deepEqual(parseTxtIndex([index], { dataType: 'test' }).y, []);
    assert.deepEqual(parseTxtIndex([index], { useRaw: true }).x, [['a.jpg', '1'], ['b.jpg']]);
  });
  it('a custom parse replaces the split and may skip lines; relative paths resolve when asked', () => {
    const index = write('comma.txt', 'img/a.jpg,3\n#comment\n/abs/b.jpg,4\n');
    const ds = parseTxtIndex([index], {
      parse: (line) => (line.startsWith('#') ? undefined : line.split(',')),
      resolveRelativeTo: '/data/set',
    });
    assert.deepEqual(ds.x, ['/data/set/img/a.jpg', '/abs/b.jpg']);
    assert.deepEqual(ds.y, ['3', '4']);
  });
});

describe('parseCsvText', () => {
  it('reads quoted fields with commas, escaped quotes, CRLF and embedded line breaks', () => {
    const text = '\uFEFFa,b,c\r\n"x, y","say ""hi""",3\r\n"multi\r\nline",,""\r\n\r\nlast,row,9';
    assert.deepEqual(parseCsvText(text), [
      ['a', 'b', 'c'],
      ['x, y', 'say "hi"', '3'],
      ['multi\r\nline', '', ''],
      ['last', 'row', '9'],
    ]);
  });
  it('a quote inside an unquoted field is text, as pandas reads it (csv-parse refuses it unless relax_quotes, which also accepts "x"y)', () => {
    assert.deepEqual(parseCsvText('item,size\npipe,12" long\n"cap",5"\n'), [['item', 'size'], ['pipe', '12" long'], ['cap', '5"']]);
  });
  it('a lone "" field is a record, not a blank line', () => {
    assert.deepEqual(parseCsvText('h\n""\n'), [['h'], ['']]);
  });
  it('an unterminated quote or text after a closing quote names the line', () => {
    assert.throws(() => parseCsvText('a\n"open,1\n'), (err: Error) => err instanceof CsvSyntaxError && /line 2/.test(err.message));
    assert.throws(() => parseCsvText('a\nb\n"x"y\n'), /line 3: unexpected "y"/);
  });
});

describe('parseCsv', () => {
  it('splits the label column into y and types numeric columns', () => {
    const file = write('atcii.csv', 'Air temperature,Season,Thermal preference\n23.5,"Summer, late",1\n19,Winter,0\n,Spring,2\n');
    const ds = parseCsv(file, { label: 'Thermal preference' });
    assert.deepEqual(ds.y, [1, 0, 2]);
    assert.deepEqual(ds.x, [
      { 'Air temperature': 23.5, Season: 'Summer, late' },
      { 'Air temperature': 19, Season: 'Winter' },
      { 'Air temperature': null, Season: 'Spring' },
    ]);
  });
  it('usecols keeps named columns and adds the label; files without the label are skipped', () => {
    const a = write('a.csv', 'x1,x2,y\n1,2,3\n');
    const b = write('b.csv', 'x1,x2\n4,5\n');
    const ds = parseCsv([a, b, join(dir, 'nope.csv')], { label: 'y', usecols: 'x2' });
    assert.deepEqual(ds.x, [{ x2: 2 }]);
    assert.deepEqual(ds.y, [3]);
    assert.throws(() => parseCsv(a, { usecols: ['zz'] }), /zz/);
  });
  it('accepts a row object or a list of rows (streaming inference)', () => {
    assert.deepEqual(parseCsv({ t: 21, label: 1 }, { label: 'label' }).x, [{ t: 21 }]);
    const ds = parseCsv([{ t: 1 }, { t: 2 }]);
    assert.deepEqual(ds.x, [{ t: 1 }, { t: 2 }]);
    assert.deepEqual(ds.y, []);
  });
  it('a record longer than the header is an error naming the file', () => {
    const file = write('long.csv', 'a,b\n1,2,3\n');
    assert.throws(() => parseCsv(file), /long\.csv: record 2 has 3 fields/);
  });
});

function idx(dims: number[], data: number[], type = 0x08): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt8(type, 2);
  header.writeUInt8(dims.length, 3);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

describe('readIdx', () => {
  it('reads a plain idx3 file', async () => {
    const path = write('images-idx3-ubyte', idx([2, 2, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]));
    const { dims, data } = await readIdx(path);
    assert.deepEqual(dims, [2, 2, 3]);
    assert.deepEqual([...data], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]);
  });
  it('reads a gzipped idx1 file', async () => {
    const path = write('labels-idx1-ubyte.gz', gzipSync(idx([3], [7, 2, 1])));
    assert.deepEqual(await readIdx(path), { dims: [3], data: new Uint8Array([7, 2, 1]) });
  });
  it('rejects a corrupt header, another data type and a size mismatch', async () => {
    await assert.rejects(readIdx(write('bad-magic', Buffer.from([1, 2, 8, 1, 0, 0, 0, 0]))), (err: Error) => err instanceof IdxFormatError && /magic/.test(err.message));
    await assert.rejects(readIdx(write('float', idx([1], [0, 0, 0, 0], 0x0d))), /data type 0x0d/);
    await assert.rejects(readIdx(write('short', idx([2, 2], [1, 2, 3]))), /need 4 data bytes, the file has 3/);
    await assert.rejects(readIdx(write('truncated', Buffer.from([0, 0, 8, 3, 0, 0, 0, 1]))), /truncated header/);
    await assert.rejects(readIdx(write('bad.gz', Buffer.from([0x1f, 0x8b, 1, 2, 3]))), /not a valid gzip/);
  });
});
