// One hard example as the inference worker saves it for labelling: the camera frame's number, its
// 8-bit pixels (what the camera delivered), the version of the model that found it hard and that
// model's class probabilities. Read back by the
// labeller (the frame) and by the train and eval workers (the pixels of a labelled example).
import { readFile } from 'node:fs/promises';
import { parseTxtIndex } from 'sedna/worker';
import { PIXELS } from '../joint-inference/fashion-mnist.ts';

export interface CameraFrame {
  /** The frame's number in the camera's recording. */
  frame: number;
  /** 784 pixels in [0, 1]. */
  pixels: Float32Array;
  /** The version of the model that answers it (the labeller labels what the serving model found hard). */
  model: string;
}

export interface HardExampleFile {
  frame: number;
  model: string;
  pixels: number[];
  probabilities: number[];
}

export function encodeHardExample(frame: CameraFrame, probabilities: readonly number[]): string {
  const file: HardExampleFile = { frame: frame.frame, model: frame.model, pixels: Array.from(frame.pixels, (p) => Math.round(p * 255)), probabilities: probabilities.map((p) => Math.round(p * 1e4) / 1e4) };
  return JSON.stringify(file);
}

export function parseHardExample(text: string, source: string): HardExampleFile {
  const parsed = JSON.parse(text) as Partial<HardExampleFile>;
  if (!Number.isInteger(parsed.frame) || typeof parsed.model !== 'string' || !Array.isArray(parsed.pixels) || parsed.pixels.length !== PIXELS) {
    throw new Error(`${source}: not a hard example (expected {frame, model, pixels[${PIXELS}], probabilities})`);
  }
  return parsed as HardExampleFile;
}

/** The labelled examples a Sedna txt index names (`<hard-example file> <label>` per line), as classifier data. */
export async function loadLabelledExamples(indexFile: string): Promise<{ x: Float32Array; y: Uint8Array; count: number }> {
  const index = parseTxtIndex([indexFile], { dataType: 'train' });
  const count = index.x.length;
  const x = new Float32Array(count * PIXELS);
  const y = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const file = String(index.x[i]);
    const example = parseHardExample(await readFile(file, 'utf8'), file);
    for (let p = 0; p < PIXELS; p++) x[i * PIXELS + p] = example.pixels[p]! / 255;
    y[i] = Number(index.y[i]);
  }
  return { x, y, count };
}
