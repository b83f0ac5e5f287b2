// One place that picks the TensorFlow.js backend for the process and returns the tf namespace
// (core ops + layers), so workers never import tfjs packages in the wrong order.
// TensorFlow.js loads on the first call (about 0.7 s and 40 MB): a worker that only serves an
// ONNX model, or only aggregates, never pays for it.
import type * as tfCore from '@tensorflow/tfjs-core';
import type * as tfLayers from '@tensorflow/tfjs-layers';

export type TfBackendName = 'wasm' | 'cpu';
/**
 * tfjs-core and tfjs-layers in one namespace, as the `@tensorflow/tfjs` umbrella exports them.
 * The chained-op methods (`t.argMax()`) are not registered by tfjs-core's Node bundle: call the
 * functional ops (`tf.argMax(t)`) instead.
 */
export type Tf = typeof tfCore & typeof tfLayers;

let loading: Promise<Tf> | undefined;
let pendingSwitch: Promise<void> = Promise.resolve();

/** Imports tfjs once: core and layers, both backends, the Conv2D gradient wasm lacks and its faster transposed matMul. */
function loadTensorflow(): Promise<Tf> {
  loading ??= (async () => {
    const [core, layers] = await Promise.all([import('@tensorflow/tfjs-core'), import('@tensorflow/tfjs-layers')]);
    await Promise.all([import('@tensorflow/tfjs-backend-cpu'), import('@tensorflow/tfjs-backend-wasm')]);
    const [{ registerConv2dGradient }, { registerWasmMatMulWithoutTransposes }] = await Promise.all([import('./tfjs-conv2d-gradient.ts'), import('./tfjs-wasm-matmul.ts')]);
    registerConv2dGradient();
    registerWasmMatMulWithoutTransposes();
    return Object.assign({}, core, layers) as Tf;
  })();
  return loading;
}

/**
 * Makes `backend` the active tfjs backend (wasm by default: SIMD, no tfjs-node needed) and
 * registers the Conv2D gradient the wasm backend lacks. Safe to call any number of times; a
 * call naming another backend switches to it. Calls are serialised so concurrent callers agree.
 */
export async function initTensorflow(backend: TfBackendName = 'wasm'): Promise<Tf> {
  const tf = await loadTensorflow();
  const next = pendingSwitch.then(() => activate(tf, backend));
  pendingSwitch = next.catch(() => undefined);
  await next;
  return tf;
}

async function activate(tf: Tf, backend: TfBackendName): Promise<void> {
  if (tf.getBackend() === backend) return;
  const listenersBefore = processErrorListeners();
  const ok = await tf.setBackend(backend);
  await tf.ready();
  removeListenersAddedSince(listenersBefore);
  if (!ok) throw new Error(`tfjs backend '${backend}' failed to initialise`);
  if (backend === 'cpu') skipNodeBackendBanner(tf);
}

/**
 * The cpu backend prints a multi-line "install tfjs-node" banner on first use; tfjs-node cannot
 * be installed offline, so the advice is noise. Only that banner is skipped: other tfjs
 * warnings still print.
 */
function skipNodeBackendBanner(tf: Tf): void {
  const cpuBackend = tf.findBackend('cpu') as { firstUse?: boolean } | null;
  if (cpuBackend && 'firstUse' in cpuBackend) cpuBackend.firstUse = false;
}

type ErrorEvent = 'uncaughtException' | 'unhandledRejection';
type Listener = (...args: unknown[]) => void;
const errorEvents: ErrorEvent[] = ['uncaughtException', 'unhandledRejection'];

function listenersOf(event: ErrorEvent): Listener[] {
  const listeners = event === 'uncaughtException' ? process.listeners(event) : process.listeners(event);
  return listeners as Listener[];
}

function processErrorListeners(): Map<ErrorEvent, Set<Listener>> {
  return new Map(errorEvents.map((event) => [event, new Set(listenersOf(event))]));
}

/**
 * The emscripten glue of the wasm backend installs process-wide handlers that rethrow every
 * uncaught error, which makes Node print the whole minified wasm loader as the error's source
 * line and hides the real stack. Node's default handling is the same minus that noise.
 */
function removeListenersAddedSince(before: Map<ErrorEvent, Set<Listener>>): void {
  for (const event of errorEvents) {
    for (const listener of listenersOf(event)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
}
