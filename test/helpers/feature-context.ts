// A FeatureContext with nothing behind it but memory: the fake client, fake informers filled only
// when a test calls sync(), a fake clock, and a hub that records what would go to the nodes.
import type { EdgeMessage } from '../../src/api/edge-protocol.ts';
import { SEDNA_API_VERSION } from '../../src/api/sedna/index.ts';
import { EventRecorder, resourcePath } from '../../src/controller/index.ts';
import { FakeClock } from '../../src/lib/fake-clock.ts';
import { FakeKubeClient } from '../../src/controller/fake-client.ts';
import { FakeInformers } from '../../src/controller/fake-informers.ts';
import { loadGmConfig } from '../../src/gm/config.ts';
import { DownstreamSync, type DownstreamHub } from '../../src/gm/downstream.ts';
import type { FeatureContext } from '../../src/gm/feature.ts';
import { StatusWriter } from '../../src/gm/status.ts';
import { silentLogger } from '../../src/lib/logger.ts';

export class RecordingHub implements DownstreamHub {
  readonly sent: { node: string; message: EdgeMessage }[] = [];

  send(node: string, message: EdgeMessage): Promise<void> {
    this.sent.push({ node, message });
    return Promise.resolve();
  }

  onNodeConnected(): () => void {
    return () => undefined;
  }
}

export interface FakeFeatureContext {
  ctx: FeatureContext;
  client: FakeKubeClient;
  clock: FakeClock;
  informers: FakeInformers;
  hub: RecordingHub;
  /** The informers catch up with the client (what a watch would deliver). */
  sync(): Promise<void>;
}

export function fakeFeatureContext(): FakeFeatureContext {
  const clock = new FakeClock();
  const client = new FakeKubeClient(clock);
  const informers = new FakeInformers();
  const hub = new RecordingHub();
  const logger = silentLogger();
  const ctx: FeatureContext = {
    client,
    clock,
    config: loadGmConfig(undefined),
    informers,
    pathFor: (plural) => resourcePath({ apiVersion: SEDNA_API_VERSION, plural }),
    downstream: new DownstreamSync(hub, logger),
    status: new StatusWriter(client, { clock }),
    events: new EventRecorder(client, { component: 'sedna-gm', host: 'test', clock, logger }),
    metrics: {},
    logger,
  };
  return { ctx, client, clock, informers, hub, sync: () => informers.sync(client) };
}
