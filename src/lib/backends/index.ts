// The inference interface workers use, whatever format the model was saved in.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MODEL_JSON } from './model-files.ts';
import type { InferenceModel, ModelFormat, Tensor } from './types.ts';

// The runtimes load on first use (dynamic imports below): a worker serving an ONNX model never
// pays for TensorFlow.js, nor a TensorFlow.js worker for ONNX Runtime's native library.

export type { InferenceModel, ModelFormat, Tensor } from './types.ts';

/** Sedna's BACKEND_TYPE values and the runtime each maps to here. */
const backendTypes: Record<string, ModelFormat> = { TENSORFLOW: 'tfjs', KERAS: 'tfjs', ONNX: 'onnx' };

/**
 * The runtime for env BACKEND_TYPE (upper-cased; TENSORFLOW when unset, as in Sedna).
 * TORCH, MINDSPORE, SKLEARN, … have no runtime here and raise a clear error.
 */
export function backendType(env: Record<string, string | undefined> = process.env): ModelFormat {
  const value = (env['BACKEND_TYPE'] ?? '').trim().toUpperCase() || 'TENSORFLOW';
  const format = backendTypes[value];
  if (!format) {
    throw new Error(`BACKEND_TYPE '${value}' is not supported; supported: ${Object.keys(backendTypes).join(', ')}`);
  }
  return format;
}

async function loadTfjsModel(path: string): Promise<InferenceModel> {
  const { initTensorflow } = await import('./tfjs.ts');
  const { loadLayersModel } = await import('./tfjs-file-io.ts');
  const tf = await initTensorflow();
  const model = await loadLayersModel(path);
  return {
    format: 'tfjs',
    predict(input: Tensor): Promise<Tensor> {
      const output = tf.tidy(() => {
        const prediction = model.predict(tf.tensor(input.data, input.shape, 'float32'));
        return Array.isArray(prediction) ? prediction[0] : prediction;
      });
      if (!output) return Promise.reject(new Error(`tfjs model ${path} produced no output`));
      const result = { data: output.dataSync() as Float32Array, shape: [...output.shape] };
      output.dispose();
      return Promise.resolve(result);
    },
    dispose: () => model.dispose(),
  };
}

async function loadOnnxInferenceModel(path: string): Promise<InferenceModel> {
  const { loadOnnxModel } = await import('./onnx.ts');
  const model = await loadOnnxModel(path);
  return {
    format: 'onnx',
    predict: (input: Tensor) => model.run(input),
    dispose: () => void model.release(),
  };
}

/** Picks the model inside a folder: its model.json, else its only .onnx file. */
async function loadFromFolder(dir: string): Promise<InferenceModel> {
  const names = await readdir(dir);
  if (names.includes(MODEL_JSON)) return loadTfjsModel(dir);
  const onnxFiles = names.filter((name) => name.endsWith('.onnx'));
  const [onlyOnnx] = onnxFiles;
  if (onnxFiles.length === 1 && onlyOnnx !== undefined) return loadOnnxInferenceModel(join(dir, onlyOnnx));
  if (onnxFiles.length > 1) throw new Error(`model folder ${dir} holds several .onnx files (${onnxFiles.join(', ')}); name one`);
  throw new Error(`model folder ${dir} holds neither ${MODEL_JSON} nor a .onnx file`);
}

/**
 * Loads the model at `path`: a folder with model.json or a model.json file → tfjs LayersModel;
 * a .onnx file, or a folder with exactly one → ONNX Runtime.
 */
export async function loadInferenceModel(path: string): Promise<InferenceModel> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new Error(`model not found: ${path}`);
  if (info.isDirectory()) return loadFromFolder(path);
  if (path.endsWith('.onnx')) return loadOnnxInferenceModel(path);
  if (path.endsWith('.json')) return loadTfjsModel(path);
  throw new Error(`unknown model format at ${path}: expected a folder, a model.json or a .onnx file`);
}
