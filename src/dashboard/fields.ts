// Reading fields of objects the API server sent, whose shape nothing guarantees (a status written
// by any client): an object or {}, a string (a Date as RFC 3339) or undefined.

export function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function text(value: unknown): string | undefined {
  if (value instanceof Date) return value.toISOString();
  return typeof value === 'string' ? value : undefined;
}
