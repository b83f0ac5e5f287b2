// Shapes of the edge model's result that the filters read; anything else is invalid input.

/** `data_check`: 0 <= x <= 1. */
export function inUnitRange(x: unknown): x is number {
  return typeof x === 'number' && x >= 0 && x <= 1;
}

/** The scores (field 4) of boxes `[xmin, ymin, xmax, ymax, score, label]`, or undefined when the
 * input is empty, not a list of lists, has a box with ≤ 4 fields, or a score that is not a finite number. */
export function boxScores(result: unknown): number[] | undefined {
  if (!Array.isArray(result) || result.length === 0) return undefined;
  const scores: number[] = [];
  for (const box of result as unknown[]) {
    if (!Array.isArray(box) || box.length <= 4) return undefined;
    const score: unknown = box[4];
    if (typeof score !== 'number' || !Number.isFinite(score)) return undefined;
    scores.push(score);
  }
  return scores;
}

/** Class probabilities, or undefined when empty or any entry is outside [0, 1]. */
export function probabilities(result: unknown): number[] | undefined {
  if (!Array.isArray(result) || result.length === 0) return undefined;
  const values = result as unknown[];
  return values.every(inUnitRange) ? values : undefined;
}
