// The drifted camera of the incremental-learning example: the same garments photographed at night.
// A camera in low light collects fewer photons, so it
//   1. sees a scene EXPOSURE times as bright (the garment's reflectance x ∈ [0, 1] becomes s = EXPOSURE·x);
//   2. adds photon shot noise, Poisson with PHOTONS_AT_FULL_SCALE photons at full brightness
//      (approximated by a normal with variance s / PHOTONS_AT_FULL_SCALE, as usual for tens of photons);
//   3. adds the dark signal: thermal electrons (dark current, grown over the long exposure) and the
//      black-level offset, DARK_LEVEL on average, Poisson as well, so black is a noisy grey;
//   4. adds the sensor's read noise, normal with sd READ_NOISE (signal-independent);
//   5. amplifies everything by its auto-gain GAIN (which cannot reach 1 / EXPOSURE: the noise would
//      swamp the picture), then clips to [0, 1] and quantises to 8 bits as the sensor's ADC does.
// Deterministic: the noise of an image comes from a generator seeded by (DRIFT_SEED, the image's
// id), so an image looks the same in every run, in the stream, the Dataset and the test sets.
import { seededRandom, type Random } from '../../src/lib/random.ts';

export interface LowLightCamera {
  exposure: number;
  darkLevel: number;
  photonsAtFullScale: number;
  readNoise: number;
  gain: number;
  seed: number;
}

/** The night camera of the example (its severity is checked on validation: train-base-model.ts). */
export const NIGHT_CAMERA: LowLightCamera = { exposure: 0.25, darkLevel: 0.04, photonsAtFullScale: 40, readNoise: 0.03, gain: 1.8, seed: 13 };

/** Standard normal draws (Box–Muller) from a uniform generator. */
function normal(random: Random): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    const u = 1 - random();
    const v = random();
    const radius = Math.sqrt(-2 * Math.log(u));
    spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  };
}

/** A 32-bit mix of the drift seed and an image id, so neighbouring ids get unrelated noise. */
function imageSeed(seed: number, id: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ id;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * One image (pixels in [0, 1]) as the night camera takes it, written into `out` (8-bit levels / 255).
 * `id` names the image (its record in the Fashion-MNIST files, see data.ts) and fixes its noise.
 */
export function nightShot(pixels: ArrayLike<number>, id: number, out: Float32Array, camera: LowLightCamera = NIGHT_CAMERA): Float32Array {
  const gaussian = normal(seededRandom(imageSeed(camera.seed, id)));
  for (let i = 0; i < pixels.length; i++) {
    const signal = camera.exposure * pixels[i]! + camera.darkLevel;
    const shot = Math.sqrt(signal / camera.photonsAtFullScale) * gaussian();
    const read = camera.readNoise * gaussian();
    const amplified = camera.gain * (signal + shot + read);
    out[i] = Math.round(Math.min(1, Math.max(0, amplified)) * 255) / 255;
  }
  return out;
}

/** `count` images (row-major, `size` pixels each) through the night camera; ids[i] names image i. */
export function nightShots(images: Float32Array, ids: ArrayLike<number>, size: number, camera: LowLightCamera = NIGHT_CAMERA): Float32Array {
  const out = new Float32Array(images.length);
  for (let i = 0; i < ids.length; i++) nightShot(images.subarray(i * size, (i + 1) * size), ids[i]!, out.subarray(i * size, (i + 1) * size), camera);
  return out;
}
