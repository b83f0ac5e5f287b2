// The LC's triggered job manager, configured as a count-triggered job over the incremental-learning
// kind (incremental learning itself now has a full manager, il-local-manager.test.ts): the
// train trigger is checked every checkPeriodSeconds on a fake clock against the new samples of a
// real Dataset index file, its state is in a real SQLite file, and an LC restart in the middle of
// the trigger window neither loses nor repeats a firing.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { EdgeMessage } from '../../src/api/edge-protocol.ts';
import { FakeClock } from '../../src/lib/fake-clock.ts';
import { edge as datasetEdge } from '../../src/features/dataset/edge.ts';
import type { DatasetManager } from '../../src/features/dataset/local-manager.ts';
import { LcDatabase } from '../../src/lc/db.ts';
import type { LocalJobManager, LocalManagerContext } from '../../src/lc/edge-feature.ts';
import { TriggeredJobManager } from '../../src/lc/job-manager.ts';
import type { SednaObject } from '../../src/lc/objects.ts';
import { silentLogger } from '../../src/lib/logger.ts';

const dir = mkdtempSync(join(tmpdir(), 'lc-job-manager-'));
const index = join(dir, 'train.txt');
const dbPath = join(dir, 'database.db');
const PERIOD_S = 30;

const dataset = { kind: 'Dataset', metadata: { name: 'ds', namespace: 'default' }, spec: { url: index, format: 'txt', nodeName: 'edge-1' } };
const job = {
  kind: 'IncrementalLearningJob',
  metadata: { name: 'helmet-il', namespace: 'default' },
  spec: {
    dataset: { name: 'ds' },
    trainSpec: { trigger: { checkPeriodSeconds: PERIOD_S, timer: { start: '10:00', end: '11:00' }, condition: { operator: '>', threshold: 5, metric: 'num_of_samples' } } },
  },
};

/** One LC lifetime: the database and the two managers, as LocalController wires them. */
class Node {
  readonly sent: EdgeMessage[] = [];
  readonly db = new LcDatabase(dbPath);
  readonly datasets: DatasetManager;
  readonly jobs: TriggeredJobManager;

  constructor(clock: FakeClock) {
    const managers = new Map<string, LocalJobManager>();
    const ctx: LocalManagerContext = {
      nodeName: 'edge-1',
      db: this.db,
      send: (m) => this.sent.push(m),
      clock,
      logger: silentLogger(),
      rootfs: '',
      pollIntervalMs: 3_600_000,
      manager: (feature) => managers.get(feature),
    };
    this.datasets = datasetEdge.createLocalManager!(ctx) as DatasetManager;
    this.jobs = new TriggeredJobManager(ctx, {
      kind: 'incrementallearningjob',
      resourceKind: 'IncrementalLearningJob',
      watch: (object: SednaObject) => {
        const spec = object.spec as typeof job.spec;
        const trigger = spec.trainSpec.trigger;
        return { dataset: spec.dataset.name, trigger, checkPeriodSeconds: trigger.checkPeriodSeconds };
      },
      report: (_job, stats, total) => ({ phase: 'train', status: 'ready', input: { numberOfSamples: total, newSamples: stats.num_of_samples } }),
    });
    managers.set('dataset', this.datasets);
    this.datasets.resume();
    this.jobs.resume();
  }

  /** The dataset manager re-reads the index (its file watch would, a moment later). */
  async rescan(): Promise<void> {
    this.datasets.check('default/dataset/ds');
    await this.datasets.settled();
  }

  trainReady(): unknown[] {
    return this.sent.filter((m) => m.header.resourceKind === 'IncrementalLearningJob').map((m) => m.content);
  }

  async stop(): Promise<void> {
    this.jobs.stop();
    await this.datasets.stop();
    this.db.close();
  }
}

const samples = (n: number): string => Array.from({ length: n }, (_, i) => `img/${i}.jpg\n`).join('');

describe('triggered job manager (incremental learning, train trigger)', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('fires on new samples inside the window, and resumes its state across an LC restart mid-window', async () => {
    const clock = new FakeClock(new Date(2026, 0, 5, 10, 10)); // local time: the trigger's timer is local
    writeFileSync(index, samples(3));
    let node = new Node(clock);
    node.datasets.insert(dataset);
    node.jobs.insert(job);
    await node.rescan();

    await clock.advance(PERIOD_S * 1000);
    assert.deepEqual(node.trainReady(), [], '3 new samples: not more than 5');

    appendFileSync(index, samples(4));
    await node.rescan();
    await clock.advance(PERIOD_S * 1000 - 1);
    assert.deepEqual(node.trainReady(), [], 'not before the check period');
    await clock.advance(1);
    assert.deepEqual(node.trainReady(), [{ phase: 'train', status: 'ready', input: { numberOfSamples: 7, newSamples: 7 } }]);

    appendFileSync(index, samples(3));
    await node.rescan();
    await clock.advance(PERIOD_S * 1000);
    assert.equal(node.trainReady().length, 1, '3 samples since the firing: not yet');

    // The LC restarts at 10:12, inside the window: the GM has not re-sent anything yet.
    await node.stop();
    node = new Node(clock);
    await node.datasets.settled();
    assert.deepEqual(node.jobs.state(job), { baselineSamples: 7, fired: 1, lastFiredAt: new Date(2026, 0, 5, 10, 11).toISOString() });
    await clock.advance(PERIOD_S * 1000);
    assert.deepEqual(node.trainReady(), [], 'the restart alone fires nothing: the 10 samples are not new');

    appendFileSync(index, samples(3));
    await node.rescan();
    await clock.advance(PERIOD_S * 1000);
    assert.deepEqual(node.trainReady(), [{ phase: 'train', status: 'ready', input: { numberOfSamples: 13, newSamples: 6 } }], 'counted from the stored baseline');

    // After the window closes, new samples wait for the next day's window.
    await clock.advance(60 * 60 * 1000);
    appendFileSync(index, samples(10));
    await node.rescan();
    await clock.advance(PERIOD_S * 1000 * 4);
    assert.equal(node.trainReady().length, 1, 'outside 10:00–11:00: no firing');

    node.jobs.delete(job);
    assert.deepEqual(node.jobs.state(job), { baselineSamples: 0, fired: 0 }, 'a deleted job leaves no state');
    await node.stop();
  });
});
