// Exports a trained tfjs Sequential classifier to ONNX, so the cloud side can serve it with
// ONNX Runtime. onnx-proto (a devDependency) is imported only here: exporting is a build-time
// step (examples/joint-inference/train-models.ts), never done by a running worker.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type * as tfLayers from '@tensorflow/tfjs-layers';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type Layout = 'NHWC' | 'NCHW' | 'flat';
type LayerConfig = Record<string, unknown>;

const OPSET_VERSION = 13;
const INPUT_NAME = 'input';
const OUTPUT_NAME = 'output';
const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

const activationOps: Record<string, string | null> = {
  linear: null,
  relu: 'Relu',
  softmax: 'Softmax',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
};

/** Builds the ONNX graph node by node while tracking the layout of the running tensor. */
class GraphBuilder {
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  current = INPUT_NAME;
  layout: Layout;
  private counter = 0;

  constructor(inputRank: number) {
    this.layout = inputRank === 4 ? 'NHWC' : 'flat';
  }

  add(opType: string, extraInputs: string[], attribute: onnxProto.onnx.IAttributeProto[] = []): void {
    const output = `${opType.toLowerCase()}_${this.counter++}`;
    this.nodes.push({ opType, name: output, input: [this.current, ...extraInputs], output: [output], attribute });
    this.current = output;
  }

  constant(baseName: string, data: Float32Array, dims: number[]): string {
    const name = `${baseName}_${this.counter++}`;
    const rawData = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    this.initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData });
    return name;
  }

  toLayout(target: 'NHWC' | 'NCHW'): void {
    if (this.layout === target) return;
    if (this.layout === 'flat') throw new Error(`ONNX export: a 2D layer follows a flattened tensor`);
    this.add('Transpose', [], [ints('perm', target === 'NCHW' ? TO_NCHW : TO_NHWC)]);
    this.layout = target;
  }

  activation(name: unknown, layerName: string): void {
    const activation = typeof name === 'string' ? name : 'linear';
    const opType = activationOps[activation];
    if (opType === undefined) throw new Error(`ONNX export: layer ${layerName} has unsupported activation '${activation}'`);
    if (opType === null) return;
    this.add(opType, [], opType === 'Softmax' ? [int('axis', -1)] : []);
  }
}

function ints(name: string, values: number[]): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: values };
}

function int(name: string, value: number): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
}

function str(name: string, value: string): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(value) };
}

/** Reorders a row-major array: output axis i is input axis perm[i]. */
export function permute(data: Float32Array, shape: number[], perm: number[]): Float32Array {
  const outShape = perm.map((axis) => shape[axis] ?? 1);
  const inStrides = stridesOf(shape);
  const stridesInOutOrder = perm.map((axis) => inStrides[axis] ?? 0);
  const result = new Float32Array(data.length);
  const index = new Array<number>(outShape.length).fill(0);
  for (let out = 0; out < result.length; out++) {
    let source = 0;
    for (let d = 0; d < index.length; d++) source += (index[d] ?? 0) * (stridesInOutOrder[d] ?? 0);
    result[out] = data[source] ?? 0;
    for (let d = index.length - 1; d >= 0; d--) {
      index[d] = (index[d] ?? 0) + 1;
      if ((index[d] ?? 0) < (outShape[d] ?? 1)) break;
      index[d] = 0;
    }
  }
  return result;
}

function stridesOf(shape: number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) strides[d] = (strides[d + 1] ?? 1) * (shape[d + 1] ?? 1);
  return strides;
}

function layerWeights(layer: tfLayers.layers.Layer): { data: Float32Array; shape: number[] }[] {
  return layer.getWeights().map((tensor) => ({ data: tensor.dataSync() as Float32Array, shape: [...tensor.shape] }));
}

function pairOf(value: unknown, field: string, layerName: string): [number, number] {
  const pair = Array.isArray(value) ? value : [value, value];
  const [a, b] = pair as unknown[];
  if (typeof a !== 'number' || typeof b !== 'number') throw new Error(`ONNX export: layer ${layerName} has no numeric ${field}`);
  return [a, b];
}

function autoPad(config: LayerConfig, layerName: string): onnxProto.onnx.IAttributeProto {
  if (config['padding'] === 'same') return str('auto_pad', 'SAME_UPPER');
  if (config['padding'] === 'valid') return str('auto_pad', 'VALID');
  throw new Error(`ONNX export: layer ${layerName} has unsupported padding ${JSON.stringify(config['padding'])}`);
}

function requireChannelsLast(config: LayerConfig, layerName: string): void {
  const format = config['dataFormat'];
  if (format !== undefined && format !== 'channelsLast') {
    throw new Error(`ONNX export: layer ${layerName} uses dataFormat ${JSON.stringify(format)}; only channelsLast is supported`);
  }
}

