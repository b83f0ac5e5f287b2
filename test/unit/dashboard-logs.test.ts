// The dashboard's log requests: names checked like Kubernetes names, the field named on refusal.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLogRequest } from '../../src/dashboard/logs.ts';

const q = (o: Record<string, string>): URLSearchParams => new URLSearchParams(o);

describe('dashboard log requests', () => {
  it('accepts a namespace, pod and container, with 200 lines of tail by default', () => {
    assert.deepEqual(parseLogRequest(q({ namespace: 'default', pod: 'ji-deployment-edge-5f9-x2', container: 'main' })), { namespace: 'default', pod: 'ji-deployment-edge-5f9-x2', container: 'main', tailLines: 200 });
    assert.equal((parseLogRequest(q({ namespace: 'a', pod: 'b', container: 'c', tailLines: '0' })) as { tailLines: number }).tailLines, 0);
  });

  it('names the field it refuses', () => {
    assert.match(parseLogRequest(q({ pod: 'b', container: 'c' })) as string, /^namespace/);
    assert.match(parseLogRequest(q({ namespace: 'a', pod: '../etc', container: 'c' })) as string, /^pod/);
    assert.match(parseLogRequest(q({ namespace: 'a', pod: 'b', container: 'C!' })) as string, /^container/);
    assert.match(parseLogRequest(q({ namespace: 'a', pod: 'b', container: 'c', tailLines: '-1' })) as string, /^tailLines/);
    assert.match(parseLogRequest(q({ namespace: 'a', pod: 'b', container: 'c', tailLines: '100000' })) as string, /^tailLines/);
    assert.match(parseLogRequest(q({ namespace: 'x'.repeat(64), pod: 'b', container: 'c' })) as string, /^namespace/);
  });
});
