// Images for the example's programs: a Sedna txt index (`<idx file>#<record> <label>` per line,
// what each edge node's Dataset points at) turned into the classifier's flat arrays.
import { parseTxtIndex, readIdx, type ClassifierData } from 'sedna/worker';
import { loadFashionMnist } from '../joint-inference/fashion-mnist.ts';
import { PIXELS } from './model.ts';

/** Loads every image an index names; the IDX files are read once each. */
export async function loadIndexedImages(indexFiles: readonly string[]): Promise<ClassifierData> {
  const index = parseTxtIndex(indexFiles, { dataType: 'train' });
  const count = index.x.length;
  const x = new Float32Array(count * PIXELS);
  const y = new Uint8Array(count);
  const files = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++) {
    const [file, record] = String(index.x[i]).split('#') as [string, string | undefined];
    if (record === undefined) throw new Error(`index line ${i + 1}: expected <idx file>#<record>, got ${String(index.x[i])}`);
    if (!files.has(file)) files.set(file, (await readIdx(file)).data);
    const pixels = files.get(file)!;
    const offset = Number(record) * PIXELS;
    for (let p = 0; p < PIXELS; p++) x[i * PIXELS + p] = pixels[offset + p]! / 255;
    y[i] = Number(index.y[i]);
  }
  return { x, y, count };
}

/** The 10,000 Fashion-MNIST test images (dir: env FASHION_MNIST_DIR or the Debian location). */
export async function loadTestSet(dir?: string): Promise<ClassifierData> {
  const test = await loadFashionMnist('test', dir);
  return { x: test.images, y: test.labels, count: test.count };
}
