import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CustomResourceDefinition, JSONSchemaProps } from '../../src/api/meta.ts';
import type { FieldError } from '../../src/apiserver/errors.ts';
import { validateAgainstSchema } from '../../src/apiserver/schema/validate.ts';
import { applyDefaults } from '../../src/apiserver/schema/defaults.ts';
import { pruneNonNullableNulls, pruneUnknownFields } from '../../src/apiserver/schema/prune.ts';
import { defaultCustomResourceDefinition, validateCustomResourceDefinition } from '../../src/apiserver/schema/crd-validation.ts';

// A Sedna-like FederatedLearningJob schema: pod templates are opaque (preserve-unknown-fields), every
// training worker names its dataset.
const podTemplate: JSONSchemaProps = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

const flJobSchema: JSONSchemaProps = {
  type: 'object',
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      required: ['aggregationWorker', 'trainingWorkers'],
      properties: {
        aggregationWorker: {
          type: 'object',
          required: ['model', 'template'],
          properties: {
            model: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
            template: podTemplate,
          },
        },
        trainingWorkers: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            required: ['dataset', 'template'],
            properties: {
              dataset: {
                type: 'object',
                required: ['name'],
                properties: { name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 } },
              },
              template: podTemplate,
            },
          },
        },
        transmitter: {
          type: 'object',
          properties: {
            ws: { type: 'object', nullable: true, properties: { port: { type: 'integer', default: 8080 } } },
            s3: { type: 'object', properties: { aggDataPath: { type: 'string' } } },
          },
        },
        backoffLimit: { type: 'integer', format: 'int32', minimum: 0, default: 6 },
        mode: { type: 'string', enum: ['sync', 'async'], default: 'sync' },
        stopTime: { type: 'string', format: 'date-time' },
        labels: { type: 'object', additionalProperties: { type: 'string', maxLength: 5 } },
        parameters: {
          type: 'array',
          items: { type: 'object', required: ['key'], properties: { key: { type: 'string' }, value: { type: 'string', default: '' } } },
        },
      },
    },
    status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  },
};

function flJob(spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'sedna.io/v1alpha1',
    kind: 'FederatedLearningJob',
    metadata: { name: 'surface-defect', namespace: 'default', labels: { app: 'fl' } },
    spec: {
      aggregationWorker: {
        model: { name: 'surface-defect-model' },
        template: { spec: { containers: [{ name: 'agg', image: 'kubeedge/sedna-fl-agg:v0.6.0' }] } },
      },
      trainingWorkers: [
        { dataset: { name: 'edge1-surface-defect-data' }, template: { spec: { nodeName: 'edge1', containers: [{ image: 'x' }] } } },
        { dataset: { name: 'edge2-surface-defect-data' }, template: { spec: { nodeName: 'edge2' } } },
      ],
      ...spec,
    },
  };
}

/** Each error as kube-apiserver prints it inside a Status message. */
function rendered(errors: FieldError[]): string[] {
  return errors.map((e) => `${e.field}: ${e.message}`);
}

function check(value: unknown, schema: JSONSchemaProps): string[] {
  return rendered(validateAgainstSchema(value, schema));
}

/** A one-field object schema under spec, for the single-rule tests. */
function specWith(field: string, schema: JSONSchemaProps): JSONSchemaProps {
  return { type: 'object', properties: { spec: { type: 'object', properties: { [field]: schema } } } };
}

