// meta.k8s.io/v1 Table output, what `kubectl get` asks the server for. Built-in kinds compute
// their cells in code (registry/builtin-columns.ts); CRDs describe them with JSONPath printer
// columns, evaluated here the way apiextensions-apiserver's tableconvertor does.
import type { KubeObject, ListMeta, Table, TableColumnDefinition, TableRow } from '../../api/meta.ts';
import { evalJsonPath, parseJsonPath } from '../jsonpath.ts';
import type { JsonPath } from '../jsonpath.ts';
import type { ColumnSpec, ResourceDef } from '../registry/types.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * k8s.io/apimachinery/pkg/util/duration.HumanDuration: two significant units while the smaller
 * one still matters, one afterwards. Up to a second of clock skew into the future reads "0s".
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes < 10) return withRemainder(minutes, 'm', seconds % 60, 's');
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(ms / HOUR);
  if (hours < 8) return withRemainder(hours, 'h', minutes % 60, 'm');
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) return withRemainder(days, 'd', hours % 24, 'h');
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) return withRemainder(years, 'y', days % 365, 'd');
  return `${years}y`;
}

function withRemainder(major: number, majorUnit: string, minor: number, minorUnit: string): string {
  return minor === 0 ? `${major}${majorUnit}` : `${major}${majorUnit}${minor}${minorUnit}`;
}

/** translateTimestampSince: "<unknown>" for a missing timestamp, else the age at `now`. */
export function ageSince(timestamp: string | undefined, now: Date): string {
  if (!timestamp) return '<unknown>';
  const t = Date.parse(timestamp);
  return Number.isNaN(t) ? '<unknown>' : humanDuration(now.getTime() - t);
}

// Column descriptions kube-apiserver takes from the ObjectMeta swagger docs.
export const NAME_DESCRIPTION =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
export const CREATION_TIMESTAMP_DESCRIPTION =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

const NAME_COLUMN: ColumnSpec = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: NAME_DESCRIPTION,
  cell: (obj) => obj.metadata.name ?? '',
};

/** What apiextensions serves for a CRD version without additionalPrinterColumns. */
const CRD_DEFAULT_COLUMNS: ColumnSpec[] = [
  { name: 'Age', type: 'date', description: CREATION_TIMESTAMP_DESCRIPTION, jsonPath: '.metadata.creationTimestamp' },
];

/** rest.DefaultTableConvertor's columns after Name; built-in kinds without a printer get these. */
export const DEFAULT_COLUMNS: ColumnSpec[] = [
  {
    name: 'Created At',
    type: 'date',
    description: CREATION_TIMESTAMP_DESCRIPTION,
    cell: (obj) => rfc3339(obj.metadata.creationTimestamp),
  },
];

/** Go's time.Time.UTC().Format(time.RFC3339); the zero time when unset. */
export function rfc3339(timestamp: string | undefined): string {
  const t = timestamp ? Date.parse(timestamp) : NaN;
  if (Number.isNaN(t)) return '0001-01-01T00:00:00Z';
  return new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
}

// ---------------------------------------------------------------------------------------------
// CRD (JSONPath) cells.

/** encoding/json output: sorted keys and HTML-safe escapes, as jsonpath.PrintResults emits. */
function goJson(value: unknown): string {
  const sorted = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sorted);
    if (typeof v === 'object' && v !== null) {
      const obj = v as Record<string, unknown>;
      return Object.fromEntries(Object.keys(obj).sort().map((k) => [k, sorted(obj[k])]));
    }
    return v;
  };
  return JSON.stringify(sorted(value)).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

/** What a "string" column shows: text as-is, structures as compact JSON. */
function printedValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) return goJson(value);
  return String(value);
}

/** cellForJSONValue: a value of the wrong JSON type for the column type leaves the cell empty. */
function typedCell(type: string, value: unknown, now: Date): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'string':
      return printedValue(value);
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date':
      return typeof value === 'string' ? dateCell(value, now) : null;
    default:
      return null;
  }
}

const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function dateCell(value: string, now: Date): string {
  if (!RFC3339_RE.test(value)) return '<invalid>';
  if (value.startsWith('0001-01-01T00:00:00')) return '<unknown>';
  return humanDuration(now.getTime() - Date.parse(value));
}

type CellFn = (obj: KubeObject, now: Date) => unknown;

function jsonPathCell(column: ColumnSpec, path: JsonPath): CellFn {
  return (obj, now) => {
    const [first] = evalJsonPath(obj, path);
    return typedCell(column.type, first, now);
  };
}

// ---------------------------------------------------------------------------------------------
// Assembling the table.

export interface ResolvedColumn {
  definition: TableColumnDefinition;
  cell: CellFn;
}

function columnSpecs(def: ResourceDef): ColumnSpec[] {
  if (def.columns.length > 0) return def.columns;
  return def.source === 'crd' ? CRD_DEFAULT_COLUMNS : DEFAULT_COLUMNS;
}

function defaultDescription(spec: ColumnSpec): string {
  if (spec.jsonPath !== undefined && !spec.cell) {
    return `Custom resource definition column (in JSONPath format): ${spec.jsonPath}`;
  }
  return spec.name;
}

function resolve(spec: ColumnSpec): ResolvedColumn {
  const definition: TableColumnDefinition = {
    name: spec.name,
    type: spec.type,
    format: spec.format ?? '',
    description: spec.description || defaultDescription(spec),
    priority: spec.priority ?? 0,
  };
  if (spec.cell) return { definition, cell: spec.cell };
  if (spec.jsonPath === undefined) throw new Error(`column ${spec.name} has neither a cell function nor a jsonPath`);
  return { definition, cell: jsonPathCell(spec, parseJsonPath(spec.jsonPath)) };
}

/**
 * The kind's columns, Name first. A kind whose own columns carry the name (format "name") places
 * it itself: Events list it last, among the wide columns.
 */
export function tableColumns(def: ResourceDef): ResolvedColumn[] {
  const specs = columnSpecs(def);
  const withName = specs.some((s) => s.format === 'name') ? specs : [NAME_COLUMN, ...specs];
  return withName.map(resolve);
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableOptions {
  /** The includeObject table option; kube-apiserver's default is Metadata. */
  includeObject: IncludeObject;
  now: Date;
  listMeta: ListMeta;
}

function rowObject(obj: KubeObject, include: IncludeObject): unknown {
  if (include === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

function buildRow(columns: ResolvedColumn[], obj: KubeObject, opts: TableOptions): TableRow {
  const row: TableRow = { cells: columns.map((c) => c.cell(obj, opts.now)) };
  if (opts.includeObject !== 'None') row.object = rowObject(obj, opts.includeObject);
  return row;
}

function tableMeta(listMeta: ListMeta): ListMeta {
  const meta: ListMeta = {};
  if (listMeta.resourceVersion !== undefined) meta.resourceVersion = listMeta.resourceVersion;
  if (listMeta.continue !== undefined) meta.continue = listMeta.continue;
  if (listMeta.remainingItemCount !== undefined) meta.remainingItemCount = listMeta.remainingItemCount;
  return meta;
}

export function buildTable(def: ResourceDef, objects: KubeObject[], opts: TableOptions): Table {
  const columns = tableColumns(def);
  return {
    apiVersion: 'meta.k8s.io/v1',
    kind: 'Table',
    metadata: tableMeta(opts.listMeta),
    columnDefinitions: columns.map((c) => c.definition),
    rows: objects.map((obj) => buildRow(columns, obj, opts)),
  };
}
