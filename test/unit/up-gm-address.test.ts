// `sedna up --gm-address-for NODE=HOST:PORT`: which LC dials the GM through what, and clear errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGmAddresses } from '../../src/up/supervisor.ts';

describe('parseGmAddresses', () => {
  const nodes = ['cloud', 'edge-1'];

  it('maps each named node to its address, host:port or a ws(s) URL', () => {
    assert.deepEqual(parseGmAddresses(['edge-1=127.0.0.1:9100', 'cloud=wss://gm.example:443/'], nodes), { 'edge-1': '127.0.0.1:9100', cloud: 'wss://gm.example:443/' });
    assert.deepEqual(parseGmAddresses([], nodes), {});
  });

  it('names the value and the cause of bad input', () => {
    assert.throws(() => parseGmAddresses(['edge-1'], nodes), /"edge-1": expected NODE=HOST:PORT/);
    assert.throws(() => parseGmAddresses(['edge-9=127.0.0.1:1'], nodes), /node "edge-9" is not in --nodes \(cloud,edge-1\)/);
    assert.throws(() => parseGmAddresses(['edge-1=127.0.0.1:1', 'edge-1=127.0.0.1:2'], nodes), /edge-1 given twice/);
    assert.throws(() => parseGmAddresses(['edge-1=127.0.0.1'], nodes), /is not HOST:PORT/);
    assert.throws(() => parseGmAddresses(['edge-1=http://x:1/path'], nodes), /is not HOST:PORT/);
  });
});
