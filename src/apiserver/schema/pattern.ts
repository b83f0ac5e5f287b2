// CRD `pattern`s on a linear-time engine with RE2 semantics, as kube-apiserver (Go's regexp, an
// RE2) runs them: a user's pattern can never backtrack for seconds on a crafted value. Compiled
// patterns are cached, within a bound, because every write validates against the same few.
import { RE2JS } from 're2js';

export interface CompiledPattern {
  /** Go's regexp.MatchString: true when the pattern matches anywhere in the value. */
  test(value: string): boolean;
}

const MAX_CACHED = 1024;
const cache = new Map<string, CompiledPattern | Error>();

export function compilePattern(pattern: string): CompiledPattern | Error {
  let compiled = cache.get(pattern);
  if (compiled) return compiled;
  try {
    const re = RE2JS.compile(pattern);
    compiled = { test: (value) => re.matcher(value).find() };
  } catch (err) {
    compiled = new Error(err instanceof Error ? err.message : String(err));
  }
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
  cache.set(pattern, compiled);
  return compiled;
}
