// Aggregation strategies (src/lib/aggregation): every strategy against values computed by hand
// over several rounds (the arithmetic is in the comments), sample weighting, the no-updates rule,
// shape checks naming the client and layer, state carried across rounds, the registry's config
// errors, and FedAvg's properties (identity, convex combination, permutation invariance).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError } from '../../src/lib/context.ts';
import {
  aggregationFromEnv,
  createAggregation,
  FedAdam,
  FedAvg,
  FedAvgM,
  FedProx,
  FedYogi,
  knownAggregations,
  weightedSumInto,
  type AggregationStrategy,
  type ClientUpdate,
} from '../../src/lib/aggregation/index.ts';
import type { ModelWeights } from '../../src/lib/weights.ts';

/** A one-layer model of shape [n]. */
function vec(...values: number[]): ModelWeights {
  return [{ shape: [values.length], data: Float32Array.from(values) }];
}

function update(weights: ModelWeights, numSamples: number, client?: string): ClientUpdate {
  return client === undefined ? { weights, numSamples } : { weights, numSamples, client };
}

function assertClose(actual: ModelWeights, expected: number[][], tolerance = 1e-6): void {
  assert.equal(actual.length, expected.length, 'layer count');
  for (let l = 0; l < expected.length; l++) {
    const got = [...actual[l]!.data];
    assert.equal(got.length, expected[l]!.length, `layer ${l} length`);
    got.forEach((value, i) => {
      const want = expected[l]![i]!;
      assert.ok(Math.abs(value - want) <= tolerance * Math.max(1, Math.abs(want)), `layer ${l}[${i}]: got ${value}, expected ${want}`);
    });
  }
}

const allStrategies = (): AggregationStrategy[] => [new FedAvg(), new FedAvgM(), new FedProx(), new FedAdam(), new FedYogi()];

describe('FedAvg', () => {
  it('is the sample-weighted mean, layer by layer', () => {
    // A: n=1, B: n=3 → shares 1/4 and 3/4.
    // layer 0: (1·1 + 3·3)/4 = 10/4 = 2.5 ; (2·1 + 6·3)/4 = 20/4 = 5
    // layer 1 [2,1]: (0·1 + 4·3)/4 = 3 ; (4·1 + 0·3)/4 = 1
    const a: ModelWeights = [...vec(1, 2), { shape: [2, 1], data: Float32Array.from([0, 4]) }];
    const b: ModelWeights = [...vec(3, 6), { shape: [2, 1], data: Float32Array.from([4, 0]) }];
    const result = new FedAvg().aggregate(undefined, [update(a, 1), update(b, 3)]);
    assertClose(result, [[2.5, 5], [3, 1]]);
    assert.deepEqual(result[1]!.shape, [2, 1]);
  });

  it('is stateless across rounds: each round is the mean of that round only', () => {
    const fedavg = new FedAvg();
    // round 1: (1·1 + 2·1 + 4·2)/4 = 11/4 = 2.75
    const round1 = fedavg.aggregate(undefined, [update(vec(1), 1), update(vec(2), 1), update(vec(4), 2)]);
    assertClose(round1, [[2.75]]);
    // round 2 (global 2.75 ignored): (0·2 + 10·3)/5 = 6
    const round2 = fedavg.aggregate(round1, [update(vec(0), 2), update(vec(10), 3)]);
    assertClose(round2, [[6]]);
    // round 3, one client: its weights
    assertClose(fedavg.aggregate(round2, [update(vec(-1.5), 9)]), [[-1.5]]);
  });

  it('ignores clients with no samples; all zero counts weigh the clients equally', () => {
    assertClose(new FedAvg().aggregate(undefined, [update(vec(100), 0), update(vec(3), 5)]), [[3]]);
    // (1 + 3)/2 = 2 (Sedna would divide by zero)
    assertClose(new FedAvg().aggregate(undefined, [update(vec(1), 0), update(vec(3), 0)]), [[2]]);
  });

  it('does not alias the clients’ buffers', () => {
    const only = vec(1, 2);
    const result = new FedAvg().aggregate(undefined, [update(only, 4)]);
    assert.notEqual(result[0]!.data.buffer, only[0]!.data.buffer);
  });
});

