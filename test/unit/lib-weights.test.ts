// The binary weights codec (src/lib/weights.ts): round trips exactly (NaN, ±0, ±Infinity, denormals
// included), decodes aligned input as views without copying and unaligned input by copying,
// handles zero-size and scalar layers, and turns every kind of corruption into an error naming it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  cloneWeights,
  countParameters,
  decodeWeights,
  encodedByteLength,
  encodeWeights,
  sameShapes,
  type ModelWeights,
} from '../../src/lib/weights.ts';

function layer(shape: number[], values?: number[]): { shape: number[]; data: Float32Array } {
  const size = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float32Array.from(values ?? Array.from({ length: size }, (_, i) => i * 0.5 - 1)) };
}

function assertSameWeights(actual: ModelWeights, expected: ModelWeights): void {
  assert.equal(actual.length, expected.length);
  for (let l = 0; l < expected.length; l++) {
    assert.deepEqual(actual[l]!.shape, expected[l]!.shape);
    // Bitwise: NaN payloads and -0 must survive.
    assert.deepEqual(
      Buffer.from(actual[l]!.data.buffer, actual[l]!.data.byteOffset, actual[l]!.data.byteLength),
      Buffer.from(expected[l]!.data.buffer, expected[l]!.data.byteOffset, expected[l]!.data.byteLength),
    );
  }
}

const model: ModelWeights = [layer([2, 3]), layer([3]), layer([]), layer([0, 4], []), layer([1, 1, 2])];

describe('encodeWeights / decodeWeights', () => {
  it('round trips shapes and values, with the documented layout', () => {
    const encoded = encodeWeights(model);
    // magic 4 + count 4 + [2,3]: 4+8+24 + [3]: 4+4+12 + []: 4+0+4 + [0,4]: 4+8+0 + [1,1,2]: 4+12+8
    assert.equal(encoded.length, 8 + 36 + 20 + 8 + 12 + 24);
    assert.equal(encoded.length, encodedByteLength(model));
    assert.equal(encoded.subarray(0, 4).toString('latin1'), 'SDW1');
    assert.equal(encoded.readUInt32LE(4), 5);
    assert.equal(encoded.readUInt32LE(8), 2); // rank of layer 0
    assert.equal(encoded.readUInt32LE(12), 2);
    assert.equal(encoded.readUInt32LE(16), 3);
    assert.equal(encoded.readFloatLE(20), -1); // first value of layer 0
    assertSameWeights(decodeWeights(encoded), model);
  });

  it('keeps special float values bit for bit', () => {
    const special = [layer([6], [Number.NaN, -0, 0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-45])];
    const decoded = decodeWeights(encodeWeights(special));
    assertSameWeights(decoded, special);
    assert.ok(Object.is(decoded[0]!.data[1], -0));
  });

  it('handles a model with no layers and layers of size zero', () => {
    assert.deepEqual(decodeWeights(encodeWeights([])), []);
    const empty = [layer([0], []), layer([5, 0, 2], [])];
    const decoded = decodeWeights(encodeWeights(empty));
    assert.deepEqual(decoded.map((l) => l.shape), [[0], [5, 0, 2]]);
    assert.deepEqual(decoded.map((l) => l.data.length), [0, 0]);
  });

  it('returns views into aligned input without copying', () => {
    const encoded = encodeWeights(model);
    const decoded = decodeWeights(encoded);
    assert.equal(decoded[0]!.data.buffer, encoded.buffer);
    assert.equal(decoded[0]!.data.byteOffset, encoded.byteOffset + 20);
    encoded.writeFloatLE(42, 20);
    assert.equal(decoded[0]!.data[0], 42);
  });

  it('copies unaligned input (a frame header of odd length before the weights)', () => {
    const encoded = encodeWeights(model);
    const framed = new Uint8Array(encoded.length + 3);
    framed.set(encoded, 3);
    const view = framed.subarray(3);
    assert.notEqual(view.byteOffset % 4, 0);
    const decoded = decodeWeights(view);
    assertSameWeights(decoded, model);
    assert.notEqual(decoded[0]!.data.buffer, framed.buffer);
  });

  it('encodes float views that start inside a larger buffer', () => {
    const backing = new Float32Array([9, 1, 2, 3, 9]);
    const decoded = decodeWeights(encodeWeights([{ shape: [3], data: backing.subarray(1, 4) }]));
    assert.deepEqual([...decoded[0]!.data], [1, 2, 3]);
  });

  it('round trips arbitrary models (property)', () => {
    const arbLayer = fc
      .array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 })
      .chain((shape) => fc.float32Array({ minLength: shape.reduce((a, b) => a * b, 1), maxLength: shape.reduce((a, b) => a * b, 1) }).map((data) => ({ shape, data })));
    fc.assert(
      fc.property(fc.array(arbLayer, { maxLength: 5 }), (weights) => {
        assertSameWeights(decodeWeights(encodeWeights(weights)), weights);
      }),
    );
  });
});

