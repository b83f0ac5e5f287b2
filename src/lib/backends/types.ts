// What every backend takes and gives: a dense float32 tensor, and a loaded model. Its own module so
// the runtimes (onnx.ts, tfjs.ts) and the loader that picks one (index.ts) need not import each other.

export interface Tensor {
  data: Float32Array;
  shape: number[];
}

export type ModelFormat = 'tfjs' | 'onnx';

export interface InferenceModel {
  readonly format: ModelFormat;
  predict(input: Tensor): Promise<Tensor>;
  dispose(): void;
}
