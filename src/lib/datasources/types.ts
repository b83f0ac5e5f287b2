// Sedna's `BaseDataSource` (lib.md §4): features `x`, labels `y`, and the data type; `length` is `x`'s.

export type DataType = 'train' | 'eval' | 'test';

export interface DataSource {
  x: unknown[];
  y: unknown[];
  dataType: string;
  readonly length: number;
}

export function dataSource(x: unknown[], y: unknown[], dataType: string): DataSource {
  return {
    x,
    y,
    dataType,
    get length() {
      return this.x.length;
    },
  };
}
