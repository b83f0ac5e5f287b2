// JSON patch (RFC 6902), `kubectl patch --type json`. fast-json-patch does the work; this file
// turns its terse errors into messages that say which operation failed and why, with the status
// codes kube-apiserver uses: a malformed patch is 400 BadRequest, a well-formed one that does not
// apply to the object is 422 Invalid.
import jsonpatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { badRequest, StatusError } from '../errors.ts';
import { isJsonObject } from './merge-patch.ts';

const OPS = ['add', 'remove', 'replace', 'move', 'copy', 'test'];
const NEEDS_VALUE = new Set(['add', 'replace', 'test']);
const NEEDS_FROM = new Set(['move', 'copy']);

/** Applies the operations in order; `target` and `ops` are left untouched. */
export function applyJsonPatch(target: unknown, ops: unknown): unknown {
  const operations = decodeOperations(ops);
  // Both are cloned: fast-json-patch mutates the document and inserts `value`s by reference.
  let document = structuredClone(target);
  // One call per operation, because the index fast-json-patch reports for a failed precondition
  // is not the operation's position in the sequence.
  structuredClone(operations).forEach((op, index) => {
    try {
      document = jsonpatch.applyPatch(document, [op], true, true).newDocument;
    } catch (err) {
      throw translateError(err, op, index);
    }
  });
  return document;
}

function decodeOperations(ops: unknown): Operation[] {
  if (!Array.isArray(ops)) {
    throw badRequest(`json patch must be a JSON array of operations, not ${describe(ops)}`);
  }
  ops.forEach(checkOperation);
  return ops as Operation[];
}

function checkOperation(op: unknown, index: number): void {
  if (!isJsonObject(op)) {
    throw badRequest(`json patch operation ${index} must be a JSON object, not ${describe(op)}`);
  }
  const name = op['op'];
  if (typeof name !== 'string' || !OPS.includes(name)) {
    const got = name === undefined ? 'no "op"' : `unknown op ${JSON.stringify(name)}`;
    throw badRequest(`json patch operation ${index} has ${got}: must be one of ${OPS.join(', ')}`);
  }
  checkPointer(op, 'path', index, name);
  if (NEEDS_FROM.has(name)) checkPointer(op, 'from', index, name);
  if (NEEDS_VALUE.has(name) && !Object.hasOwn(op, 'value')) {
    throw badRequest(`json patch operation ${index} (${name} ${JSON.stringify(op['path'])}) has no "value"`);
  }
}

function checkPointer(op: Record<string, unknown>, field: 'path' | 'from', index: number, name: string): void {
  const pointer = op[field];
  if (typeof pointer !== 'string') {
    throw badRequest(`json patch operation ${index} (${name}) has no "${field}"`);
  }
  if (pointer !== '' && !pointer.startsWith('/')) {
    throw badRequest(`json patch operation ${index} (${name}): ${field} ${JSON.stringify(pointer)} must be empty or start with "/"`);
  }
  // fast-json-patch refuses these with a bare TypeError that carries no operation index.
  if (pointer.split('/').includes('__proto__')) {
    throw badRequest(`json patch operation ${index} (${name}): ${field} ${JSON.stringify(pointer)} may not address __proto__`);
  }
}

function translateError(err: unknown, op: Operation, index: number): StatusError {
  const where = `json patch operation ${index} (${op.op} ${JSON.stringify(op.path)})`;
  if (!(err instanceof jsonpatch.JsonPatchError)) {
    const message = err instanceof Error ? err.message : String(err);
    return badRequest(`${where} cannot be applied: ${message}`);
  }
  const why = explain(err.name, op);
  const message = `${where} cannot be applied: ${why}`;
  return new StatusError(422, 'Invalid', message, {
    causes: [{ reason: 'FieldValueInvalid', message: why, field: op.path }],
  });
}

/** One sentence per fast-json-patch error name, about the document rather than the library. */
function explain(name: string, op: Operation & { from?: string; value?: unknown }): string {
  switch (name) {
    case 'OPERATION_PATH_UNRESOLVABLE':
      return `path ${JSON.stringify(op.path)} does not exist`;
    case 'OPERATION_FROM_UNRESOLVABLE':
      return `from ${JSON.stringify(op.from)} does not exist`;
    case 'OPERATION_PATH_CANNOT_ADD':
      return `the parent of ${JSON.stringify(op.path)} does not exist`;
    case 'OPERATION_PATH_ILLEGAL_ARRAY_INDEX':
      return `${JSON.stringify(op.path)} indexes an array with something other than a number or "-"`;
    case 'OPERATION_VALUE_OUT_OF_BOUNDS':
      return `the array index in ${JSON.stringify(op.path)} is out of bounds`;
    case 'TEST_OPERATION_FAILED':
      return `test failed: the value at ${JSON.stringify(op.path)} is not ${JSON.stringify(op.value)}`;
    default:
      return name.toLowerCase().replaceAll('_', ' ');
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
