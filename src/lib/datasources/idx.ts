// The IDX binary format of MNIST / Fashion-MNIST (`*-idx3-ubyte`, `*-idx1-ubyte`, optionally
// gzipped): magic `00 00 <type> <ndims>`, then ndims big-endian uint32 sizes, then the data.
// Only unsigned bytes (type 0x08) are read, which is what those sets use.
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';

export class IdxFormatError extends Error {
  override readonly name = 'IdxFormatError';
}

const UNSIGNED_BYTE = 0x08;

export interface IdxData {
  dims: number[];
  data: Uint8Array;
}

/** Reads an IDX file; gzip is recognised by its magic bytes, not the file name. */
export async function readIdx(path: string): Promise<IdxData> {
  const raw = await readFile(path);
  let bytes: Buffer;
  try {
    bytes = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
  } catch (err) {
    throw new IdxFormatError(`${path}: not a valid gzip file (${(err as Error).message})`);
  }
  return decodeIdx(bytes, path);
}

export function decodeIdx(bytes: Uint8Array, source = 'IDX data'): IdxData {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) throw new IdxFormatError(`${source}: not an IDX file (the magic number must start with two zero bytes)`);
  const type = bytes[2] ?? 0;
  if (type !== UNSIGNED_BYTE) throw new IdxFormatError(`${source}: data type 0x${type.toString(16).padStart(2, '0')} is not supported (only 0x08, unsigned byte)`);
  const ndims = bytes[3] ?? 0;
  if (ndims === 0) throw new IdxFormatError(`${source}: the header declares zero dimensions`);
  const headerLength = 4 + 4 * ndims;
  if (bytes.length < headerLength) throw new IdxFormatError(`${source}: truncated header (${ndims} dimensions need ${headerLength} bytes, the file has ${bytes.length})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((product, d) => product * d, 1);
  const actual = bytes.length - headerLength;
  if (actual !== expected) throw new IdxFormatError(`${source}: dimensions ${dims.join('×')} need ${expected} data bytes, the file has ${actual}`);
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerLength, actual) };
}

/** The IDX bytes of unsigned-byte data with these dimensions (decodeIdx's inverse). */
export function encodeIdx({ dims, data }: IdxData): Uint8Array {
  const expected = dims.reduce((product, d) => product * d, 1);
  if (dims.length === 0 || dims.length > 255) throw new RangeError(`IDX: 1..255 dimensions, got ${dims.length}`);
  if (data.length !== expected) throw new RangeError(`IDX: dimensions ${dims.join('×')} need ${expected} data bytes, got ${data.length}`);
  const bytes = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(bytes.buffer);
  bytes[2] = UNSIGNED_BYTE;
  bytes[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  bytes.set(data, 4 + 4 * dims.length);
  return bytes;
}
