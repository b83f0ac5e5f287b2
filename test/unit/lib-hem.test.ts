// Hard-example mining (lib.md §6): hand-computed cases for every filter and edge case of the table,
// parameter parsing and the registry, plus properties of the formulas checked with fast-check.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError } from '../../src/lib/context.ts';
import {
  CloudOnly,
  createHardExampleMining,
  CrossEntropy,
  crossEntropyConfidence,
  EdgeOnly,
  hemFromEnv,
  IBT,
  knownHardExampleMining,
  Random,
  registerHardExampleMining,
  Threshold,
} from '../../src/lib/hem/index.ts';

const box = (score: number): number[] => [0, 0, 10, 10, score, 1];

describe('Threshold', () => {
  it('is hard when the mean box score is below the threshold', () => {
    const hem = new Threshold(0.5);
    assert.equal(hem.isHard([box(0.2), box(0.6)]), true); // mean 0.4
    assert.equal(hem.isHard([box(0.4), box(0.6)]), false); // mean 0.5, not < 0.5
    assert.equal(hem.isHard([box(0.9)]), false);
  });
  it('empty input, a box with ≤ 4 fields or a non-number score is not hard', () => {
    const hem = new Threshold(0.5);
    assert.equal(hem.isHard([]), false);
    assert.equal(hem.isHard([[0, 0, 1, 1]]), false);
    assert.equal(hem.isHard([box(0.1), [0, 0, 1, 1]]), false);
    assert.equal(hem.isHard([[0, 0, 1, 1, 'x', 1]]), false);
    assert.equal(hem.isHard(undefined), false);
    assert.equal(hem.isHard('boxes'), false);
  });
});

describe('CrossEntropy', () => {
  it('uniform [0.5, 0.5] → 1 + (2·0.5·ln 0.5)/ln 2 = 0 → hard at 0.5', () => {
    assert.ok(Math.abs(crossEntropyConfidence([0.5, 0.5])) < 1e-12);
    assert.equal(new CrossEntropy(0.5).isHard([0.5, 0.5]), true);
  });
  it('certain [1, 0] → 1 (0·ln 0 = 0) → not hard', () => {
    assert.equal(crossEntropyConfidence([1, 0]), 1);
    assert.equal(new CrossEntropy(0.5).isHard([1, 0]), false);
  });
  it('[0.7, 0.2, 0.1] → 1 + (0.7 ln 0.7 + 0.2 ln 0.2 + 0.1 ln 0.1)/ln 3', () => {
    const expected = 1 + (0.7 * Math.log(0.7) + 0.2 * Math.log(0.2) + 0.1 * Math.log(0.1)) / Math.log(3);
    assert.ok(Math.abs(crossEntropyConfidence([0.7, 0.2, 0.1]) - expected) < 1e-12); // ≈ 0.2695
    assert.equal(new CrossEntropy(0.5).isHard([0.7, 0.2, 0.1]), true);
    assert.equal(new CrossEntropy(0.2).isHard([0.7, 0.2, 0.1]), false);
  });
  it('empty, out of [0,1], non-number or a single class is not hard', () => {
    const hem = new CrossEntropy(1);
    assert.equal(hem.isHard([]), false);
    assert.equal(hem.isHard([1.2, -0.2]), false);
    assert.equal(hem.isHard([0.5, '0.5']), false);
    assert.equal(hem.isHard([0.3]), false);
    assert.equal(hem.isHard(null), false);
  });
});

