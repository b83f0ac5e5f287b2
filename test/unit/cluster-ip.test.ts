// The ClusterIP allocator: addresses inside the range (never network or broadcast), unique against
// what is in use, and a clear error once the range is full.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClusterIpAllocator, DEFAULT_SERVICE_CLUSTER_IP_RANGE, ipv4ToInt, parseIpv4Cidr, RangeFullError } from '../../src/apiserver/registry/cluster-ip.ts';

function allocatorWith(cidr: string, taken: Map<string, string>, random?: () => number): ClusterIpAllocator {
  return new ClusterIpAllocator(cidr, () => taken.entries(), random);
}

describe('ClusterIpAllocator', () => {
  it('the default range is on loopback: 127.96.0.0/12', () => {
    const range = parseIpv4Cidr(DEFAULT_SERVICE_CLUSTER_IP_RANGE);
    assert.equal(range.size, 2 ** 20);
    const allocator = allocatorWith(DEFAULT_SERVICE_CLUSTER_IP_RANGE, new Map());
    for (let i = 0; i < 200; i++) {
      const ip = allocator.allocate();
      assert.ok(allocator.contains(ip), ip);
      const n = ipv4ToInt(ip)!;
      assert.ok(n > ipv4ToInt('127.96.0.0')! && n < ipv4ToInt('127.111.255.255')!, ip);
    }
    assert.equal(allocator.contains('127.95.255.255'), false);
    assert.equal(allocator.contains('127.112.0.0'), false);
    assert.equal(allocator.contains('127.96.0.0'), false, 'network address');
    assert.equal(allocator.contains('127.111.255.255'), false, 'broadcast address');
    assert.equal(allocator.contains('10.0.0.1'), false);
    assert.equal(allocator.contains('127.96.0.01'), false, 'leading zero');
  });

  it('hands out each address once, even when the random pick keeps hitting taken ones', () => {
    const taken = new Map<string, string>();
    // A constant "random" always proposes the same address: the scan must find the others.
    const allocator = allocatorWith('10.0.0.0/28', taken, () => 0.5);
    for (let i = 0; i < 14; i++) {
      const ip = allocator.allocate();
      assert.equal(taken.has(ip), false, `${ip} handed out twice`);
      taken.set(ip, `default/svc-${i}`);
    }
    assert.equal(taken.size, 14);
    for (const ip of taken.keys()) assert.ok(allocator.contains(ip), ip);
  });

  it('throws RangeFullError once every address is taken', () => {
    const taken = new Map<string, string>();
    const allocator = allocatorWith('10.0.0.0/30', taken);
    taken.set(allocator.allocate(), 'a/one');
    taken.set(allocator.allocate(), 'a/two');
    assert.deepEqual([...taken.keys()].sort(), ['10.0.0.1', '10.0.0.2']);
    assert.throws(() => allocator.allocate(), (err: unknown) => err instanceof RangeFullError && /range is full.*10\.0\.0\.0\/30/.test(err.message));
  });

  it('names who holds an address, ignoring the asking Service itself', () => {
    const allocator = allocatorWith('10.0.0.0/24', new Map([['10.0.0.7', 'ns/web']]));
    assert.equal(allocator.holder('10.0.0.7'), 'ns/web');
    assert.equal(allocator.holder('10.0.0.7', 'ns/web'), undefined);
    assert.equal(allocator.holder('10.0.0.8'), undefined);
  });

  it('rejects malformed ranges, naming the value', () => {
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '300.0.0.0/8', 'x/8', '10.0.0.0/31']) {
      assert.throws(() => parseIpv4Cidr(bad), new RegExp(bad.replace(/[./]/g, '\\$&')));
    }
    assert.equal(parseIpv4Cidr('10.0.0.5/24').cidr, '10.0.0.0/24');
  });
});