describe('validateAgainstSchema', () => {
  it('accepts a complete FederatedLearningJob', () => {
    assert.deepEqual(validateAgainstSchema(flJob(), flJobSchema), []);
  });

  it('reports a type mismatch with the JSON type kube-openapi sees as the bad value', () => {
    const errors = validateAgainstSchema(flJob({ backoffLimit: 'abc' }), flJobSchema);
    assert.deepEqual(rendered(errors), ['spec.backoffLimit: Invalid value: "string": spec.backoffLimit in body must be of type integer: "string"']);
    assert.equal(errors[0]!.reason, 'FieldValueTypeInvalid');
    assert.deepEqual(check({ spec: { n: { a: 1 } } }, specWith('n', { type: 'string' })), [
      'spec.n: Invalid value: "object": spec.n in body must be of type string: "object"',
    ]);
    assert.deepEqual(check({ spec: { n: [1] } }, specWith('n', { type: 'boolean' })), [
      'spec.n: Invalid value: "array": spec.n in body must be of type boolean: "array"',
    ]);
  });

  it('accepts only whole numbers as integers, and integers as numbers', () => {
    assert.deepEqual(check({ spec: { n: 1.5 } }, specWith('n', { type: 'integer' })), [
      'spec.n: Invalid value: "number": spec.n in body must be of type integer: "number"',
    ]);
    assert.deepEqual(check({ spec: { n: 3 } }, specWith('n', { type: 'number' })), []);
    assert.deepEqual(check({ spec: { n: 3.25 } }, specWith('n', { type: 'number' })), []);
  });

  it('allows null only where the schema is nullable', () => {
    assert.deepEqual(check(flJob({ transmitter: { ws: null } }), flJobSchema), []);
    assert.deepEqual(check(flJob({ transmitter: { s3: null } }), flJobSchema), [
      'spec.transmitter.s3: Invalid value: "null": spec.transmitter.s3 in body must be of type object: "null"',
    ]);
  });

  it('reports missing required fields, nested in arrays', () => {
    const job = flJob({ trainingWorkers: [{ dataset: {}, template: {} }] });
    assert.deepEqual(check(job, flJobSchema), ['spec.trainingWorkers[0].dataset.name: Required value']);
    const noSpecFields = { apiVersion: 'sedna.io/v1alpha1', kind: 'FederatedLearningJob', metadata: { name: 'x' }, spec: {} };
    assert.deepEqual(check(noSpecFields, flJobSchema), ['spec.aggregationWorker: Required value', 'spec.trainingWorkers: Required value']);
  });

  it('reports enum violations as unsupported values', () => {
    const errors = validateAgainstSchema(flJob({ mode: 'x' }), flJobSchema);
    assert.deepEqual(rendered(errors), ['spec.mode: Unsupported value: "x": supported values: "sync", "async"']);
    assert.equal(errors[0]!.reason, 'FieldValueNotSupported');
    // Non-string enum values are listed as their JSON, quoted.
    assert.deepEqual(check({ spec: { n: 3 } }, specWith('n', { type: 'integer', enum: [1, 2] })), [
      'spec.n: Unsupported value: 3: supported values: "1", "2"',
    ]);
    // A type error does not stop the enum check, as in kube-openapi.
    assert.deepEqual(check({ spec: { n: 5 } }, specWith('n', { type: 'string', enum: ['a'] })), [
      'spec.n: Invalid value: "integer": spec.n in body must be of type string: "integer"',
      'spec.n: Unsupported value: 5: supported values: "a"',
    ]);
  });

  it('matches patterns unanchored, as Go regexp MatchString does', () => {
    const job = flJob({ trainingWorkers: [{ dataset: { name: 'Edge_1' }, template: {} }] });
    assert.deepEqual(check(job, flJobSchema), [
      "spec.trainingWorkers[0].dataset.name: Invalid value: \"Edge_1\": spec.trainingWorkers[0].dataset.name in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'",
    ]);
    assert.deepEqual(check({ spec: { s: 'xaby' } }, specWith('s', { type: 'string', pattern: 'ab' })), []);
  });

  it('checks minimum and maximum, inclusive and exclusive', () => {
    assert.deepEqual(check(flJob({ backoffLimit: -1 }), flJobSchema), [
      'spec.backoffLimit: Invalid value: -1: spec.backoffLimit in body should be greater than or equal to 0',
    ]);
    const range: JSONSchemaProps = { type: 'number', minimum: 1, exclusiveMinimum: true, maximum: 2.5, exclusiveMaximum: true };
    assert.deepEqual(check({ spec: { n: 1 } }, specWith('n', range)), ['spec.n: Invalid value: 1: spec.n in body should be greater than 1']);
    assert.deepEqual(check({ spec: { n: 2.5 } }, specWith('n', range)), ['spec.n: Invalid value: 2.5: spec.n in body should be less than 2.5']);
    assert.deepEqual(check({ spec: { n: 9 } }, specWith('n', { type: 'integer', maximum: 8 })), [
      'spec.n: Invalid value: 9: spec.n in body should be less than or equal to 8',
    ]);
  });

  it('checks multipleOf', () => {
    assert.deepEqual(check({ spec: { n: 7 } }, specWith('n', { type: 'integer', multipleOf: 5 })), [
      'spec.n: Invalid value: 7: spec.n in body should be a multiple of 5',
    ]);
    assert.deepEqual(check({ spec: { n: 0.3 } }, specWith('n', { type: 'number', multipleOf: 0.1 })), []);
  });

  it('counts string length in code points', () => {
    const max = specWith('s', { type: 'string', maxLength: 5 });
    const errors = validateAgainstSchema({ spec: { s: 'abcdef' } }, max);
    assert.deepEqual(rendered(errors), ['spec.s: Too long: may not be more than 5 bytes']);
    assert.equal(errors[0]!.reason, 'FieldValueTooLong');
    assert.deepEqual(check({ spec: { s: '🚀🚀🚀🚀🚀' } }, max), []);
    assert.deepEqual(check({ spec: { s: '' } }, specWith('s', { type: 'string', minLength: 1 })), [
      'spec.s: Invalid value: "": spec.s in body should be at least 1 chars long',
    ]);
  });

  it('checks item counts and uniqueness', () => {
    assert.deepEqual(check(flJob({ trainingWorkers: [] }), flJobSchema), [
      'spec.trainingWorkers: Invalid value: 0: spec.trainingWorkers in body should have at least 1 items',
    ]);
    const errors = validateAgainstSchema({ spec: { l: [1, 2, 3] } }, specWith('l', { type: 'array', items: { type: 'integer' }, maxItems: 2 }));
    assert.deepEqual(rendered(errors), ['spec.l: Too many: 3: must have at most 2 items']);
    assert.equal(errors[0]!.reason, 'FieldValueTooMany');
    assert.deepEqual(check({ spec: { l: [{ a: 1 }, { a: 1 }] } }, specWith('l', { type: 'array', uniqueItems: true })), [
      'spec.l: Invalid value: "": spec.l in body shouldn\'t contain duplicates',
    ]);
  });

  it('checks property counts', () => {
    const counted = specWith('m', { type: 'object', minProperties: 2, maxProperties: 3 });
    assert.deepEqual(check({ spec: { m: { a: 1 } } }, counted), ['spec.m: Invalid value: 1: spec.m in body should have at least 2 properties']);
    assert.deepEqual(check({ spec: { m: { a: 1, b: 2, c: 3, d: 4 } } }, counted), ['spec.m: Too many: 4: must have at most 3 items']);
  });

  it('validates map values against additionalProperties, naming them as kube-openapi does', () => {
    assert.deepEqual(check(flJob({ labels: { team: 'vision-lab', zone: 7 } }), flJobSchema), [
      'spec.labels.team: Too long: may not be more than 5 bytes',
      'spec.labels.zone: Invalid value: "integer": spec.labels.zone in body must be of type string: "integer"',
    ]);
  });

  it('accepts integers and strings for x-kubernetes-int-or-string', () => {
    const schema = specWith('port', { 'x-kubernetes-int-or-string': true });
    assert.deepEqual(check({ spec: { port: 80 } }, schema), []);
    assert.deepEqual(check({ spec: { port: 'http' } }, schema), []);
    assert.deepEqual(check({ spec: { port: true } }, schema), [
      'spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"',
    ]);
  });

  it('checks string formats lightly', () => {
    assert.deepEqual(check(flJob({ stopTime: '2024-05-01T10:00:00Z' }), flJobSchema), []);
    assert.deepEqual(check(flJob({ stopTime: 'yesterday' }), flJobSchema), [
      'spec.stopTime: Invalid value: "yesterday": spec.stopTime in body must be of type date-time: "yesterday"',
    ]);
    const formats = (format: string, s: string): string[] => check({ spec: { f: s } }, specWith('f', { type: 'string', format }));
    assert.deepEqual(formats('date', '2024-02-29'), []);
    assert.deepEqual(formats('date', '2023-02-29'), ['spec.f: Invalid value: "2023-02-29": spec.f in body must be of type date: "2023-02-29"']);
    assert.deepEqual(formats('byte', 'aGVsbG8='), []);
    assert.deepEqual(formats('byte', 'hello!'), ['spec.f: Invalid value: "hello!": spec.f in body must be of type byte: "hello!"']);
    assert.deepEqual(formats('uuid', '0f8fad5b-d9cb-469f-a165-70867728950e'), []);
    assert.equal(formats('uuid', 'not-a-uuid').length, 1);
    // int32 and int64 are not string formats: apiextensions strips them, whole numbers pass.
    assert.deepEqual(check({ spec: { n: 2 ** 40 } }, specWith('n', { type: 'integer', format: 'int32' })), []);
  });

  it('reports junctor failures the way apiextensions renders them (nil path)', () => {
    const anyOf = specWith('x', { type: 'object', anyOf: [{ required: ['a'] }, { required: ['b'] }] });
    assert.deepEqual(check({ spec: { x: {} } }, anyOf), [
      '<nil>: Invalid value: "": "spec.x" must validate at least one schema (anyOf)',
      'spec.x.a: Required value',
    ]);
    assert.deepEqual(check({ spec: { x: { b: 1 } } }, anyOf), []);
    const oneOf = specWith('x', { type: 'object', oneOf: [{ required: ['a'] }, { required: ['b'] }] });
    assert.deepEqual(check({ spec: { x: { a: 1, b: 2 } } }, oneOf), [
      '<nil>: Invalid value: "": "spec.x" must validate one and only one schema (oneOf). Found 2 valid alternatives',
    ]);
    const allOf = specWith('n', { type: 'integer', allOf: [{ minimum: 1 }, { maximum: 3 }] });
    assert.deepEqual(check({ spec: { n: 5 } }, allOf), [
      'spec.n: Invalid value: 5: spec.n in body should be less than or equal to 3',
      '<nil>: Invalid value: "": "spec.n" must validate all the schemas (allOf)',
    ]);
    const not = specWith('s', { type: 'string', not: { enum: ['admin'] } });
    assert.deepEqual(check({ spec: { s: 'admin' } }, not), ['<nil>: Invalid value: "": "spec.s" must not validate the schema (not)']);
  });

  it('always allows apiVersion, kind and metadata at the root, and only checks metadata is an object', () => {
    const bare: JSONSchemaProps = { type: 'object', properties: { spec: { type: 'object' } } };
    const obj = { apiVersion: 'v1', kind: 'X', metadata: { name: 'a', labels: { b: 'c' } }, spec: {} };
    assert.deepEqual(check(obj, bare), []);
    const strict: JSONSchemaProps = { type: 'object', properties: { metadata: { type: 'object', properties: { name: { type: 'integer' } } } } };
    assert.deepEqual(check(obj, strict), []);
    assert.deepEqual(check({ ...obj, metadata: 'x' }, bare), ['metadata: Invalid value: "string": metadata in body must be of type object: "string"']);
  });

  it('requires apiVersion and kind on embedded resources', () => {
    const schema = specWith('template', {
      type: 'object',
      'x-kubernetes-embedded-resource': true,
      'x-kubernetes-preserve-unknown-fields': true,
    });
    assert.deepEqual(check({ spec: { template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } } } }, schema), []);
    assert.deepEqual(check({ spec: { template: { metadata: {} } } }, schema), [
      'spec.template.apiVersion: Required value: must not be empty',
      'spec.template.kind: Required value: must not be empty',
    ]);
    assert.deepEqual(check({ spec: { template: { apiVersion: 'a/b/c', kind: 'Pod' } } }, schema), [
      'spec.template.apiVersion: Invalid value: "a/b/c": unexpected GroupVersion string: a/b/c',
    ]);
  });

  it('rejects duplicates in x-kubernetes-list-type set and map lists', () => {
    const set = specWith('tags', { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } });
    const errors = validateAgainstSchema({ spec: { tags: ['a', 'b', 'a', 'a'] } }, set);
    assert.deepEqual(rendered(errors), ['spec.tags[2]: Duplicate value: "a"']);
    assert.equal(errors[0]!.reason, 'FieldValueDuplicate');
    const map = specWith('ports', {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: { type: 'object', properties: { name: { type: 'string' }, port: { type: 'integer' } } },
    });
    const ports = [{ name: 'http', port: 80 }, { name: 'grpc', port: 90 }, { name: 'http', port: 81 }];
    assert.deepEqual(check({ spec: { ports } }, map), ['spec.ports[2]: Duplicate value: map[string]interface {}{"name":"http"}']);
    assert.deepEqual(check({ spec: { ports: [{ name: 'a' }, 'b'] } }, map), [
      'spec.ports[1]: Invalid value: "string": spec.ports[1] in body must be of type object: "string"',
      'spec.ports[1]: Invalid value: "b": must be an object for an array of list-type map',
    ]);
  });

  it('returns every error in document order, schema errors before embedded and list-type ones', () => {
    const job = flJob({ backoffLimit: 'many', mode: 'x' });
    const spec = job.spec as Record<string, unknown>;
    spec.trainingWorkers = [{ template: {} }, { dataset: { name: 'BAD' }, template: {} }];
    assert.deepEqual(check(job, flJobSchema), [
      'spec.trainingWorkers[0].dataset: Required value',
      "spec.trainingWorkers[1].dataset.name: Invalid value: \"BAD\": spec.trainingWorkers[1].dataset.name in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'",
      'spec.backoffLimit: Invalid value: "string": spec.backoffLimit in body must be of type integer: "string"',
      'spec.mode: Unsupported value: "x": supported values: "sync", "async"',
    ]);
  });
});

