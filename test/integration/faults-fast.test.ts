// The fast subset of the fault suite (test/faults/run.ts; `npm run test:faults` runs all of it
// on the joint-inference scenario): on the probe service, kill -9 of the API server, the GM, an
// edge LC and the edge worker, and a 5 s GM–LC link cut (the suite's TCP relay stops carrying the
// LCs' link to the GM, test/faults/link-proxy.ts); each recovers, loses no acknowledged
// write or report, leaves nothing unmanaged, and `sedna down` leaves no process.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatRow, missedTargets, runFaultSuite, TABLE_HEADER } from '../faults/run.ts';

describe('fault suite, fast subset', { timeout: 600_000 }, () => {
  it('recovers from each fault with nothing lost or left behind', async () => {
    const lines: string[] = [];
    const result = await runFaultSuite({ scenario: 'probe', faults: ['apiserver', 'gm', 'lc/edge-1', 'worker/edge', 'link'], cutSeconds: 5, log: (l) => lines.push(l) });
    const table = [TABLE_HEADER, ...result.rows.map(formatRow)].join('\n');
    assert.equal(result.rows.length, 5, lines.join('\n'));
    assert.deepEqual(missedTargets(result), [], `${table}\n${lines.join('\n')}`);
    for (const row of result.rows) {
      assert.ok(row.writesAcked > 0 && row.reportsAcked > 0, `${row.fault}: the probes ran`);
      assert.equal(row.scenario, 'Running, edge working', row.fault);
    }
  });
});
