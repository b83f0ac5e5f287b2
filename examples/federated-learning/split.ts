// The non-IID splits of the example and the study: the training split's images (never the
// validation or test images) shared out across clients, seeded. Two Dirichlet schemes:
//   per-class Dirichlet  each class's images are cut across the clients at proportions
//                        p_c ~ Dir(α·1) — the scheme of Yurochkin et al. 2019 ("Bayesian
//                        nonparametric federated learning of neural networks") used as NIID-Bench's
//                        label-distribution skew (Li et al. 2022, "Federated learning on non-IID data
//                        silos"); client sizes vary;
//   Hsu                  each client holds the same number of images, its class mix q ~ Dir(α·p) with p
//                        the class prior (Hsu, Qi & Brown 2019, "Measuring the effects of non-identical
//                        data distribution on federated visual classification");
// and α = ∞ (`Infinity`), the IID split: a seeded shuffle dealt out evenly.
// Each node's Dataset is a Sedna txt index, `<idx file>#<record> <label>` per line (lib.md §4): the
// images themselves never move.
//
//   node --import tsx examples/federated-learning/split.ts --data-dir .sedna/examples/federated-learning [--clients 10 --alpha 0.5 --seed 1 --scheme hsu]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readIdx } from '../../src/lib/datasources/idx.ts';
import { CLASS_NAMES, fashionMnistDir } from '../joint-inference/fashion-mnist.ts';
import { holdOutValidation } from '../shared/validation-split.ts';
import { dirichlet, gamma, seededRandom, shuffle, type Random } from './random.ts';

export const EDGE_NODES = ['edge-1', 'edge-2', 'edge-3'];
export const TRAIN_IMAGES = 'train-images-idx3-ubyte.gz';
const TRAIN_LABELS = 'train-labels-idx1-ubyte.gz';

export type SplitScheme = 'per-class-dirichlet' | 'hsu';

export interface SplitOptions {
  /** The clients' names (one shard each). */
  nodes: string[];
  /** Dirichlet concentration; Infinity for the IID split. */
  alpha: number;
  /** The records that may be shared out (the training split); all records when absent. */
  records?: ArrayLike<number>;
  /** How many of them to share out in all (a seeded random subset). */
  total: number;
  seed: number;
  scheme?: SplitScheme;
  /** Redraw the proportions until every client holds at least this many images. */
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

/** A seeded subset of `total` records dealt out evenly: the IID split (α = ∞). */
function iidShards(labels: ArrayLike<number>, subset: number[], nodes: string[]): NodeShard[] {
  const shards = nodes.map((node) => ({ node, records: [] as number[], labels: [] as number[] }));
  subset.forEach((record, i) => {
    const shard = shards[i % nodes.length]!;
    shard.records.push(record);
    shard.labels.push(labels[record]!);
  });
  return shards;
}

/**
 * Hsu et al.'s scheme: every client gets total/clients images, drawn class by class at q ~ Dir(α·p);
 * a class that runs out is dropped and the client's remaining mix renormalised.
 */
function hsuShards(labels: ArrayLike<number>, byClass: Map<number, number[]>, nodes: string[], alpha: number, total: number, random: Random): NodeShard[] {
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const pools = new Map(classes.map((c) => [c, [...byClass.get(c)!]]));
  const prior = classes.map((c) => byClass.get(c)!.length / total);
  return nodes.map((node, n) => {
    const size = Math.floor(total / nodes.length) + (n < total % nodes.length ? 1 : 0);
    const q = dirichletWithPrior(alpha, prior, random);
    const shard: NodeShard = { node, records: [], labels: [] };
    while (shard.records.length < size) {
      const weights = classes.map((c, i) => (pools.get(c)!.length > 0 ? q[i]! : 0));
      const sum = weights.reduce((a, b) => a + b, 0);
      // Every class this client wants is used up: take from whatever is left.
      const pick = sum > 0 ? pickIndex(weights, sum, random) : classes.findIndex((c) => pools.get(c)!.length > 0);
      const record = pools.get(classes[pick]!)!.pop()!;
      shard.records.push(record);
      shard.labels.push(labels[record]!);
    }
    return shard;
  });
}

function dirichletWithPrior(alpha: number, prior: number[], random: Random): number[] {
  const draws = prior.map((p) => (p > 0 ? gamma(alpha * p, random) : 0));
  const sum = draws.reduce((a, b) => a + b, 0);
  return sum > 0 ? draws.map((d) => d / sum) : prior;
}

function pickIndex(weights: number[], sum: number, random: Random): number {
  let u = random() * sum;
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i]!;
    if (u < 0 && weights[i]! > 0) return i;
  }
  return weights.findLastIndex((w) => w > 0);
}

/** A seeded non-IID split (per-class Dirichlet by default, or Hsu's; IID for α = ∞) across `options.nodes`. */
export function dirichletSplit(labels: ArrayLike<number>, options: SplitOptions): NodeShard[] {
  if (!(options.alpha > 0)) throw new RangeError(`alpha must be > 0, got ${options.alpha}`);
  const pool = options.records ? Array.from(options.records) : Array.from({ length: labels.length }, (_, i) => i);
  if (!(options.total > 0) || options.total > pool.length) throw new RangeError(`total must be in 1..${pool.length}, got ${options.total}`);
  if (options.nodes.length === 0) throw new RangeError('nodes: at least one node is needed');
  const random = seededRandom(options.seed);
  const subset = shuffle(pool, random).slice(0, options.total);
  if (options.alpha === Infinity) return iidShards(labels, subset, options.nodes);
  const byClass = recordsByClass(labels, subset);
  if (options.scheme === 'hsu') {
    for (const records of byClass.values()) shuffle(records, random);
    return hsuShards(labels, byClass, options.nodes, options.alpha, options.total, random);
  }
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
      clients: { type: 'string', default: '10' },
      total: { type: 'string', default: '50000' },
      alpha: { type: 'string', default: '0.5' },
      seed: { type: 'string', default: '1' },
      scheme: { type: 'string', default: 'per-class-dirichlet' },
    },
  });
  if (values.scheme !== 'per-class-dirichlet' && values.scheme !== 'hsu') throw new Error(`--scheme must be per-class-dirichlet or hsu, got ${values.scheme}`);
  const dataDir = resolve(values['data-dir']);
  const nodes = Array.from({ length: Number(values.clients) }, (_, i) => `client-${i + 1}`);
  const alpha = values.alpha === 'inf' ? Infinity : Number(values.alpha);
  const records = holdOutValidation(60_000).train;
  const shards = await writeSplit(dataDir, await fashionMnistDir(), { nodes, alpha, records, total: Number(values.total), seed: Number(values.seed), scheme: values.scheme, minPerNode: 10 });
  process.stdout.write(`${formatHistogram(shards)}\nindexes in ${dataDir}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main().catch((error: unknown) => {
    process.stderr.write(`split failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
