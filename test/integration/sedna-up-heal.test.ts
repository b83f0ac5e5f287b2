// Supervision end to end, with real processes: after `sedna up --detach`, kill -9 of the GM and of
// an LC (by the pids in up.json) brings each back with its restart and exit cause in up.json and
// `sedna status`; a pod whose LC was killed is restarted by the new kubelet, not left running
// unmanaged; kill -9 of the supervisor itself leaves a data dir a second `sedna up` starts on
// (stopping what the dead one left); `sedna down` then leaves no process behind, pods included.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Pod } from '../../src/lc/kubelet/index.ts';
import { isSameProcess, identify, type ProcessIdentity } from '../../src/lib/proc.ts';
import { isAlive, type UpState } from '../../src/up/state.ts';
import { type LocalCluster, sedna, startCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/wait.ts';

const readState = (dir: string): UpState => JSON.parse(readFileSync(join(dir, 'up.json'), 'utf8')) as UpState;

describe('sedna up supervises what it started', () => {
  let cluster: LocalCluster;
  const seen: ProcessIdentity[] = [];
  const remember = (pid: number): void => {
    const id = identify(pid);
    if (id) seen.push(id);
  };

  before(async () => {
    cluster = await startCluster({ nodes: 'cloud,edge-1', prefix: 'sedna-heal-', args: ['--node-monitor-grace-period', '6'] });
  });

  after(async () => {
    await cluster?.stop();
  });

  const podPid = async (name: string): Promise<number | undefined> => {
    const pod = await cluster.getJson<Pod>(['get', 'pod', name]);
    const cs = pod.status?.containerStatuses?.[0];
    return cs?.state.running ? Number(cs.containerID?.replace('process://', '')) : undefined;
  };

  it('restarts a GM killed with SIGKILL and records it', async () => {
    const before = readState(cluster.dir);
    assert.ok(before.supervisorPid && isAlive(before.supervisorPid));
    remember(before.supervisorPid);
    for (const c of [before.apiserver, before.gm!, ...before.lcs]) remember(c.pid);
    process.kill(before.gm!.pid, 'SIGKILL');
    const after = await eventually(() => {
      const s = readState(cluster.dir);
      return s.gm!.pid !== before.gm!.pid && s.gm!.url === before.gm!.url && isAlive(s.gm!.pid) ? s : undefined;
    }, 30_000, 'the GM restarted on its port');
    assert.equal(after.gm!.restarts, 1);
    assert.equal(after.gm!.lastExit?.cause, 'SIGKILL');
    remember(after.gm!.pid);
    const status = await sedna(['status', '--data-dir', cluster.dir], 30_000);
    assert.match(status.stdout, /^gm\s+\d+\s+running\s+1\s+SIGKILL at /m);
  });

  it('restarts a killed LC; its pod dies with it and is restarted by the new kubelet', async () => {
    await cluster.apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'sleeper', namespace: 'default' },
      spec: { nodeName: 'edge-1', terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'node', command: ['node', '-e', 'setInterval(() => {}, 1000)'] }] },
    });
    const first = await eventually(() => podPid('sleeper'), 30_000, 'sleeper running');
    const firstId = identify(first)!;
    seen.push(firstId);
    const before = readState(cluster.dir);
    const lc = before.lcs.find((l) => l.node === 'edge-1')!;
    process.kill(lc.pid, 'SIGKILL');
    await eventually(() => {
      const s = readState(cluster.dir).lcs.find((l) => l.node === 'edge-1')!;
      return s.pid !== lc.pid && s.restarts === 1 && isAlive(s.pid) ? s : undefined;
    }, 30_000, 'the LC restarted');
    remember(readState(cluster.dir).lcs.find((l) => l.node === 'edge-1')!.pid);
    await eventually(() => (isSameProcess(firstId) ? undefined : true), 30_000, 'the old pod process stopped with its LC (the watchdog) or by the new kubelet');
    const second = await eventually(async () => {
      const pid = await podPid('sleeper');
      return pid !== undefined && pid !== first ? pid : undefined;
    }, 30_000, 'sleeper running again');
    remember(second);
    const pod = await cluster.getJson<Pod>(['get', 'pod', 'sleeper']);
    const container = pod.status!.containerStatuses![0]!;
    assert.equal(container.restartCount, 1, 'the replaced run counts as a restart');
    // The truth about the replaced run: it was stopped with its LC, how it ended is not known.
    const last = container.lastState?.terminated;
    assert.equal(last?.reason, 'ContainerStatusUnknown');
    assert.equal(last?.exitCode, 137);
    assert.equal(last?.containerID, `process://${first}`);
    assert.ok(container.state.running && Date.parse(last.finishedAt!) <= Date.parse(String(container.state.running.startedAt)), 'it ended before the new run started');
    const nodes = await cluster.kc(['get', 'nodes']);
    assert.match(nodes, /^edge-1\s+Ready/m);
  });

  it('a node whose LC stops renewing its Lease becomes NotReady and tainted, its pod not Ready; then Ready again', async () => {
    const lc = readState(cluster.dir).lcs.find((l) => l.node === 'edge-1')!;
    const podReady = async (): Promise<string | undefined> => (await cluster.getJson<Pod>(['get', 'pod', 'sleeper'])).status?.conditions?.find((c) => c.type === 'Ready')?.status;
    assert.equal(await podReady(), 'True');
    // Frozen, not dead: the supervisor sees no exit, only the missing Lease renewals tell.
    process.kill(lc.pid, 'SIGSTOP');
    try {
      const node = await eventually(async () => {
        const n = await cluster.getJson<{ spec?: { taints?: { key: string; effect: string }[] }; status: { conditions: { type: string; status: string }[] } }>(['get', 'node', 'edge-1']);
        return n.status.conditions.find((c) => c.type === 'Ready')?.status === 'Unknown' && (n.spec?.taints?.length ?? 0) === 2 ? n : undefined;
      }, 30_000, 'edge-1 Ready=Unknown');
      assert.deepEqual(node.spec!.taints!.map((t) => `${t.key}:${t.effect}`).sort(), ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
      assert.match(await cluster.kc(['get', 'nodes']), /^edge-1\s+NotReady/m);
      await eventually(async () => ((await podReady()) === 'False' ? true : undefined), 15_000, 'the sleeper pod not Ready');
      assert.match(await cluster.kc(['get', 'nodes']), /^cloud\s+Ready/m);
    } finally {
      process.kill(lc.pid, 'SIGCONT');
    }
    await eventually(async () => ((await cluster.kc(['get', 'nodes'])).match(/^edge-1\s+Ready/m) ? true : undefined), 30_000, 'edge-1 Ready again');
    await eventually(async () => ((await podReady()) === 'True' ? true : undefined), 30_000, 'the sleeper pod Ready again');
    await eventually(async () => ((await cluster.getJson<{ spec?: { taints?: unknown[] } }>(['get', 'node', 'edge-1'])).spec?.taints === undefined ? true : undefined), 15_000, 'taints removed');
  });

  it('after kill -9 of the supervisor, a second sedna up starts clean and sedna down leaves nothing', async () => {
    const state = readState(cluster.dir);
    const sleeperPid = (await podPid('sleeper'))!;
    remember(sleeperPid);
    process.kill(state.supervisorPid!, 'SIGKILL');
    await eventually(() => (isAlive(state.supervisorPid!) ? undefined : true), 10_000, 'the supervisor gone');
    // Its components run on, unsupervised: status says so.
    const status = await sedna(['status', '--data-dir', cluster.dir], 30_000);
    assert.match(status.stdout, /^sedna up\s+\d+\s+stopped \(nothing restarts crashed components\)/m);
    const up = await sedna(['up', '--detach', '--data-dir', cluster.dir, '--nodes', 'cloud,edge-1', '--port', '0', '--timeout', '90'], 150_000);
    assert.equal(up.code, 0, `${up.stdout}\n${up.stderr}`);
    assert.match(up.stdout, /did not stop cleanly; stopping what it left running/);
    assert.match(up.stdout, /pod default\/sleeper container main on edge-1 \(pid \d+\) (stopped|killed)|lc\/edge-1 \(pid \d+\) (stopped|killed)/);
    const again = readState(cluster.dir);
    assert.notEqual(again.supervisorPid, state.supervisorPid);
    remember(again.supervisorPid!);
    for (const c of [again.apiserver, again.gm!, ...again.lcs]) remember(c.pid);
    const pid = await eventually(() => podPid('sleeper'), 60_000, 'sleeper running under the new cluster');
    remember(pid);
    const down = await sedna(['down', '--data-dir', cluster.dir, '--timeout', '10'], 120_000);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /stopping sedna up \(pid \d+\)/);
    assert.match(down.stdout, /^lc\/edge-1 \(pid \d+\) stopped$/m);
    assert.match(down.stdout, /sedna is down/);
    const left = seen.filter(isSameProcess);
    assert.deepEqual(left.map((p) => p.pid), [], 'no process started during the test is left');
  });
});
