// The joint-inference study's measures on hand-built predictions: operating points through the
// SDK's CrossEntropy filter, the validation rule for the threshold, the oracle and Random baselines
// at a share, the per-class table and the bootstrap intervals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseThreshold, crossEntropyTable, gapRecovered, type Predictions } from '../../examples/joint-inference/operating-points.ts';
import { bootstrap, oracleHard, perClass, randomHard, score } from '../../examples/joint-inference/study-metrics.ts';
import { seededRandom } from '../../src/lib/random.ts';

/** n images; the edge is sure and right on the first `sure`, unsure (uniform-ish) and wrong on the rest; the cloud is right except on `cloudWrong`. */
function predictions(n: number, sure: number, cloudWrong: Set<number>): Predictions {
  const edge = new Float32Array(n * 10);
  const cloud = new Float32Array(n * 10);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    if (i < sure) edge[i * 10 + label] = 1;
    else for (let c = 0; c < 10; c++) edge[i * 10 + c] = c === (label + 1) % 10 ? 0.2 : 0.8 / 9;
    cloud[i * 10 + (cloudWrong.has(i) ? (label + 2) % 10 : label)] = 1;
  }
  return { edge, cloud, labels };
}

describe('joint-inference study measures', () => {
  const p = predictions(100, 80, new Set([0, 90]));
  const s = score(p);

  it('offloads exactly the unsure images at a mid threshold, with the SDK filter', () => {
    const [row] = crossEntropyTable(p, [0.5]);
    // edge 80%, cloud 98%; offloading the 20 unsure: 19 of them right (90 is the cloud's miss).
    assert.equal(row!.offloaded, 0.2);
    assert.equal(row!.jointAccuracy, 0.99);
    assert.equal(row!.recoveredGap, gapRecovered(0.8, 0.98, 0.99));
  });

  it('chooses the threshold meeting the target with the widest margin, else the best within the offload limit', () => {
    const rows = [
      { threshold: 0.4, offloaded: 0.1, jointAccuracy: 0.85, recoveredGap: 0.5 },
      { threshold: 0.5, offloaded: 0.2, jointAccuracy: 0.9, recoveredGap: 0.8 },
      { threshold: 0.6, offloaded: 0.29, jointAccuracy: 0.95, recoveredGap: 0.95 },
    ];
    assert.equal(chooseThreshold(rows).threshold, 0.5);
    assert.equal(chooseThreshold([rows[0]!, { ...rows[2]!, offloaded: 0.4 }]).threshold, 0.4);
  });

  it('the oracle offloads the edge mistakes the cloud fixes first; Random offloads about the share', () => {
    const hard = oracleHard(0.19, s);
    assert.equal(hard.reduce((a, b) => a + b, 0), 19);
    for (let i = 80; i < 100; i++) if (i !== 90) assert.equal(hard[i], 1);
    const random = randomHard(0.3, 10_000, seededRandom(1));
    const share = random.reduce((a, b) => a + b, 0) / random.length;
    assert.ok(Math.abs(share - 0.3) < 0.02, String(share));
  });

  it('per class and bootstrap: figures per class, intervals around the point estimate', () => {
    const hard = Uint8Array.from({ length: 100 }, (_, i) => (i >= 80 ? 1 : 0));
    const rows = perClass(s, hard);
    assert.equal(rows.length, 10);
    assert.equal(rows[0]!.cloud, 0.8); // images 0 and 90 (both class 0) are the cloud's misses
    const ci = bootstrap(s, hard, 200, 7);
    assert.ok(ci.jointAccuracy.low <= 0.99 && 0.99 <= ci.jointAccuracy.high, JSON.stringify(ci));
    assert.ok(ci.gapRecovered.low < ci.gapRecovered.high);
  });
});