describe('IBT', () => {
  it('3 boxes, 2 scoring ≤ 0.5 → 2/3 ≥ 1 − 0.5 → hard', () => {
    assert.equal(new IBT(0.5, 0.5).isHard([box(0.3), box(0.5), box(0.9)]), true);
  });
  it('3 boxes, 1 scoring ≤ 0.5 → 1/3 < 0.5 → not hard', () => {
    assert.equal(new IBT(0.5, 0.5).isHard([box(0.3), box(0.8), box(0.9)]), false);
  });
  it('threshold_img 0.9 → hard as soon as ≥ 1 − 0.9 of the boxes are low', () => {
    assert.equal(new IBT(0.9, 0.5).isHard([box(0.3), box(0.8), box(0.9)]), true);
    assert.equal(new IBT(0.9, 0.5).isHard([box(0.6), box(0.8), box(0.9)]), false);
  });
  it('empty input, short boxes or a score outside [0,1] is not hard', () => {
    const hem = new IBT(1, 1);
    assert.equal(hem.isHard([]), false);
    assert.equal(hem.isHard([[1, 2, 3, 4]]), false);
    assert.equal(hem.isHard([box(0.1), box(1.5)]), false);
    assert.equal(hem.isHard([box(-0.1)]), false);
  });
});

describe('Random, EdgeOnly, CloudOnly', () => {
  it('Random is hard when the draw is below the ratio', () => {
    const draws = [0.1, 0.3, 0.29999];
    const hem = new Random(0.3, () => draws.shift() ?? 1);
    assert.deepEqual([hem.isHard(), hem.isHard(), hem.isHard()], [true, false, true]);
  });
  it('EdgeOnly never, CloudOnly always', () => {
    assert.equal(new EdgeOnly().isHard([box(0)]), false);
    assert.equal(new CloudOnly().isHard(undefined), true);
  });
});

describe('createHardExampleMining', () => {
  it('converts string parameters and applies defaults', () => {
    const ibt = createHardExampleMining({ method: 'IBT', param: { threshold_img: '0.9' } }) as IBT;
    assert.equal(ibt.name, 'IBT');
    assert.equal(ibt.thresholdImg, 0.9);
    assert.equal(ibt.thresholdBox, 0.5);
    assert.equal((createHardExampleMining({ method: 'Threshold', param: {} }) as Threshold).threshold, 0.5);
    assert.equal((createHardExampleMining({ method: 'CrossEntropy', param: { threshold_cross_entropy: '' } }) as CrossEntropy).threshold, 0.5);
    const random = createHardExampleMining({ method: 'Random', param: { random_ratio: '0.25' } }, { random: () => 0.2 }) as Random;
    assert.equal(random.ratio, 0.25);
    assert.equal(random.isHard(), true);
  });
  it('an unknown name is a ConfigError listing the known names', () => {
    assert.throws(
      () => createHardExampleMining({ method: 'Nope', param: {} }),
      (err: Error) => err instanceof ConfigError && /Nope/.test(err.message) && /Threshold, CrossEntropy, IBT, Random, EdgeOnly, CloudOnly/.test(err.message),
    );
  });
  it('a parameter that is not a number in [0,1] is a ConfigError naming it', () => {
    for (const value of ['abc', '1.5', '-0.1', 'NaN']) {
      assert.throws(
        () => createHardExampleMining({ method: 'IBT', param: { threshold_box: value } }),
        (err: Error) => err instanceof ConfigError && err.message.includes('threshold_box'),
      );
    }
    assert.throws(() => createHardExampleMining({ method: 'Random', param: { random_ratio: 'x' } }), /random_ratio/);
  });
  it('hemFromEnv reads HEM_NAME/HEM_PARAMETERS; none → undefined', () => {
    assert.equal(hemFromEnv({}), undefined);
    const hem = hemFromEnv({ HEM_NAME: 'IBT', HEM_PARAMETERS: '[{"key":"threshold_img","value":"0.9"}]' }) as IBT;
    assert.equal(hem.thresholdImg, 0.9);
    const overridden = hemFromEnv({ HEM_NAME: 'IBT', HEM_PARAMETERS: '[{"key":"threshold_img","value":"0.9"}]' }, { threshold_img: '0.1' }) as IBT;
    assert.equal(overridden.thresholdImg, 0.1);
  });
  it('a user registers their own filter; a taken name is refused unless replaced', () => {
    registerHardExampleMining('LongText', (param) => ({ name: 'LongText', isHard: (r) => typeof r === 'string' && r.length > Number(param.limit ?? 3) }));
    assert.ok(knownHardExampleMining().includes('LongText'));
    const hem = hemFromEnv({ HEM_NAME: 'LongText', HEM_PARAMETERS: '[{"key":"limit","value":"4"}]' });
    assert.equal(hem?.isHard('hello'), true);
    assert.equal(hem?.isHard('hey'), false);
    assert.throws(() => registerHardExampleMining('IBT', () => new EdgeOnly()), /already registered/);
    registerHardExampleMining('LongText', () => new CloudOnly(), { replace: true });
    assert.equal(createHardExampleMining({ method: 'LongText', param: {} }).isHard(''), true);
  });
});