describe('applyDefaults', () => {
  it('fills missing properties at every level, arrays included', () => {
    const job = flJob({ transmitter: { ws: {} }, parameters: [{ key: 'lr' }, { key: 'epochs', value: '10' }] });
    applyDefaults(job, flJobSchema);
    const spec = job.spec as Record<string, unknown>;
    assert.equal(spec.backoffLimit, 6);
    assert.equal(spec.mode, 'sync');
    assert.deepEqual(spec.transmitter, { ws: { port: 8080 } });
    assert.deepEqual(spec.parameters, [{ key: 'lr', value: '' }, { key: 'epochs', value: '10' }]);
  });

  it('keeps values that are present', () => {
    const job = flJob({ backoffLimit: 0, mode: 'async' });
    applyDefaults(job, flJobSchema);
    assert.equal((job.spec as Record<string, unknown>).backoffLimit, 0);
    assert.equal((job.spec as Record<string, unknown>).mode, 'async');
  });

  it('defaults inside a freshly defaulted object and deep-copies defaults', () => {
    const schema: JSONSchemaProps = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          default: {},
          properties: { resources: { type: 'object', default: { limits: {} }, properties: { limits: { type: 'object', properties: { cpu: { type: 'string', default: '1' } } } } } },
        },
      },
    };
    const a: Record<string, unknown> = {};
    const b: Record<string, unknown> = {};
    applyDefaults(a, schema);
    applyDefaults(b, schema);
    assert.deepEqual(a, { spec: { resources: { limits: { cpu: '1' } } } });
    ((a.spec as Record<string, Record<string, unknown>>).resources!).extra = true;
    assert.deepEqual(b, { spec: { resources: { limits: { cpu: '1' } } } });
    assert.deepEqual(schema.properties!.spec!.properties!.resources!.default, { limits: {} });
  });

  it('replaces a null with the default where null is not allowed', () => {
    const job = flJob({ mode: null, transmitter: { ws: null } });
    applyDefaults(job, flJobSchema);
    const spec = job.spec as Record<string, unknown>;
    assert.equal(spec.mode, 'sync');
    assert.deepEqual(spec.transmitter, { ws: null });
  });

  it('defaults map values and array items that are null', () => {
    const schema: JSONSchemaProps = {
      type: 'object',
      properties: {
        m: { type: 'object', additionalProperties: { type: 'string', default: 'd' } },
        l: { type: 'array', items: { type: 'integer', default: 1 } },
      },
    };
    const obj = { m: { a: null, b: 'x' }, l: [null, 2] };
    applyDefaults(obj, schema);
    assert.deepEqual(obj, { m: { a: 'd', b: 'x' }, l: [1, 2] });
  });
});

