// The scenario's figures: what the edge worker writes to RESULTS_DIR/joint-inference.json, the
// table the runner prints, and the target of the issue (joint accuracy recovers at least 70% of
// the gap between edge-only and cloud-only accuracy while offloading at most 30% of the images).

export interface LatencySummary {
  p50: number;
  p99: number;
}

export interface ScenarioResults {
  images: number;
  edgeAccuracy: number;
  cloudAccuracy: number;
  jointAccuracy: number;
  offloadShare: number;
  latencyMs: { edge: LatencySummary; cloud: LatencySummary; joint: LatencySummary };
  /** Offloads the edge answered itself because the cloud failed (0 in a healthy run). */
  cloudFailures: number;
  hemThreshold: number | null;
  /** Where the threshold was chosen (models/manifest.json): never the test images scored here. */
  thresholdSelectedOn: 'validation';
  /** (joint − edge) / (cloud − edge) on these images. */
  gapRecovered: number;
  finishedAt: string;
}

export const TARGET_GAP_RECOVERED = 0.7;
export const TARGET_MAX_OFFLOAD = 0.3;

/** Nearest-rank percentile of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function summarize(samples: readonly number[]): LatencySummary {
  return { p50: round(percentile(samples, 50), 3), p99: round(percentile(samples, 99), 3) };
}

export function gapRecovered(r: Pick<ScenarioResults, 'edgeAccuracy' | 'cloudAccuracy' | 'jointAccuracy'>): number {
  const gap = r.cloudAccuracy - r.edgeAccuracy;
  return gap <= 0 ? Number.NaN : (r.jointAccuracy - r.edgeAccuracy) / gap;
}

export function meetsTarget(r: ScenarioResults): { met: boolean; gapRecovered: number } {
  const recovered = gapRecovered(r);
  return { met: recovered >= TARGET_GAP_RECOVERED && r.offloadShare <= TARGET_MAX_OFFLOAD, gapRecovered: recovered };
}

export function formatResults(r: ScenarioResults): string {
  const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
  const ms = (x: number): string => `${x.toFixed(2)} ms`;
  const rows = [
    ['path', 'accuracy', 'offloaded', 'p50 / image', 'p99 / image'],
    ['edge only', pct(r.edgeAccuracy), '0%', ms(r.latencyMs.edge.p50), ms(r.latencyMs.edge.p99)],
    ['cloud only', pct(r.cloudAccuracy), '100%', ms(r.latencyMs.cloud.p50), ms(r.latencyMs.cloud.p99)],
    ['joint', pct(r.jointAccuracy), pct(r.offloadShare), ms(r.latencyMs.joint.p50), ms(r.latencyMs.joint.p99)],
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const lines = rows.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
  const { met, gapRecovered: recovered } = meetsTarget(r);
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  lines.push(
    '',
    `Fashion-MNIST, ${r.images} test images; CrossEntropy threshold ${r.hemThreshold ?? 'n/a'} (chosen on ${r.thresholdSelectedOn}); cloud failures ${r.cloudFailures}.`,
    `Joint accuracy recovers ${pct(recovered)} of the edge→cloud gap while offloading ${pct(r.offloadShare)} ` +
      `(target ≥ ${pct(TARGET_GAP_RECOVERED)} with ≤ ${pct(TARGET_MAX_OFFLOAD)}): ${met ? 'met' : 'MISSED'}.`,
  );
  return lines.join('\n');
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
