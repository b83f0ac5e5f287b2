// TfjsClassifier: a tiny dense model learns a linearly separable toy problem with the custom
// training loop, the FedProx proximal term pulls the weights toward the global ones, weights
// round-trip as ModelWeights, and a saved model loads back with the same predictions.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TfjsClassifier, type ClassifierData } from '../../src/lib/backends/tfjs-classifier.ts';
import type { Tf } from '../../src/lib/backends/tfjs.ts';
import type { ModelWeights } from '../../src/lib/weights.ts';

/** Two classes in 2-D: label 1 iff x0 + x1 > 0, points from a fixed LCG (deterministic). */
function separable(count: number, seed: number): ClassifierData {
  const x = new Float32Array(count * 2);
  const y = new Int32Array(count);
  let state = seed;
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return (state / 2147483648) * 2 - 1;
  };
  for (let i = 0; i < count; i++) {
    let a = next();
    let b = next();
    // Keep a margin so the problem is cleanly separable.
    while (Math.abs(a + b) < 0.1) [a, b] = [next(), next()];
    x[2 * i] = a;
    x[2 * i + 1] = b;
    y[i] = a + b > 0 ? 1 : 0;
  }
  return { x, y, count };
}

function tinyModel(tf: Tf) {
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [2], units: 8, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }) }));
  model.add(tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 8 }) }));
  return model;
}

function distance(a: ModelWeights, b: ModelWeights): number {
  let sum = 0;
  a.forEach((layer, l) => layer.data.forEach((v, i) => (sum += (v - b[l]!.data[i]!) ** 2)));
  return Math.sqrt(sum);
}

