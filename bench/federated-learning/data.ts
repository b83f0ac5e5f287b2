// The bench's clients: fixed seeds and sample counts, so every run aggregates the same arrays, and
// the .npy files that hand them to (and back from) numpy.
import { readFileSync, writeFileSync } from 'node:fs';
import type { ClientUpdate } from '../../src/lib/aggregation/index.ts';
import type { ModelWeights } from '../../src/lib/weights.ts';
import { seededRandom } from '../../src/lib/random.ts';

/** Four layers of mixed sizes, 1,000,000 parameters in all (a conv kernel, a dense matrix, …). */
export const LAYER_SHAPES: number[][] = [[3, 3, 64, 128], [512, 1024], [100, 1000, 3], [32, 3187]];
export const CLIENT_SAMPLE_COUNTS = [600, 1200, 350, 2000, 800, 975, 1500, 420, 3000, 1155];

function clientWeights(seed: number): ModelWeights {
  const random = seededRandom(seed);
  return LAYER_SHAPES.map((shape) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    // Weights of a trained network: roughly centred, |w| < 0.5.
    for (let i = 0; i < data.length; i++) data[i] = random() - 0.5;
    return { shape, data };
  });
}

export function generateClients(): ClientUpdate[] {
  return CLIENT_SAMPLE_COUNTS.map((numSamples, c) => ({ weights: clientWeights(1000 + c), numSamples, client: `client-${c}` }));
}

/** A version 1.0 .npy header for a C-ordered little-endian float32 array; total size a multiple of 64. */
function npyHeader(shape: number[]): Buffer {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = 10 + dict.length + 1;
  const padded = Math.ceil(unpadded / 64) * 64;
  const header = Buffer.alloc(10);
  header.write('\x93NUMPY', 0, 'latin1');
  header[6] = 1;
  header[7] = 0;
  header.writeUInt16LE(padded - 10, 8);
  return Buffer.concat([header, Buffer.from(dict + ' '.repeat(padded - unpadded) + '\n', 'latin1')]);
}

/** Writes the clients as one [clients, parameters] float32 .npy (layers concatenated per client). */
export function writeStackedNpy(path: string, updates: readonly ClientUpdate[]): void {
  const parameters = updates[0]!.weights.reduce((sum, layer) => sum + layer.data.length, 0);
  const parts: Buffer[] = [npyHeader([updates.length, parameters])];
  for (const update of updates) {
    for (const layer of update.weights) parts.push(Buffer.from(layer.data.buffer, layer.data.byteOffset, layer.data.byteLength));
  }
  writeFileSync(path, Buffer.concat(parts));
}

export function writeCountsNpy(path: string, counts: readonly number[]): void {
  writeFileSync(path, Buffer.concat([npyHeader([counts.length]), Buffer.from(Float32Array.from(counts).buffer)]));
}

/** Reads a float32 .npy written by numpy (any header length). */
export function readFloat32Npy(path: string): Float32Array {
  const bytes = readFileSync(path);
  if (bytes.subarray(1, 6).toString('latin1') !== 'NUMPY') throw new Error(`${path} is not a .npy file`);
  const headerLength = bytes[6] === 1 ? bytes.readUInt16LE(8) + 10 : bytes.readUInt32LE(8) + 12;
  const header = bytes.subarray(0, headerLength).toString('latin1');
  if (!header.includes("'<f4'")) throw new Error(`${path} is not little-endian float32: ${header.trim()}`);
  const body = bytes.subarray(headerLength);
  return new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
}
