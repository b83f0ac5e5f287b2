// The federated example's splits: the per-class Dirichlet scheme (Yurochkin et al. / NIID-Bench),
// Hsu et al.'s q ~ Dir(αp) with equal client sizes, and the IID split for α = ∞, all drawn only
// from the records given (the training split, never validation) and repeatable from the seed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classHistogram, dirichletSplit } from '../../examples/federated-learning/split.ts';
import { holdOutValidation } from '../../examples/shared/validation-split.ts';

// 6,000 labels, 10 balanced classes, as the example's IDX would give them.
const labels = Uint8Array.from({ length: 6000 }, (_, i) => (i * 7) % 10);
const { train, validation } = holdOutValidation(labels.length, 1000, 3);
const clients = Array.from({ length: 10 }, (_, i) => `client-${i + 1}`);

function owned(shards: ReturnType<typeof dirichletSplit>): number[] {
  return shards.flatMap((s) => s.records);
}

describe('federated-learning splits', () => {
  it('holds validation out: train and validation are disjoint and cover every record', () => {
    assert.equal(train.length + validation.length, labels.length);
    const seen = new Set([...train, ...validation]);
    assert.equal(seen.size, labels.length);
  });

  for (const scheme of ['per-class-dirichlet', 'hsu'] as const) {
    it(`${scheme}: shares out exactly the requested training records, none twice, never validation, repeatably`, () => {
      const options = { nodes: clients, alpha: 0.5, records: train, total: 4000, seed: 2, scheme, minPerNode: 10 };
      const shards = dirichletSplit(labels, options);
      const records = owned(shards);
      assert.equal(records.length, 4000);
      assert.equal(new Set(records).size, 4000);
      const heldOut = new Set(validation);
      assert.ok(records.every((r) => !heldOut.has(r)));
      shards.forEach((s) => s.records.forEach((r, i) => assert.equal(s.labels[i], labels[r])));
      assert.deepEqual(dirichletSplit(labels, options), shards);
      assert.notDeepEqual(dirichletSplit(labels, { ...options, seed: 3 }), shards);
    });
  }

  it('Hsu: every client holds the same number of images; the per-class scheme lets sizes vary', () => {
    const hsu = dirichletSplit(labels, { nodes: clients, alpha: 0.5, records: train, total: 4000, seed: 2, scheme: 'hsu' });
    assert.deepEqual(hsu.map((s) => s.records.length), new Array(10).fill(400));
    const perClass = dirichletSplit(labels, { nodes: clients, alpha: 0.5, records: train, total: 4000, seed: 2, minPerNode: 10 });
    assert.ok(new Set(perClass.map((s) => s.records.length)).size > 1);
  });

  it('skews class mixes more as α falls, and α = ∞ deals an even IID split', () => {
    // Mean over clients of the largest class's share: 0.1 for a perfectly even mix.
    const skew = (alpha: number) => {
      const shards = dirichletSplit(labels, { nodes: clients, alpha, records: train, total: 4000, seed: 5, minPerNode: 10 });
      return shards.reduce((sum, s) => sum + Math.max(...classHistogram(s)) / s.records.length, 0) / shards.length;
    };
    const iid = dirichletSplit(labels, { nodes: clients, alpha: Infinity, records: train, total: 4000, seed: 5 });
    assert.deepEqual(iid.map((s) => s.records.length), new Array(10).fill(400));
    assert.ok(skew(0.1) > skew(1) && skew(1) > skew(Infinity), `${skew(0.1)} > ${skew(1)} > ${skew(Infinity)}`);
    assert.ok(skew(Infinity) < 0.2);
  });
});
