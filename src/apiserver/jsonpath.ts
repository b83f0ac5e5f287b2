// The JSONPath dialect of k8s.io/client-go/util/jsonpath that printer columns and `kubectl -o
// jsonpath` use, as far as a column needs it: fields, escaped or quoted keys, indices, slices,
// wildcards, unions, recursive descent and filters. Missing keys yield no match rather than an
// error, as the CRD column printer runs with AllowMissingKeys(true).

export type JsonPathStep =
  | { kind: 'field'; name: string }
  | { kind: 'wildcard' }
  | { kind: 'recursive' }
  | { kind: 'index'; index: number }
  | { kind: 'slice'; start: number | undefined; end: number | undefined; step: number | undefined }
  | { kind: 'union'; members: (string | number)[] }
  | { kind: 'filter'; filter: JsonPathFilter };

export type FilterOperator = '==' | '!=' | '<' | '<=' | '>' | '>=';

export type FilterOperand =
  | { kind: 'literal'; value: string | number | boolean | null }
  | { kind: 'path'; fromRoot: boolean; steps: JsonPathStep[] };

export interface JsonPathFilter {
  left: JsonPathStep[];
  /** Absent for an existence test: [?(@.name)] */
  operator?: FilterOperator;
  right?: FilterOperand;
}

export interface JsonPath {
  source: string;
  steps: JsonPathStep[];
}

// ---------------------------------------------------------------------------------------------
// Parsing.

/** Characters that end an unquoted field name (backslash escapes any of them). */
const NAME_TERMINATORS = new Set(['.', '[', ']', ',', '(', ')', '=', '!', '<', '>', '@', '$', '{', '}', ' ', '\t', '\n']);

class Cursor {
  pos = 0;
  constructor(
    readonly text: string,
    readonly source: string,
  ) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(offset = 0): string {
    return this.text.charAt(this.pos + offset);
  }

  fail(message: string): never {
    throw new Error(`invalid JSONPath ${JSON.stringify(this.source)}: ${message}`);
  }

  skipSpaces(): void {
    while (!this.done && /\s/.test(this.peek())) this.pos++;
  }
}

function parseName(c: Cursor): string {
  let name = '';
  while (!c.done && !NAME_TERMINATORS.has(c.peek())) {
    if (c.peek() === '\\') {
      if (c.pos + 1 >= c.text.length) c.fail('trailing backslash');
      name += c.peek(1);
      c.pos += 2;
    } else {
      name += c.peek();
      c.pos++;
    }
  }
  return name;
}

/** Steps until a character that cannot continue a path; the caller decides what may follow. */
function parseSteps(c: Cursor): JsonPathStep[] {
  const steps: JsonPathStep[] = [];
  while (!c.done) {
    const ch = c.peek();
    if (ch === '[') {
      steps.push(parseBracket(c));
    } else if (ch === '.') {
      c.pos++;
      if (c.peek() === '.') {
        c.pos++;
        steps.push({ kind: 'recursive' });
        if (c.peek() === '[') continue;
      }
      if (c.peek() === '*') {
        c.pos++;
        steps.push({ kind: 'wildcard' });
        continue;
      }
      const name = parseName(c);
      // A lone "." is the object itself, as in kubectl's {.}.
      if (name === '' && !(c.done && steps.length === 0)) c.fail(`empty field name at offset ${c.pos}`);
      if (name !== '') steps.push({ kind: 'field', name });
    } else {
      break;
    }
  }
  return steps;
}

/** Reads up to the matching "]", skipping over quoted strings and parenthesised filters. */
function bracketContent(c: Cursor): string {
  const start = ++c.pos;
  let depth = 0;
  let quote = '';
  for (; !c.done; c.pos++) {
    const ch = c.peek();
    if (quote) {
      if (ch === '\\') c.pos++;
      else if (ch === quote) quote = '';
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ']' && depth === 0) {
      const content = c.text.slice(start, c.pos);
      c.pos++;
      return content;
    }
  }
  return c.fail('unterminated array');
}

function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let quote = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = '';
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === separator) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function unquote(text: string): string | undefined {
  const q = text.charAt(0);
  if (text.length < 2 || (q !== "'" && q !== '"') || text.charAt(text.length - 1) !== q) return undefined;
  return text.slice(1, -1).replace(/\\(.)/g, '$1');
}