describe('weightedSumInto', () => {
  it('folds any number of clients (groups of 4, 2, 1) into the same sum', () => {
    for (let clients = 0; clients <= 11; clients++) {
      const inputs = Array.from({ length: clients }, (_, c) => Float32Array.from([c + 1, -(c + 1)]));
      const coeffs = Array.from({ length: clients }, (_, c) => c + 1);
      const out = new Float32Array([99, 99]);
      weightedSumInto(out, inputs, coeffs);
      // Σ_{c=1..k} c·c = k(k+1)(2k+1)/6
      const expected = (clients * (clients + 1) * (2 * clients + 1)) / 6;
      assert.deepEqual([...out], [expected, -expected || 0], `${clients} clients`);
    }
  });
});

describe('FedAvgM (server momentum, Hsu et al. 2019)', () => {
  it('matches hand-computed momentum over three rounds (η = 1, β = 0.5)', () => {
    const fedavgm = new FedAvgM({ eta: 1, beta: 0.5 });
    // Δ = g − mean; v ← 0.5·v + Δ; w ← g − v.
    // round 1: g = [0, 10]; mean of [0,6]·1 and [2,10]·1 = [1, 8]
    //   Δ = [−1, 2]; v = [−1, 2]; w = [0 + 1, 10 − 2] = [1, 8]
    let global = fedavgm.aggregate(vec(0, 10), [update(vec(0, 6), 1), update(vec(2, 10), 1)]);
    assertClose(global, [[1, 8]]);
    // round 2: mean of [2,4]·1 and [2,12]·1 = [2, 8]
    //   Δ = [1 − 2, 8 − 8] = [−1, 0]; v = [−0.5 − 1, 1 + 0] = [−1.5, 1]; w = [1 + 1.5, 8 − 1] = [2.5, 7]
    global = fedavgm.aggregate(global, [update(vec(2, 4), 1), update(vec(2, 12), 1)]);
    assertClose(global, [[2.5, 7]]);
    // round 3: mean of [1,0]·1 and [3,8]·3 = [(1 + 9)/4, (0 + 24)/4] = [2.5, 6]
    //   Δ = [0, 1]; v = [−0.75 + 0, 0.5 + 1] = [−0.75, 1.5]; w = [2.5 + 0.75, 7 − 1.5] = [3.25, 5.5]
    global = fedavgm.aggregate(global, [update(vec(1, 0), 1), update(vec(3, 8), 3)]);
    assertClose(global, [[3.25, 5.5]]);
  });

  it('scales the step by the server learning rate (η = 0.5, β = 0.9)', () => {
    const fedavgm = new FedAvgM({ eta: 0.5, beta: 0.9 });
    // round 1: g = 4, mean 2: Δ = 2, v = 2, w = 4 − 0.5·2 = 3
    const round1 = fedavgm.aggregate(vec(4), [update(vec(2), 1)]);
    assertClose(round1, [[3]]);
    // round 2: g = 3, mean 3: Δ = 0, v = 0.9·2 = 1.8, w = 3 − 0.9 = 2.1 (momentum keeps moving)
    assertClose(fedavgm.aggregate(round1, [update(vec(3), 1)]), [[2.1]]);
  });

  it('is FedAvg on the first round (no global model) and with β = 0, η = 1', () => {
    const updates = [update(vec(1, 2), 1), update(vec(3, 6), 3)];
    assertClose(new FedAvgM().aggregate(undefined, updates), [[2.5, 5]]);
    assertClose(new FedAvgM({ eta: 1, beta: 0 }).aggregate(vec(100, -100), updates), [[2.5, 5]]);
  });

  it('keeps its momentum per instance', () => {
    const first = new FedAvgM({ eta: 1, beta: 0.5 });
    first.aggregate(vec(0), [update(vec(1), 1)]); // v = −1
    // A fresh instance starts from v = 0: Δ = −1, w = 1; the used one: v = −1.5, w = 1.5
    assertClose(new FedAvgM({ eta: 1, beta: 0.5 }).aggregate(vec(0), [update(vec(1), 1)]), [[1]]);
    assertClose(first.aggregate(vec(0), [update(vec(1), 1)]), [[1.5]]);
  });
});

