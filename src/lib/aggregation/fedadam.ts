// FedAdam (Reddi et al. 2021, Algorithm 2): the Adam second moment v ← β₂·v + (1 − β₂)·Δ².
import { AdaptiveServerOptimizer, type AdaptiveOptions } from './adaptive.ts';

export class FedAdam extends AdaptiveServerOptimizer {
  readonly name = 'FedAdam';

  constructor(options: AdaptiveOptions = {}) {
    super('FedAdam', options);
  }

  protected step(global: Float32Array, mean: Float32Array, m: Float32Array, v: Float32Array): void {
    const { eta, beta1, beta2, tau } = this;
    for (let i = 0; i < mean.length; i++) {
      const g = global[i]!;
      const delta = mean[i]! - g;
      const mi = beta1 * m[i]! + (1 - beta1) * delta;
      const vi = beta2 * v[i]! + (1 - beta2) * delta * delta;
      m[i] = mi;
      v[i] = vi;
      mean[i] = g + (eta * mi) / (Math.sqrt(vi) + tau);
    }
  }
}
