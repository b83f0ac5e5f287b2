// Decodes Kubernetes protobuf request bodies (application/vnd.kubernetes.protobuf) into the JSON
// object the same client would have sent as JSON: the 4-byte magic "k8s\0", a runtime.Unknown
// envelope naming apiVersion/kind, and the object's own message in its `raw` field.
//
// Decoding is driven by the descriptors in descriptors.ts and never loses data silently: a field
// number they do not list, or a kind without a descriptor, is a 415 telling the client to send
// JSON instead. Malformed bytes are a 400.
import type { KubeObject } from '../../api/meta.ts';
import { badRequest, StatusError } from '../errors.ts';
import { type FieldDescriptor, kindDescriptor, type MessageDescriptor, messageDescriptor, type SpecialKind, supportedKinds } from './descriptors.ts';
import { ProtobufWireError, WireReader, WireType } from './wire.ts';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

const MAGIC = [0x6b, 0x38, 0x73, 0x00] as const;
const USE_JSON = 'send this object as JSON instead (for example `kubectl create -f` or `kubectl apply -f` with a manifest)';

function unsupported(message: string): StatusError {
  return new StatusError(415, 'UnsupportedMediaType', `${message}; ${USE_JSON}`);
}

interface Envelope {
  apiVersion: string;
  kind: string;
  raw: Uint8Array;
  contentEncoding: string;
  contentType: string;
}

/** runtime.Unknown { TypeMeta typeMeta = 1; bytes raw = 2; string contentEncoding = 3; string contentType = 4; } */
function decodeEnvelope(buf: Uint8Array): Envelope {
  const env: Envelope = { apiVersion: '', kind: '', raw: new Uint8Array(0), contentEncoding: '', contentType: '' };
  const r = new WireReader(buf);
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (wireType !== WireType.LengthDelimited || field > 4) {
      throw unsupported(`protobuf field ${field} (wire type ${wireType}) of the runtime.Unknown envelope is not supported`);
    }
    if (field === 1) {
      const tm = new WireReader(r.bytes());
      while (!tm.done()) {
        const t = tm.tag();
        if (t.wireType !== WireType.LengthDelimited || t.field > 2) {
          throw unsupported(`protobuf field ${t.field} (wire type ${t.wireType}) of the envelope's TypeMeta is not supported`);
        }
        if (t.field === 1) env.apiVersion = tm.string();
        else env.kind = tm.string();
      }
    } else if (field === 2) env.raw = r.bytes();
    else if (field === 3) env.contentEncoding = r.string();
    else env.contentType = r.string();
  }
  return env;
}

