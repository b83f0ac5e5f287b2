// Fashion-MNIST from its four IDX gz files, found (or downloaded) by examples/shared/fashion-mnist-files.ts.
import { join } from 'node:path';
import { readIdx } from '../../src/lib/datasources/idx.ts';
import { locateFashionMnist } from '../shared/fashion-mnist-files.ts';

export const IMAGE_SIZE = 28;
export const PIXELS = IMAGE_SIZE * IMAGE_SIZE;
export const CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

export type Split = 'train' | 'test';

export interface FashionMnist {
  /** count×784 pixels, row-major per image, scaled to 0..1. */
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

const files: Record<Split, { images: string; labels: string }> = {
  train: { images: 'train-images-idx3-ubyte.gz', labels: 'train-labels-idx1-ubyte.gz' },
  test: { images: 't10k-images-idx3-ubyte.gz', labels: 't10k-labels-idx1-ubyte.gz' },
};

/**
 * The folder holding the files: the argument, else env FASHION_MNIST_DIR, else Debian's location,
 * else the user cache (downloading into it when the files are nowhere).
 */
export function fashionMnistDir(dir?: string): Promise<string> {
  if (dir !== undefined) return locateFashionMnist({ dir });
  // One look-up (and at most one download) per process, however many loads run at once.
  located ??= locateFashionMnist();
  return located;
}

let located: Promise<string> | undefined;

/** Loads the 'train' (60,000) or 'test' (10,000) split. */
export async function loadFashionMnist(split: Split, dir?: string): Promise<FashionMnist> {
  const folder = await fashionMnistDir(dir);
  const [images, labels] = await Promise.all([readIdx(join(folder, files[split].images)), readIdx(join(folder, files[split].labels))]);
  const [count = 0, rows, cols] = images.dims;
  if (rows !== IMAGE_SIZE || cols !== IMAGE_SIZE) throw new Error(`${files[split].images}: images are ${rows}x${cols}, expected 28x28`);
  if (labels.dims[0] !== count) throw new Error(`${split}: ${count} images but ${labels.dims[0]} labels`);
  const scaled = new Float32Array(images.data.length);
  for (let i = 0; i < scaled.length; i++) scaled[i] = (images.data[i] ?? 0) / 255;
  return { images: scaled, labels: labels.data, count };
}

/** The images and labels of `records`, in that order. */
export function selectRecords(data: FashionMnist, records: ArrayLike<number>): FashionMnist {
  const images = new Float32Array(records.length * PIXELS);
  const labels = new Uint8Array(records.length);
  for (let i = 0; i < records.length; i++) {
    const source = records[i]!;
    images.set(data.images.subarray(source * PIXELS, (source + 1) * PIXELS), i * PIXELS);
    labels[i] = data.labels[source]!;
  }
  return { images, labels, count: records.length };
}
