import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SelectorError } from '../../src/api/selectors/error.ts';
import { statusOf } from '../../src/apiserver/errors.ts';
import { checkFieldsSupported, parseFieldSelector } from '../../src/api/selectors/fields.ts';
import {
  formatLabelSelector,
  labelSelectorFromObject,
  parseLabelSelector,
} from '../../src/api/selectors/labels.ts';

function badRequest(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SelectorError, `expected a SelectorError, got ${String(err)}`);
    // The API server answers it as 400 BadRequest with the parser's message.
    const status = statusOf(err);
    assert.equal(status?.code, 400);
    assert.equal(status.reason, 'BadRequest');
    if (typeof message === 'string') assert.equal(status.message, message);
    else assert.match(status.message, message);
    return true;
  });
}

describe('parseLabelSelector', () => {
  it('treats an empty or blank selector as selecting everything', () => {
    for (const text of ['', '   ']) {
      const sel = parseLabelSelector(text);
      assert.equal(sel.empty, true);
      assert.equal(sel.matches(undefined), true);
      assert.equal(sel.matches({ a: 'b' }), true);
      assert.equal(sel.toString(), '');
    }
  });

  it('matches equality, inequality and existence requirements', () => {
    const cases: [string, Record<string, string> | undefined, boolean][] = [
      ['a=b', { a: 'b' }, true],
      ['a=b', { a: 'c' }, false],
      ['a=b', undefined, false],
      ['a==b', { a: 'b' }, true],
      ['a!=b', { a: 'c' }, true],
      ['a!=b', { a: 'b' }, false],
      // As in Kubernetes, != also selects objects without the label.
      ['a!=b', {}, true],
      ['a', { a: '' }, true],
      ['a', { b: 'x' }, false],
      ['!a', { b: 'x' }, true],
      ['!a', { a: 'x' }, false],
      ['a=', { a: '' }, true],
      ['a=', { a: 'x' }, false],
    ];
    for (const [text, labels, expected] of cases) {
      assert.equal(parseLabelSelector(text).matches(labels), expected, `${text} on ${JSON.stringify(labels)}`);
    }
  });

  it('matches set-based requirements', () => {
    const sel = parseLabelSelector('env in (prod, staging),tier notin (cache)');
    assert.equal(sel.matches({ env: 'prod', tier: 'web' }), true);
    assert.equal(sel.matches({ env: 'staging' }), true);
    assert.equal(sel.matches({ env: 'dev', tier: 'web' }), false);
    assert.equal(sel.matches({ env: 'prod', tier: 'cache' }), false);
    assert.equal(sel.matches({ tier: 'web' }), false);
  });

  it('ANDs comma-separated requirements and tolerates whitespace', () => {
    const sel = parseLabelSelector('  app = web ,  tier\t,!legacy  ');
    assert.equal(sel.matches({ app: 'web', tier: 'x' }), true);
    assert.equal(sel.matches({ app: 'web' }), false);
    assert.equal(sel.matches({ app: 'web', tier: 'x', legacy: 'y' }), false);
  });

  it('accepts prefixed keys and the in/notin keywords as keys and values', () => {
    assert.equal(parseLabelSelector('app.kubernetes.io/name=web').matches({ 'app.kubernetes.io/name': 'web' }), true);
    assert.equal(parseLabelSelector('x in (in,notin)').matches({ x: 'notin' }), true);
    assert.equal(parseLabelSelector('in=notin').matches({ in: 'notin' }), true);
  });

  it('supports the integer gt/lt operators', () => {
    assert.equal(parseLabelSelector('gen>3').matches({ gen: '4' }), true);
    assert.equal(parseLabelSelector('gen>3').matches({ gen: '3' }), false);
    assert.equal(parseLabelSelector('gen<3').matches({ gen: '-1' }), true);
    assert.equal(parseLabelSelector('gen<3').matches({ gen: 'x' }), false);
    assert.equal(parseLabelSelector('gen<3').matches({}), false);
  });

  it('prints requirements sorted by key with sorted values, like Kubernetes', () => {
    assert.equal(parseLabelSelector('x in (foo,,baz),y,z notin ()').toString(), 'x in (,baz,foo),y,z notin ()');
    assert.equal(parseLabelSelector('b!=2, a==1, !c').toString(), 'a==1,b!=2,!c');
    assert.equal(parseLabelSelector('x in (,a)').matches({ x: '' }), true);
  });

  it('rejects syntax errors with Kubernetes messages', () => {
    const cases: [string, string][] = [
      ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
      [',a', "found ',', expected: !, identifier, or 'end of string'"],
      ['a,', "found '', expected: identifier after ','"],
      ['a=b c', "found 'c', expected: ',' or 'end of string'"],
      ['a in x', "unable to parse requirement: found 'x' expected: '('"],
      ['a in (x', "unable to parse requirement: found '', expected: ',' or ')'"],
      ['a in (x))', "found ')', expected: ',' or 'end of string'"],
      ['a in (=)', "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
      ['!a=b', "found '=', expected: ',' or 'end of string'"],
      ['a==(', "unable to parse requirement: found '(', expected: identifier"],
      ['!', "unable to parse requirement: found '', expected: identifier"],
      ['=b', "found '=', expected: !, identifier, or 'end of string'"],
    ];
    for (const [text, message] of cases) badRequest(() => parseLabelSelector(text), message);
  });

  it('validates keys and values as Kubernetes does', () => {
    badRequest(
      () => parseLabelSelector('-a=b'),
      `unable to parse requirement: <nil>: Invalid value: "-a": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
    );
    badRequest(
      () => parseLabelSelector('a=-b'),
      `unable to parse requirement: values[0][a]: Invalid value: "-b": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
    );
    badRequest(() => parseLabelSelector(`${'k'.repeat(64)}=v`), /name part must be no more than 63 characters/);
    badRequest(
      () => parseLabelSelector(`k=${'v'.repeat(64)}`),
      `unable to parse requirement: values[0][k]: Invalid value: "${'v'.repeat(64)}": must be no more than 63 characters`,
    );
    badRequest(() => parseLabelSelector('Example.com/a=b'), /prefix part a lowercase RFC 1123 subdomain/);
    badRequest(() => parseLabelSelector('/a'), /prefix part must be non-empty/);
    badRequest(() => parseLabelSelector('a/b/c'), /a qualified name must consist of/);
    badRequest(() => parseLabelSelector('a>x'), /values\[0\]: Invalid value: "x": for 'Gt', 'Lt' operators, the value must be an integer/);
  });
});

describe('labelSelectorFromObject', () => {
  it('selects everything when absent or empty', () => {
    assert.equal(labelSelectorFromObject(undefined).empty, true);
    assert.equal(labelSelectorFromObject({}).matches({ a: 'b' }), true);
    assert.equal(labelSelectorFromObject({ matchLabels: {}, matchExpressions: [] }).empty, true);
  });

  it('combines matchLabels and matchExpressions', () => {
    const sel = labelSelectorFromObject({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['a', 'b'] },
        { key: 'env', operator: 'NotIn', values: ['dev'] },
        { key: 'owner', operator: 'Exists' },
        { key: 'legacy', operator: 'DoesNotExist' },
      ],
    });
    assert.equal(sel.matches({ app: 'web', tier: 'a', owner: 'me' }), true);
    assert.equal(sel.matches({ app: 'web', tier: 'a', owner: 'me', env: 'dev' }), false);
    assert.equal(sel.matches({ app: 'web', tier: 'c', owner: 'me' }), false);
    assert.equal(sel.matches({ app: 'web', tier: 'a' }), false);
    assert.equal(sel.matches({ app: 'web', tier: 'a', owner: 'me', legacy: '' }), false);
    assert.equal(sel.toString(), 'app=web,env notin (dev),!legacy,owner,tier in (a,b)');
  });

  it('rejects unknown operators and invalid requirements', () => {
    badRequest(
      () => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'Equals' as 'In' }] }),
      '"Equals" is not a valid label selector operator',
    );
    badRequest(
      () => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }),
      "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
    );
    badRequest(() => labelSelectorFromObject({ matchLabels: { 'bad key': 'v' } }), /^key: Invalid value: "bad key"/);
  });
});

