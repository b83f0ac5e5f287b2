import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { backendType, loadInferenceModel } from '../../src/lib/backends/index.ts';
import { loadOnnxModel } from '../../src/lib/backends/onnx.ts';
import { exportToOnnx } from '../../src/lib/backends/onnx-export.ts';
import { initTensorflow, type Tf } from '../../src/lib/backends/tfjs.ts';
import { loadLayersModel, saveLayersModel } from '../../src/lib/backends/tfjs-file-io.ts';

type Tensor4D = ReturnType<Tf['tensor4d']>;
let tf: Tf;
let workDir: string;

before(async () => {
  tf = await initTensorflow('wasm');
  workDir = await mkdtemp(join(tmpdir(), 'sedna-backends-'));
});
after(async () => {
  await initTensorflow('wasm');
  await rm(workDir, { recursive: true, force: true });
});

/** Deterministic pseudo-random values in [-1, 1). */
function values(count: number, seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length: count }, () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return (state / 2 ** 32) * 2 - 1;
  });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return max;
}

function tinyDenseModel(seed: number): ReturnType<Tf['sequential']> {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [6], units: 5, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
}

function predictData(model: Awaited<ReturnType<typeof loadLayersModel>>, input: Float32Array, shape: number[]): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor(input, shape)) as ReturnType<Tf['tensor']>).dataSync() as Float32Array);
}

describe('initTensorflow', () => {
  it('selects wasm once and returns the same namespace on every call', async () => {
    const [first, second] = await Promise.all([initTensorflow(), initTensorflow('wasm')]);
    assert.equal(first, second);
    assert.equal(first.getBackend(), 'wasm');
    assert.equal(typeof first.sequential, 'function', 'layers API included');
    assert.equal(typeof first.conv2d, 'function', 'core ops included');
  });
});

