// Lifelong learning's samples (Sedna's `BaseDataSource` with `meta_attr`, lib.md §4 and §10.2):
// numeric feature columns in `x` (one Float32Array a row, ready for a model), labels in `y`, and
// the non-numeric columns of each row (a camera, a season) in `meta`. Task attributes are looked
// up in `meta` first and then among the numeric columns, as Sedna groups any DataFrame column.
import { ConfigError } from '../../lib/context.ts';

export interface Samples {
  /** The names of x's columns, in order. */
  columns: string[];
  x: Float32Array[];
  /** Class labels; absent for inference data. */
  y?: number[];
  /** Each row's non-numeric columns: where task attributes usually live. */
  meta: Record<string, string>[];
  dataType: string;
}

/** A row lacks a task attribute the algorithm needs: bad input, named precisely. */
export class MissingAttributeError extends ConfigError {}

/**
 * Rows (as parsed from CSV) into samples: `label` becomes y, every other numeric column a feature,
 * every string column meta. A row whose label is not a finite number is refused, naming the row.
 */
export function samplesFromRows(rows: readonly Record<string, unknown>[], options: { label?: string; dataType?: string } = {}): Samples {
  const first = rows[0] ?? {};
  const isNumericColumn = (name: string): boolean => rows.every((row) => row[name] === null || row[name] === undefined || typeof row[name] === 'number');
  const columns = Object.keys(first).filter((name) => name !== options.label && isNumericColumn(name));
  const metaColumns = Object.keys(first).filter((name) => name !== options.label && !columns.includes(name));
  const x = rows.map((row) => Float32Array.from(columns, (name) => Number(row[name] ?? 0)));
  const meta = rows.map((row) => Object.fromEntries(metaColumns.filter((name) => row[name] !== null && row[name] !== undefined).map((name) => [name, String(row[name])])));
  const samples: Samples = { columns, x, meta, dataType: options.dataType ?? 'train' };
  if (options.label !== undefined) {
    const label = options.label;
    samples.y = rows.map((row, i) => {
      const value = row[label];
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new ConfigError(`row ${i + 1}: label column ${JSON.stringify(label)} must be a number, got ${JSON.stringify(value)}`);
      return value;
    });
  }
  return samples;
}

/** The rows at `indices`, in that order (meta objects shared, not copied). */
export function subsetSamples(samples: Samples, indices: readonly number[]): Samples {
  return {
    columns: samples.columns,
    x: indices.map((i) => samples.x[i]!),
    ...(samples.y ? { y: indices.map((i) => samples.y![i]!) } : {}),
    meta: indices.map((i) => samples.meta[i]!),
    dataType: samples.dataType,
  };
}

/** `a` followed by `b`; their feature columns must agree. */
export function concatSamples(a: Samples, b: Samples): Samples {
  if (a.columns.join('\u0000') !== b.columns.join('\u0000')) throw new ConfigError(`cannot join samples with different feature columns (${a.columns.length} and ${b.columns.length} columns)`);
  const y = a.y && b.y ? { y: [...a.y, ...b.y] } : {};
  return { columns: a.columns, x: [...a.x, ...b.x], ...y, meta: [...a.meta, ...b.meta], dataType: a.dataType };
}

/** The values of `attributes` in row `row`, as strings; a missing one is a MissingAttributeError. */
export function attributeValues(samples: Samples, row: number, attributes: readonly string[]): string[] {
  return attributes.map((name) => {
    const fromMeta = samples.meta[row]?.[name];
    if (fromMeta !== undefined) return fromMeta;
    const column = samples.columns.indexOf(name);
    if (column >= 0) return String(samples.x[row]![column]!);
    throw new MissingAttributeError(`row ${row + 1} has no task attribute ${JSON.stringify(name)}`);
  });
}

/** True when row `row` carries every attribute. */
export function hasAttributes(samples: Samples, row: number, attributes: readonly string[]): boolean {
  return attributes.length > 0 && attributes.every((name) => samples.meta[row]?.[name] !== undefined || samples.columns.includes(name));
}

/**
 * Sedna's task key (`TaskDefinitionByDataAttr`/`TaskAllocationByDataAttr`): each value's `_`
 * becomes `-`, values joined with `_`, spaces removed.
 */
export function taskKey(values: readonly string[]): string {
  return values.map((value) => value.replaceAll('_', '-')).join('_').replaceAll(' ', '');
}

/** The samples without the named columns (numeric or meta): attributes are not features. */
export function dropAttributes(samples: Samples, attributes: readonly string[]): Samples {
  const keep = samples.columns.map((name, i) => (attributes.includes(name) ? -1 : i)).filter((i) => i >= 0);
  const x = keep.length === samples.columns.length ? samples.x : samples.x.map((row) => Float32Array.from(keep, (i) => row[i]!));
  const meta = samples.meta.map((row) => Object.fromEntries(Object.entries(row).filter(([name]) => !attributes.includes(name))));
  return { ...samples, columns: keep.map((i) => samples.columns[i]!), x, meta };
}