describe('FedProx', () => {
  it('aggregates as FedAvg and carries μ for the client (default 0.01)', () => {
    const fedprox = new FedProx({ mu: 0.1 });
    assert.equal(fedprox.name, 'FedProx');
    assert.equal(fedprox.proximalMu, 0.1);
    assert.equal(new FedProx().proximalMu, 0.01);
    // (1·1 + 3·3)/4 = 2.5 ; round 2 ignores the global: (0 + 8)/2 = 4
    const round1 = fedprox.aggregate(undefined, [update(vec(1), 1), update(vec(3), 3)]);
    assertClose(round1, [[2.5]]);
    assertClose(fedprox.aggregate(round1, [update(vec(0), 1), update(vec(8), 1)]), [[4]]);
  });
});

// Reddi et al. 2021 with η = 0.1, β₁ = 0.5, β₂ = 0.5, τ = 1 (so v starts at τ² = 1).
// Two coordinates mirror each other: Δ negated → m negated, v equal → w negated.
const adaptive = { eta: 0.1, beta1: 0.5, beta2: 0.5, tau: 1 };

describe('FedAdam', () => {
  it('matches hand-computed Adam moments over three rounds', () => {
    const fedadam = new FedAdam(adaptive);
    // Δ = mean − g; m ← 0.5·m + 0.5·Δ; v ← 0.5·v + 0.5·Δ²; w ← g + 0.1·m/(√v + 1)
    // round 1: g = [0, 0]; mean of [4,−4]·1 and [0,0]·3 = [1, −1]
    //   Δ = 1; m = 0.5; v = 0.5·1 + 0.5·1 = 1; w = 0.1·0.5/(1 + 1) = 0.025
    let global = fedadam.aggregate(vec(0, 0), [update(vec(4, -4), 1), update(vec(0, 0), 3)]);
    assertClose(global, [[0.025, -0.025]]);
    // round 2: mean = g − 1 = [−0.975, 0.975]
    //   Δ = −1; m = 0.25 − 0.5 = −0.25; v = 0.5 + 0.5 = 1; w = 0.025 + 0.1·(−0.25)/2 = 0.0125
    global = fedadam.aggregate(global, [update(vec(-0.975, 0.975), 7)]);
    assertClose(global, [[0.0125, -0.0125]]);
    // round 3: mean = g + 3 = [3.0125, −3.0125]
    //   Δ = 3; m = −0.125 + 1.5 = 1.375; v = 0.5 + 0.5·9 = 5; w = 0.0125 + 0.1375/(√5 + 1)
    //   √5 = 2.2360680, 0.1375/3.2360680 = 0.0424892 → w = 0.0549892
    global = fedadam.aggregate(global, [update(vec(3.0125, -3.0125), 2)]);
    assertClose(global, [[0.0549892, -0.0549892]]);
  });

  it('uses the paper’s defaults (η = 0.01, β₁ = 0.9, β₂ = 0.99, τ = 1e-3)', () => {
    // round 1: g = 0, mean 1: Δ = 1; m = 0.1; v = 0.99·1e-6 + 0.01 = 0.01000099
    //   w = 0.01·0.1/(√0.01000099 + 0.001) = 0.001/(0.10000495 + 0.001) = 0.00990050
    assertClose(new FedAdam().aggregate(vec(0), [update(vec(1), 1)]), [[0.0099005]], 1e-5);
  });

  it('returns the weighted mean on the first round and starts its moments on the next', () => {
    const fedadam = new FedAdam(adaptive);
    const first = fedadam.aggregate(undefined, [update(vec(2), 1), update(vec(6), 1)]);
    assertClose(first, [[4]]);
    // as round 1 above from g = 4: Δ = 1 → w = 4.025
    assertClose(fedadam.aggregate(first, [update(vec(5), 1)]), [[4.025]]);
  });
});

