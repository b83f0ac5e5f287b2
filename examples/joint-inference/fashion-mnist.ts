// Fashion-MNIST from the IDX gz files of Debian's dataset-fashion-mnist package.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readIdx } from '../../src/lib/datasources/idx.ts';

export const DEFAULT_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
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

/** The dataset folder: the argument, else env FASHION_MNIST_DIR, else the Debian location. */
export function fashionMnistDir(dir?: string): string {
  return dir ?? process.env['FASHION_MNIST_DIR'] ?? DEFAULT_FASHION_MNIST_DIR;
}

async function requireFolder(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new Error(
      `Fashion-MNIST folder ${dir} not found: run 'apt-get install dataset-fashion-mnist', ` +
        'or pass the folder holding the *-idx*-ubyte.gz files (argument or env FASHION_MNIST_DIR)',
    );
  }
}

/** Loads the 'train' (60,000) or 'test' (10,000) split. */
export async function loadFashionMnist(split: Split, dir?: string): Promise<FashionMnist> {
  const folder = fashionMnistDir(dir);
  await requireFolder(folder);
  const [images, labels] = await Promise.all([readIdx(join(folder, files[split].images)), readIdx(join(folder, files[split].labels))]);
  const [count = 0, rows, cols] = images.dims;
  if (rows !== IMAGE_SIZE || cols !== IMAGE_SIZE) throw new Error(`${files[split].images}: images are ${rows}x${cols}, expected 28x28`);
  if (labels.dims[0] !== count) throw new Error(`${split}: ${count} images but ${labels.dims[0]} labels`);
  const scaled = new Float32Array(images.data.length);
  for (let i = 0; i < scaled.length; i++) scaled[i] = (images.data[i] ?? 0) / 255;
  return { images: scaled, labels: labels.data, count };
}
