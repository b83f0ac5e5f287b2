// The edge model of the incremental-learning example: a 784-64-10 MLP (about 200 KB of weights),
// small enough for an edge node to retrain in seconds, with the seeded initialisers that make the
// committed base model reproducible.
import type { Tf } from '../../src/lib/backends/tfjs.ts';
import { PIXELS } from '../joint-inference/fashion-mnist.ts';

export const HIDDEN_UNITS = 64;
export const CLASSES = 10;
export const ARCHITECTURE = `dense ${HIDDEN_UNITS} relu → dense ${CLASSES} softmax`;

type LayersModel = ReturnType<Tf['sequential']>;

export function buildEdgeMlp(tf: Tf, seed: number): LayersModel {
  return tf.sequential({
    name: 'fashion_mnist_il_edge_mlp',
    layers: [
      tf.layers.dense({ inputShape: [PIXELS], units: HIDDEN_UNITS, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed }) }),
      tf.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
}