describe('FedYogi', () => {
  it('matches hand-computed Yogi moments over three rounds, unlike Adam where Δ² ≠ v', () => {
    // η = 0.3, β₁ = 0.5, β₂ = 0.25, τ = 1 (v starts at 1); no round has Δ² = v, so no sign ties.
    const fedyogi = new FedYogi({ eta: 0.3, beta1: 0.5, beta2: 0.25, tau: 1 });
    // Δ = mean − g; m ← 0.5·m + 0.5·Δ; v ← v − 0.75·Δ²·sign(v − Δ²); w ← g + 0.3·m/(√v + 1)
    // round 1: g = [0, 0]; mean of [8,−8]·1 and [0,0]·3 = [2, −2]
    //   Δ = 2; m = 1; v = 1 − 0.75·4·sign(1 − 4) = 1 + 3 = 4 (Adam: 0.25 + 3 = 3.25); w = 0.3·1/(2 + 1) = 0.1
    let global = fedyogi.aggregate(vec(0, 0), [update(vec(8, -8), 1), update(vec(0, 0), 3)]);
    assertClose(global, [[0.1, -0.1]]);
    // round 2: mean = g − 0.5 = [−0.4, 0.4]
    //   Δ = −0.5; m = 0.5 − 0.25 = 0.25; v = 4 − 0.75·0.25·sign(4 − 0.25) = 3.8125 (shrinks by a fixed step)
    //   w = 0.1 + 0.3·0.25/(√3.8125 + 1) = 0.1 + 0.075/2.9525624 = 0.1 + 0.0254017 = 0.1254017
    global = fedyogi.aggregate(global, [update(vec(-0.4, 0.4), 5)]);
    assertClose(global, [[0.1254017, -0.1254017]]);
    // round 3: mean = g + 3 = [3.1254017, −3.1254017]
    //   Δ = 3; m = 0.125 + 1.5 = 1.625; v = 3.8125 − 0.75·9·sign(3.8125 − 9) = 3.8125 + 6.75 = 10.5625 = 3.25²
    //   w = 0.1254017 + 0.3·1.625/(3.25 + 1) = 0.1254017 + 0.4875/4.25 = 0.1254017 + 0.1147059 = 0.2401076
    global = fedyogi.aggregate(global, [update(vec(3.1254017, -3.1254017), 2)]);
    assertClose(global, [[0.2401076, -0.2401076]]);
  });
});

