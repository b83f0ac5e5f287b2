// The aggregation server's checkpoint: after every round, before the round's aggregate is sent,
// the round, the global model, the round summaries and the strategy's optimiser state (FedAvgM's
// velocity, FedAdam/FedYogi's moments) go to one file, written whole to a temporary name, fsynced
// and renamed over the previous one (then the folder fsynced), so a kill -9 at any instant leaves
// either the previous round's checkpoint or this one's, never a torn file. Because the checkpoint
// is durable before any trainer sees the aggregate, no trainer is ever ahead of it: a restarted
// aggregator resumes at the round the trainers are in, and one restarted after the final round
// knows training is over.
//
// Layout: "SEDNACK1" | uint32 LE header length | header (JSON) | the sections' bytes, in the
// header's order; each section is a weights codec buffer (src/lib/weights.ts).
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { StrategyState } from '../../lib/aggregation/index.ts';
import { decodeWeights, encodeWeights, type ModelWeights } from '../../lib/weights.ts';
import type { GlobalRoundData } from './protocol.ts';

export const CHECKPOINT_FILE = 'aggregator-checkpoint.bin';
const MAGIC = 'SEDNACK1';
const VERSION = 1;

export interface AggregatorCheckpoint<Summary = unknown> {
  /** The job whose rounds these are (JOB_UID): a new job of the same name never resumes them. */
  jobUid: string | undefined;
  jobName: string;
  /** The aggregation algorithm; a checkpoint of another one is not resumed. */
  aggregation: string;
  /** Rounds completed. */
  round: number;
  /** What the last round broadcast (its exit_flag says whether training is over). */
  globalData: GlobalRoundData;
  rounds: Summary[];
  weights: ModelWeights;
  strategyState: StrategyState | undefined;
}

interface Header<Summary> {
  version: number;
  jobUid: string | null;
  jobName: string;
  aggregation: string;
  round: number;
  globalData: GlobalRoundData;
  rounds: Summary[];
  /** `weights`, then `state:<name>` for each strategy state entry. */
  sections: { name: string; bytes: number }[];
}

/** Writes the checkpoint into `dir` atomically and durably. */
export function writeCheckpoint<Summary>(dir: string, checkpoint: AggregatorCheckpoint<Summary>): void {
  mkdirSync(dir, { recursive: true });
  const sections: { name: string; data: Buffer }[] = [{ name: 'weights', data: encodeWeights(checkpoint.weights) }];
  for (const [name, arrays] of Object.entries(checkpoint.strategyState ?? {})) {
    sections.push({ name: `state:${name}`, data: encodeWeights(arrays.map((data) => ({ shape: [data.length], data }))) });
  }
  const header: Header<Summary> = {
    version: VERSION,
    jobUid: checkpoint.jobUid ?? null,
    jobName: checkpoint.jobName,
    aggregation: checkpoint.aggregation,
    round: checkpoint.round,
    globalData: checkpoint.globalData,
    rounds: checkpoint.rounds,
    sections: sections.map((s) => ({ name: s.name, bytes: s.data.length })),
  };
  const headerBytes = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(headerBytes.length);
  const file = join(dir, CHECKPOINT_FILE);
  const temporary = `${file}.tmp`;
  const fd = openSync(temporary, 'w', 0o600);
  try {
    for (const chunk of [Buffer.from(MAGIC), length, headerBytes, ...sections.map((s) => s.data)]) writeAll(fd, chunk);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
  syncFolder(dir);
}

/** The checkpoint in `dir`, or undefined when there is none; throws on a damaged one, naming what is wrong. */
export function readCheckpoint<Summary>(dir: string): AggregatorCheckpoint<Summary> | undefined {
  const file = join(dir, CHECKPOINT_FILE);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (bytes.length < MAGIC.length + 4 || bytes.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) throw new Error(`${file}: not an aggregator checkpoint (bad magic)`);
  const headerLength = bytes.readUInt32LE(MAGIC.length);
  let offset = MAGIC.length + 4;
  if (offset + headerLength > bytes.length) throw new Error(`${file}: truncated header`);
  let header: Header<Summary>;
  try {
    header = JSON.parse(bytes.subarray(offset, offset + headerLength).toString('utf8')) as Header<Summary>;
  } catch (error) {
    throw new Error(`${file}: unreadable header: ${(error as Error).message}`);
  }
  if (header.version !== VERSION) throw new Error(`${file}: checkpoint version ${header.version}, this server reads ${VERSION}`);
  offset += headerLength;
  let weights: ModelWeights | undefined;
  const strategyState: StrategyState = {};
  for (const section of header.sections) {
    if (offset + section.bytes > bytes.length) throw new Error(`${file}: section ${section.name} truncated`);
    // A copy: the decoded arrays are views and must not pin (or alias) the file's buffer.
    const decoded = decodeWeights(Uint8Array.from(bytes.subarray(offset, offset + section.bytes)));
    offset += section.bytes;
    if (section.name === 'weights') weights = decoded;
    else if (section.name.startsWith('state:')) strategyState[section.name.slice('state:'.length)] = decoded.map((layer) => layer.data);
  }
  if (!weights) throw new Error(`${file}: no weights section`);
  if (offset !== bytes.length) throw new Error(`${file}: ${bytes.length - offset} trailing bytes`);
  return {
    jobUid: header.jobUid ?? undefined,
    jobName: header.jobName,
    aggregation: header.aggregation,
    round: header.round,
    globalData: header.globalData,
    rounds: header.rounds,
    weights,
    strategyState: Object.keys(strategyState).length > 0 ? strategyState : undefined,
  };
}

function writeAll(fd: number, chunk: Buffer): void {
  let written = 0;
  while (written < chunk.length) written += writeSync(fd, chunk, written, chunk.length - written);
}

/** Makes the rename itself durable. */
function syncFolder(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
