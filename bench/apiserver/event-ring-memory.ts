// How much heap the store's in-memory replay ring pins under the soak's write pattern, with the
// old count-only cap (20,000 events) and with the byte cap. The mix of writes is the soak's,
// read from its store's log table: about 85 revisions a minute, mostly Lease renewals (~1.4 kB of
// object + previous state), joint-inference status patches (~5.8 kB) and pod status (~3.6 kB).
// Each figure is heapUsed after a full GC, against a baseline taken in the same process before
// the store was opened.
//
//   node --import tsx --expose-gc bench/apiserver/event-ring-memory.ts [-- --writes 20000]
import { parseArgs } from 'node:util';
import { DEFAULT_RING_BYTES, SqliteStore } from '../../src/apiserver/storage/sqlite-store.ts';

const { values } = parseArgs({ options: { writes: { type: 'string', default: '20000' } } });
const writes = Number(values.writes);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

/** Object sizes (JSON characters) and their share of the soak's writes. */
const MIX: [key: string, chars: number, share: number][] = [
  ['coordination.k8s.io/leases/kube-node-lease/', 700, 0.55],
  ['sedna.io/jointinferenceservices/default/', 2_900, 0.25],
  ['core/pods/default/', 1_800, 0.2],
];

function heapAfterGc(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

function run(ringBytes: number | undefined): number[] {
  const store = new SqliteStore({ path: ':memory:', ...(ringBytes === undefined ? { ringBytes: Number.POSITIVE_INFINITY } : { ringBytes }) });
  const revs = new Map<string, number>();
  const heap: number[] = [];
  for (let i = 0; i < writes; i++) {
    const u = (i * 0.618033988749895) % 1;
    let acc = 0;
    const [prefix, chars] = MIX.find(([, , share]) => (acc += share) > u) ?? MIX[0]!;
    const key = `${prefix}obj-${i % 7}`;
    const render = (rev: number): string => JSON.stringify({ metadata: { name: key, resourceVersion: String(rev) }, status: { note: `${i}`.padEnd(chars, 'x') } });
    const rev = revs.get(key);
    revs.set(key, (rev === undefined ? store.create(key, render) : store.update(key, rev, render)).rev);
    if ((i + 1) % (writes / 4) === 0) heap.push(heapAfterGc());
  }
  store.close();
  return heap;
}

const mb = (b: number): string => (b / 1024 / 1024).toFixed(1);
const base = heapAfterGc();
const countOnly = run(undefined);
const base2 = heapAfterGc();
const capped = run(DEFAULT_RING_BYTES);
console.log(`writes ${writes} (the soak makes ~5,100 an hour); heap above baseline after GC, at each quarter:`);
console.log(`  count cap only (20,000 events): ${countOnly.map((h) => mb(h - base)).join(' → ')} MB`);
console.log(`  count + byte cap (4 MB default): ${capped.map((h) => mb(h - base2)).join(' → ')} MB`);
console.log(`final ratio capped / count-only: ${((capped.at(-1)! - base2) / (countOnly.at(-1)! - base)).toFixed(2)}`);
