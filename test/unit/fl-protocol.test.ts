// The federated-learning wire protocol: text control frames in Sedna's envelope, binary weights
// frames (uint32 LE header length, JSON header, SDW1 weights), and the validation errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeFrame,
  encodeControl,
  encodeWeightsFrame,
  parseControl,
  ProtocolError,
  type RecvWeightHeader,
  type UpdateWeightHeader,
} from '../../src/features/federatedlearning/protocol.ts';
import { encodeWeights, type ModelWeights } from '../../src/lib/weights.ts';

const WEIGHTS: ModelWeights = [
  { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
  { shape: [3], data: Float32Array.from([0.5, -0.25, 7]) },
];

const UPDATE: UpdateWeightHeader = { type: 'update_weight', client: 'edge-1', job_name: 'fl-job', data: { num_samples: 42, round: 1, metrics: { loss: 0.5 } } };

function expectProtocolError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ProtocolError, `expected a ProtocolError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('weights frames', () => {
  it('round-trips the header and the weights', () => {
    const frame = encodeWeightsFrame(UPDATE, WEIGHTS);
    const decoded = decodeFrame(frame, true);
    assert.equal(decoded.kind, 'weights');
    if (decoded.kind !== 'weights') return;
    assert.deepEqual(decoded.header, UPDATE);
    assert.deepEqual(decoded.weights.map((l) => l.shape), [[2, 3], [3]]);
    assert.deepEqual(Array.from(decoded.weights[0]!.data), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(Array.from(decoded.weights[1]!.data), [0.5, -0.25, 7]);
  });

  it('lays the frame out as length, padded header, SDW1 weights, 4-byte aligned', () => {
    const header: RecvWeightHeader = { type: 'recv_weight', job_name: 'j', round_number: 2, data: { total_sample: 9, round_number: 2, exit_flag: 'continue', clients: ['a'] } };
    const frame = encodeWeightsFrame(header, WEIGHTS);
    const headerLength = frame.readUInt32LE(0);
    assert.equal((4 + headerLength) % 4, 0);
    assert.deepEqual(JSON.parse(frame.toString('utf8', 4, 4 + headerLength)), header);
    assert.equal(frame.toString('latin1', 4 + headerLength, 8 + headerLength), 'SDW1');
    assert.deepEqual(frame.subarray(4 + headerLength), encodeWeights(WEIGHTS));
  });

  it('decodes into views of the frame, without copying the floats', () => {
    const frame = encodeWeightsFrame(UPDATE, WEIGHTS);
    const decoded = decodeFrame(frame, true);
    assert.ok(decoded.kind === 'weights');
    assert.equal(decoded.weights[0]!.data.buffer, frame.buffer);
  });

  it('refuses a truncated frame, naming what is missing', () => {
    const frame = encodeWeightsFrame(UPDATE, WEIGHTS);
    expectProtocolError(() => decodeFrame(frame.subarray(0, 2), true), /shorter than its 4-byte header length/);
    expectProtocolError(() => decodeFrame(frame.subarray(0, 20), true), /truncated: header of \d+ bytes declared/);
    expectProtocolError(() => decodeFrame(frame.subarray(0, frame.length - 3), true), /update_weight weights: .*truncated/);
  });

  it('refuses wrong magic, a non-JSON header and a header of another type', () => {
    const frame = Buffer.from(encodeWeightsFrame(UPDATE, WEIGHTS));
    const headerLength = frame.readUInt32LE(0);
    const badMagic = Buffer.from(frame);
    badMagic.write('XXXX', 4 + headerLength, 'latin1');
    expectProtocolError(() => decodeFrame(badMagic, true), /bad magic/);
    const badJson = Buffer.from(frame);
    badJson.write('{', 5, 'latin1');
    expectProtocolError(() => decodeFrame(badJson, true), /binary frame header is not JSON/);
    const hugeHeader = Buffer.from(frame);
    hugeHeader.writeUInt32LE(0x7fffffff, 0);
    expectProtocolError(() => decodeFrame(hugeHeader, true), /not a weights frame/);
    const subscribeAsBinary = encodeWeightsFrame({ ...UPDATE, type: 'subscribe' } as unknown as UpdateWeightHeader, WEIGHTS);
    expectProtocolError(() => decodeFrame(subscribeAsBinary, true), /binary frames carry update_weight/);
  });

  it('validates header fields by name', () => {
    const bad = (data: Record<string, unknown>) => encodeWeightsFrame({ ...UPDATE, data } as unknown as UpdateWeightHeader, WEIGHTS);
    expectProtocolError(() => decodeFrame(bad({ num_samples: -1, round: 1 }), true), /update_weight\.data\.num_samples must be a non-negative integer/);
    expectProtocolError(() => decodeFrame(bad({ num_samples: 3, round: 1.5 }), true), /update_weight\.data\.round/);
    expectProtocolError(() => decodeFrame(bad({ num_samples: 3, round: 1, metrics: { loss: 'x' } }), true), /metrics\.loss must be a number/);
    const noClient = encodeWeightsFrame({ ...UPDATE, client: '' }, WEIGHTS);
    expectProtocolError(() => decodeFrame(noClient, true), /update_weight\.client must be a non-empty string/);
    const badExit = encodeWeightsFrame({ type: 'recv_weight', job_name: 'j', round_number: 1, data: { total_sample: 1, round_number: 1, exit_flag: 'maybe', clients: [] } } as unknown as RecvWeightHeader, WEIGHTS);
    expectProtocolError(() => decodeFrame(badExit, true), /exit_flag must be "ok" or "continue"/);
  });
});

describe('control frames', () => {
  it('round-trips subscribe, subscribe_ack, CLIENT_JOIN and error', () => {
    const messages = [
      { type: 'subscribe', client_id: 'edge-1', client: 'edge-1', job_name: 'j' },
      { type: 'subscribe_ack', data: { client_id: 'edge-1', round: 2, exit_round: 5, participants: 3, has_weights: true, proximal_mu: 0.01 } },
      { type: 'CLIENT_JOIN', data: 'edge-2' },
      { type: 'error', data: { message: 'nope' } },
    ] as const;
    for (const message of messages) {
      const decoded = decodeFrame(Buffer.from(encodeControl(message)), false);
      assert.deepEqual(decoded, { kind: 'control', message });
    }
  });

  it("takes Sedna's subscribe with the id in `client` only", () => {
    const message = parseControl(JSON.stringify({ type: 'subscribe', client: 'edge-9' }));
    assert.equal(message.type === 'subscribe' && message.client_id, 'edge-9');
  });

  it('refuses weights as text, unknown types, non-JSON and missing fields', () => {
    expectProtocolError(() => parseControl(JSON.stringify({ type: 'update_weight', data: { weights: [[1, 2]] } })), /must be a binary frame/);
    expectProtocolError(() => parseControl(JSON.stringify({ type: 'nonsense' })), /unknown message type "nonsense"/);
    expectProtocolError(() => parseControl('not json'), /text frame is not JSON/);
    expectProtocolError(() => parseControl('[1]'), /must be a JSON object/);
    expectProtocolError(() => parseControl('{"data": 1}'), /no string field "type"/);
    expectProtocolError(() => parseControl(JSON.stringify({ type: 'subscribe' })), /non-empty string "client_id"/);
    expectProtocolError(() => parseControl(JSON.stringify({ type: 'subscribe_ack', data: { client_id: 'a', round: 0, exit_round: 3, participants: 1 } })), /has_weights must be a boolean/);
  });

  it('accepts fragmented and ArrayBuffer frames as ws hands them over', () => {
    const frame = encodeWeightsFrame(UPDATE, WEIGHTS);
    const fromChunks = decodeFrame([frame.subarray(0, 7), frame.subarray(7)], true);
    assert.ok(fromChunks.kind === 'weights');
    const arrayBuffer = frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.length) as ArrayBuffer;
    const fromArrayBuffer = decodeFrame(arrayBuffer, true);
    assert.ok(fromArrayBuffer.kind === 'weights');
    assert.deepEqual(Array.from(fromArrayBuffer.weights[1]!.data), [0.5, -0.25, 7]);
  });
});
