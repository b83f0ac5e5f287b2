// The wasm backend multiplies matrices through XNNPACK only when neither operand is transposed;
// with transposeA or transposeB it falls back to a scalar triple loop, 10-15x slower. Backprop
// through every dense layer asks for exactly those transposes (dW = xᵀ·dy, dX = dy·Wᵀ), so on wasm
// training an MLP spent nearly all its time in that loop. These wrappers transpose the operand
// first (a copy, cheap next to the product) and call the stock kernel without the flag, which
// takes XNNPACK. Same products; only the order of the float additions differs.
import * as tf from '@tensorflow/tfjs-core';

type KernelFunc = tf.KernelConfig['kernelFunc'];
type KernelArgs = Parameters<KernelFunc>[0];

const WRAPPED_KERNELS = [tf.BatchMatMul, tf._FusedMatMul];

/** The axes of a rank-r tensor with its last two swapped. */
function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/** XNNPACK takes only unbatched products (every leading dimension 1). */
function isUnbatched(t: tf.TensorInfo): boolean {
  return t.shape.slice(0, -2).every((d) => d === 1);
}

function withoutTransposes(stock: KernelFunc, transpose: KernelFunc): KernelFunc {
  return (args: KernelArgs) => {
    const { inputs, backend, attrs } = args;
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = attrs as { transposeA?: boolean; transposeB?: boolean };
    if ((!transposeA && !transposeB) || !isUnbatched(a) || !isUnbatched(b)) return stock(args);
    const copies: tf.TensorInfo[] = [];
    const laidOut = (t: tf.TensorInfo, transposed: boolean | undefined): tf.TensorInfo => {
      if (!transposed) return t;
      const copy = transpose({ inputs: { x: t }, backend, attrs: { perm: swapLastTwo(t.shape.length) } }) as tf.TensorInfo;
      copies.push(copy);
      return copy;
    };
    try {
      return stock({ inputs: { ...inputs, a: laidOut(a, transposeA), b: laidOut(b, transposeB) }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    } finally {
      for (const copy of copies) (backend as tf.KernelBackend).disposeData(copy.dataId);
    }
  };
}

/**
 * Replaces the wasm BatchMatMul and _FusedMatMul kernels with the wrappers above (idempotent).
 * Call after the wasm backend is imported: its kernels must already be registered.
 */
export function registerWasmMatMulWithoutTransposes(): void {
  const transpose = tf.getKernel(tf.Transpose, 'wasm')?.kernelFunc;
  if (!transpose) throw new Error('tfjs wasm backend: no Transpose kernel registered (import @tensorflow/tfjs-backend-wasm first)');
  for (const kernelName of WRAPPED_KERNELS) {
    const config = tf.getKernel(kernelName, 'wasm') as (tf.KernelConfig & { stock?: KernelFunc }) | undefined;
    if (!config) throw new Error(`tfjs wasm backend: no ${kernelName} kernel registered`);
    if (config.stock) continue;
    tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ ...config, kernelFunc: withoutTransposes(config.kernelFunc, transpose), stock: config.kernelFunc } as tf.KernelConfig);
  }
}

/** Puts the stock kernels back (the bench's baseline). */
export function restoreStockWasmMatMul(): void {
  for (const kernelName of WRAPPED_KERNELS) {
    const config = tf.getKernel(kernelName, 'wasm') as (tf.KernelConfig & { stock?: KernelFunc }) | undefined;
    if (!config?.stock) continue;
    tf.unregisterKernel(kernelName, 'wasm');
    const { stock, ...rest } = config;
    tf.registerKernel({ ...rest, kernelFunc: stock });
  }
}