describe('pruneUnknownFields', () => {
  it('drops unknown fields and reports their paths, sorted', () => {
    const job = flJob({ foo: 1, aggregationWorker: { model: { name: 'm', version: 2 }, template: {} } });
    job.extra = true;
    (job.spec as { trainingWorkers: Record<string, unknown>[] }).trainingWorkers[1]!.bogus = 'x';
    const pruned = pruneUnknownFields(job, flJobSchema);
    assert.deepEqual(pruned, ['extra', 'spec.aggregationWorker.model.version', 'spec.foo', 'spec.trainingWorkers[1].bogus']);
    assert.equal('extra' in job, false);
    assert.equal('foo' in (job.spec as object), false);
    assert.deepEqual((job.spec as Record<string, Record<string, unknown>>).aggregationWorker!.model, { name: 'm' });
  });

  it('keeps apiVersion, kind and metadata at the root even when the schema omits them', () => {
    const obj = { apiVersion: 'sedna.io/v1alpha1', kind: 'Dataset', metadata: { name: 'd', anything: 1 }, spec: { url: 'x' } };
    const pruned = pruneUnknownFields(obj, { type: 'object', properties: { spec: { type: 'object', properties: { url: { type: 'string' } } } } });
    assert.deepEqual(pruned, []);
    assert.deepEqual(obj.metadata, { name: 'd', anything: 1 });
  });

  it('keeps everything under x-kubernetes-preserve-unknown-fields, but still prunes known subtrees', () => {
    const job = flJob();
    const before = structuredClone((job.spec as Record<string, unknown>).trainingWorkers);
    assert.deepEqual(pruneUnknownFields(job, flJobSchema), []);
    assert.deepEqual((job.spec as Record<string, unknown>).trainingWorkers, before);
    const schema: JSONSchemaProps = {
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
      properties: { known: { type: 'object', properties: { a: { type: 'string' } } } },
    };
    const obj = { free: { anything: 1 }, known: { a: 'x', b: 'y' } };
    assert.deepEqual(pruneUnknownFields(obj, schema, 'spec'), ['spec.known.b']);
    assert.deepEqual(obj, { free: { anything: 1 }, known: { a: 'x' } });
  });

  it('keeps type and object meta inside embedded resources and prunes the rest by schema', () => {
    const schema: JSONSchemaProps = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            template: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object', properties: { nodeName: { type: 'string' } } } } },
          },
        },
      },
    };
    const obj = { spec: { template: { apiVersion: 'v1', kind: 'Pod', metadata: { labels: { a: 'b' } }, spec: { nodeName: 'edge1', hostPID: true }, junk: 1 } } };
    assert.deepEqual(pruneUnknownFields(obj, schema), ['spec.template.junk', 'spec.template.spec.hostPID']);
    assert.deepEqual(obj.spec.template, { apiVersion: 'v1', kind: 'Pod', metadata: { labels: { a: 'b' } }, spec: { nodeName: 'edge1' } });
  });

  it('follows additionalProperties schemas into map values and drops keys when additionalProperties is false', () => {
    const schema: JSONSchemaProps = {
      type: 'object',
      properties: {
        models: { type: 'object', additionalProperties: { type: 'object', properties: { url: { type: 'string' } } } },
        closed: { type: 'object', additionalProperties: false, properties: { a: { type: 'string' } } },
      },
    };
    const obj = { models: { m1: { url: 'u', x: 1 } }, closed: { a: 'x', b: 'y' } };
    assert.deepEqual(pruneUnknownFields(obj, schema, 'spec'), ['spec.closed.b', 'spec.models.m1.x']);
    assert.deepEqual(obj, { models: { m1: { url: 'u' } }, closed: { a: 'x' } });
  });

  it('drops nulls the schema neither allows nor defaults, without reporting them', () => {
    const job = flJob({ transmitter: { s3: null, ws: null }, mode: null, stopTime: null });
    assert.deepEqual(pruneUnknownFields(job, flJobSchema), []);
    const spec = job.spec as Record<string, unknown>;
    assert.deepEqual(spec.transmitter, { ws: null });
    assert.equal(spec.mode, null, 'a null with a default is left for defaulting');
    assert.equal('stopTime' in spec, false);
    const list = { l: [{ a: null }] };
    pruneNonNullableNulls(list, { type: 'object', properties: { l: { type: 'array', items: { type: 'object', properties: { a: { type: 'string' } } } } } });
    assert.deepEqual(list, { l: [{}] });
  });
});

