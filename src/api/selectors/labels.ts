// Kubernetes label selectors: the query-string grammar of k8s.io/apimachinery/pkg/labels and the
// structured metav1.LabelSelector. Parse errors copy upstream's wording because kubectl prints the
// server's message verbatim and scripts grep for it.
import type { LabelSelector } from '../meta.ts';
import { SelectorError } from './error.ts';

/** selection.Operator spellings, as Requirement.String() and error messages print them. */
export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'gt' | 'lt' | 'exists' | '!';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

export interface LabelSelectorMatcher {
  /** True when the selector does not restrict anything. */
  empty: boolean;
  matches(labels: Record<string, string> | undefined): boolean;
  toString(): string;
}

import { labelValueErrors, qualifiedNameErrors } from '../names.ts';

export { labelValueErrors, qualifiedNameErrors };

const BINARY_OPERATORS = 'in, notin, =, ==, !=, gt, lt';

/** field.Invalid(...).Error(): `path: Invalid value: "v": detail`. */
function invalidField(path: string, value: string, details: string[]): string {
  return `${path}: Invalid value: ${JSON.stringify(value)}: ${details.join('; ')}`;
}

/** utilerrors.Aggregate.Error(): one message bare, several deduplicated inside brackets. */
function aggregate(messages: string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? (unique[0] ?? '') : `[${unique.join(', ')}]`;
}

const INTEGER_RE = /^[+-]?\d+$/;

/** Go's %#v of a []string, which is how field errors print a bad value list. */
function goStringSlice(values: string[]): string {
  return values.length === 0 ? '[]string(nil)' : `[]string{${values.map((v) => JSON.stringify(v)).join(', ')}}`;
}

/** labels.NewRequirement's checks, with the field paths it reports them under. */
function requirementErrors(req: LabelRequirement): string[] {
  const errs: string[] = [];
  const keyErrs = qualifiedNameErrors(req.key);
  if (keyErrs.length) errs.push(invalidField('key', req.key, keyErrs));
  const n = req.values.length;
  const valuesText = goStringSlice(req.values);
  switch (req.operator) {
    case 'in':
    case 'notin':
      if (n === 0) errs.push(`values: Invalid value: ${valuesText}: for 'in', 'notin' operators, values set can't be empty`);
      break;
    case '=':
    case '==':
    case '!=':
      if (n !== 1) errs.push(`values: Invalid value: ${valuesText}: exact-match compatibility requires one single value`);
      break;
    case 'exists':
    case '!':
      if (n !== 0) errs.push(`values: Invalid value: ${valuesText}: values set must be empty for exists and does not exist`);
      break;
    case 'gt':
    case 'lt':
      if (n !== 1) errs.push(`values: Invalid value: ${valuesText}: for 'Gt', 'Lt' operators, exactly one value is required`);
      req.values.forEach((v, i) => {
        if (!INTEGER_RE.test(v)) errs.push(invalidField(`values[${i}]`, v, ["for 'Gt', 'Lt' operators, the value must be an integer"]));
      });
      break;
  }
  req.values.forEach((v, i) => {
    const valueErrs = labelValueErrors(v);
    if (valueErrs.length) errs.push(invalidField(`values[${i}][${req.key}]`, v, valueErrs));
  });
  return errs;
}

// ---------------------------------------------------------------------------------------------
// Matching and printing.

function requirementMatches(req: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, req.key);
  const value = labels[req.key];
  switch (req.operator) {
    case 'in':
    case '=':
    case '==':
      return has && req.values.includes(value ?? '');
    case 'notin':
    case '!=':
      // Kubernetes: a missing label satisfies "!=" and "notin".
      return !has || !req.values.includes(value ?? '');
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt':
      return has && compareIntegers(req, value ?? '');
  }
}

function compareIntegers(req: LabelRequirement, labelValue: string): boolean {
  const wanted = req.values[0];
  if (req.values.length !== 1 || wanted === undefined) return false;
  if (!INTEGER_RE.test(labelValue) || !INTEGER_RE.test(wanted)) return false;
  const have = BigInt(labelValue);
  const bound = BigInt(wanted);
  return req.operator === 'gt' ? have > bound : have < bound;
}

/** Requirement.String(): values sorted for a stable rendering. */
export function formatRequirement(req: LabelRequirement): string {
  const values = [...req.values].sort().join(',');
  switch (req.operator) {
    case 'exists':
      return req.key;
    case '!':
      return `!${req.key}`;
    case 'in':
      return `${req.key} in (${values})`;
    case 'notin':
      return `${req.key} notin (${values})`;
    case 'gt':
      return `${req.key}>${values}`;
    case 'lt':
      return `${req.key}<${values}`;
    default:
      return `${req.key}${req.operator}${values}`;
  }
}