describe('encodeWeights rejects inconsistent layers', () => {
  it('names the layer whose data does not fit its shape', () => {
    assert.throws(() => encodeWeights([layer([2]), { shape: [2, 2], data: new Float32Array(3) }]), /layer 1: shape \[2, 2\] holds 4 values but data has 3/);
  });

  it('names a dimension that is not a uint32', () => {
    assert.throws(() => encodeWeights([{ shape: [-1], data: new Float32Array(0) }]), /layer 0: shape \[-1\] has a dimension that is not a uint32/);
    assert.throws(() => encodeWeights([{ shape: [1.5], data: new Float32Array(1) }]), /not a uint32/);
  });
});

describe('decodeWeights rejects corruption with a clear error', () => {
  const good = encodeWeights([layer([2, 3]), layer([4])]);
  const corrupt = (edit: (b: Buffer) => void): Buffer => {
    const copy = Buffer.from(good);
    edit(copy);
    return copy;
  };

  it('an empty buffer', () => {
    assert.throws(() => decodeWeights(new Uint8Array(0)), /bad magic \(expected "SDW1", got an empty buffer\)/);
  });

  it('a wrong magic (e.g. a JSON body)', () => {
    assert.throws(() => decodeWeights(Buffer.from('{"weights":[1,2]}')), /bad magic \(expected "SDW1", got bytes 7b227765\)/);
  });

  it('a buffer cut inside the layer count', () => {
    assert.throws(() => decodeWeights(good.subarray(0, 6)), /truncated: layer count needs 4 bytes at offset 4, 2 left/);
  });

  it('a layer count larger than the buffer can hold', () => {
    assert.throws(() => decodeWeights(corrupt((b) => b.writeUInt32LE(1_000_000, 4))), /1000000 layers announced but only \d+ bytes follow/);
  });

  it('a buffer cut inside a shape', () => {
    // layer 0: rank at 8, dims at 12 and 16: cut after the first dim.
    assert.throws(() => decodeWeights(good.subarray(0, 16)), /truncated: layer 0 dimension 1 needs 4 bytes/);
  });

  it('a buffer cut inside the data', () => {
    assert.throws(() => decodeWeights(good.subarray(0, good.length - 4)), /truncated: layer 1 shape \[4\] needs 16 bytes, 12 left/);
  });

  it('a corrupt rank', () => {
    assert.throws(() => decodeWeights(corrupt((b) => b.writeUInt32LE(0xffffffff, 8))), /layer 0 rank 4294967295 exceeds 32/);
  });

  it('a corrupt dimension that announces more data than there is', () => {
    assert.throws(() => decodeWeights(corrupt((b) => b.writeUInt32LE(0xffffffff, 12))), /truncated: layer 0 shape \[4294967295, 3\] needs \d+ bytes/);
  });

  it('trailing bytes after the last layer', () => {
    assert.throws(() => decodeWeights(Buffer.concat([good, Buffer.alloc(4)])), /4 trailing bytes after 2 layers/);
  });

  it('fuzzed bytes: every failure is a RangeError, never a crash or a silent wrong shape', () => {
    fc.assert(
      fc.property(fc.nat({ max: good.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, byte) => {
        const bytes = Buffer.from(good);
        bytes[at] = byte;
        try {
          const decoded = decodeWeights(bytes);
          assert.equal(encodeWeights(decoded).length, bytes.length);
        } catch (err) {
          assert.ok(err instanceof RangeError, String(err));
        }
      }),
    );
  });
});

describe('helpers', () => {
  it('cloneWeights copies shapes and data', () => {
    const copy = cloneWeights(model);
    assertSameWeights(copy, model);
    copy[0]!.data[0] = 99;
    copy[0]!.shape[0] = 7;
    assert.equal(model[0]!.data[0], -1);
    assert.equal(model[0]!.shape[0], 2);
  });

  it('sameShapes compares layer count and every dimension', () => {
    assert.ok(sameShapes(model, cloneWeights(model)));
    assert.ok(!sameShapes(model, model.slice(1)));
    assert.ok(!sameShapes([layer([2, 3])], [layer([3, 2])]));
    assert.ok(!sameShapes([layer([6])], [layer([6, 1])]));
  });

  it('countParameters sums the layers', () => {
    assert.equal(countParameters(model), 6 + 3 + 1 + 0 + 2);
  });
});
