// The txt index (`TxtDataParse`, lib.md §4): one sample per line, a path then optionally a label.
// Exact library behaviour: missing files are skipped; each line is stripped and split on whitespace
// (or handed to `parse`); empty results are skipped; `useRaw` keeps the whole tuple as `x`; else
// `x` = field 0 and, unless the data is test data, `y` = field 1 or "0".
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { dataSource, type DataSource, type DataType } from './types.ts';

export interface TxtIndexOptions {
  dataType?: DataType;
  /** Replaces the whitespace split; gets the stripped line (Sedna's `func`). */
  parse?: (line: string) => readonly unknown[] | undefined;
  useRaw?: boolean;
  /** Our addition: a folder that relative paths in field 0 are resolved against (Sedna's
   * examples did this themselves with `dirname(ORIGINAL_DATASET_URL)`, see sedna issue #35). */
  resolveRelativeTo?: string;
}

export function parseTxtIndex(files: readonly string[], options: TxtIndexOptions = {}): DataSource {
  const dataType = options.dataType ?? 'train';
  const x: unknown[] = [];
  const y: unknown[] = [];
  for (const file of files) {
    if (!file || !existsSync(file)) continue;
    for (const line of lines(readFileSync(file, 'utf8'))) {
      const tuple = splitLine(line.trim(), options);
      if (!tuple || tuple.length === 0) continue;
      if (options.useRaw) {
        x.push(tuple);
        continue;
      }
      x.push(tuple[0]);
      if (dataType !== 'test') y.push(tuple.length > 1 ? tuple[1] : '0');
    }
  }
  return dataSource(x, y, dataType);
}

/** Python's `readlines()`: a final line break ends the last line rather than starting an empty one. */
function lines(text: string): string[] {
  const all = text.split(/\r?\n/);
  if (all[all.length - 1] === '') all.pop();
  return all;
}

function splitLine(line: string, options: TxtIndexOptions): readonly unknown[] | undefined {
  const tuple = options.parse ? options.parse(line) : line === '' ? [] : line.split(/\s+/);
  if (!tuple || tuple.length === 0 || options.resolveRelativeTo === undefined) return tuple;
  const [first, ...rest] = tuple;
  return [resolveSamplePath(first, options.resolveRelativeTo), ...rest];
}

function resolveSamplePath(value: unknown, folder: string): unknown {
  if (typeof value !== 'string' || value === '' || isAbsolute(value) || /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
  return resolve(folder, value);
}
