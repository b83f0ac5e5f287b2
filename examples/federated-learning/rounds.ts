// The per-round record the aggregator appends to RESULTS_DIR/federated-learning-rounds.jsonl and
// the runner reads back: one JSON object per line, then a closing `{"done": true, ...}` line.

export interface RoundRecord {
  round: number;
  /** The global model's accuracy on the 10,000 test images after this round. */
  accuracy: number;
  loss: number;
  /** Bytes of the update frames the training workers sent in this round (uplink). */
  bytesSent: number;
  /** Bytes of the aggregate frames broadcast to the workers (downlink). */
  bytesReceived: number;
  clients: string[];
  samples: number;
  closedBy: 'all' | 'deadline';
  /** Seconds since the aggregator started listening. */
  seconds: number;
}

export interface RoundsDone {
  done: true;
  algorithm: string;
  exitRound: number;
  participants: number;
  seconds: number;
}

export const ROUNDS_FILE = 'federated-learning-rounds.jsonl';

export function parseRoundsFile(text: string): { rounds: RoundRecord[]; done: RoundsDone | undefined } {
  const rounds: RoundRecord[] = [];
  let done: RoundsDone | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const entry = JSON.parse(line) as RoundRecord | RoundsDone;
    if ('done' in entry) done = entry;
    else rounds.push(entry);
  }
  return { rounds, done };
}
