import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadOnnxModel } from '../../src/lib/backends/onnx.ts';
import { exportToOnnx, permute } from '../../src/lib/backends/onnx-export.ts';
import { initTensorflow, type Tf } from '../../src/lib/backends/tfjs.ts';

let tf: Tf;
let workDir: string;

before(async () => {
  tf = await initTensorflow('wasm');
  workDir = await mkdtemp(join(tmpdir(), 'sedna-onnx-export-'));
});
after(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** A tiny CNN with every supported layer kind and both paddings. */
function tinyCnn(head: 'softmax' | 'linear'): ReturnType<Tf['sequential']> {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  const biasInit = (seed: number) => tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1), biasInitializer: biasInit(2) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'valid', activation: 'relu', kernelInitializer: init(3), biasInitializer: biasInit(4) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: 12, activation: 'relu', kernelInitializer: init(5), biasInitializer: biasInit(6) }),
      tf.layers.dense({ units: 5, activation: 'linear', kernelInitializer: init(7) }),
      tf.layers.dense({ units: 10, activation: head, kernelInitializer: init(8) }),
    ],
  });
}

function randomImages(count: number, seed: number): Float32Array {
  let state = seed;
  const data = new Float32Array(count * 28 * 28);
  for (let i = 0; i < data.length; i++) {
    state = (state * 1664525 + 1013904223) >>> 0;
    data[i] = state / 2 ** 32;
  }
  return data;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  return a.reduce((max, value, i) => Math.max(max, Math.abs(value - (b[i] ?? NaN))), 0);
}

describe('exportToOnnx', () => {
  for (const head of ['softmax', 'linear'] as const) {
  it(`gives ONNX Runtime outputs equal to tfjs within 1e-4 on random inputs (${head} head)`, async () => {
    const model = tinyCnn(head);
    const path = join(workDir, `tiny-${head}.onnx`);
    await exportToOnnx(model, path);
    const session = await loadOnnxModel(path, { intraOpNumThreads: 1 });
    try {
      const count = 8;
      const images = randomImages(count, 42);
      const expected = tf.tidy(() => (model.predict(tf.tensor(images, [count, 28, 28, 1])) as ReturnType<Tf['tensor']>).dataSync());
      const actual = await session.run({ data: images, shape: [count, 28, 28, 1] });
      assert.deepEqual(actual.shape, [count, 10]);
      const diff = maxAbsDiff(actual.data, expected as Float32Array);
      assert.ok(diff < 1e-4, `max |ORT - tfjs| = ${diff}`);
      const spread = Math.max(...actual.data) - Math.min(...actual.data);
      assert.ok(spread > 1e-2, `outputs vary enough for the comparison to mean something (spread ${spread})`);
    } finally {
      await session.release();
      model.dispose();
    }
  });
  }

  it('rejects layers it cannot translate, naming the layer', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, activation: 'elu' })] });
    await assert.rejects(exportToOnnx(model, join(workDir, 'elu.onnx')), /unsupported activation 'elu'/);
    const strided = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3, strides: 2 })] });
    await assert.rejects(exportToOnnx(strided, join(workDir, 'strided.onnx')), /stride 1/);
  });
});

describe('permute', () => {
  it('reorders HWIO to OIHW', () => {
    // shape [1,2,1,3]: value = w*3 + o
    const hwio = Float32Array.from([0, 1, 2, 3, 4, 5]);
    assert.deepEqual([...permute(hwio, [1, 2, 1, 3], [3, 2, 0, 1])], [0, 3, 1, 4, 2, 5]);
  });
});
