// The sample-weighted mean of the clients' weights (Sedna's FedAvg, lib.md §8.2): the hot path of
// every strategy. Per layer one tight loop over Float32Arrays; clients are folded in five at a time
// (then four, two, one) so each output element is loaded and stored once per five clients (the
// partial sums stay in float64 registers, the stores round to float32). Measured against one pass
// per client with a Float32Array or a Float64Array accumulator: ~2x faster than either, and five
// a pass ~10% faster than four for 10 clients (bench/federated-learning).
import { shapeSize, type LayerWeights, type ModelWeights } from '../weights.ts';
import type { ClientUpdate } from './types.ts';

function describeUpdate(updates: readonly ClientUpdate[], index: number): string {
  const client = updates[index]!.client;
  return client ? `update ${index} (client ${JSON.stringify(client)})` : `update ${index}`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let d = 0; d < a.length; d++) if (a[d] !== b[d]) return false;
  return true;
}

function checkLayer(layer: LayerWeights | undefined, expected: LayerWeights, where: string, index: number): void {
  if (!layer || !sameShape(layer.shape, expected.shape) || layer.data.length !== shapeSize(expected.shape)) {
    const got = layer ? `[${layer.shape.join(', ')}] with ${layer.data.length} values` : 'nothing';
    throw new RangeError(`${where}: layer ${index} has shape ${got}, expected [${expected.shape.join(', ')}]`);
  }
}

/**
 * Throws a RangeError naming the update and layer when an update's sample count is not a
 * non-negative finite number or its layers do not match `reference` (the global model, or else
 * the first update).
 */
export function checkUpdates(updates: readonly ClientUpdate[], reference?: ModelWeights): void {
  const expected = reference ?? updates[0]?.weights;
  for (let u = 0; u < updates.length; u++) {
    const { weights, numSamples } = updates[u]!;
    const where = describeUpdate(updates, u);
    if (typeof numSamples !== 'number' || !Number.isFinite(numSamples) || numSamples < 0) {
      throw new RangeError(`${where}: numSamples must be a non-negative number, got ${String(numSamples)}`);
    }
    if (!expected) continue;
    if (weights.length !== expected.length) {
      throw new RangeError(`${where}: ${weights.length} layers, expected ${expected.length}${reference ? ' (as the global model)' : ' (as update 0)'}`);
    }
    for (let l = 0; l < expected.length; l++) checkLayer(weights[l], expected[l]!, where, l);
  }
}

/**
 * Each client's share of the average: numSamples / total. When every count is zero the clients
 * count equally (Sedna divided by zero).
 */
export function sampleShares(updates: readonly ClientUpdate[]): number[] {
  let total = 0;
  for (const update of updates) total += update.numSamples;
  const shares: number[] = [];
  for (const update of updates) shares.push(total > 0 ? update.numSamples / total : 1 / updates.length);
  return shares;
}

/** out = Σ coeffs[c] · inputs[c], element-wise; inputs and out have the same length. */
export function weightedSumInto(out: Float32Array, inputs: readonly Float32Array[], coeffs: readonly number[]): void {
  const n = out.length;
  const clients = inputs.length;
  if (clients === 0) {
    out.fill(0);
    return;
  }
  let c = 0;
  // The first group writes, later groups add: no separate zeroing pass.
  let first = true;
  for (; c + 5 <= clients; c += 5) {
    const a = inputs[c]!, b = inputs[c + 1]!, d = inputs[c + 2]!, e = inputs[c + 3]!, f = inputs[c + 4]!;
    const wa = coeffs[c]!, wb = coeffs[c + 1]!, wd = coeffs[c + 2]!, we = coeffs[c + 3]!, wf = coeffs[c + 4]!;
    if (first) for (let i = 0; i < n; i++) out[i] = wa * a[i]! + wb * b[i]! + wd * d[i]! + we * e[i]! + wf * f[i]!;
    else for (let i = 0; i < n; i++) out[i] = out[i]! + wa * a[i]! + wb * b[i]! + wd * d[i]! + we * e[i]! + wf * f[i]!;
    first = false;
  }
  for (; c + 4 <= clients; c += 4) {
    const a = inputs[c]!, b = inputs[c + 1]!, d = inputs[c + 2]!, e = inputs[c + 3]!;
    const wa = coeffs[c]!, wb = coeffs[c + 1]!, wd = coeffs[c + 2]!, we = coeffs[c + 3]!;
    if (first) for (let i = 0; i < n; i++) out[i] = wa * a[i]! + wb * b[i]! + wd * d[i]! + we * e[i]!;
    else for (let i = 0; i < n; i++) out[i] = out[i]! + wa * a[i]! + wb * b[i]! + wd * d[i]! + we * e[i]!;
    first = false;
  }
  for (; c + 2 <= clients; c += 2) {
    const a = inputs[c]!, b = inputs[c + 1]!;
    const wa = coeffs[c]!, wb = coeffs[c + 1]!;
    if (first) for (let i = 0; i < n; i++) out[i] = wa * a[i]! + wb * b[i]!;
    else for (let i = 0; i < n; i++) out[i] = out[i]! + wa * a[i]! + wb * b[i]!;
    first = false;
  }
  if (c < clients) {
    const a = inputs[c]!;
    const wa = coeffs[c]!;
    if (first) for (let i = 0; i < n; i++) out[i] = wa * a[i]!;
    else for (let i = 0; i < n; i++) out[i] = out[i]! + wa * a[i]!;
  }
}

/** The sample-weighted mean of the updates (at least one), layer by layer; new buffers. */
export function weightedMean(updates: readonly ClientUpdate[]): ModelWeights {
  const shares = sampleShares(updates);
  const template = updates[0]!.weights;
  const result: ModelWeights = [];
  const inputs: Float32Array[] = new Array<Float32Array>(updates.length);
  for (let l = 0; l < template.length; l++) {
    for (let u = 0; u < updates.length; u++) inputs[u] = updates[u]!.weights[l]!.data;
    const out = new Float32Array(template[l]!.data.length);
    weightedSumInto(out, inputs, shares);
    result.push({ shape: [...template[l]!.shape], data: out });
  }
  return result;
}