export function decodeKubernetesProtobuf(body: Buffer, expected: { apiVersion: string; kind: string }): KubeObject {
  if (body.length < MAGIC.length || MAGIC.some((b, i) => body[i] !== b)) {
    throw badRequest(`the ${PROTOBUF_MEDIA_TYPE} body does not start with the Kubernetes protobuf prefix "k8s\\x00"`);
  }
  try {
    const env = decodeEnvelope(body.subarray(MAGIC.length));
    if (env.contentEncoding !== '') throw unsupported(`protobuf content encoding ${JSON.stringify(env.contentEncoding)} is not supported`);
    if (env.contentType !== '' && env.contentType !== PROTOBUF_MEDIA_TYPE) {
      throw unsupported(`protobuf envelope content type ${JSON.stringify(env.contentType)} is not supported`);
    }
    const apiVersion = env.apiVersion || expected.apiVersion;
    const kind = env.kind || expected.kind;
    const desc = kindDescriptor(apiVersion, kind);
    if (!desc) {
      if (apiVersion !== expected.apiVersion) {
        throw badRequest(`the API version in the data (${apiVersion}) does not match the expected API version (${expected.apiVersion})`);
      }
      if (kind !== expected.kind) throw badRequest(`the kind in the data (${kind}) does not match the expected kind (${expected.kind})`);
      throw unsupported(
        `this server cannot decode ${apiVersion} ${kind} from ${PROTOBUF_MEDIA_TYPE} (protobuf is accepted for ${supportedKinds().join(', ')})`,
      );
    }
    const obj = decodeMessage(env.raw, desc, '');
    return { apiVersion, kind, ...obj } as KubeObject;
  } catch (err) {
    if (err instanceof ProtobufWireError) throw badRequest(`error decoding ${PROTOBUF_MEDIA_TYPE} body: ${err.message}`);
    throw err;
  }
}

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function child(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

/** Decodes one message into `target` (merging, as protobuf does when a message field repeats). */
function decodeMessage(buf: Uint8Array, desc: MessageDescriptor, path: string, target: JsonObject = {}): JsonObject {
  const r = new WireReader(buf);
  while (!r.done()) {
    const { field, wireType } = r.tag();
    const fd = desc.fields.get(field);
    if (!fd) {
      throw unsupported(`protobuf field ${field} of ${desc.name}${path ? ` (at ${path})` : ''} is not supported by this server`);
    }
    decodeField(r, wireType, fd, desc, path, target);
  }
  return target;
}

const NUMERIC = new Set(['int32', 'int64', 'bool']);

function expectedWireType(fd: FieldDescriptor): number {
  if (fd.map || fd.value.kind !== 'scalar') return WireType.LengthDelimited;
  return NUMERIC.has(fd.value.scalar) ? WireType.Varint : WireType.LengthDelimited;
}

function decodeField(r: WireReader, wireType: number, fd: FieldDescriptor, desc: MessageDescriptor, path: string, target: JsonObject): void {
  const where = fd.inline ? path : child(path, fd.name);
  const want = expectedWireType(fd);
  const packed = fd.repeated && want === WireType.Varint && wireType === WireType.LengthDelimited;
  if (wireType !== want && !packed) {
    throw new ProtobufWireError(`field ${fd.number} of ${desc.name} (${where}) has wire type ${wireType}, expected ${want}`);
  }

  if (fd.map) {
    const entries = isObject(target[fd.name]) ? (target[fd.name] as JsonObject) : (target[fd.name] = {} as JsonObject);
    const [key, value] = decodeMapEntry(r.bytes(), fd, where);
    entries[key] = value;
    return;
  }

  if (fd.value.kind === 'message') {
    const sub = messageDescriptor(fd.value.message);
    const bytes = r.bytes();
    if (fd.inline) {
      decodeMessage(bytes, sub, path, target);
    } else if (fd.repeated) {
      const list = Array.isArray(target[fd.name]) ? (target[fd.name] as unknown[]) : (target[fd.name] = [] as unknown[]);
      list.push(decodeMessage(bytes, sub, `${where}[${list.length}]`));
    } else {
      const existing = target[fd.name];
      target[fd.name] = decodeMessage(bytes, sub, where, isObject(existing) ? existing : {});
    }
    return;
  }

  if (fd.value.kind === 'special') {
    const value = decodeSpecial(r.bytes(), fd.value.special, where);
    if (fd.repeated) {
      const list = Array.isArray(target[fd.name]) ? (target[fd.name] as unknown[]) : (target[fd.name] = [] as unknown[]);
      list.push(value);
    } else target[fd.name] = value;
    return;
  }

  const scalar = fd.value.scalar;
  if (fd.repeated) {
    const list = Array.isArray(target[fd.name]) ? (target[fd.name] as unknown[]) : (target[fd.name] = [] as unknown[]);
    if (packed) {
      const inner = new WireReader(r.bytes());
      while (!inner.done()) list.push(readScalar(inner, scalar));
    } else list.push(readScalar(r, scalar));
    return;
  }
  const value = readScalar(r, scalar);
  // Go's omitempty: a zero value in a non-pointer field is left out of the JSON.
  if (!fd.keepZero && (value === '' || value === 0 || value === false)) delete target[fd.name];
  else target[fd.name] = value;
}

function readScalar(r: WireReader, scalar: 'string' | 'bytes' | 'int32' | 'int64' | 'bool'): unknown {
  switch (scalar) {
    case 'string':
      return r.string();
    case 'bytes':
      return Buffer.from(r.bytes()).toString('base64');
    case 'int32':
      return r.int32();
    case 'int64':
      return r.int64();
    case 'bool':
      return r.bool();
  }
}

/** A map entry message: key = 1 (string), value = 2. */
function decodeMapEntry(buf: Uint8Array, fd: FieldDescriptor, path: string): [string, unknown] {
  const r = new WireReader(buf);
  let key = '';
  let value: unknown;
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) key = r.string();
    else if (field === 2) {
      const v = fd.value;
      if (v.kind === 'scalar') {
        const want = NUMERIC.has(v.scalar) ? WireType.Varint : WireType.LengthDelimited;
        if (wireType !== want) throw new ProtobufWireError(`map entry of ${path} has value wire type ${wireType}, expected ${want}`);
        value = readScalar(r, v.scalar);
      } else {
        if (wireType !== WireType.LengthDelimited) throw new ProtobufWireError(`map entry of ${path} has value wire type ${wireType}, expected 2`);
        value = v.kind === 'special' ? decodeSpecial(r.bytes(), v.special, `${path}[${JSON.stringify(key)}]`) : decodeMessage(r.bytes(), messageDescriptor(v.message), `${path}[${JSON.stringify(key)}]`);
      }
    } else throw unsupported(`protobuf field ${field} (wire type ${wireType}) of a map entry in ${path} is not supported`);
  }
  if (value === undefined) value = zeroOf(fd);
  return [key, value];
}

