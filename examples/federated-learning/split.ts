// The non-IID split of the example: a seeded subset of the Fashion-MNIST training images shared out
// across the edge nodes class by class, each class's proportions drawn from Dirichlet(alpha)
// (alpha 0.5: most nodes see a few classes a lot and others hardly at all, the usual benchmark
// setting since Hsu et al. 2019). Each node gets a Sedna txt index, `<idx file>#<record> <label>`
// per line (lib.md §4), which its Dataset points at: the images themselves never move.
//
//   node --import tsx examples/federated-learning/split.ts --data-dir .sedna/examples/federated-learning
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readIdx } from '../../src/lib/datasources/idx.ts';
import { CLASS_NAMES, fashionMnistDir } from '../joint-inference/fashion-mnist.ts';
import { dirichlet, seededRandom, shuffle, type Random } from './random.ts';

export const EDGE_NODES = ['edge-1', 'edge-2', 'edge-3'];
export const TRAIN_IMAGES = 'train-images-idx3-ubyte.gz';
const TRAIN_LABELS = 'train-labels-idx1-ubyte.gz';

export interface SplitOptions {
  nodes: string[];
  alpha: number;
  /** How many training images to share out in all (a seeded random subset of the 60,000). */
  total: number;
  seed: number;
  /** Redraw the proportions until every node holds at least this many images. */
  minPerNode?: number;
}

export interface NodeShard {
  node: string;
  /** Record numbers in the training IDX files. */
  records: number[];
  labels: number[];
}

const DEFAULT_MIN_PER_NODE = 200;
const MAX_DRAWS = 1000;

function recordsByClass(labels: ArrayLike<number>, records: readonly number[]): Map<number, number[]> {
  const byClass = new Map<number, number[]>();
  for (const record of records) {
    const label = labels[record]!;
    const records = byClass.get(label) ?? [];
    records.push(record);
    byClass.set(label, records);
  }
  return byClass;
}

/** One draw: each class's records cut at the cumulative Dirichlet proportions. */
function drawShards(labels: ArrayLike<number>, byClass: Map<number, number[]>, nodes: string[], alpha: number, random: Random): NodeShard[] {
  const shards = nodes.map((node) => ({ node, records: [] as number[], labels: [] as number[] }));
  for (const [, records] of [...byClass].sort(([a], [b]) => a - b)) {
    const proportions = dirichlet(alpha, nodes.length, random);
    let start = 0;
    let cumulative = 0;
    proportions.forEach((p, i) => {
      cumulative += p;
      const end = i === nodes.length - 1 ? records.length : Math.round(cumulative * records.length);
      for (const record of records.slice(start, end)) {
        shards[i]!.records.push(record);
        shards[i]!.labels.push(labels[record]!);
      }
      start = end;
    });
  }
  return shards;
}

/** Dirichlet(alpha) non-IID split of a seeded subset of `labels` across `options.nodes`. */
export function dirichletSplit(labels: ArrayLike<number>, options: SplitOptions): NodeShard[] {
  if (!(options.alpha > 0)) throw new RangeError(`alpha must be > 0, got ${options.alpha}`);
  if (!(options.total > 0) || options.total > labels.length) throw new RangeError(`total must be in 1..${labels.length}, got ${options.total}`);
  if (options.nodes.length === 0) throw new RangeError('nodes: at least one node is needed');
  const random = seededRandom(options.seed);
  const subset = shuffle(Array.from({ length: labels.length }, (_, i) => i), random).slice(0, options.total);
  const byClass = recordsByClass(labels, subset);
  for (const records of byClass.values()) shuffle(records, random);
  const minimum = options.minPerNode ?? DEFAULT_MIN_PER_NODE;
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    const shards = drawShards(labels, byClass, options.nodes, options.alpha, random);
    if (shards.every((s) => s.records.length >= minimum)) return shards;
  }
  throw new Error(`no Dirichlet(${options.alpha}) draw in ${MAX_DRAWS} gave every node ≥ ${minimum} images; lower minPerNode or raise total`);
}

export function classHistogram(shard: NodeShard, classes = CLASS_NAMES.length): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const label of shard.labels) counts[label] = (counts[label] ?? 0) + 1;
  return counts;
}

/** A table: one row per node, one column per class, and the node's total. */
export function formatHistogram(shards: readonly NodeShard[]): string {
  const header = ['node', ...CLASS_NAMES.map((_, c) => String(c)), 'total'];
  const rows = shards.map((s) => [s.node, ...classHistogram(s).map(String), String(s.records.length)]);
  const table = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const lines = table.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
  const legend = CLASS_NAMES.map((name, c) => `${c} ${name}`).join(', ');
  return [...lines, `classes: ${legend}`].join('\n');
}

export function indexFileFor(dataDir: string, node: string): string {
  return join(dataDir, `${node}-train-index.txt`);
}

/** Splits the training set and writes one txt index per node under dataDir. */
export async function writeSplit(dataDir: string, datasetDir: string, options: SplitOptions): Promise<NodeShard[]> {
  const labels = await readIdx(join(datasetDir, TRAIN_LABELS));
  const shards = dirichletSplit(labels.data, options);
  const images = join(datasetDir, TRAIN_IMAGES);
  mkdirSync(dataDir, { recursive: true });
  for (const shard of shards) {
    const lines = shard.records.map((record, i) => `${images}#${record} ${shard.labels[i]}`);
    writeFileSync(indexFileFor(dataDir, shard.node), lines.join('\n') + '\n');
  }
  return shards;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string', default: '.sedna/examples/federated-learning' },
      total: { type: 'string', default: '12000' },
      alpha: { type: 'string', default: '0.5' },
      seed: { type: 'string', default: '6' },
    },
  });
  const dataDir = resolve(values['data-dir']);
  const shards = await writeSplit(dataDir, await fashionMnistDir(), { nodes: EDGE_NODES, alpha: Number(values.alpha), total: Number(values.total), seed: Number(values.seed) });
  process.stdout.write(`${formatHistogram(shards)}\nindexes in ${dataDir}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main().catch((error: unknown) => {
    process.stderr.write(`split failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
