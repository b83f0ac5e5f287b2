// The registry covers the API: every sedna.io kind is either some feature's (reconciled, or taking
// upstream reports) or explicitly accepted without reconciling, never both, never neither.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sednaKinds } from '../../src/api/sedna/index.ts';
import { acceptedNotReconciled, features, loadEdgeFeatures, loadGmFeatures } from '../../src/features/registry.ts';

describe('the feature registry', () => {
  it('names every sedna.io kind once: as a feature’s, or as accepted but not reconciled', () => {
    const registered = features.flatMap((f) => f.kinds.map((k) => k.kind));
    const accepted = acceptedNotReconciled.map((k) => k.kind);
    assert.deepEqual([...registered, ...accepted].sort(), sednaKinds.map((k) => k.kind).sort());
  });

  it('a kind a feature claims is the kind its GM side registers', async () => {
    const gm = await loadGmFeatures();
    assert.deepEqual(gm.map((f) => f.kind).sort(), features.flatMap((f) => f.kinds.map((k) => k.kind)).sort());
    for (const registration of gm) assert.equal(registration.plural, sednaKinds.find((k) => k.kind === registration.kind)?.plural);
  });

  it('the SDK (sedna/worker) exports every registered feature’s worker classes', async () => {
    const worker = (await import('../../src/worker.ts')) as Record<string, unknown>;
    const withSdk = features.filter((f) => f.sdk);
    assert.deepEqual(withSdk.map((f) => f.name), ['jointinference', 'federatedlearning', 'incrementallearning', 'lifelonglearning']);
    for (const feature of withSdk) {
      const sdk = await feature.sdk!();
      assert.ok(Object.keys(sdk).length > 0, feature.name);
      for (const [name, value] of Object.entries(sdk)) assert.equal(worker[name], value, `${feature.name}: ${name} is exported by src/worker.ts`);
    }
  });

  it('the LC sides load alone, each downstream kind claimed by one feature', async () => {
    const edge = await loadEdgeFeatures();
    const kinds = edge.flatMap((f) => f.edge.kinds);
    assert.equal(new Set(kinds).size, kinds.length);
    assert.ok(kinds.includes('dataset') && kinds.includes('jointinferenceservice') && kinds.includes('federatedlearningjob'));
  });
});
