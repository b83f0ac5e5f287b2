// Sedna's trigger semantics (spec §4.7), table-driven: every operator at, above and below the
// threshold, indexed metrics, value conversion, timer windows and their edges (inclusive bounds,
// "24:00", windows across midnight), the AND of both, and spec errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compare, compileTrigger, evaluateCondition, evaluateTimer, formatHHMM, TriggerSpecError, type Stats } from '../../src/lc/triggers.ts';

/** A local time today (the timer reads local time, as Sedna's LC does). */
const at = (hh: number, mm: number): Date => new Date(2024, 0, 15, hh, mm, 30);

describe('compare: every operator and its aliases', () => {
  const rows: [operator: string, value: number, threshold: number, expected: boolean][] = [];
  const table: Record<string, [below: boolean, equal: boolean, above: boolean]> = {
    // [value < threshold, value = threshold, value > threshold]
    '>': [false, false, true],
    gt: [false, false, true],
    '>=': [false, true, true],
    ge: [false, true, true],
    '=': [false, true, false],
    '==': [false, true, false],
    eq: [false, true, false],
    '!=': [true, false, true],
    ne: [true, false, true],
    '<=': [true, true, false],
    le: [true, true, false],
    '<': [true, false, false],
    lt: [true, false, false],
    '=>': [false, false, false],
    '': [false, false, false],
    GT: [false, false, false],
  };
  for (const [operator, [below, equal, above]] of Object.entries(table)) {
    rows.push([operator, 499, 500, below], [operator, 500, 500, equal], [operator, 501, 500, above]);
    // Within 1e-6 counts as equal.
    rows.push([operator, 500 + 5e-7, 500, equal], [operator, 500 - 5e-7, 500, equal]);
    rows.push([operator, 500 + 2e-6, 500, above], [operator, 500 - 2e-6, 500, below]);
  }
  for (const [operator, value, threshold, expected] of rows) {
    it(`${value} ${JSON.stringify(operator)} ${threshold} → ${expected}`, () => {
      assert.equal(compare(operator, value, threshold), expected);
    });
  }
});

describe('conditions over stats (Sedna trigger_test.go cases)', () => {
  const stats: Stats = { numOfSamples: 500, pricision_delta: [Math.fround(0.1), Math.fround(0.2)], text: '500', bad: 'x', flag: true, list: [1, 2] };
  const cases: [metric: string, operator: string, threshold: unknown, expected: boolean][] = [
    ['numOfSamples', 'gt', 499, true],
    ['numOfSamples', '>', 499, true],
    ['numOfSamples', 'gt', 500, false],
    ['numOfSamples', '>', 500, false],
    ['numOfSamples', 'ge', 501, false],
    ['numOfSamples', '>=', 501, false],
    ['numOfSamples', 'ge', 500, true],
    ['numOfSamples', '>=', 500, true],
    ['numOfSamples', 'eq', 500, true],
    ['numOfSamples', '=', 500, true],
    ['numOfSamples', '=', 501, false],
    ['numOfSamples', '!=', 500, false],
    ['numOfSamples', '!=', 501, true],
    ['numOfSamples', 'lt', 501, true],
    ['numOfSamples', '<', 501, true],
    ['numOfSamples', 'lt', 500, false],
    ['numOfSamples', '<', 500, false],
    ['numOfSamples', 'le', 501, true],
    ['numOfSamples', '<=', 501, true],
    ['numOfSamples', 'le', 500, true],
    ['numOfSamples', '<=', 500, true],
    ['numOfSamples', 'le', 499, false],
    ['numOfSamples', '<=', 499, false],
    ['pricision_delta[1]', 'gt', 0.3, false],
    ['pricision_delta[1]', 'gt', 0.2, false],
    ['pricision_delta[1]', 'gt', 0.1, true],
    ['pricision_delta[1]', 'ge', 0.2, true],
    ['pricision_delta [0]', '=', 0.1, true],
    ['pricision_delta[2]', '>=', 0, false], // index out of range
    ['pricision_delta[-1]', '>=', 0, false], // Go panics; here: false
    ['pricision_delta[x]', '>=', 0, false],
    ['numOfSamples[0]', '>=', 0, false], // not a list
    ['missing', '>=', 0, false],
    ['text', '=', 500, true], // numeric strings are parsed
    ['bad', '=', 0, false], // unparsable strings: false
    ['flag', '=', 0, true], // other types read as 0
    ['list', '=', 0, true], // a list without an index reads as 0
    ['numOfSamples', '>', '499.5', true], // numeric-string threshold
    ['numOfSamples', '>', null, true], // null threshold is 0
    ['numOfSamples', '>', true, true], // other threshold types are 0
  ];
  for (const [metric, operator, threshold, expected] of cases) {
    it(`${metric} ${operator} ${JSON.stringify(threshold)} → ${expected}`, () => {
      const trigger = compileTrigger({ condition: { metric, operator, threshold } });
      assert.equal(trigger.trigger(stats, at(12, 0)), expected);
    });
  }
  it('evaluateCondition is the same function', () => {
    assert.equal(evaluateCondition({ metric: 'numOfSamples', operator: '>=', threshold: 500 }, stats), true);
  });
});