/** An AND of requirements, kept sorted by key as upstream's internalSelector is. */
export class RequirementSelector implements LabelSelectorMatcher {
  readonly requirements: readonly LabelRequirement[];

  constructor(requirements: LabelRequirement[]) {
    this.requirements = [...requirements].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  get empty(): boolean {
    return this.requirements.length === 0;
  }

  matches(labels: Record<string, string> | undefined): boolean {
    const set = labels ?? {};
    return this.requirements.every((r) => requirementMatches(r, set));
  }

  toString(): string {
    return this.requirements.map(formatRequirement).join(',');
  }
}

// ---------------------------------------------------------------------------------------------
// The query-string lexer and parser, a transliteration of labels.Lexer / labels.Parser.

type TokenKind = 'eos' | 'id' | 'in' | 'notin' | '(' | ')' | ',' | '!' | '=' | '==' | '!=' | '>' | '<';

interface Token {
  kind: TokenKind;
  text: string;
}

const SPECIAL = new Set(['=', '!', '(', ')', ',', '>', '<']);
const WHITESPACE = new Set([' ', '\t', '\r', '\n']);

function lex(input: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  for (;;) {
    while (pos < input.length && WHITESPACE.has(input.charAt(pos))) pos++;
    if (pos >= input.length) {
      tokens.push({ kind: 'eos', text: '' });
      return tokens;
    }
    const two = input.slice(pos, pos + 2);
    if (two === '!=' || two === '==') {
      tokens.push({ kind: two, text: two });
      pos += 2;
    } else if (SPECIAL.has(input.charAt(pos))) {
      const ch = input.charAt(pos) as TokenKind;
      tokens.push({ kind: ch, text: ch });
      pos++;
    } else {
      const start = pos;
      while (pos < input.length && !SPECIAL.has(input.charAt(pos)) && !WHITESPACE.has(input.charAt(pos))) pos++;
      const text = input.slice(start, pos);
      tokens.push({ kind: text === 'in' || text === 'notin' ? text : 'id', text });
    }
  }
}

class ParseError extends Error {}

class Parser {
  private position = 0;
  private readonly tokens: Token[];

  constructor(input: string) {
    this.tokens = lex(input);
  }

  /** In value position the keywords in/notin are plain identifiers ("x in (in)"). */
  private peek(valuesContext = true): Token {
    const tok = this.tokens[this.position] ?? { kind: 'eos', text: '' };
    return valuesContext && (tok.kind === 'in' || tok.kind === 'notin') ? { kind: 'id', text: tok.text } : tok;
  }

  private next(valuesContext = true): Token {
    const tok = this.peek(valuesContext);
    this.position++;
    return tok;
  }

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    for (;;) {
      const tok = this.peek();
      if (tok.kind === 'eos') return requirements;
      if (tok.kind !== 'id' && tok.kind !== '!') {
        throw new ParseError(`found '${tok.text}', expected: !, identifier, or 'end of string'`);
      }
      try {
        requirements.push(this.parseRequirement());
      } catch (err) {
        if (err instanceof ParseError) throw new ParseError(`unable to parse requirement: ${err.message}`);
        throw err;
      }
      const after = this.next();
      if (after.kind === 'eos') return requirements;
      if (after.kind !== ',') throw new ParseError(`found '${after.text}', expected: ',' or 'end of string'`);
      const following = this.peek();
      if (following.kind !== 'id' && following.kind !== '!') {
        throw new ParseError(`found '${following.text}', expected: identifier after ','`);
      }
    }
  }

  private parseRequirement(): LabelRequirement {
    const { key, operator } = this.parseKeyAndInferOperator();
    if (operator === 'exists' || operator === '!') return this.checked({ key, operator, values: [] });
    const op = this.parseOperator();
    const values = op === 'in' || op === 'notin' ? this.parseValues() : this.parseExactValue();
    return this.checked({ key, operator: op, values });
  }

  private checked(req: LabelRequirement): LabelRequirement {
    const errs = requirementErrors(req);
    if (errs.length) throw new ParseError(aggregate(errs));
    return req;
  }

