// A small, strict reader for the protobuf wire format: enough to walk the messages client-go
// marshals (proto2, gogo-generated). Anything malformed or cut short throws ProtobufWireError;
// nothing is guessed.
//
// Kept instead of protobufjs (8.8.1): its Reader reads a varint past 64 bits as 2^64-1, a field
// key past 32 bits as field 0, and invalid UTF-8 as U+FFFD, and its reflection decoder drops
// unknown fields silently, where the API server must answer 415 naming the field (all pinned by
// test/unit/protobuf.test.ts). Kubernetes' generated.proto files are on no npm package, so the
// descriptors stay the tables in descriptors.ts.

export class ProtobufWireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtobufWireError';
  }
}

export const WireType = {
  Varint: 0,
  Fixed64: 1,
  LengthDelimited: 2,
  StartGroup: 3,
  EndGroup: 4,
  Fixed32: 5,
} as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

export interface FieldTag {
  field: number;
  wireType: WireType;
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export class WireReader {
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  get offset(): number {
    return this.pos;
  }

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  /** An unsigned varint of up to 64 bits. */
  varint(): bigint {
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new ProtobufWireError(`truncated varint at byte ${this.pos}`);
      const byte = this.buf[this.pos++]!;
      if (i === 9 && byte > 1) throw new ProtobufWireError(`varint longer than 64 bits at byte ${this.pos - 1}`);
      result |= BigInt(byte & 0x7f) << BigInt(7 * i);
      if ((byte & 0x80) === 0) return result;
    }
    throw new ProtobufWireError(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  /** A varint that must fit a JavaScript number unsigned (tags, lengths). */
  private smallVarint(what: string): number {
    const v = this.varint();
    if (v > 0xffffffffn) throw new ProtobufWireError(`${what} ${v} is out of range at byte ${this.pos}`);
    return Number(v);
  }

  tag(): FieldTag {
    const key = this.smallVarint('field key');
    const field = key >>> 3;
    const wireType = key & 7;
    if (field === 0) throw new ProtobufWireError(`field number 0 at byte ${this.pos}`);
    if (wireType > 5) throw new ProtobufWireError(`invalid wire type ${wireType} at byte ${this.pos}`);
    return { field, wireType: wireType as WireType };
  }

  /** int32: negative values arrive sign-extended to 64 bits. */
  int32(): number {
    return Number(BigInt.asIntN(32, this.varint()));
  }

  /** int64: a number when it is a safe integer, otherwise its decimal string. */
  int64(): number | string {
    const v = BigInt.asIntN(64, this.varint());
    return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v.toString();
  }

  bool(): boolean {
    return this.varint() !== 0n;
  }

  /** The payload of a length-delimited field, as a view on the input. */
  bytes(): Uint8Array {
    const length = this.smallVarint('length');
    if (length > this.buf.length - this.pos) {
      throw new ProtobufWireError(`truncated field: ${length} bytes declared at byte ${this.pos}, ${this.buf.length - this.pos} left`);
    }
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  string(): string {
    const raw = this.bytes();
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw new ProtobufWireError(`string field is not valid UTF-8 at byte ${this.pos - raw.length}`);
    }
  }

  private advance(n: number): void {
    if (n > this.buf.length - this.pos) throw new ProtobufWireError(`truncated fixed-width field at byte ${this.pos}`);
    this.pos += n;
  }

  /** Steps over one field's value of the given wire type. Groups are refused (proto2 groups are unused by Kubernetes). */
  skip(wireType: WireType): void {
    switch (wireType) {
      case WireType.Varint:
        this.varint();
        return;
      case WireType.Fixed64:
        this.advance(8);
        return;
      case WireType.LengthDelimited:
        this.bytes();
        return;
      case WireType.Fixed32:
        this.advance(4);
        return;
      default:
        throw new ProtobufWireError(`unsupported wire type ${wireType} (groups) at byte ${this.pos}`);
    }
  }
}
