// The scenario's figures: what run.ts writes to DATA_DIR/results/federated-learning.json, the table
// it prints, and the target (federated accuracy within 3 points of centralized training).

export interface RoundFigures {
  round: number;
  accuracy: number;
  bytesSent: number;
}

export interface FederatedResults {
  rounds: RoundFigures[];
  finalAccuracy: number;
  centralizedAccuracy: number;
  algorithm: string;
  clientsPerRound: number[];
  trainImages: number;
  validationImages: number;
  testImages: number;
  clients: number;
  /** Which edge node each client's training worker runs on. */
  clientNodes: Record<string, string>;
  split: { scheme: string; alpha: number };
  splitSeed: number;
  /** centralizedAccuracy − finalAccuracy (points as a fraction; positive: federated is worse). */
  gap: number;
  localEpochs: number;
  /** Wall-clock seconds of the federated job (aggregator's view) and of the baseline. */
  federatedSeconds: number;
  centralizedSeconds: number;
  finishedAt: string;
}

export const TARGET_MAX_GAP = 0.03;

export function meetsTarget(r: FederatedResults): { met: boolean; gap: number } {
  const gap = r.centralizedAccuracy - r.finalAccuracy;
  return { met: gap <= TARGET_MAX_GAP, gap };
}

export function formatResults(r: FederatedResults): string {
  const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
  const lines = ['round  accuracy  bytes sent  clients'];
  r.rounds.forEach((round, i) => lines.push(`${String(round.round).padStart(5)}  ${pct(round.accuracy).padStart(8)}  ${String(round.bytesSent).padStart(10)}  ${r.clientsPerRound[i] ?? ''}`));
  const { met, gap } = meetsTarget(r);
  const totalBytes = r.rounds.reduce((sum, round) => sum + round.bytesSent, 0);
  lines.push(
    '',
    `${r.algorithm}, ${r.rounds.length} rounds × ${r.localEpochs} local epoch(s), ${r.trainImages} training images over ${r.clients} clients on ${new Set(Object.values(r.clientNodes)).size} edge nodes (${r.split.scheme}, α=${r.split.alpha}, split seed ${r.splitSeed}), ${r.validationImages} validation images held out, ${r.testImages} test images.`,
    `Federated ${pct(r.finalAccuracy)} (${r.federatedSeconds} s, ${totalBytes} bytes of updates) vs centralized ${pct(r.centralizedAccuracy)} (${r.centralizedSeconds} s): ` +
      `gap ${(gap * 100).toFixed(2)} points (target ≤ ${TARGET_MAX_GAP * 100}): ${met ? 'met' : 'MISSED'}.`,
  );
  return lines.join('\n');
}