const INT_RE = /^-?\d+$/;
const SLICE_RE = /^(-?\d+)?:(-?\d+)?(?::(-?\d+)?)?$/;

function parseBracket(c: Cursor): JsonPathStep {
  const content = bracketContent(c).trim();
  if (content.startsWith('?')) return { kind: 'filter', filter: parseFilter(content.slice(1).trim(), c) };
  if (content === '*') return { kind: 'wildcard' };
  const members = splitTopLevel(content, ',').map((m) => m.trim());
  if (members.length > 1) return { kind: 'union', members: members.map((m) => unionMember(m, c)) };
  const key = unquote(content);
  if (key !== undefined) return { kind: 'field', name: key };
  if (INT_RE.test(content)) return { kind: 'index', index: Number(content) };
  const slice = SLICE_RE.exec(content.replace(/\s+/g, ''));
  if (slice) {
    const num = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s));
    const step = num(slice[3]);
    if (step === 0) c.fail('step cannot be 0');
    return { kind: 'slice', start: num(slice[1]), end: num(slice[2]), step };
  }
  return c.fail(`invalid array index ${content}`);
}

function unionMember(member: string, c: Cursor): string | number {
  const key = unquote(member);
  if (key !== undefined) return key;
  if (INT_RE.test(member)) return Number(member);
  return c.fail(`invalid union member ${member}`);
}

const FILTER_OPERATORS: FilterOperator[] = ['==', '!=', '<=', '>=', '<', '>'];

function parseFilter(text: string, outer: Cursor): JsonPathFilter {
  if (!text.startsWith('(') || !text.endsWith(')')) outer.fail(`invalid filter ${text}`);
  const c = new Cursor(text.slice(1, -1).trim(), outer.source);
  const left = parseOperandPath(c);
  if (!left || left.fromRoot) return c.fail('a filter must start with @');
  c.skipSpaces();
  if (c.done) return { left: left.steps };
  const operator = FILTER_OPERATORS.find((op) => c.text.startsWith(op, c.pos));
  if (!operator) return c.fail(`unrecognized filter operator at ${JSON.stringify(c.text.slice(c.pos))}`);
  c.pos += operator.length;
  c.skipSpaces();
  const right = parseOperand(c);
  c.skipSpaces();
  if (!c.done) c.fail(`unexpected ${JSON.stringify(c.text.slice(c.pos))} in filter`);
  return { left: left.steps, operator, right };
}

function parseOperandPath(c: Cursor): { kind: 'path'; fromRoot: boolean; steps: JsonPathStep[] } | undefined {
  const ch = c.peek();
  if (ch !== '@' && ch !== '$') return undefined;
  c.pos++;
  return { kind: 'path', fromRoot: ch === '$', steps: parseSteps(c) };
}

