// Small statistics helpers for the API server bench: percentiles, medians and formatting.

/** Nearest-rank percentile (p in [0, 100]) of an unsorted sample; NaN when it is empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function max(values: readonly number[]): number {
  let out = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > out) out = v;
  return out;
}

/** Milliseconds with a precision that suits their size. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** Microseconds, whole. */
export function us(value: number): string {
  return value.toFixed(0);
}

export function ratio(value: number): string {
  return value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

export function mb(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}

export function verdict(met: boolean): string {
  return met ? 'met' : 'MISSED';
}

/** Monotonic milliseconds. */
export function now(): number {
  return performance.now();
}