// A fixed seed keeps the property runs deterministic; a failure prints the counterexample.
fc.configureGlobal({ seed: 20251001, numRuns: 200 });

const unit = fc.double({ min: 0, max: 1, noNaN: true });

/** A probability distribution of 2–12 classes. */
const distribution = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 12 }).filter((w) => w.reduce((a, b) => a + b, 0) > 1e-9).map((w) => {
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((v) => Math.min(1, v / sum));
});

const boxes = fc.array(unit.map(box), { minLength: 1, maxLength: 20 });

describe('properties', () => {
  it('CrossEntropy confidence lies in [0, 1] for a valid distribution', () => {
    fc.assert(fc.property(distribution, (p) => {
      const c = crossEntropyConfidence(p);
      return c >= -1e-9 && c <= 1 + 1e-9;
    }));
  });
  it('CrossEntropy is invariant under permutation of the classes', () => {
    fc.assert(fc.property(distribution, fc.infiniteStream(fc.nat()), (p, seeds) => {
      const shuffled = [...p].map((v) => ({ v, k: seeds.next().value as number })).sort((a, b) => a.k - b.k).map((e) => e.v);
      return Math.abs(crossEntropyConfidence(p) - crossEntropyConfidence(shuffled)) < 1e-9;
    }));
  });
  it('Threshold is monotone in its threshold: hard at t implies hard at every t2 > t', () => {
    fc.assert(fc.property(boxes, unit, unit, (b, t1, t2) => {
      const [low, high] = t1 <= t2 ? [t1, t2] : [t2, t1];
      return !new Threshold(low).isHard(b) || new Threshold(high).isHard(b);
    }));
  });
  it('IBT is monotone in threshold_img and threshold_box', () => {
    fc.assert(fc.property(boxes, unit, unit, unit, (b, a1, a2, box1) => {
      const [low, high] = a1 <= a2 ? [a1, a2] : [a2, a1];
      const imgMonotone = !new IBT(low, box1).isHard(b) || new IBT(high, box1).isHard(b);
      const boxMonotone = !new IBT(box1, low).isHard(b) || new IBT(box1, high).isHard(b);
      return imgMonotone && boxMonotone;
    }));
  });
  it('invalid inputs are never hard', () => {
    const invalidBoxes = fc.oneof(
      fc.constant([]),
      fc.array(fc.array(fc.double(), { maxLength: 4 }), { minLength: 1 }),
      fc.anything().filter((v) => !Array.isArray(v)),
    );
    const invalidProbabilities = fc.oneof(
      fc.constant([]),
      fc.tuple(unit, fc.double({ min: 1.000001, max: 1e6 })).map(([a, b]) => [a, b]),
      fc.tuple(unit, fc.double({ min: -1e6, max: -0.000001 })).map(([a, b]) => [b, a]),
      fc.anything().filter((v) => !Array.isArray(v)),
    );
    fc.assert(fc.property(invalidBoxes, unit, unit, (input, t1, t2) => !new Threshold(t1).isHard(input) && !new IBT(t1, t2).isHard(input)));
    fc.assert(fc.property(invalidProbabilities, unit, (input, t) => !new CrossEntropy(t).isHard(input)));
    const outOfRange = fc.oneof(fc.double({ min: 1.000001, max: 10 }), fc.double({ min: -10, max: -0.000001 }));
    fc.assert(fc.property(boxes, outOfRange, (b, bad) => !new IBT(1, 1).isHard([...b, box(bad)])));
  });
});
