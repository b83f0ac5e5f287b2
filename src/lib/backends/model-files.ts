// The file names of a TensorFlow.js model folder (the layout tfjs-node writes), kept apart from
// tfjs-file-io.ts so code that only looks for a model does not load TensorFlow.js.
export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