describe('matMul with transposes on wasm', () => {
  /** Every transpose combination, plain and fused (bias + relu), against the cpu backend's kernels. */
  async function products(backend: 'wasm' | 'cpu'): Promise<Float32Array[]> {
    const tfb = await initTensorflow(backend);
    try {
      return tfb.tidy(() => {
        const out: Float32Array[] = [];
        for (const [transposeA, transposeB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
          const a = tfb.tensor(values(7 * 5, 11), transposeA ? [5, 7] : [7, 5]);
          const b = tfb.tensor(values(5 * 3, 12), transposeB ? [3, 5] : [5, 3]);
          out.push(tfb.matMul(a, b, transposeA, transposeB).dataSync() as Float32Array);
          const bias = tfb.tensor(values(3, 13), [3]);
          out.push(tfb.fused.matMul({ a, b, transposeA, transposeB, bias, activation: 'relu' }).dataSync() as Float32Array);
          // Batched (leading dimension 2) stays on the stock kernel.
          const a3 = tfb.tensor(values(2 * 7 * 5, 14), transposeA ? [2, 5, 7] : [2, 7, 5]);
          out.push(tfb.matMul(a3, tfb.stack([b, b]), transposeA, transposeB).dataSync() as Float32Array);
        }
        return out;
      });
    } finally {
      await initTensorflow('wasm');
    }
  }

  it('gives the cpu backend\'s products for every transpose, fused or not, batched or not', async () => {
    assert.ok('stock' in tf.getKernel('BatchMatMul', 'wasm') && 'stock' in tf.getKernel('_FusedMatMul', 'wasm'), 'the wasm kernels are the wrapped ones');
    const expected = await products('cpu');
    const actual = await products('wasm');
    assert.equal(actual.length, 12);
    actual.forEach((got, i) => assert.ok(maxAbsDiff(got, expected[i]!) < 1e-5, `product ${i} differs by ${maxAbsDiff(got, expected[i]!)}`));
  });

  it('leaves no tensors behind (the transposed copies are freed)', () => {
    const before = tf.memory().numTensors;
    const bytesBefore = tf.memory().numBytes;
    tf.tidy(() => tf.matMul(tf.ones([4, 6]), tf.ones([5, 4]), true, true).dataSync());
    assert.equal(tf.memory().numTensors, before);
    assert.equal(tf.memory().numBytes, bytesBefore);
  });

  it('trains a dense layer to the same gradients as the cpu backend', async () => {
    const gradients = async (backend: 'wasm' | 'cpu'): Promise<Float32Array[]> => {
      const tfb = await initTensorflow(backend);
      try {
        return tfb.tidy(() => {
          const x = tfb.tensor(values(8 * 6, 21), [8, 6]);
          const w = tfb.tensor(values(6 * 4, 22), [6, 4]);
          const g = tfb.grads((xs, ws) => tfb.sum(tfb.square(tfb.fused.matMul({ a: xs, b: ws, activation: 'relu' }))));
          return g([x, w]).map((t) => t.dataSync() as Float32Array);
        });
      } finally {
        await initTensorflow('wasm');
      }
    };
    const expected = await gradients('cpu');
    const actual = await gradients('wasm');
    actual.forEach((got, i) => assert.ok(maxAbsDiff(got, expected[i]!) < 1e-4, `gradient ${i} differs by ${maxAbsDiff(got, expected[i]!)}`));
  });
});

describe('Conv2D gradient on wasm', () => {
  const xShape: [number, number, number, number] = [2, 7, 6, 3];
  const xData = values(2 * 7 * 6 * 3, 1);

  /** The cpu backend's own Conv2DBackpropInput/Filter kernels: the stock gradient. */
  async function stockGradients(pad: 'same' | 'valid', filterShape: number[], filterData: Float32Array, dyShape: number[], dyData: Float32Array): Promise<{ dx: Float32Array; dw: Float32Array }> {
    const cpu = await initTensorflow('cpu');
    try {
      return cpu.tidy(() => {
        const x = cpu.tensor4d(xData, xShape);
        const filter = cpu.tensor(filterData, filterShape);
        const dy = cpu.tensor(dyData, dyShape);
        const common = { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1] };
        const dx = cpu.engine().runKernel<Tensor4D>('Conv2DBackpropInput', { dy, filter }, { ...common, inputShape: xShape });
        const dw = cpu.engine().runKernel<Tensor4D>('Conv2DBackpropFilter', { x, dy }, { ...common, filterShape });
        return { dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
      });
    } finally {
      await initTensorflow('wasm');
    }
  }

  // Square odd kernels (the example CNN's) and an even, oblong one, whose 'same' padding is uneven.
  for (const [kernelH, kernelW] of [[3, 3], [2, 4]] as const) {
    for (const pad of ['same', 'valid'] as const) {
      it(`matches the cpu backend's stock gradient (${kernelH}x${kernelW} kernel, ${pad} padding)`, async () => {
        const filterShape = [kernelH, kernelW, 3, 4];
        const filterData = values(filterShape.reduce((a, b) => a * b, 1), 2);
        const outShape = pad === 'same' ? [2, 7, 6, 4] : [2, 7 - kernelH + 1, 6 - kernelW + 1, 4];
        const dyData = values(outShape.reduce((a, b) => a * b, 1), 3);
        const expected = await stockGradients(pad, filterShape, filterData, outShape, dyData);
        assert.equal(tf.getBackend(), 'wasm');
        const [dx, dw] = tf.tidy(() => {
          const dy = tf.tensor(dyData, outShape);
          const gradients = tf.grads((...args) => tf.sum(tf.mul(tf.conv2d(args[0] as Tensor4D, args[1] as Tensor4D, 1, pad), dy)));
          return gradients([tf.tensor4d(xData, xShape), tf.tensor(filterData, filterShape)]).map((t) => t.dataSync());
        });
        assert.ok(dx && dw);
        assert.ok(maxAbsDiff(dx, expected.dx) < 1e-4, `dX differs by ${maxAbsDiff(dx, expected.dx)}`);
        assert.ok(maxAbsDiff(dw, expected.dw) < 1e-4, `dW differs by ${maxAbsDiff(dw, expected.dw)}`);
      });
    }
  }

  it('rejects strides other than 1 with a clear error', () => {
    const gradients = tf.grads((...args) => tf.sum(tf.conv2d(args[0] as Tensor4D, args[1] as Tensor4D, 2, 'valid')));
    assert.throws(() => gradients([tf.tensor4d(xData, xShape), tf.tensor4d(values(3 * 3 * 3 * 4, 2), [3, 3, 3, 4])]), /Conv2D gradient: unsupported strides/);
  });

  it('lets a small CNN train on wasm', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 2, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.05), loss: 'categoricalCrossentropy' });
    const x = tf.tensor4d(values(16 * 36, 6), [16, 6, 6, 1]);
    const y = tf.oneHot(tf.tensor1d(Int32Array.from({ length: 16 }, (_, i) => i % 2), 'int32'), 2);
    const history = await model.fit(x, y, { epochs: 5, batchSize: 8, shuffle: false, verbose: 0 });
    const losses = history.history['loss'] as number[];
    assert.ok((losses.at(-1) ?? Infinity) < (losses[0] ?? 0), `loss falls: ${losses.join(', ')}`);
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe('saveLayersModel / loadLayersModel', () => {
  it('round-trips a model with identical predictions, in the tfjs-node layout', async () => {
    const model = tinyDenseModel(10);
    const dir = join(workDir, 'roundtrip', 'model');
    await saveLayersModel(model, dir);
    assert.deepEqual((await readdir(dir)).sort(), ['model.json', 'weights.bin']);
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as { format: string; weightsManifest: { paths: string[] }[] };
    assert.equal(json.format, 'layers-model');
    assert.deepEqual(json.weightsManifest[0]?.paths, ['./weights.bin']);

    const loaded = await loadLayersModel(dir);
    const input = values(4 * 6, 11);
    assert.deepEqual(predictData(loaded, input, [4, 6]), predictData(model, input, [4, 6]));
    const viaJsonPath = await loadLayersModel(join(dir, 'model.json'));
    assert.deepEqual(predictData(viaJsonPath, input, [4, 6]), predictData(model, input, [4, 6]));
    [model, loaded, viaJsonPath].forEach((m) => m.dispose());
  });

  it('replaces an existing model folder and leaves no temp folders', async () => {
    const parent = join(workDir, 'replace');
    const dir = join(parent, 'model');
    const first = tinyDenseModel(20);
    const second = tinyDenseModel(30);
    await saveLayersModel(first, dir);
    await saveLayersModel(second, dir);
    assert.deepEqual(await readdir(parent), ['model']);
    const loaded = await loadLayersModel(dir);
    const input = values(6, 21);
    assert.deepEqual(predictData(loaded, input, [1, 6]), predictData(second, input, [1, 6]));
    [first, second, loaded].forEach((m) => m.dispose());
  });

  it('names the path when model.json is missing or not a model', async () => {
    await assert.rejects(loadLayersModel(join(workDir, 'absent')), /cannot read .*absent\/model\.json/);
    const bad = join(workDir, 'bad-json');
    await mkdir(bad);
    await writeFile(join(bad, 'model.json'), '{"hello": 1}');
    await assert.rejects(loadLayersModel(bad), /bad-json\/model\.json is not a tfjs model\.json/);
  });
});

describe('loadInferenceModel', () => {
  let tfjsDir: string;
  let onnxFile: string;
  let onnxDir: string;
  const input = values(3 * 6, 40);
  let expected: Float32Array;

  before(async () => {
    const model = tinyDenseModel(40);
    expected = predictData(model, input, [3, 6]);
    tfjsDir = join(workDir, 'infer-tfjs');
    await saveLayersModel(model, tfjsDir);
    onnxDir = join(workDir, 'infer-onnx');
    onnxFile = join(onnxDir, 'classifier.onnx');
    await exportToOnnx(model, onnxFile);
    model.dispose();
  });

  const cases: [string, () => string, 'tfjs' | 'onnx'][] = [
    ['a folder with model.json', () => tfjsDir, 'tfjs'],
    ['a model.json file', () => join(tfjsDir, 'model.json'), 'tfjs'],
    ['a .onnx file', () => onnxFile, 'onnx'],
    ['a folder with one .onnx file', () => onnxDir, 'onnx'],
  ];
  for (const [what, path, format] of cases) {
    it(`loads ${what} as ${format}`, async () => {
      const model = await loadInferenceModel(path());
      try {
        assert.equal(model.format, format);
        const output = await model.predict({ data: input, shape: [3, 6] });
        assert.deepEqual(output.shape, [3, 3]);
        assert.ok(maxAbsDiff(output.data, expected) < 1e-5);
      } finally {
        model.dispose();
      }
    });
  }

  it('gives clear errors for missing, ambiguous, empty and non-model paths', async () => {
    await assert.rejects(loadInferenceModel(join(workDir, 'nowhere')), /model not found: .*nowhere/);
    const twoOnnx = join(workDir, 'two-onnx');
    await mkdir(twoOnnx);
    await writeFile(join(twoOnnx, 'a.onnx'), 'x');
    await writeFile(join(twoOnnx, 'b.onnx'), 'x');
    await assert.rejects(loadInferenceModel(twoOnnx), /several \.onnx files \(a\.onnx, b\.onnx\)/);
    const empty = join(workDir, 'empty');
    await mkdir(empty);
    await assert.rejects(loadInferenceModel(empty), /holds neither model\.json nor a \.onnx file/);
    await assert.rejects(loadInferenceModel(join(twoOnnx, 'a.onnx')), /not a valid ONNX model: .*a\.onnx/);
    const text = join(workDir, 'model.txt');
    await writeFile(text, 'x');
    await assert.rejects(loadInferenceModel(text), /unknown model format at .*model\.txt/);
  });
});

describe('loadOnnxModel', () => {
  it('names the path of a missing file and rejects bad thread counts', async () => {
    await assert.rejects(loadOnnxModel(join(workDir, 'missing.onnx')), /ONNX model not found: .*missing\.onnx/);
    await assert.rejects(loadOnnxModel(join(workDir, 'infer-onnx', 'classifier.onnx'), { intraOpNumThreads: 0 }), /intraOpNumThreads/);
  });
});

describe('backendType', () => {
  it('maps Sedna BACKEND_TYPE values to runtimes', () => {
    assert.equal(backendType({}), 'tfjs');
    assert.equal(backendType({ BACKEND_TYPE: 'TENSORFLOW' }), 'tfjs');
    assert.equal(backendType({ BACKEND_TYPE: 'keras' }), 'tfjs');
    assert.equal(backendType({ BACKEND_TYPE: 'ONNX' }), 'onnx');
  });

  it('rejects other backends, listing the supported ones', () => {
    assert.throws(() => backendType({ BACKEND_TYPE: 'TORCH' }), /BACKEND_TYPE 'TORCH' is not supported; supported: TENSORFLOW, KERAS, ONNX/);
    assert.throws(() => backendType({ BACKEND_TYPE: 'mindspore' }), /'MINDSPORE' is not supported/);
  });
});
