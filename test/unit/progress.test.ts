// Progress output: a live line redrawn in place on a terminal, plain lines (only on a change of
// text or of a tenth of the total) otherwise.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { Progress } from '../../src/lib/progress.ts';

function sink(isTTY: boolean): Writable & { isTTY: boolean; text: () => string } {
  let out = '';
  const w = new Writable({
    write(chunk: Buffer, _e, done) {
      out += chunk.toString();
      done();
    },
  }) as Writable & { isTTY: boolean; text: () => string };
  w.isTTY = isTTY;
  w.text = () => out;
  return w;
}

describe('progress', () => {
  it('writes plain lines off a terminal, skipping updates that change nothing visible', () => {
    const out = sink(false);
    const p = new Progress(out);
    p.update('starting the API server');
    p.update('starting the API server');
    for (let i = 0; i <= 100; i++) p.update('training', i, 100);
    p.log('done');
    p.finish();
    const lines = out.text().trimEnd().split('\n');
    assert.equal(lines[0], 'starting the API server');
    assert.deepEqual(lines.slice(1, 3), ['training (0/100)', 'training (10/100)']);
    assert.equal(lines.length, 1 + 11 + 1, 'one line per tenth');
    assert.equal(lines.at(-1), 'done');
    assert.ok(!out.text().includes('\r') && !out.text().includes('\x1b'), 'no terminal control characters');
  });

  it('redraws one line on a terminal with a bar and the elapsed seconds, and clears it at the end', () => {
    const out = sink(true);
    let now = 0;
    const p = new Progress(out, { now: () => now, redrawMs: 100 });
    p.update('rounds', 3, 10);
    assert.match(p.line(), /rounds \[██████░{14}\] 3\/10 0 s$/);
    now = 50;
    p.update('rounds', 4, 10); // within redrawMs: not drawn
    now = 2500;
    p.update('rounds', 5, 10);
    p.log('round 5 accuracy 0.81');
    p.finish();
    const text = out.text();
    assert.equal((text.match(/rounds/g) ?? []).length, 3, 'drawn, skipped, drawn, redrawn under the logged line');
    assert.ok(text.includes('\r\x1b[2Kround 5 accuracy 0.81\n'), 'the logged line replaces the live line');
    assert.match(text, /5\/10 2 s/);
    assert.ok(text.endsWith('\r\x1b[2K'), 'the live line is cleared');
  });
});
