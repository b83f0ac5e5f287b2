// Training speed on the wasm backend with our two kernel fixes against tfjs's stock paths, in the
// same process (rounds alternate; medians compared):
//  - matMul with transposes (src/lib/backends/tfjs-wasm-matmul.ts: transpose first, then XNNPACK)
//    against the stock kernel's scalar loop, on the federated-learning MLP (784-128-10, batch 128);
//  - the Conv2D gradient's dX as a forward conv2d (src/lib/backends/tfjs-conv2d-gradient.ts) against
//    tf.conv2dTranspose, with the matMul fix on and off, on the joint-inference cloud CNN (batch 64).
//
//   npm run bench:lib-tfjs   (BENCH_TFJS_IMAGES, BENCH_TFJS_ROUNDS)
import * as tfCore from '@tensorflow/tfjs-core';
import { initTensorflow, type Tf } from '../../src/lib/backends/tfjs.ts';
import { conv2dFilterGradient, registerConv2dGradient } from '../../src/lib/backends/tfjs-conv2d-gradient.ts';
import { registerWasmMatMulWithoutTransposes, restoreStockWasmMatMul } from '../../src/lib/backends/tfjs-wasm-matmul.ts';
import { PLANS } from '../../examples/joint-inference/training.ts';
import { buildMlp } from '../../examples/federated-learning/model.ts';
import { median } from '../apiserver/stats.ts';

const IMAGES = Number(process.env.BENCH_TFJS_IMAGES ?? 2048);
const ROUNDS = Number(process.env.BENCH_TFJS_ROUNDS ?? 3);

/** The Conv2D gradient as it was: dX through conv2dTranspose (a plain loop on wasm). */
function registerTransposeConvGradient(): void {
  tfCore.registerGradient({
    kernelName: tfCore.Conv2D,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved as [tfCore.Tensor4D, tfCore.Tensor4D];
      const pad = (attrs as unknown as tfCore.Conv2DAttrs).pad as 'same' | 'valid';
      return {
        x: () => tfCore.conv2dTranspose(dy as tfCore.Tensor4D, filter, x.shape, 1, pad),
        filter: () => conv2dFilterGradient(x, dy as tfCore.Tensor4D, filter.shape, pad),
      };
    },
  });
}

type Model = ReturnType<Tf['sequential']>;

/** Median epoch time of each setting, the settings taking turns round by round. */
async function compare(tf: Tf, model: Model, inputShape: number[], batchSize: number, settings: Record<string, () => void>): Promise<Record<string, number>> {
  const x = tf.randomUniform([IMAGES, ...inputShape], 0, 1, 'float32', 7);
  const y = tf.oneHot(tf.randomUniform<tfCore.Rank.R1>([IMAGES], 0, 10, 'int32', 8), 10);
  const epoch = async (apply: () => void): Promise<number> => {
    apply();
    const started = performance.now();
    await model.fit(x, y, { epochs: 1, batchSize, shuffle: false, verbose: 0 });
    return performance.now() - started;
  };
  await epoch(Object.values(settings)[0]!); // warm-up: kernels compiled, weights allocated
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(settings).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) for (const [name, apply] of Object.entries(settings)) times[name]!.push(await epoch(apply));
  tf.dispose([x, y]);
  return Object.fromEntries(Object.entries(times).map(([name, ms]) => [name, median(ms)]));
}

const tf = await initTensorflow('wasm');
const mlp = buildMlp(tf);
mlp.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
const mlpTimes = await compare(tf, mlp, [784], 128, { stock: restoreStockWasmMatMul, ours: registerWasmMatMulWithoutTransposes });

const cnn = PLANS.cloud.build(tf, 1);
cnn.compile({ optimizer: tf.train.adam(PLANS.cloud.learningRate), loss: 'categoricalCrossentropy' });
const cnnTimes = await compare(tf, cnn, [28, 28, 1], PLANS.cloud.batchSize, {
  stock: () => (restoreStockWasmMatMul(), registerTransposeConvGradient()),
  convOnly: () => (restoreStockWasmMatMul(), registerConv2dGradient()),
  ours: () => (registerWasmMatMulWithoutTransposes(), registerConv2dGradient()),
});

const line = (label: string, ms: number): string => `  ${label.padEnd(44)} ${ms.toFixed(0).padStart(6)} ms (${((ms / IMAGES) * 1000).toFixed(0)} µs/image)`;
console.log(`median training epoch over ${IMAGES} images, ${ROUNDS} alternating rounds (wasm backend):`);
console.log(line('MLP 784-128-10, stock matMul', mlpTimes['stock']!));
console.log(line('MLP 784-128-10, matMul without transposes', mlpTimes['ours']!));
console.log(line('CNN, stock matMul + dX via conv2dTranspose', cnnTimes['stock']!));
console.log(line('CNN, stock matMul + dX via conv2d', cnnTimes['convOnly']!));
console.log(line('CNN, both fixes', cnnTimes['ours']!));
console.log(`MLP training epoch ratio (ours / stock): ${(mlpTimes['ours']! / mlpTimes['stock']!).toFixed(2)}x`);
console.log(`CNN training epoch ratio (ours / stock): ${(cnnTimes['ours']! / cnnTimes['stock']!).toFixed(2)}x`);
