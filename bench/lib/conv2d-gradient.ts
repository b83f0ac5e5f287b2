// Training speed of the example cloud CNN on the wasm backend with our Conv2D gradient
// (src/lib/backends/tfjs-conv2d-gradient.ts: dX as a forward conv2d of dy with the flipped filter)
// against the same gradient with dX as tf.conv2dTranspose (what it used before), in the same
// process: the gradient is re-registered before each timed epoch, rounds alternate, medians compared.
//
//   node --import tsx bench/lib/conv2d-gradient.ts   (BENCH_CONV_IMAGES, BENCH_CONV_ROUNDS)
import * as tfCore from '@tensorflow/tfjs-core';
import { initTensorflow } from '../../src/lib/backends/tfjs.ts';
import { conv2dFilterGradient, registerConv2dGradient } from '../../src/lib/backends/tfjs-conv2d-gradient.ts';
import { PLANS } from '../../examples/joint-inference/training.ts';
import { median } from '../apiserver/stats.ts';

const IMAGES = Number(process.env.BENCH_CONV_IMAGES ?? 2048);
const ROUNDS = Number(process.env.BENCH_CONV_ROUNDS ?? 3);

/** The gradient as it was: dX through conv2dTranspose (a plain loop on wasm). */
function registerTransposeGradient(): void {
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

const tf = await initTensorflow('wasm');
const plan = PLANS.cloud;
const model = plan.build(tf, 1);
model.compile({ optimizer: tf.train.adam(plan.learningRate), loss: 'categoricalCrossentropy' });
const x = tf.randomUniform([IMAGES, 28, 28, 1], 0, 1, 'float32', 7);
const y = tf.oneHot(tf.randomUniform<tfCore.Rank.R1>([IMAGES], 0, 10, 'int32', 8), 10);

async function epochMs(register: () => void): Promise<number> {
  register();
  const started = performance.now();
  await model.fit(x, y, { epochs: 1, batchSize: plan.batchSize, shuffle: false, verbose: 0 });
  return performance.now() - started;
}

await epochMs(registerConv2dGradient); // warm-up: kernels compiled, weights allocated
const before: number[] = [];
const after: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  before.push(await epochMs(registerTransposeGradient));
  after.push(await epochMs(registerConv2dGradient));
}
const perImage = (ms: number[]): string => ((median(ms) / IMAGES) * 1000).toFixed(0);
console.log(`cloud CNN (${plan.architecture}), ${IMAGES} images, batch ${plan.batchSize}, ${ROUNDS} alternating rounds, median epoch:`);
console.log(`  dX via conv2dTranspose (before): ${median(before).toFixed(0)} ms (${perImage(before)} µs/image)`);
console.log(`  dX via conv2d, flipped filter:   ${median(after).toFixed(0)} ms (${perImage(after)} µs/image)`);
console.log(`  training epoch time ratio (now / before): ${(median(after) / median(before)).toFixed(2)}x`);
