// The accumulation loops FedAvg could use, timed side by side so the choice in
// src/lib/aggregation/weighted-mean.ts stays measured: one pass per client into a Float32Array or
// a Float64Array accumulator, against the shipped four-clients-per-pass fold.
import { sampleShares, weightedSumInto, type ClientUpdate } from '../../src/lib/aggregation/index.ts';

export type Variant = (updates: readonly ClientUpdate[]) => Float32Array[];

function layerInputs(updates: readonly ClientUpdate[], layer: number): Float32Array[] {
  const inputs: Float32Array[] = [];
  for (const update of updates) inputs.push(update.weights[layer]!.data);
  return inputs;
}

function passPerClientFloat32(out: Float32Array, inputs: readonly Float32Array[], shares: readonly number[]): void {
  out.fill(0);
  for (let c = 0; c < inputs.length; c++) {
    const x = inputs[c]!;
    const w = shares[c]!;
    for (let i = 0; i < out.length; i++) out[i] = out[i]! + w * x[i]!;
  }
}

function passPerClientFloat64(out: Float32Array, acc: Float64Array, inputs: readonly Float32Array[], shares: readonly number[]): void {
  acc.fill(0);
  for (let c = 0; c < inputs.length; c++) {
    const x = inputs[c]!;
    const w = shares[c]!;
    for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + w * x[i]!;
  }
  for (let i = 0; i < out.length; i++) out[i] = acc[i]!;
}

function perLayer(updates: readonly ClientUpdate[], kernel: (out: Float32Array, inputs: Float32Array[], shares: number[]) => void): Float32Array[] {
  const shares = sampleShares(updates);
  const result: Float32Array[] = [];
  for (let l = 0; l < updates[0]!.weights.length; l++) {
    const out = new Float32Array(updates[0]!.weights[l]!.data.length);
    kernel(out, layerInputs(updates, l), shares);
    result.push(out);
  }
  return result;
}

export const variants: Record<string, Variant> = {
  'one pass per client, Float32Array accumulator': (updates) => perLayer(updates, passPerClientFloat32),
  'one pass per client, Float64Array accumulator': (updates) =>
    perLayer(updates, (out, inputs, shares) => passPerClientFloat64(out, new Float64Array(out.length), inputs, shares)),
  '5 clients per pass into the Float32Array (shipped)': (updates) => perLayer(updates, weightedSumInto),
};
