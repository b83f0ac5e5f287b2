// Reads one YAML mapping of a configuration file, field by field, collecting every problem with
// the field's dotted path instead of stopping at the first. Keys nobody asked for are reported as
// unknown at `finish()`: a misspelt key that was silently ignored (as Sedna's decoder does) would
// leave its default in force without anyone noticing.

export interface ConfigIssue {
  /** Dotted path of the field, e.g. `websocket.port`. */
  path: string;
  message: string;
}

export class ConfigSection {
  private readonly known = new Set<string>();
  private readonly children: ConfigSection[] = [];

  private constructor(
    private readonly raw: Record<string, unknown>,
    private readonly prefix: string,
    readonly issues: ConfigIssue[],
  ) {}

  /** The document's top level; anything but a mapping (or nothing) is an issue. */
  static root(document: unknown, issues: ConfigIssue[] = []): ConfigSection {
    if (document === null || document === undefined) return new ConfigSection({}, '', issues);
    if (isMapping(document)) return new ConfigSection(document, '', issues);
    issues.push({ path: '(top level)', message: `must be a mapping, got ${describe(document)}` });
    return new ConfigSection({}, '', issues);
  }

  path(key: string): string {
    return this.prefix === '' ? key : `${this.prefix}.${key}`;
  }

  has(key: string): boolean {
    this.known.add(key);
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  issue(key: string, message: string): void {
    this.issues.push({ path: this.path(key), message });
  }

  string(key: string, fallback: string): string {
    const value = this.value(key);
    if (value === undefined) return fallback;
    if (typeof value === 'string') return value;
    this.issue(key, `must be a string, got ${describe(value)}`);
    return fallback;
  }

  integer(key: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.value(key);
    if (value === undefined) return fallback;
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
    this.issue(key, `must be an integer from ${min} to ${max}, got ${describe(value)}`);
    return fallback;
  }

  /** A nested mapping; an absent one reads as empty, so its fields take their defaults. */
  section(key: string): ConfigSection {
    const value = this.value(key);
    let raw: Record<string, unknown> = {};
    if (isMapping(value)) raw = value;
    else if (value !== undefined) this.issue(key, `must be a mapping, got ${describe(value)}`);
    const child = new ConfigSection(raw, this.path(key), this.issues);
    this.children.push(child);
    return child;
  }

  /** Reports the keys of this mapping, and of every section read from it, that were never read. */
  finish(): void {
    for (const key of Object.keys(this.raw)) if (!this.known.has(key)) this.issue(key, 'unknown field');
    for (const child of this.children) child.finish();
  }

  /** `null` reads as absent, as an empty YAML value (`port:`) means "not set". */
  private value(key: string): unknown {
    this.known.add(key);
    const value = this.raw[key];
    return value === null ? undefined : value;
  }
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (isMapping(value)) return 'a mapping';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
