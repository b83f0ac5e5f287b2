// Field selectors (k8s.io/apimachinery/pkg/fields): `a=b,c!=d` with backslash escapes in values.
// Messages follow upstream because kubectl shows them as the server sends them.
import { SelectorError } from './error.ts';

export interface FieldRequirement {
  field: string;
  operator: '=' | '!=';
  value: string;
}

export interface FieldSelector {
  empty: boolean;
  requirements: FieldRequirement[];
  matches(fields: Record<string, string>): boolean;
}

/** Splits on commas that are not escaped by a backslash (fields.splitTerms). */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (escaped) escaped = false;
    else if (c === '\\') escaped = true;
    else if (c === ',') {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms;
}

/** The first operator from the left wins; at one position "!=" and "==" beat "=". */
function splitTerm(term: string): { lhs: string; op: string; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of ['!=', '==', '=']) {
      if (term.startsWith(op, i)) return { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) };
    }
  }
  return undefined;
}

/** fields.UnescapeValue: only \\ \, \= are escapes, and bare , or = are errors. */
function unescapeValue(value: string): string {
  let out = '';
  let escaped = false;
  for (const c of value) {
    if (escaped) {
      if (c !== '\\' && c !== ',' && c !== '=') {
        throw new SelectorError(`invalid field selector: invalid escape sequence: \\${c}`);
      }
      out += c;
      escaped = false;
    } else if (c === '\\') {
      escaped = true;
    } else if (c === ',' || c === '=') {
      // Go formats the rune with %v, which prints its code point.
      throw new SelectorError(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    } else {
      out += c;
    }
  }
  if (escaped) throw new SelectorError('invalid field selector: invalid escape sequence: \\');
  return out;
}

function requirementMatches(req: FieldRequirement, fields: Record<string, string>): boolean {
  // A field the object does not expose reads as "", as fields.Set.Get does.
  const actual = Object.hasOwn(fields, req.field) ? fields[req.field] : '';
  return req.operator === '=' ? actual === req.value : actual !== req.value;
}

export function parseFieldSelector(text: string): FieldSelector {
  const terms = text === '' ? [] : splitTerms(text).sort();
  const requirements: FieldRequirement[] = [];
  for (const term of terms) {
    if (term === '') continue;
    const parts = splitTerm(term);
    if (!parts) throw new SelectorError(`invalid selector: '${text}'; can't understand '${term}'`);
    requirements.push({ field: parts.lhs, operator: parts.op === '!=' ? '!=' : '=', value: unescapeValue(parts.rhs) });
  }
  return {
    empty: requirements.length === 0,
    requirements,
    matches: (fields) => requirements.every((r) => requirementMatches(r, fields)),
  };
}

/**
 * How an unsupported field is reported. CRDs (apiextensions' crConverter) and built-in kinds with
 * a field-label conversion of their own (pods, nodes, events, secrets, ...) say
 * "field label not supported: x"; the other built-ins fall back to
 * runtime.DefaultMetaV1FieldSelectorConversion: `"x" is not a known field selector: only ...`.
 */
export type UnsupportedFieldStyle = 'fieldLabel' | 'knownFieldSelector';

const META_FIELDS = new Set(['metadata.name', 'metadata.namespace']);

/** Built-ins with their own conversion are exactly those selectable on more than metadata. */
function inferredStyle(supported: string[]): UnsupportedFieldStyle {
  return supported.some((f) => !META_FIELDS.has(f)) ? 'fieldLabel' : 'knownFieldSelector';
}

/**
 * Rejects a selector naming a field `supported` does not list, worded as kube-apiserver words it.
 * `resource` names the kind for the caller's benefit; neither of Kubernetes' messages includes it.
 * Without `style` the wording is inferred as for a built-in kind; CRDs should pass 'fieldLabel'.
 */
export function checkFieldsSupported(
  sel: FieldSelector,
  supported: string[],
  resource: string,
  style: UnsupportedFieldStyle = inferredStyle(supported),
): void {
  const unknown = sel.requirements.find((r) => !supported.includes(r.field));
  if (!unknown) return;
  if (style === 'fieldLabel') throw new SelectorError(`field label not supported: ${unknown.field}`);
  const known = supported.map((f) => JSON.stringify(f)).join(', ');
  throw new SelectorError(`${JSON.stringify(unknown.field)} is not a known field selector: only ${known}`);
}