describe('every strategy', () => {
  it('returns the previous global model when no client sent an update', () => {
    for (const strategy of allStrategies()) {
      const global = vec(1, 2);
      assert.equal(strategy.aggregate(global, []), global, strategy.name);
      assert.throws(() => strategy.aggregate(undefined, []), new RegExp(`${strategy.name}: no client updates and no global model`));
    }
  });

  it('a round without updates leaves the optimiser state alone', () => {
    const [withGap, without] = [new FedAvgM({ eta: 1, beta: 0.5 }), new FedAvgM({ eta: 1, beta: 0.5 })];
    const g1 = withGap.aggregate(vec(0), [update(vec(1), 1)]);
    without.aggregate(vec(0), [update(vec(1), 1)]);
    withGap.aggregate(g1, []);
    assert.deepEqual(withGap.aggregate(g1, [update(vec(2), 1)]), without.aggregate(g1, [update(vec(2), 1)]));
  });

  it('names the client and layer whose shape does not match', () => {
    for (const strategy of allStrategies()) {
      const good: ModelWeights = [...vec(1, 2), ...vec(3)];
      const bad: ModelWeights = [...vec(1, 2), { shape: [1, 1], data: Float32Array.from([3]) }];
      assert.throws(
        () => strategy.aggregate(undefined, [update(good, 1, 'edge-a'), update(bad, 1, 'edge-b')]),
        /update 1 \(client "edge-b"\): layer 1 has shape \[1, 1\] with 1 values, expected \[1\]/,
        strategy.name,
      );
      assert.throws(
        () => strategy.aggregate(good, [update(vec(1, 2), 1, 'edge-c')]),
        /update 0 \(client "edge-c"\): 1 layers, expected 2 \(as the global model\)/,
        strategy.name,
      );
      assert.throws(() => strategy.aggregate(undefined, [update(good, 1), update(vec(1, 2, 3), 1)]), /update 1: 1 layers, expected 2 \(as update 0\)/);
    }
  });

  it('rejects a sample count that is negative or not a number, naming the client', () => {
    for (const strategy of allStrategies()) {
      assert.throws(() => strategy.aggregate(undefined, [update(vec(1), -1, 'edge-a')]), /update 0 \(client "edge-a"\): numSamples must be a non-negative number, got -1/);
      assert.throws(() => strategy.aggregate(undefined, [update(vec(1), Number.NaN)]), /numSamples must be a non-negative number, got NaN/);
    }
  });

  it('a stateful strategy refuses a global model of another size than its state', () => {
    const fedadam = new FedAdam();
    fedadam.aggregate(vec(0, 0), [update(vec(1, 1), 1)]);
    assert.throws(() => fedadam.aggregate(vec(0), [update(vec(1), 1)]), /FedAdam: global layer 0 has 1 values but the optimiser state has 2/);
  });
});

describe('registry', () => {
  it('creates every built-in by name, each a fresh instance', () => {
    assert.deepEqual(knownAggregations(), ['FedAvg', 'FedAvgM', 'FedProx', 'FedAdam', 'FedYogi']);
    for (const name of knownAggregations()) assert.equal(createAggregation(name).name, name);
    assert.notEqual(createAggregation('FedAdam'), createAggregation('FedAdam'));
  });

  it('passes string parameters as numbers', () => {
    const fedavgm = createAggregation('FedAvgM', { eta: '0.5', beta: '0' }) as FedAvgM;
    assert.equal(fedavgm.eta, 0.5);
    assert.equal(fedavgm.beta, 0);
    const fedyogi = createAggregation('FedYogi', { eta: '0.1', beta1: '0.5', beta2: '0.5', tau: '1' }) as FedYogi;
    assert.deepEqual([fedyogi.eta, fedyogi.beta1, fedyogi.beta2, fedyogi.tau], [0.1, 0.5, 0.5, 1]);
    assert.equal((createAggregation('FedProx', { mu: '0.2' }) as FedProx).proximalMu, 0.2);
    assert.equal((createAggregation('FedAdam', { tau: ' ' }) as FedAdam).tau, 1e-3, 'empty takes the default');
  });

  it('an unknown name, unknown parameter, non-number or out-of-range value is a ConfigError naming it', () => {
    const cases: [string, Record<string, string>, RegExp][] = [
      ['FedSGD', {}, /unknown aggregation algorithm "FedSGD"; known: FedAvg, FedAvgM, FedProx, FedAdam, FedYogi/],
      ['FedAvg', { mu: '1' }, /unknown aggregation parameter "mu" for FedAvg \(it takes none\)/],
      ['FedAvgM', { betta: '0.9' }, /unknown aggregation parameter "betta" for FedAvgM \(known: eta, beta\)/],
      ['FedAdam', { eta: 'fast' }, /aggregation parameter eta of FedAdam must be a number, got "fast"/],
      ['FedAvgM', { beta: '1' }, /aggregation parameters of FedAvgM: FedAvgM: beta must be in \[0, 1\), got 1/],
      ['FedYogi', { tau: '0' }, /FedYogi: tau must be a positive number, got 0/],
      ['FedProx', { mu: '-0.1' }, /FedProx: mu must be a non-negative number, got -0.1/],
    ];
    for (const [name, params, message] of cases) {
      assert.throws(() => createAggregation(name, params), (err: unknown) => err instanceof ConfigError && message.test(err.message), `${name} ${JSON.stringify(params)}`);
    }
  });

  it('reads aggregation_algorithm and aggregation_parameters (object or Sedna key/value list) from env', () => {
    assert.equal(aggregationFromEnv({}).name, 'FedAvg');
    const fedavgm = aggregationFromEnv({ aggregation_algorithm: 'FedAvgM', aggregation_parameters: '{"eta": 0.5, "beta": "0.8"}' }) as FedAvgM;
    assert.deepEqual([fedavgm.name, fedavgm.eta, fedavgm.beta], ['FedAvgM', 0.5, 0.8]);
    const fedprox = aggregationFromEnv({ AGGREGATION_ALGORITHM: 'FedProx', AGGREGATION_PARAMETERS: '[{"key":"mu","value":0.3}]' }) as FedProx;
    assert.equal(fedprox.proximalMu, 0.3);
    assert.throws(() => aggregationFromEnv({ aggregation_parameters: '{eta' }), (err: unknown) => err instanceof ConfigError && /aggregation_parameters is not valid JSON/.test(err.message));
    assert.throws(() => aggregationFromEnv({ aggregation_parameters: '3' }), /aggregation_parameters must be a JSON object/);
  });
});