function addConv2d(graph: GraphBuilder, layer: tfLayers.layers.Layer, config: LayerConfig): void {
  requireChannelsLast(config, layer.name);
  const strides = pairOf(config['strides'], 'strides', layer.name);
  const dilation = pairOf(config['dilationRate'] ?? 1, 'dilationRate', layer.name);
  if ([...strides, ...dilation].some((v) => v !== 1)) {
    throw new Error(`ONNX export: layer ${layer.name} must have stride 1 and dilation 1`);
  }
  const [kernel, bias] = layerWeights(layer);
  if (!kernel) throw new Error(`ONNX export: layer ${layer.name} has no kernel`);
  graph.toLayout('NCHW');
  const [kh = 1, kw = 1, inChannels = 1, outChannels = 1] = kernel.shape;
  const weightName = graph.constant(`${layer.name}_W`, permute(kernel.data, kernel.shape, [3, 2, 0, 1]), [
    outChannels,
    inChannels,
    kh,
    kw,
  ]);
  const extra = bias ? [weightName, graph.constant(`${layer.name}_B`, bias.data, bias.shape)] : [weightName];
  graph.add('Conv', extra, [ints('kernel_shape', [kh, kw]), ints('strides', [1, 1]), autoPad(config, layer.name)]);
  graph.activation(config['activation'], layer.name);
}

function addMaxPool(graph: GraphBuilder, layer: tfLayers.layers.Layer, config: LayerConfig): void {
  requireChannelsLast(config, layer.name);
  const poolSize = pairOf(config['poolSize'], 'poolSize', layer.name);
  const strides = pairOf(config['strides'] ?? config['poolSize'], 'strides', layer.name);
  graph.toLayout('NCHW');
  graph.add('MaxPool', [], [ints('kernel_shape', poolSize), ints('strides', strides), autoPad(config, layer.name)]);
}

function addFlatten(graph: GraphBuilder): void {
  // tfjs flattens NHWC (channel fastest), so the NCHW tensor goes back to NHWC first.
  if (graph.layout === 'NCHW') graph.toLayout('NHWC');
  graph.add('Flatten', [], [int('axis', 1)]);
  graph.layout = 'flat';
}

function addDense(graph: GraphBuilder, layer: tfLayers.layers.Layer, config: LayerConfig): void {
  if (graph.layout !== 'flat') throw new Error(`ONNX export: Dense layer ${layer.name} needs a 2D input; add a Flatten`);
  const [kernel, bias] = layerWeights(layer);
  if (!kernel) throw new Error(`ONNX export: layer ${layer.name} has no kernel`);
  const weightName = graph.constant(`${layer.name}_W`, kernel.data, kernel.shape);
  const biasData = bias?.data ?? new Float32Array(kernel.shape[1] ?? 0);
  const biasName = graph.constant(`${layer.name}_B`, biasData, [biasData.length]);
  graph.add('Gemm', [weightName, biasName]);
  graph.activation(config['activation'], layer.name);
}

function addLayer(graph: GraphBuilder, layer: tfLayers.layers.Layer): void {
  const className = layer.getClassName();
  const config = layer.getConfig() as LayerConfig;
  switch (className) {
    case 'InputLayer':
    case 'Dropout': // identity at inference
      return;
    case 'Conv2D':
      return addConv2d(graph, layer, config);
    case 'MaxPooling2D':
      return addMaxPool(graph, layer, config);
    case 'Flatten':
      return addFlatten(graph);
    case 'Dense':
      return addDense(graph, layer, config);
    case 'Activation':
      return graph.activation(config['activation'], layer.name);
    default:
      throw new Error(`ONNX export: unsupported layer ${layer.name} (${className})`);
  }
}

function valueInfo(name: string, shape: (number | null)[]): onnxProto.onnx.IValueInfoProto {
  const dim = shape.map((size) => (size === null || size < 0 ? { dimParam: 'N' } : { dimValue: size }));
  return { name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim } } } };
}

function singleShape(tensors: tfLayers.SymbolicTensor[], what: string): (number | null)[] {
  const [first] = tensors;
  if (tensors.length !== 1 || !first) {
    throw new Error(`ONNX export: the model has ${tensors.length} ${what}s; only single-${what} models are supported`);
  }
  return first.shape;
}

/** The ONNX ModelProto bytes for `model` (opset 13; input 'input', output 'output', batch 'N'). */
export function sequentialToOnnx(model: tfLayers.LayersModel): Uint8Array {
  const inputShape = singleShape(model.inputs, 'input');
  const outputShape = singleShape(model.outputs, 'output');
  const graph = new GraphBuilder(inputShape.length);
  for (const layer of model.layers) addLayer(graph, layer);
  if (graph.layout === 'NCHW') graph.toLayout('NHWC');
  graph.add('Identity', []);
  const last = graph.nodes[graph.nodes.length - 1];
  if (last) last.output = [OUTPUT_NAME];
  const proto = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'sedna-ts onnx-export',
    opsetImport: [{ domain: '', version: OPSET_VERSION }],
    graph: {
      name: model.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: [valueInfo(INPUT_NAME, inputShape)],
      output: [valueInfo(OUTPUT_NAME, outputShape)],
    },
  });
  return onnx.ModelProto.encode(proto).finish();
}

/** Writes `model` as an ONNX file at `path` (via a temp file and rename). */
export async function exportToOnnx(model: tfLayers.LayersModel, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tempPath = `${path}.tmp-${process.pid}`;
  await writeFile(tempPath, sequentialToOnnx(model));
  await rename(tempPath, path);
}
