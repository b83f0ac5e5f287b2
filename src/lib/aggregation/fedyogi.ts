// FedYogi (Reddi et al. 2021, Algorithm 2): v moves towards Δ² by a fixed step,
// v ← v − (1 − β₂)·Δ²·sign(v − Δ²), so it grows no faster than Adam's and never collapses at once.
import { AdaptiveServerOptimizer, type AdaptiveOptions } from './adaptive.ts';

export class FedYogi extends AdaptiveServerOptimizer {
  readonly name = 'FedYogi';

  constructor(options: AdaptiveOptions = {}) {
    super('FedYogi', options);
  }

  protected step(global: Float32Array, mean: Float32Array, m: Float32Array, v: Float32Array): void {
    const { eta, beta1, beta2, tau } = this;
    for (let i = 0; i < mean.length; i++) {
      const g = global[i]!;
      const delta = mean[i]! - g;
      const delta2 = delta * delta;
      const mi = beta1 * m[i]! + (1 - beta1) * delta;
      const previous = v[i]!;
      const vi = previous - (1 - beta2) * delta2 * Math.sign(previous - delta2);
      m[i] = mi;
      v[i] = vi;
      mean[i] = g + (eta * mi) / (Math.sqrt(vi) + tau);
    }
  }
}
