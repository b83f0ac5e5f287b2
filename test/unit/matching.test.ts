import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rawLabelPrefilter } from '../../src/apiserver/registry/matching.ts';
import { parseLabelSelector } from '../../src/api/selectors/labels.ts';

const stored = (labels: Record<string, string>) => JSON.stringify({ metadata: { name: 'x', labels }, spec: { note: 'tier' } });

describe('rawLabelPrefilter', () => {
  it('never rejects an object the selector matches', () => {
    const cases: [string, Record<string, string>][] = [
      ['app=web', { app: 'web' }],
      ['app==web,tier in (a,b)', { app: 'web', tier: 'b' }],
      ['example.com/role', { 'example.com/role': '' }],
      ['app=web,env!=prod,!gone', { app: 'web', env: 'dev' }],
    ];
    for (const [selector, labels] of cases) {
      const parsed = parseLabelSelector(selector);
      assert.equal(parsed.matches(labels), true, selector);
      assert.equal(rawLabelPrefilter(parsed)?.(stored(labels)) ?? true, true, selector);
    }
  });

  it('rejects objects lacking a required label value without parsing them', () => {
    const filter = rawLabelPrefilter(parseLabelSelector('app=web,tier in (a,b)'))!;
    assert.equal(filter(stored({ app: 'db', tier: 'a' })), false);
    assert.equal(filter(stored({ app: 'web', tier: 'c' })), false);
    assert.equal(filter(stored({ app: 'web' })), false);
  });

  it('has nothing to test for purely negative selectors', () => {
    assert.equal(rawLabelPrefilter(parseLabelSelector('env!=prod,!gone')), undefined);
    assert.equal(rawLabelPrefilter(undefined), undefined);
  });
});