function zeroOf(fd: FieldDescriptor): unknown {
  const v = fd.value;
  if (v.kind === 'message') return {};
  if (v.kind === 'special') return v.special === 'Quantity' ? '0' : null;
  return v.scalar === 'string' || v.scalar === 'bytes' ? '' : v.scalar === 'bool' ? false : 0;
}

// --- apimachinery special types ------------------------------------------------------------

/** Reads a tiny fixed-layout message, refusing any field outside `allowed` (number -> expected wire type). */
function readFields(buf: Uint8Array, typeName: string, path: string, allowed: Record<number, number>, read: (field: number, r: WireReader) => void): void {
  const r = new WireReader(buf);
  while (!r.done()) {
    const { field, wireType } = r.tag();
    const want = allowed[field];
    if (want === undefined) throw unsupported(`protobuf field ${field} of ${typeName} (at ${path}) is not supported by this server`);
    if (wireType !== want) throw new ProtobufWireError(`field ${field} of ${typeName} (${path}) has wire type ${wireType}, expected ${want}`);
    read(field, r);
  }
}

/** Decodes one of the apimachinery special types to its JSON form (exported for tests). */
export function decodeSpecial(buf: Uint8Array, kind: SpecialKind, path: string): unknown {
  switch (kind) {
    case 'Time':
    case 'MicroTime':
      return decodeTime(buf, kind, path);
    case 'IntOrString': {
      // { int64 type = 1; int32 intVal = 2; string strVal = 3; } -- type 0 is Int, 1 is String
      let type: number | string = 0;
      let intVal = 0;
      let strVal = '';
      readFields(buf, 'intstr IntOrString', path, { 1: WireType.Varint, 2: WireType.Varint, 3: WireType.LengthDelimited }, (f, r) => {
        if (f === 1) type = r.int64();
        else if (f === 2) intVal = r.int32();
        else strVal = r.string();
      });
      if (type === 0) return intVal;
      if (type === 1) return strVal;
      throw badRequest(`${path}: IntOrString type ${String(type)} is neither 0 (int) nor 1 (string)`);
    }
    case 'Quantity': {
      // { string string = 1; }
      let s = '';
      readFields(buf, 'resource Quantity', path, { 1: WireType.LengthDelimited }, (_f, r) => (s = r.string()));
      return s;
    }
    case 'FieldsV1': {
      // { bytes Raw = 1; } holding JSON
      let raw: Uint8Array = new Uint8Array(0);
      readFields(buf, 'meta/v1 FieldsV1', path, { 1: WireType.LengthDelimited }, (_f, r) => (raw = r.bytes()));
      try {
        return JSON.parse(Buffer.from(raw).toString('utf8')) as unknown;
      } catch (err) {
        throw badRequest(`${path}: FieldsV1 does not hold JSON: ${(err as Error).message}`);
      }
    }
  }
}

/**
 * meta/v1 Time / MicroTime { int64 seconds = 1; int32 nanos = 2; }. An empty message is the zero time,
 * which Go writes to JSON as null. Otherwise RFC 3339 in UTC: whole seconds for Time, microseconds
 * for MicroTime.
 */
function decodeTime(buf: Uint8Array, kind: 'Time' | 'MicroTime', path: string): string | null {
  if (buf.length === 0) return null;
  let seconds: number | string = 0;
  let nanos = 0;
  readFields(buf, `meta/v1 ${kind}`, path, { 1: WireType.Varint, 2: WireType.Varint }, (f, r) => {
    if (f === 1) seconds = r.int64();
    else nanos = r.int32();
  });
  const ms = typeof seconds === 'number' ? seconds * 1000 : Number.NaN;
  // 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z, as RFC 3339 allows
  if (!(ms >= -62135596800000 && ms <= 253402300799000) || nanos < 0 || nanos > 999_999_999) {
    throw badRequest(`${path}: ${kind} {seconds: ${String(seconds)}, nanos: ${nanos}} is out of range`);
  }
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  const base = iso.slice(0, 19);
  if (kind === 'Time') return `${base}Z`;
  return `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`;
}
