// What the scenario's unseen-sample detector compares: a camera shows in an image's statistics,
// not in which garment it holds. Per image, 23 values: a 16-bin histogram of pixel values
// (lighting, glare); sensor-grain measures (the share of black pixels in the image and in its
// 3-pixel frame, where a garment seldom reaches so grain shows there; the mean absolute difference
// between horizontal and between vertical neighbours); and the intensity's second moments about
// its centre (spread along rows, along columns, and their ratio), which say which way the garment
// lies, so a turned mount shows. Few values on purpose: a nearest-neighbour distance over many
// garment-specific values (row profiles, raw pixels) drowns the camera's signature.
import { IMAGE_SIZE } from '../joint-inference/fashion-mnist.ts';

const BINS = 16;
const FRAME = 3;
const GRAIN = BINS;
const MOMENTS = BINS + 4;
export const IMAGE_STATISTICS = MOMENTS + 3;

export function imageStatistics(image: ArrayLike<number>): Float32Array {
  const out = new Float32Array(IMAGE_STATISTICS);
  const pixels = IMAGE_SIZE * IMAGE_SIZE;
  const neighbours = IMAGE_SIZE * (IMAGE_SIZE - 1);
  const framePixels = pixels - (IMAGE_SIZE - 2 * FRAME) ** 2;
  let mass = 0;
  let [sumR, sumC, sumRR, sumCC] = [0, 0, 0, 0];
  for (let r = 0; r < IMAGE_SIZE; r++) {
    for (let c = 0; c < IMAGE_SIZE; c++) {
      const v = image[r * IMAGE_SIZE + c]!;
      out[Math.min(BINS - 1, Math.max(0, Math.floor(v * BINS)))]! += 1 / pixels;
      if (v < 1 / 255) out[GRAIN]! += 1 / pixels;
      if (v < 1 / 255 && inFrame(r, c)) out[GRAIN + 1]! += 1 / framePixels;
      if (c + 1 < IMAGE_SIZE) out[GRAIN + 2]! += Math.abs(v - image[r * IMAGE_SIZE + c + 1]!) / neighbours;
      if (r + 1 < IMAGE_SIZE) out[GRAIN + 3]! += Math.abs(v - image[(r + 1) * IMAGE_SIZE + c]!) / neighbours;
      mass += v;
      sumR += v * r;
      sumC += v * c;
      sumRR += v * r * r;
      sumCC += v * c * c;
    }
  }
  const m = Math.max(mass, 1e-6);
  const spreadRows = Math.sqrt(Math.max(0, sumRR / m - (sumR / m) ** 2)) / IMAGE_SIZE;
  const spreadColumns = Math.sqrt(Math.max(0, sumCC / m - (sumC / m) ** 2)) / IMAGE_SIZE;
  out[MOMENTS] = spreadRows;
  out[MOMENTS + 1] = spreadColumns;
  out[MOMENTS + 2] = Math.log((spreadRows + 1e-3) / (spreadColumns + 1e-3));
  return out;
}

function inFrame(r: number, c: number): boolean {
  return r < FRAME || c < FRAME || r >= IMAGE_SIZE - FRAME || c >= IMAGE_SIZE - FRAME;
}