  private parseKeyAndInferOperator(): { key: string; operator: LabelOperator | undefined } {
    let operator: LabelOperator | undefined;
    let tok = this.next();
    if (tok.kind === '!') {
      operator = '!';
      tok = this.next();
    }
    if (tok.kind !== 'id') throw new ParseError(`found '${tok.text}', expected: identifier`);
    const keyErrs = qualifiedNameErrors(tok.text);
    // The string parser has no field path, and Go prints a nil *field.Path as "<nil>".
    if (keyErrs.length) throw new ParseError(invalidField('<nil>', tok.text, keyErrs));
    const following = this.peek().kind;
    if ((following === 'eos' || following === ',') && operator !== '!') operator = 'exists';
    return { key: tok.text, operator };
  }

  private parseOperator(): LabelOperator {
    const tok = this.next(false);
    switch (tok.kind) {
      case 'in':
      case 'notin':
      case '=':
      case '==':
      case '!=':
        return tok.kind;
      case '>':
        return 'gt';
      case '<':
        return 'lt';
      default:
        throw new ParseError(`found '${tok.text}', expected: ${BINARY_OPERATORS}`);
    }
  }

  private parseValues(): string[] {
    const open = this.next();
    if (open.kind !== '(') throw new ParseError(`found '${open.text}' expected: '('`);
    const first = this.peek();
    if (first.kind === ')') {
      this.next();
      return [''];
    }
    if (first.kind !== 'id' && first.kind !== ',') {
      throw new ParseError(`found '${first.text}', expected: ',', ')' or identifier`);
    }
    const values = this.parseIdentifiersList();
    // Upstream reports the token that opened the list here, not the offending one.
    if (this.next().kind !== ')') throw new ParseError(`found '${first.text}', expected: ')'`);
    return values;
  }

  /** A comma-separated list whose empty members mean the empty value: "(,a)" is {"", "a"}. */
  private parseIdentifiersList(): string[] {
    const values = new Set<string>();
    for (;;) {
      const tok = this.next();
      if (tok.kind === 'id') {
        values.add(tok.text);
        const following = this.peek();
        if (following.kind === ',') continue;
        if (following.kind === ')') return [...values].sort();
        throw new ParseError(`found '${following.text}', expected: ',' or ')'`);
      }
      if (tok.kind !== ',') throw new ParseError(`found '${tok.text}', expected: ',', or identifier`);
      if (values.size === 0) values.add('');
      const following = this.peek().kind;
      if (following === ')') {
        values.add('');
        return [...values].sort();
      }
      if (following === ',') values.add('');
    }
  }

  private parseExactValue(): string[] {
    const following = this.peek().kind;
    if (following === 'eos' || following === ',') return [''];
    const tok = this.next();
    if (tok.kind === 'id') return [tok.text];
    throw new ParseError(`found '${tok.text}', expected: identifier`);
  }
}

/** Parses `labelSelector=` query syntax; a syntax or validation error is a SelectorError (a 400). */
export function parseLabelSelector(text: string): RequirementSelector {
  try {
    return new RequirementSelector(new Parser(text).parse());
  } catch (err) {
    if (err instanceof ParseError) throw new SelectorError(err.message);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// metav1.LabelSelector.

const EXPRESSION_OPERATORS: Record<string, LabelOperator> = {
  In: 'in',
  NotIn: 'notin',
  Exists: 'exists',
  DoesNotExist: '!',
};

function requirementsOf(sel: LabelSelector): LabelRequirement[] {
  const requirements: LabelRequirement[] = Object.entries(sel.matchLabels ?? {}).map(([key, value]) => ({
    key,
    operator: '=',
    values: [value],
  }));
  for (const expr of sel.matchExpressions ?? []) {
    const operator = EXPRESSION_OPERATORS[expr.operator];
    if (!operator) throw new SelectorError(`${JSON.stringify(expr.operator)} is not a valid label selector operator`);
    requirements.push({ key: expr.key, operator, values: [...(expr.values ?? [])] });
  }
  return requirements;
}

/**
 * metav1.LabelSelectorAsSelector. An absent or empty selector selects everything here; kinds for
 * which that is wrong (Deployments) reject it during validation.
 */
export function labelSelectorFromObject(sel: LabelSelector | undefined): RequirementSelector {
  if (!sel) return new RequirementSelector([]);
  const requirements = requirementsOf(sel);
  const errs = requirements.flatMap((r) => requirementErrors(r));
  if (errs.length) throw new SelectorError(aggregate(errs));
  return new RequirementSelector(requirements);
}

/** The selector's string form, as Scale and HPA status.selector carry it ("" when it selects all). */
export function formatLabelSelector(sel: LabelSelector): string {
  return new RequirementSelector(requirementsOf(sel)).toString();
}