function parseOperand(c: Cursor): FilterOperand {
  const path = parseOperandPath(c);
  if (path) return path;
  const rest = c.text.slice(c.pos);
  const quoted = /^(['"])((?:\\.|(?!\1).)*)\1/.exec(rest);
  if (quoted) {
    c.pos += quoted[0].length;
    return { kind: 'literal', value: (quoted[2] ?? '').replace(/\\(.)/g, '$1') };
  }
  const bare = /^[^\s)]+/.exec(rest)?.[0] ?? '';
  c.pos += bare.length;
  if (bare === 'true' || bare === 'false') return { kind: 'literal', value: bare === 'true' };
  if (bare === 'null') return { kind: 'literal', value: null };
  if (bare !== '' && Number.isFinite(Number(bare))) return { kind: 'literal', value: Number(bare) };
  return c.fail(`unrecognized filter value ${JSON.stringify(bare)}`);
}

/**
 * Parses a path such as `.status.conditions[?(@.type=="Ready")].status`; the kubectl template
 * form `{.metadata.name}` and a leading `$` are accepted too. Throws on bad syntax.
 */
export function parseJsonPath(path: string): JsonPath {
  let text = path.trim();
  if (text.startsWith('{') && text.endsWith('}')) text = text.slice(1, -1).trim();
  if (text.startsWith('$')) text = text.slice(1);
  const c = new Cursor(text, path);
  if (text === '') c.fail('empty path');
  if (text.charAt(0) !== '.' && text.charAt(0) !== '[') c.fail('a path must start with "." or "["');
  const steps = parseSteps(c);
  if (!c.done) c.fail(`unexpected ${JSON.stringify(c.peek())} at offset ${c.pos}`);
  return { source: path, steps };
}

// ---------------------------------------------------------------------------------------------
// Evaluation.

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function children(v: Json): Json[] {
  if (Array.isArray(v)) return v;
  return isObject(v) ? Object.values(v) : [];
}

function descendants(v: Json, out: Json[]): Json[] {
  out.push(v);
  for (const child of children(v)) descendants(child, out);
  return out;
}

function field(v: Json, name: string): Json[] {
  return isObject(v) && Object.hasOwn(v, name) ? [v[name]] : [];
}

function index(v: Json, i: number): Json[] {
  if (!Array.isArray(v)) return [];
  const at = i < 0 ? v.length + i : i;
  return at >= 0 && at < v.length ? [v[at]] : [];
}

/** Python-style slice bounds, which is what the Go implementation follows. */
function slice(v: Json, step: Extract<JsonPathStep, { kind: 'slice' }>): Json[] {
  if (!Array.isArray(v)) return [];
  const len = v.length;
  const by = step.step ?? 1;
  const clamp = (n: number, lo: number, hi: number): number => Math.min(Math.max(n, lo), hi);
  const norm = (n: number | undefined, dflt: number): number => (n === undefined ? dflt : n < 0 ? n + len : n);
  const out: Json[] = [];
  if (by > 0) {
    const end = clamp(norm(step.end, len), 0, len);
    for (let i = clamp(norm(step.start, 0), 0, len); i < end; i += by) out.push(v[i]);
  } else {
    const end = clamp(norm(step.end, -1), -1, len - 1);
    for (let i = clamp(norm(step.start, len - 1), -1, len - 1); i > end; i += by) out.push(v[i]);
  }
  return out;
}

function ordered(l: number | string, op: FilterOperator, r: number | string): boolean {
  if (op === '<') return l < r;
  if (op === '<=') return l <= r;
  if (op === '>') return l > r;
  return l >= r;
}

/** Equality is strict; ordering only between two numbers or two strings, as Go's template does. */
function compare(left: Json, op: FilterOperator, right: Json): boolean {
  if (op === '==') return left === right;
  if (op === '!=') return left !== right;
  if (typeof left === 'number' && typeof right === 'number') return ordered(left, op, right);
  if (typeof left === 'string' && typeof right === 'string') return ordered(left, op, right);
  return false;
}

function operandValue(operand: FilterOperand, item: Json, root: Json): Json[] {
  if (operand.kind === 'literal') return [operand.value];
  return evalSteps(operand.fromRoot ? root : item, operand.steps, root);
}

function filterPasses(f: JsonPathFilter, item: Json, root: Json): boolean {
  const lefts = evalSteps(item, f.left, root);
  if (lefts.length === 0) return false;
  if (!f.operator || !f.right) return true;
  const rights = operandValue(f.right, item, root);
  return rights.length > 0 && compare(lefts[0], f.operator, rights[0]);
}

function applyStep(v: Json, step: JsonPathStep, root: Json): Json[] {
  switch (step.kind) {
    case 'field':
      return field(v, step.name);
    case 'wildcard':
      return children(v);
    case 'recursive':
      return descendants(v, []);
    case 'index':
      return index(v, step.index);
    case 'slice':
      return slice(v, step);
    case 'union':
      return step.members.flatMap((m) => (typeof m === 'number' ? index(v, m) : field(v, m)));
    case 'filter':
      return Array.isArray(v) ? v.filter((item) => filterPasses(step.filter, item, root)) : [];
  }
}

function evalSteps(start: Json, steps: JsonPathStep[], root: Json): Json[] {
  let nodes: Json[] = [start];
  for (const step of steps) nodes = nodes.flatMap((n) => applyStep(n, step, root));
  return nodes;
}

/** Every value `path` selects in `obj`, in document order; [] when nothing matches. */
export function evalJsonPath(obj: unknown, path: string | JsonPath): unknown[] {
  const parsed = typeof path === 'string' ? parseJsonPath(path) : path;
  return evalSteps(obj, parsed.steps, obj);
}