function flJobCrd(): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'federatedlearningjobs.sedna.io' },
    spec: {
      group: 'sedna.io',
      names: { kind: 'FederatedLearningJob', plural: 'federatedlearningjobs', shortNames: ['fl'] },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1alpha1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: structuredClone(flJobSchema) },
          subresources: { status: {} },
          additionalPrinterColumns: [{ name: 'Status', type: 'string', jsonPath: '.status.conditions[-1].type' }],
        },
      ],
    },
  };
}

function crdErrors(mutate: (crd: CustomResourceDefinition) => void): string[] {
  const crd = flJobCrd();
  mutate(crd);
  defaultCustomResourceDefinition(crd);
  return rendered(validateCustomResourceDefinition(crd));
}

describe('CustomResourceDefinition defaulting and validation', () => {
  it('defaults singular, listKind, conversion and stored versions, keeping served and storage', () => {
    const crd = flJobCrd();
    crd.spec.versions.push({ name: 'v1beta1', served: false, storage: false, schema: { openAPIV3Schema: { type: 'object' } } });
    defaultCustomResourceDefinition(crd);
    assert.equal(crd.spec.names.singular, 'federatedlearningjob');
    assert.equal(crd.spec.names.listKind, 'FederatedLearningJobList');
    assert.deepEqual(crd.spec.conversion, { strategy: 'None' });
    assert.deepEqual(crd.status?.storedVersions, ['v1alpha1']);
    assert.deepEqual(crd.spec.versions.map((v) => [v.served, v.storage]), [[true, true], [false, false]]);
  });

  it('accepts a well-formed CRD', () => {
    assert.deepEqual(crdErrors(() => {}), []);
  });

  it('requires the name to be <plural>.<group>', () => {
    assert.deepEqual(
      crdErrors((crd) => {
        crd.metadata.name = 'fljobs.sedna.io';
      }),
      ['metadata.name: Invalid value: "fljobs.sedna.io": must be spec.names.plural+"."+spec.group'],
    );
  });

  it('requires a group with a dot and a known scope', () => {
    assert.deepEqual(
      crdErrors((crd) => {
        crd.spec.group = 'sedna';
        crd.metadata.name = 'federatedlearningjobs.sedna';
        (crd.spec as { scope: string }).scope = 'Global';
      }),
      [
        'spec.group: Invalid value: "sedna": should be a domain with at least one dot',
        'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"',
      ],
    );
  });

  it('requires exactly one storage version and unique DNS-1035 version names', () => {
    const errors = crdErrors((crd) => {
      crd.spec.versions.push({ ...structuredClone(crd.spec.versions[0]!), name: 'v1alpha1' }, { name: 'V2', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object' } } });
    });
    assert.deepEqual(errors, [
      `spec.versions[2].name: Invalid value: "V2": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
      'spec.versions: Invalid value: "array": must contain unique version names',
      'spec.versions: Invalid value: "array": must have exactly one version marked as storage version',
    ]);
  });

  it('rejects non-structural schemas', () => {
    const errors = crdErrors((crd) => {
      const schema = crd.spec.versions[0]!.schema!.openAPIV3Schema!;
      const spec = schema.properties!.spec!;
      delete spec.properties!.mode!.type;
      spec.properties!.workers = { type: 'array' };
      delete spec.properties!.trainingWorkers!.items!.type;
    });
    assert.deepEqual(errors, [
      'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[trainingWorkers].items.type: Required value: must not be empty for specified array items',
      'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[mode].type: Required value: must not be empty for specified object fields',
      'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[workers].items: Required value: must be specified',
    ]);
  });

  it('requires a schema whose root is an object', () => {
    assert.deepEqual(
      crdErrors((crd) => {
        crd.spec.versions[0]!.schema = { openAPIV3Schema: { type: 'string' } };
      }),
      ['spec.versions[0].schema.openAPIV3Schema.type: Invalid value: "string": must be object at the root'],
    );
    assert.deepEqual(
      crdErrors((crd) => {
        delete crd.spec.versions[0]!.schema;
      }),
      ['spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required'],
    );
  });

  it('lets int-or-string and preserve-unknown-fields nodes go without a type', () => {
    assert.deepEqual(
      crdErrors((crd) => {
        const spec = crd.spec.versions[0]!.schema!.openAPIV3Schema!.properties!.spec!;
        spec.properties!.port = { 'x-kubernetes-int-or-string': true };
        spec.properties!.raw = { 'x-kubernetes-preserve-unknown-fields': true };
      }),
      [],
    );
  });

  it('checks names and printer columns', () => {
    const errors = crdErrors((crd) => {
      crd.spec.names.shortNames = ['FL'];
      crd.spec.versions[0]!.additionalPrinterColumns = [
        { name: '', type: 'time', jsonPath: 'status.phase' },
        { name: 'Age', type: 'date', format: 'duration', jsonPath: '.metadata.creationTimestamp' },
      ];
    });
    assert.deepEqual(errors, [
      'spec.versions[0].additionalPrinterColumns[0].name: Required value',
      'spec.versions[0].additionalPrinterColumns[0].type: Invalid value: "time": must be one of boolean,date,integer,number,string',
      'spec.versions[0].additionalPrinterColumns[0].jsonPath: Invalid value: "status.phase": must be a simple json path starting with .',
      'spec.versions[0].additionalPrinterColumns[1].format: Invalid value: "duration": must be one of byte,date,date-time,double,float,int32,int64,password',
      `spec.names.shortNames[0]: Invalid value: "FL": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
    ]);
  });

  it('requires list-map keys for list-type map and forbids uniqueItems', () => {
    const errors = crdErrors((crd) => {
      const spec = crd.spec.versions[0]!.schema!.openAPIV3Schema!.properties!.spec!;
      spec.properties!.ports = { type: 'array', 'x-kubernetes-list-type': 'map', items: { type: 'object' } };
      spec.properties!.tags = { type: 'array', uniqueItems: true, items: { type: 'string' } };
    });
    assert.deepEqual(errors, [
      'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[ports].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map',
      'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[tags].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic',
    ]);
  });
});
