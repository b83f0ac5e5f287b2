// The GM never retries an upstream message forever (issue 12 part 6): one naming an object
// Kubernetes could never store, or refused for good by the API server, is dead-lettered at once
// with a Warning Event on the reporting Node; any other failure is retried (the message stays
// unacknowledged) at most MAX_UPSTREAM_ATTEMPTS times.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EdgeMessage } from '../../src/api/edge-protocol.ts';
import type { KubeObject } from '../../src/api/meta.ts';
import { ApiError } from '../../src/controller/rest.ts';
import type { FeatureContext, FeatureRegistration } from '../../src/gm/feature.ts';
import { MAX_UPSTREAM_ATTEMPTS, Upstream } from '../../src/gm/upstream.ts';
import { silentLogger } from '../../src/lib/logger.ts';

interface RecordedEvent {
  obj: KubeObject;
  type: string;
  reason: string;
  message: string;
}

function setup(handler: FeatureRegistration['handleUpstream']): { upstream: Upstream; events: RecordedEvent[]; calls: () => number } {
  const events: RecordedEvent[] = [];
  let calls = 0;
  const ctx = {
    events: {
      event: (obj: KubeObject, type: string, reason: string, message: string) => {
        events.push({ obj, type, reason, message });
        return Promise.resolve();
      },
    },
  } as unknown as FeatureContext;
  const upstream = new Upstream(ctx, silentLogger());
  upstream.register({
    kind: 'Dataset',
    plural: 'datasets',
    handleUpstream: async (c, node, message) => {
      calls++;
      await handler!(c, node, message);
    },
  });
  return { upstream, events, calls: () => calls };
}

const message = (resourceName: string, namespace = 'default'): EdgeMessage => ({
  header: { namespace, resourceKind: 'dataset', resourceName, operation: 'status' },
  content: { numberOfSamples: 3 },
});

describe('upstream dead-lettering', () => {
  it('drops a report naming an object longer than Kubernetes allows, with an Event, without calling the handler', async () => {
    const { upstream, events, calls } = setup(() => Promise.reject(new Error('never reached')));
    await upstream.dispatch('edge-1', message('x'.repeat(300)));
    await upstream.dispatch('edge-1', message('ok', 'Not_A_Namespace'));
    assert.equal(calls(), 0);
    assert.equal(events.length, 2);
    assert.deepEqual(
      events.map((e) => [e.obj.kind, e.obj.metadata.name, e.type, e.reason]),
      [
        ['Node', 'edge-1', 'Warning', 'UpstreamMessageDropped'],
        ['Node', 'edge-1', 'Warning', 'UpstreamMessageDropped'],
      ],
    );
    assert.match(events[0]!.message, /must be no more than 253 characters/);
    assert.match(events[1]!.message, /namespace "Not_A_Namespace"/);
  });

  it('dead-letters at once when the API server refuses the write for good (422)', async () => {
    const { upstream, events } = setup(() => Promise.reject(new ApiError(422, undefined, 'PATCH', '/apis/sedna.io/v1alpha1/namespaces/default/datasets/d/status')));
    await upstream.dispatch('edge-1', message('d'));
    assert.equal(events.length, 1);
    assert.match(events[0]!.message, /refused it with 422/);
  });

  it(`retries a transient failure, then dead-letters it after ${MAX_UPSTREAM_ATTEMPTS} tries`, async () => {
    const { upstream, events, calls } = setup(() => Promise.reject(new ApiError(503, undefined, 'PATCH', '/x')));
    for (let i = 1; i < MAX_UPSTREAM_ATTEMPTS; i++) {
      await assert.rejects(upstream.dispatch('edge-1', message('d')), /503/, `try ${i} stays unacknowledged`);
    }
    await upstream.dispatch('edge-1', message('d'));
    assert.equal(calls(), MAX_UPSTREAM_ATTEMPTS);
    assert.equal(events.length, 1);
    assert.match(events[0]!.message, new RegExp(`failed ${MAX_UPSTREAM_ATTEMPTS} times`));
  });

  it('forgets the failures of a message once it succeeds', async () => {
    let fail = true;
    const { upstream, events } = setup(() => (fail ? Promise.reject(new Error('ECONNREFUSED')) : Promise.resolve()));
    for (let i = 1; i < MAX_UPSTREAM_ATTEMPTS; i++) await assert.rejects(upstream.dispatch('edge-1', message('d')));
    fail = false;
    await upstream.dispatch('edge-1', message('d'));
    fail = true;
    await assert.rejects(upstream.dispatch('edge-1', message('d')), /ECONNREFUSED/, 'the count started over');
    assert.equal(events.length, 0);
  });
});
