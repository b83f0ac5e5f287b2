// Samples as CSV files (what a task's training samples and the edge's unseen samples are stored
// as): meta columns first, then the features, then the label when there is one. Read back with
// the csv datasource, so a file written here is also one a user can open or label by hand.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseCsv } from '../../lib/datasources/csv.ts';
import type { DataType } from '../../lib/datasources/types.ts';
import { samplesFromRows, type Samples } from './samples.ts';

export const LABEL_COLUMN = 'label';

export function samplesToCsv(samples: Samples, label = LABEL_COLUMN): string {
  const metaColumns = [...new Set(samples.meta.flatMap((row) => Object.keys(row)))];
  const header = [...metaColumns, ...samples.columns, ...(samples.y ? [label] : [])];
  const lines = [header.map(quote).join(',')];
  samples.x.forEach((row, i) => {
    const cells = [...metaColumns.map((name) => quote(samples.meta[i]![name] ?? '')), ...Array.from(row, formatNumber), ...(samples.y ? [String(samples.y[i])] : [])];
    lines.push(cells.join(','));
  });
  return `${lines.join('\n')}\n`;
}

export async function writeSamplesCsv(path: string, samples: Samples, label = LABEL_COLUMN): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, samplesToCsv(samples, label));
}

/** A CSV file's samples; `label` present in the header → y. */
export function readSamplesCsv(path: string, { label = LABEL_COLUMN, dataType = 'train' }: { label?: string; dataType?: DataType } = {}): Samples {
  const source = parseCsv(path, { dataType });
  const rows = source.x as Record<string, unknown>[];
  const labelled = rows.length > 0 && label in rows[0]!;
  return samplesFromRows(rows, { ...(labelled ? { label } : {}), dataType });
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 1e6) / 1e6);
}

function quote(cell: string): string {
  return /[",\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}