describe('formatLabelSelector', () => {
  it('renders the string form Scale and HPA status carry', () => {
    assert.equal(
      formatLabelSelector({ matchLabels: { app: 'x' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }] }),
      'app=x,tier in (a,b)',
    );
    assert.equal(formatLabelSelector({}), '');
  });
});

describe('parseFieldSelector', () => {
  it('matches =, == and != terms', () => {
    const sel = parseFieldSelector('metadata.name=web,status.phase!=Running,spec.nodeName==n1');
    assert.equal(sel.empty, false);
    assert.deepEqual(
      sel.requirements.map((r) => [r.field, r.operator, r.value]),
      [
        ['metadata.name', '=', 'web'],
        ['spec.nodeName', '=', 'n1'],
        ['status.phase', '!=', 'Running'],
      ],
    );
    assert.equal(sel.matches({ 'metadata.name': 'web', 'status.phase': 'Pending', 'spec.nodeName': 'n1' }), true);
    assert.equal(sel.matches({ 'metadata.name': 'web', 'status.phase': 'Running', 'spec.nodeName': 'n1' }), false);
  });

  it('reads a missing field as the empty string', () => {
    assert.equal(parseFieldSelector('spec.nodeName=').matches({}), true);
    assert.equal(parseFieldSelector('spec.nodeName!=').matches({}), false);
    assert.equal(parseFieldSelector('spec.nodeName!=n1').matches({}), true);
  });

  it('is empty for an empty string and skips empty terms', () => {
    assert.equal(parseFieldSelector('').empty, true);
    assert.equal(parseFieldSelector('').matches({}), true);
    assert.equal(parseFieldSelector('a=b,,').requirements.length, 1);
  });

  it('unescapes \\, \\= and \\\\ in values', () => {
    assert.equal(parseFieldSelector('a=x\\,y,b=1').requirements[0]?.value, 'x,y');
    assert.equal(parseFieldSelector('a=x\\=y').requirements[0]?.value, 'x=y');
    assert.equal(parseFieldSelector('a=x\\\\y').requirements[0]?.value, 'x\\y');
  });

  it('rejects bad syntax with Kubernetes messages', () => {
    badRequest(() => parseFieldSelector('foo'), "invalid selector: 'foo'; can't understand 'foo'");
    badRequest(() => parseFieldSelector('a=b,foo'), "invalid selector: 'a=b,foo'; can't understand 'foo'");
    badRequest(() => parseFieldSelector('a=x\\y'), 'invalid field selector: invalid escape sequence: \\y');
    badRequest(() => parseFieldSelector('a=x\\'), 'invalid field selector: invalid escape sequence: \\');
    badRequest(() => parseFieldSelector('a=b=c'), 'invalid field selector: unescaped character in value: 61');
  });
});

describe('checkFieldsSupported', () => {
  const sel = parseFieldSelector('metadata.name=a,spec.foo=b');

  it('accepts supported fields', () => {
    checkFieldsSupported(parseFieldSelector('metadata.name=a'), ['metadata.name', 'metadata.namespace'], 'pods');
  });

  it('words the rejection like a kind with its own field-label conversion', () => {
    badRequest(
      () => checkFieldsSupported(sel, ['metadata.name', 'metadata.namespace'], 'widgets', 'fieldLabel'),
      'field label not supported: spec.foo',
    );
    badRequest(
      () => checkFieldsSupported(sel, ['metadata.name', 'metadata.namespace', 'spec.nodeName'], 'pods'),
      'field label not supported: spec.foo',
    );
  });

  it('words the rejection like the default metav1 conversion', () => {
    const message = '"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"';
    badRequest(() => checkFieldsSupported(sel, ['metadata.name', 'metadata.namespace'], 'configmaps'), message);
    badRequest(
      () => checkFieldsSupported(sel, ['metadata.name', 'metadata.namespace'], 'configmaps', 'knownFieldSelector'),
      message,
    );
  });
});
