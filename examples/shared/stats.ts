// Mean and sample standard deviation, for the studies' "mean ± sd over seeds".

export interface MeanSd {
  mean: number;
  sd: number;
}

export function meanSd(values: readonly number[]): MeanSd {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = values.length > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1)) : 0;
  return { mean, sd };
}
