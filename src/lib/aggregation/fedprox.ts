// FedProx (Li et al., MLSys 2020): the server aggregates exactly as FedAvg; the difference is on
// the client, which adds μ/2·‖w − w_global‖² to its loss. The strategy carries μ so the training
// worker can read it from the same configuration as the server.
import { FedAvg } from './fedavg.ts';

export const FEDPROX_DEFAULT_MU = 0.01;

export class FedProx extends FedAvg {
  override readonly name: string = 'FedProx';
  /** μ of the client's proximal term μ/2·‖w − w_global‖². */
  readonly proximalMu: number;

  constructor({ mu = FEDPROX_DEFAULT_MU }: { mu?: number } = {}) {
    super();
    if (!Number.isFinite(mu) || mu < 0) throw new RangeError(`FedProx: mu must be a non-negative number, got ${mu}`);
    this.proximalMu = mu;
  }
}