describe('FedAvg properties', () => {
  const value = fc.float({ min: -1e3, max: 1e3, noNaN: true }).map(Math.fround);
  const counts = fc.integer({ min: 1, max: 10_000 });
  // Clients: 1–11 updates of the same length (covers the 4/2/1 folding of weightedSumInto).
  const clients = fc.integer({ min: 1, max: 8 }).chain((length) =>
    fc.array(fc.record({ values: fc.array(value, { minLength: length, maxLength: length }), numSamples: counts }), { minLength: 1, maxLength: 11 }),
  );
  const asUpdates = (list: { values: number[]; numSamples: number }[]): ClientUpdate[] => list.map((c) => update(vec(...c.values), c.numSamples));
  // Float32 rounding of the running sum: a few ulps of the largest magnitude involved.
  const slack = (scale: number): number => 1e-6 * Math.max(1, scale);

  it('the average of identical updates is that update', () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 8 }), fc.array(counts, { minLength: 1, maxLength: 11 }), (values, sampleCounts) => {
        const result = new FedAvg().aggregate(undefined, sampleCounts.map((n) => update(vec(...values), n)));
        result[0]!.data.forEach((got, i) => assert.ok(Math.abs(got - values[i]!) <= slack(Math.abs(values[i]!)), `${got} vs ${values[i]}`));
      }),
    );
  });

  it('each coordinate is a convex combination: within [min, max] of the clients', () => {
    fc.assert(
      fc.property(clients, (list) => {
        const result = new FedAvg().aggregate(undefined, asUpdates(list));
        result[0]!.data.forEach((got, i) => {
          const column = list.map((c) => c.values[i]!);
          const [lo, hi] = [Math.min(...column), Math.max(...column)];
          const tolerance = slack(Math.max(Math.abs(lo), Math.abs(hi)));
          assert.ok(got >= lo - tolerance && got <= hi + tolerance, `${got} outside [${lo}, ${hi}]`);
        });
      }),
    );
  });

  it('does not depend on the order of the updates', () => {
    fc.assert(
      fc.property(clients.chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length }))), ([list, shuffled]) => {
        const a = new FedAvg().aggregate(undefined, asUpdates(list))[0]!.data;
        const b = new FedAvg().aggregate(undefined, asUpdates(shuffled))[0]!.data;
        const scale = Math.max(1, ...list.flatMap((c) => c.values.map(Math.abs)));
        a.forEach((got, i) => assert.ok(Math.abs(got - b[i]!) <= 2 * slack(scale), `${got} vs ${b[i]}`));
      }),
    );
  });
});