describe('timer windows', () => {
  const cases: [start: string, end: string, now: string, expected: boolean][] = [
    // plain window, inclusive bounds
    ['08:00', '18:00', '07:59', false],
    ['08:00', '18:00', '08:00', true],
    ['08:00', '18:00', '12:30', true],
    ['08:00', '18:00', '18:00', true],
    ['08:00', '18:00', '18:01', false],
    // a one-minute window
    ['12:00', '12:00', '12:00', true],
    ['12:00', '12:00', '12:01', false],
    // whole day, and "24:00" as the end of the day
    ['00:00', '24:00', '00:00', true],
    ['00:00', '24:00', '23:59', true],
    ['20:00', '24:00', '19:59', false],
    ['20:00', '24:00', '23:59', true],
    // across midnight
    ['22:00', '06:00', '21:59', false],
    ['22:00', '06:00', '22:00', true],
    ['22:00', '06:00', '23:59', true],
    ['22:00', '06:00', '00:00', true],
    ['22:00', '06:00', '06:00', true],
    ['22:00', '06:00', '06:01', false],
    ['22:00', '06:00', '12:00', false],
    // unpadded values compare as strings (Sedna's behaviour): "9:00" sorts after "18:00"
    ['9:00', '18:00', '12:00', true], // start > end lexicographically: a "wrapping" window
    ['9:00', '18:00', '18:30', false],
  ];
  for (const [start, end, now, expected] of cases) {
    it(`[${start}, ${end}] at ${now} → ${expected}`, () => {
      assert.equal(evaluateTimer({ start, end }, now), expected);
    });
  }

  it('formats local time as zero-padded HH:MM', () => {
    assert.equal(formatHHMM(at(0, 0)), '00:00');
    assert.equal(formatHHMM(at(9, 5)), '09:05');
    assert.equal(formatHHMM(at(23, 59)), '23:59');
  });

  // Sedna's trigger_test.go: windows relative to now.
  const hhmm = (offsetHours: number): string => formatHHMM(new Date(at(12, 0).getTime() + offsetHours * 3_600_000));
  const relative: [start: number, end: number, expected: boolean][] = [
    [-1, 1, true],
    [-2, -1, false],
    [1, 2, false],
    [1, -1, false],
    [2, 1, true],
  ];
  for (const [start, end, expected] of relative) {
    it(`window [now${start >= 0 ? '+' : ''}${start}h, now${end >= 0 ? '+' : ''}${end}h] → ${expected}`, () => {
      const trigger = compileTrigger({ timer: { start: hhmm(start), end: hhmm(end) } });
      assert.equal(trigger.trigger({}, at(12, 0)), expected);
    });
  }

  it('type "daily" makes now "" (Sedna\'s broken format), so a normal window never matches', () => {
    assert.equal(compileTrigger({ timer: { start: '00:00', end: '24:00', type: 'daily' } }).trigger({}, at(12, 0)), false);
    assert.equal(compileTrigger({ timer: { start: '00:00', end: '24:00', type: 'other' } }).trigger({}, at(12, 0)), true);
  });
});

describe('compiled triggers', () => {
  const stats: Stats = { num_of_samples: 500 };
  const timer = { start: '11:00', end: '13:00' };
  const cases: [name: string, spec: unknown, now: Date, expected: boolean][] = [
    ['empty spec always fires', {}, at(3, 0), true],
    ['undefined spec always fires', undefined, at(3, 0), true],
    ['checkPeriodSeconds alone is ignored', { checkPeriodSeconds: 60 }, at(3, 0), true],
    ['inside window and ge 500', { timer, condition: { metric: 'num_of_samples', operator: 'ge', threshold: 500 } }, at(12, 0), true],
    ['inside window and ge 600', { timer, condition: { metric: 'num_of_samples', operator: 'ge', threshold: 600 } }, at(12, 0), false],
    ['outside window and ge 500', { timer, condition: { metric: 'num_of_samples', operator: 'ge', threshold: 500 } }, at(14, 0), false],
    ['window start edge', { timer }, at(11, 0), true],
    ['window end edge', { timer }, at(13, 0), true],
    ['just after the window', { timer }, at(13, 1), false],
  ];
  for (const [name, spec, now, expected] of cases) {
    it(name, () => assert.equal(compileTrigger(spec).trigger(stats, now), expected));
  }

  const errors: [name: string, spec: unknown, message: RegExp][] = [
    ['condition not an object', { condition: 'x' }, /invalid condition value/],
    ['condition a list', { condition: [] }, /invalid condition value/],
    ['timer not an object', { timer: 5 }, /invalid timer/],
    ['unparsable threshold string', { condition: { metric: 'm', operator: '>', threshold: 'abc' } }, /invalid threshold/],
    ['missing operator', { condition: { metric: 'm', threshold: 1 } }, /operator/],
    ['missing metric', { condition: { operator: '>', threshold: 1 } }, /metric/],
    ['spec not an object', 'soon', /invalid trigger/],
  ];
  for (const [name, spec, message] of errors) {
    it(`error: ${name}`, () => assert.throws(() => compileTrigger(spec), (err: unknown) => err instanceof TriggerSpecError && message.test(err.message)));
  }
});
