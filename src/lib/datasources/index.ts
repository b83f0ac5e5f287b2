// Datasources (lib.md §4): txt index, csv and the IDX format of MNIST-like sets.
export { parseCsv, type CsvInput, type CsvOptions, type CsvRow } from './csv.ts';
export { CsvSyntaxError, parseCsvText } from './csv-parse.ts';
export { decodeIdx, IdxFormatError, readIdx, type IdxData } from './idx.ts';
export { parseTxtIndex, type TxtIndexOptions } from './txt.ts';
export { dataSource, type DataSource, type DataType } from './types.ts';
