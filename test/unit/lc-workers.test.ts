// Worker reports (spec §4.2, appendix D) and what each becomes upstream (§4.5, §4.6, §4.9), plus the
// small helpers of the worker API and the GM link.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadEdgeFeatures } from '../../src/features/registry.ts';
import type { RelayRule } from '../../src/lc/edge-feature.ts';
import { gmUrl } from '../../src/lc/gm-link.ts';
import { isLoopback } from '../../src/lib/net/loopback.ts';
import { checkOwnerUid, parseWorkerMessage, relayTable, StaleOwnerError, upstreamFor, WorkerMessageError, type WorkerMessage } from '../../src/lc/workers.ts';

const base: WorkerMessage = {
  name: 'w',
  namespace: 'ns',
  ownerName: 'owner',
  ownerKind: '',
  ownerInfo: { a: 1 },
  kind: 'train',
  status: 'completed',
  results: [{ format: 'pb', url: '/m.pb' }],
};

describe('upstreamFor, with the registered features’ relays', () => {
  let relays: Map<string, RelayRule>;
  before(async () => {
    relays = relayTable((await loadEdgeFeatures()).map((f) => f.edge));
  });
  const known = (kind: string, namespace: string, name: string): string | undefined =>
    namespace === 'ns' && name === 'owner' ? (kind === 'incrementallearningjob' ? 'IncrementalLearningJob' : 'LifelongLearningJob') : undefined;
  const cases: [ownerKind: string, resourceKind: string | undefined, models: unknown][] = [
    ['jointinferenceservice', 'jointinferenceservice', null],
    ['featureextractionservice', 'featureextractionservice', null],
    ['federatedlearningjob', 'federatedlearningjob', base.results],
    ['reidjob', 'reidjob', base.results],
    ['videoanalyticsjob', 'videoanalyticsjob', base.results],
    ['incrementallearningjob', 'IncrementalLearningJob', base.results],
    ['lifelonglearningjob', 'LifelongLearningJob', base.results],
    ['dataset', undefined, undefined],
    ['model', undefined, undefined],
    ['FederatedLearningJob', undefined, undefined], // the routing key is exact, as in Sedna
    ['', undefined, undefined],
  ];
  for (const [ownerKind, resourceKind, models] of cases) {
    it(`${ownerKind || '(empty)'} → ${resourceKind ?? 'dropped'}`, () => {
      const upstream = upstreamFor({ ...base, ownerKind }, relays, known);
      if (resourceKind === undefined) return assert.equal(upstream, undefined);
      assert.deepEqual(upstream, {
        header: { namespace: 'ns', resourceKind, resourceName: 'owner', operation: 'status' },
        content: { phase: 'train', status: 'completed', output: { models, ownerInfo: { a: 1 } } },
      });
    });
  }
  it('IL/LL reports for a job this LC does not hold are dropped', () => {
    assert.equal(upstreamFor({ ...base, ownerKind: 'incrementallearningjob', ownerName: 'other' }, relays, known), undefined);
  });
});

describe('relayTable', () => {
  it('refuses two features relaying the same owner kind', () => {
    assert.throws(() => relayTable([{ kinds: [], relays: { x: 'status' } }, { kinds: [], relays: { x: 'results' } }]), /two features relay worker reports of owner kind x/);
  });
});

describe('parseWorkerMessage', () => {
  it('fills missing fields as Go does', () => {
    assert.deepEqual(parseWorkerMessage({ name: 'w' }), { name: 'w', namespace: '', ownerName: '', ownerKind: '', ownerInfo: null, kind: '', status: '', results: null });
  });
  const bad: [string, unknown][] = [
    ['not an object', 'x'],
    ['an array', []],
    ['null', null],
    ['name a number', { name: 1 }],
    ['ownerInfo an array', { name: 'w', ownerInfo: [] }],
    ['results an object', { name: 'w', results: {} }],
    ['results with a non-object', { name: 'w', results: [1] }],
  ];
  for (const [name, body] of bad) it(`rejects: ${name}`, () => assert.throws(() => parseWorkerMessage(body), WorkerMessageError));
});

describe('helpers', () => {
  const urls: [string, string][] = [
    ['127.0.0.1:9000', 'ws://127.0.0.1:9000/'],
    ['gm.sedna:9000/', 'ws://gm.sedna:9000/'],
    ['ws://h:1/', 'ws://h:1/'],
    ['wss://h:1/', 'wss://h:1/'],
    ['http://h:1/', 'ws://h:1/'],
    ['https://h:1/', 'wss://h:1/'],
  ];
  for (const [input, expected] of urls) it(`gmUrl(${input})`, () => assert.equal(gmUrl(input), expected));
  const addresses: [string | undefined, boolean][] = [
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['192.0.2.2', false],
    ['::ffff:10.0.0.1', false],
    ['fd00::2', false],
    [undefined, false],
  ];
  for (const [address, expected] of addresses) it(`isLoopback(${address})`, () => assert.equal(isLoopback(address), expected));
});

describe('the job uid of a report (ownerUid)', () => {
  it('is parsed, checked against the job this LC holds and carried upstream', () => {
    const message = parseWorkerMessage({ ...base, ownerKind: 'federatedlearningjob', ownerUid: 'uid-a' });
    assert.equal(message.ownerUid, 'uid-a');
    assert.throws(() => parseWorkerMessage({ ...base, ownerUid: 5 }), (err: unknown) => err instanceof WorkerMessageError && /ownerUid must be a string/.test(err.message));
    checkOwnerUid(message, () => 'uid-a');
    checkOwnerUid(message, () => undefined); // no job of that name here (yet, or any more): the GM decides
    checkOwnerUid({ ...message, ownerUid: undefined }, () => 'uid-b'); // a worker that sends none (Sedna's)
    assert.throws(() => checkOwnerUid(message, () => 'uid-b'), (err: unknown) => err instanceof StaleOwnerError && /ns\/owner uid uid-a no longer exists \(the job of that name is uid uid-b\)/.test(err.message));
    const upstream = upstreamFor(message, new Map([['federatedlearningjob', 'results']]), () => undefined);
    assert.equal((upstream?.content as { ownerUid?: string }).ownerUid, 'uid-a');
  });
});
