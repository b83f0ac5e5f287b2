// A census of a V8 heap snapshot (.heapsnapshot): live objects and their shallow bytes per
// constructor, and the difference between two censuses, so the bench can say which kinds of
// object (if any) accumulate from one round of watches to the next.
import { readFileSync } from 'node:fs';

export type Census = Map<string, { count: number; bytes: number }>;

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Counts the snapshot's object, closure, array and string nodes by type and constructor name. */
export function heapCensus(file: string): Census {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = snap.snapshot.meta.node_types[0];
  const census: Census = new Map();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!]!;
    if (type === 'hidden' || type === 'code' || type === 'synthetic') continue;
    const key = type === 'object' || type === 'closure' ? `${type} ${snap.strings[snap.nodes[i + nameAt]!]}` : type;
    const entry = census.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += snap.nodes[i + sizeAt]!;
    census.set(key, entry);
  }
  return census;
}

/** The `top` kinds whose live count grew most from `a` to `b`. */
export function grownKinds(a: Census, b: Census, top = 5): { kind: string; countDelta: number; bytesDelta: number }[] {
  const kinds = new Set([...a.keys(), ...b.keys()]);
  return [...kinds]
    .map((kind) => ({ kind, countDelta: (b.get(kind)?.count ?? 0) - (a.get(kind)?.count ?? 0), bytesDelta: (b.get(kind)?.bytes ?? 0) - (a.get(kind)?.bytes ?? 0) }))
    .sort((x, y) => y.bytesDelta - x.bytesDelta)
    .slice(0, top);
}