describe('TfjsClassifier', () => {
  it('learns a separable toy problem', async () => {
    const classifier = await TfjsClassifier.create(tinyModel, { learningRate: 0.05, batchSize: 16, seed: 3 });
    const train = separable(256, 11);
    const test = separable(128, 99);
    const before = await classifier.evaluate(test);
    const metrics = await classifier.train(train, { epochs: 20 });
    const after = await classifier.evaluate(test);
    assert.ok(Number.isFinite(metrics.loss!) && metrics.loss! < before.loss!, `loss ${metrics.loss} should drop below ${before.loss}`);
    assert.ok(after.accuracy! >= 0.95, `accuracy ${after.accuracy}`);
    assert.equal(metrics.samples, 256);
    classifier.dispose();
  });

  it('trains deterministically from a seed', async () => {
    const data = separable(64, 5);
    const runs: ModelWeights[] = [];
    for (let run = 0; run < 2; run++) {
      const classifier = await TfjsClassifier.create(tinyModel, { learningRate: 0.05, batchSize: 8 });
      await classifier.train(data, { epochs: 3, seed: 42 });
      runs.push(classifier.getWeights());
      classifier.dispose();
    }
    assert.equal(distance(runs[0]!, runs[1]!), 0);
  });

  it('shuffles afresh on every call without a seed (a federated trainer does not replay one batch order each round)', async () => {
    const data = separable(64, 5);
    const trained = async (seeds: (number | undefined)[]): Promise<ModelWeights> => {
      const classifier = await TfjsClassifier.create(tinyModel, { learningRate: 0.05, batchSize: 8, seed: 3 });
      for (const seed of seeds) await classifier.train(data, { epochs: 1, seed });
      const weights = classifier.getWeights();
      classifier.dispose();
      return weights;
    };
    const implicit = await trained([undefined, undefined]);
    assert.equal(distance(implicit, await trained([3, 4])), 0, 'the second call continues the sequence: seed 3, then 4');
    assert.ok(distance(implicit, await trained([3, 3])) > 0, 'not the first order replayed');
  });

  it('keeps the weights near the global ones under a huge proximal mu', async () => {
    const data = separable(128, 21);
    const free = await TfjsClassifier.create(tinyModel, { learningRate: 0.05, batchSize: 16, seed: 1 });
    const anchored = await TfjsClassifier.create(tinyModel, { learningRate: 0.05, batchSize: 16, seed: 1 });
    const global = free.getWeights();
    assert.equal(distance(global, anchored.getWeights()), 0, 'both start from the same seeded init');
    await free.train(data, { epochs: 5, globalWeights: global });
    await anchored.train(data, { epochs: 5, globalWeights: global, proximalMu: 1000, optimizer: 'sgd', learningRate: 0.0005 });
    const freeDrift = distance(free.getWeights(), global);
    const anchoredDrift = distance(anchored.getWeights(), global);
    assert.ok(freeDrift > 0.5, `without the term the weights move (${freeDrift})`);
    assert.ok(anchoredDrift < freeDrift / 20, `with mu=1000 they stay near global: ${anchoredDrift} vs ${freeDrift}`);
    free.dispose();
    anchored.dispose();
  });

  it('the proximal term changes the gradient step exactly by mu * (w - w_global)', async () => {
    // One SGD step on one batch: w' = w - lr * (grad_data + mu * (w - g)). With w == g the term is 0;
    // with g shifted by d, the difference between the two runs is lr * mu * d.
    const data = separable(8, 2);
    const make = () => TfjsClassifier.create(tinyModel, { optimizer: 'sgd', learningRate: 0.1, batchSize: 8 });
    const a = await make();
    const b = await make();
    const start = a.getWeights();
    const shifted = start.map((layer) => ({ shape: layer.shape, data: layer.data.map((v) => v + 0.5) }));
    await a.train(data, { epochs: 1, globalWeights: start, proximalMu: 2, seed: 1 });
    await b.train(data, { epochs: 1, globalWeights: shifted, proximalMu: 2, seed: 1 });
    const wa = a.getWeights();
    const wb = b.getWeights();
    // b is pulled toward g + 0.5: each weight moves by +lr*mu*0.5 = 0.1 relative to a.
    wa.forEach((layer, l) => layer.data.forEach((v, i) => assert.ok(Math.abs(wb[l]!.data[i]! - v - 0.1) < 1e-5, `layer ${l}[${i}]`)));
    a.dispose();
    b.dispose();
  });

  it('sets and gets weights as ModelWeights, refusing other shapes', async () => {
    const classifier = await TfjsClassifier.create(tinyModel);
    const weights = classifier.getWeights();
    assert.deepEqual(weights.map((w) => w.shape), [[2, 8], [8], [8, 2], [2]]);
    const ones = weights.map((w) => ({ shape: w.shape, data: new Float32Array(w.data.length).fill(1) }));
    classifier.setWeights(ones);
    assert.ok(classifier.getWeights().every((w) => w.data.every((v) => v === 1)));
    assert.throws(() => classifier.setWeights(ones.slice(1)), /setWeights: shapes .* differ/);
    classifier.dispose();
  });

  it('refuses data whose sizes disagree with the model', async () => {
    const classifier = await TfjsClassifier.create(tinyModel);
    await assert.rejects(classifier.train({ x: new Float32Array(5), y: new Int32Array(2), count: 2 }), /data\.x has 5 values; 2 samples of 2 features need 4/);
    await assert.rejects(classifier.evaluate({ x: new Float32Array(4), y: new Int32Array(3), count: 2 }), /data\.y has 3 labels for 2 samples/);
    classifier.dispose();
  });

  it('saves and loads back the same model', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tfjs-classifier-'));
    try {
      const classifier = await TfjsClassifier.create(tinyModel, { learningRate: 0.05 });
      const data = separable(64, 8);
      await classifier.train(data, { epochs: 2 });
      await classifier.save(join(dir, 'model'));
      const loaded = await TfjsClassifier.load(join(dir, 'model'));
      assert.equal(distance(classifier.getWeights(), loaded.getWeights()), 0);
      assert.deepEqual(await loaded.evaluate(data), await classifier.evaluate(data));
      classifier.dispose();
      loaded.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
