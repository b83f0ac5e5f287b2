// The csv datasource (`CSVDataParse`, lib.md §4): the first record is the header, each further
// record a sample. A `label` column (named by the caller) becomes `y`, the other columns `x` (one
// object per row). Each input may be a file path, or a row object or list of row objects (streaming
// inference). Missing files and inputs without the label column are skipped, as in Sedna. Like
// pandas, a column whose non-empty cells are all numbers holds numbers, and an empty cell is null.
import { existsSync, readFileSync } from 'node:fs';
import { parseCsvText } from './csv-parse.ts';
import { dataSource, type DataSource, type DataType } from './types.ts';

export type CsvRow = Record<string, unknown>;
export type CsvInput = string | CsvRow | readonly CsvRow[];

export interface CsvOptions {
  dataType?: DataType;
  label?: string;
  /** Columns to keep (a list or a comma-separated string); the label is added when missing. */
  usecols?: readonly string[] | string;
  separator?: string;
}

export function parseCsv(inputs: CsvInput | readonly CsvInput[], options: CsvOptions = {}): DataSource {
  const list = inputList(inputs);
  const columns = wantedColumns(options);
  const label = options.label;
  const x: unknown[] = [];
  const y: unknown[] = [];
  for (const input of list) {
    const rows = readInput(input, options.separator ?? ',');
    if (rows === undefined) continue;
    if (label && !rows.every((row) => label in row)) continue;
    const selected = columns ? rows.map((row) => pick(row, columns, input)) : rows;
    for (const row of selected) {
      if (label) {
        const { [label]: value, ...features } = row;
        y.push(value);
        x.push(features);
      } else x.push(row);
    }
  }
  return dataSource(x, y, options.dataType ?? 'train');
}

/** A list of row objects is one input (streaming rows); any other list is a list of inputs. */
function inputList(inputs: CsvInput | readonly CsvInput[]): readonly CsvInput[] {
  if (!Array.isArray(inputs)) return [inputs as CsvInput];
  const isRowList = inputs.length > 0 && inputs.every((i) => typeof i === 'object' && i !== null && !Array.isArray(i));
  return isRowList ? [inputs as readonly CsvRow[]] : (inputs as readonly CsvInput[]);
}

function wantedColumns({ usecols, label }: CsvOptions): string[] | undefined {
  if (usecols === undefined || usecols.length === 0) return undefined;
  const columns = typeof usecols === 'string' ? usecols.split(',').map((c) => c.trim()) : [...usecols];
  if (label && !columns.includes(label)) columns.push(label);
  return columns;
}

function readInput(input: CsvInput, separator: string): CsvRow[] | undefined {
  if (typeof input !== 'string') return Array.isArray(input) ? [...(input as CsvRow[])] : [input as CsvRow];
  if (!input || !existsSync(input)) return undefined;
  const records = parseCsvText(readFileSync(input, 'utf8'), separator);
  const [header, ...body] = records;
  if (!header) return [];
  return typedRows(header, body, input);
}

function typedRows(header: string[], body: string[][], file: string): CsvRow[] {
  body.forEach((record, index) => {
    if (record.length > header.length) throw new Error(`${file}: record ${index + 2} has ${record.length} fields, the header has ${header.length}`);
  });
  const numeric = header.map((_, column) => body.every((r) => isNumeric(r[column] ?? '')));
  return body.map((record) => {
    const row: CsvRow = {};
    header.forEach((name, column) => {
      const cell = record[column] ?? '';
      row[name] = cell === '' ? null : numeric[column] ? Number(cell) : cell;
    });
    return row;
  });
}

function isNumeric(cell: string): boolean {
  return cell === '' || (/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(cell) && Number.isFinite(Number(cell)));
}

function pick(row: CsvRow, columns: readonly string[], input: CsvInput): CsvRow {
  const missing = columns.filter((c) => !(c in row));
  if (missing.length > 0 && typeof input === 'string') throw new Error(`${input}: usecols names columns that do not exist: ${missing.join(', ')}`);
  return Object.fromEntries(columns.filter((c) => c in row).map((c) => [c, row[c]]));
}
