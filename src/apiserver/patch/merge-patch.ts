// JSON merge patch (RFC 7386): what `kubectl patch --type merge` sends, and the only patch type
// besides JSON patch that custom resources accept.

export type JsonMap = Record<string, unknown>;

/** A JSON object: not null, not an array. */
export function isJsonObject(value: unknown): value is JsonMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Sets an own property. Plain assignment of a "__proto__" key (which JSON.parse happily produces)
 * would replace the object's prototype instead of storing data.
 */
export function setOwn(target: JsonMap, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** Applies `patch` to `target` and returns the result; neither input is modified or shared with it. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  return mergeInto(structuredClone(target), patch);
}

/** `target` is already a private copy, so it is updated in place. */
function mergeInto(target: unknown, patch: unknown): unknown {
  if (!isJsonObject(patch)) return structuredClone(patch);
  const result: JsonMap = isJsonObject(target) ? target : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[key];
      continue;
    }
    // hasOwn: an absent "__proto__" or "constructor" must read as missing, not as Object.prototype.
    const current = Object.hasOwn(result, key) ? result[key] : undefined;
    setOwn(result, key, mergeInto(current, value));
  }
  return result;
}
