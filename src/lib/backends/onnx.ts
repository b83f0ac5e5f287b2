// ONNX Runtime (native CPU build of onnxruntime-node) behind a small float32-in/float32-out API.
import { readFile, stat } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import type { Tensor } from './types.ts';

export interface OnnxLoadOptions {
  /** Threads ONNX Runtime may use inside one operator; defaults to ORT's own choice. */
  intraOpNumThreads?: number;
}

export interface OnnxModel {
  readonly path: string;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Feeds `input` to the first input and returns the first output as float32. */
  run(input: Tensor): Promise<Tensor>;
  release(): Promise<void>;
}

async function readModelBytes(path: string): Promise<Uint8Array> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new Error(`ONNX model not found: ${path}`);
  if (!info.isFile()) throw new Error(`ONNX model path is not a file: ${path}`);
  return readFile(path);
}

function sessionOptions(options: OnnxLoadOptions): ort.InferenceSession.SessionOptions {
  const sessionOptions: ort.InferenceSession.SessionOptions = { logSeverityLevel: 3 };
  if (options.intraOpNumThreads !== undefined) {
    if (!Number.isInteger(options.intraOpNumThreads) || options.intraOpNumThreads < 1) {
      throw new Error(`intraOpNumThreads must be a positive integer, got ${options.intraOpNumThreads}`);
    }
    sessionOptions.intraOpNumThreads = options.intraOpNumThreads;
  }
  return sessionOptions;
}

function checkInput(input: Tensor): void {
  const expected = input.shape.reduce((product, size) => product * size, 1);
  if (input.data.length !== expected) {
    throw new Error(`input data has ${input.data.length} values but shape [${input.shape.join(',')}] needs ${expected}`);
  }
}

function toFloat32(output: ort.Tensor, name: string, path: string): Float32Array {
  if (output.type !== 'float32') throw new Error(`ONNX model ${path}: output '${name}' is ${output.type}, not float32`);
  return output.data as Float32Array;
}

/** Opens an ONNX model with ONNX Runtime; errors name the path when it is missing or not ONNX. */
export async function loadOnnxModel(path: string, options: OnnxLoadOptions = {}): Promise<OnnxModel> {
  const bytes = await readModelBytes(path);
  const session = await ort.InferenceSession.create(bytes, sessionOptions(options)).catch((error: Error) => {
    throw new Error(`not a valid ONNX model: ${path} (${error.message})`);
  });
  const [inputName] = session.inputNames;
  const [outputName] = session.outputNames;
  if (inputName === undefined || outputName === undefined) {
    await session.release();
    throw new Error(`ONNX model ${path} has no inputs or no outputs`);
  }
  return {
    path,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(input: Tensor): Promise<Tensor> {
      checkInput(input);
      const feeds = { [inputName]: new ort.Tensor('float32', input.data, input.shape) };
      const results = await session.run(feeds, [outputName]);
      const output = results[outputName];
      if (!output) throw new Error(`ONNX model ${path} returned no '${outputName}' output`);
      return { data: toFloat32(output, outputName, path), shape: [...output.dims] };
    },
    release: () => session.release(),
  };
}
