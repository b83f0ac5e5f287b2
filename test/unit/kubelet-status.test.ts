// podStatusFor: the embedded kubelet's pure pod-status function, golden-tested per lifecycle step.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ContainerProcessState, type Pod, podStatusFor } from '../../src/lc/kubelet/index.ts';

const T0 = new Date('2026-01-02T03:04:05.678Z');
const T1 = new Date('2026-01-02T03:04:10.000Z');
const T2 = new Date('2026-01-02T03:05:00.000Z');

function pod(restartPolicy: 'Always' | 'OnFailure' | 'Never' = 'Always', status?: Pod['status']): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', uid: 'u-1' },
    spec: { nodeName: 'edge-1', restartPolicy, containers: [{ name: 'main', image: 'node:20' }] },
    ...(status ? { status } : {}),
  };
}

const ip = { hostIP: '127.0.0.1', hostIPs: [{ ip: '127.0.0.1' }], podIP: '127.0.0.1', podIPs: [{ ip: '127.0.0.1' }] };

function conditions(ready: { status: 'True' | 'False'; reason?: string; message?: string }, at: string, readyAt = at) {
  const c = (type: string, extra: object, t: string) => ({ type, ...extra, lastProbeTime: null, lastTransitionTime: t });
  return [
    c('PodReadyToStartContainers', { status: 'True' }, at),
    c('Initialized', { status: 'True' }, at),
    c('Ready', ready, readyAt),
    c('ContainersReady', ready, readyAt),
    c('PodScheduled', { status: 'True' }, at),
  ];
}

describe('podStatusFor', () => {
  it('a pod with no process yet is Pending with ContainerCreating', () => {
    const status = podStatusFor(pod(), undefined, T0);
    assert.deepEqual(status, {
      phase: 'Pending',
      conditions: conditions({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [main]' }, '2026-01-02T03:04:05Z'),
      ...ip,
      startTime: '2026-01-02T03:04:05Z',
      containerStatuses: [
        { name: 'main', state: { waiting: { reason: 'ContainerCreating' } }, lastState: {}, ready: false, started: false, restartCount: 0, image: 'node:20', imageID: 'local://node:20' },
      ],
    });
  });

  it('a spawned process makes it Running and Ready; the same state again is no change', () => {
    const pending = podStatusFor(pod(), undefined, T0)!;
    const running: ContainerProcessState[] = [{ name: 'main', state: 'running', pid: 4242, startedAt: T1, restartCount: 0 }];
    const status = podStatusFor(pod('Always', pending), running, T1);
    assert.deepEqual(status, {
      phase: 'Running',
      conditions: conditions({ status: 'True' }, '2026-01-02T03:04:05Z', '2026-01-02T03:04:10Z'),
      ...ip,
      startTime: '2026-01-02T03:04:05Z',
      containerStatuses: [
        {
          name: 'main',
          state: { running: { startedAt: '2026-01-02T03:04:10Z' } },
          lastState: {},
          ready: true,
          started: true,
          restartCount: 0,
          image: 'node:20',
          imageID: 'local://node:20',
          containerID: 'process://4242',
        },
      ],
    });
    assert.equal(podStatusFor(pod('Always', status), running, T2), undefined, 'unchanged status → undefined (no PATCH)');
  });

  it('keeps fields it does not own and reports a change only in its own', () => {
    const running: ContainerProcessState[] = [{ name: 'main', state: 'running', pid: 1, startedAt: T1, restartCount: 0 }];
    const base = { ...podStatusFor(pod(), running, T1)!, qosClass: 'BestEffort' } as Pod['status'];
    assert.equal(podStatusFor(pod('Always', base), running, T2), undefined);
  });

  it('exit 0 under Never → Succeeded, terminated/Completed, Ready False PodCompleted', () => {
    const done: ContainerProcessState[] = [{ name: 'main', state: 'terminated', terminated: { exitCode: 0, reason: 'Completed', startedAt: T0, finishedAt: T1, pid: 7 }, restartCount: 0 }];
    const status = podStatusFor(pod('Never'), done, T1)!;
    assert.equal(status.phase, 'Succeeded');
    assert.deepEqual(status.containerStatuses![0]!.state, {
      terminated: { exitCode: 0, reason: 'Completed', startedAt: '2026-01-02T03:04:05Z', finishedAt: '2026-01-02T03:04:10Z', containerID: 'process://7' },
    });
    const ready = status.conditions!.find((c) => c.type === 'Ready')!;
    assert.equal(ready.status, 'False');
    assert.equal(ready.reason, 'PodCompleted');
  });

  it('exit 1 under Never → Failed with exitCode 1; under OnFailure exit 0 → Succeeded', () => {
    const failed: ContainerProcessState[] = [{ name: 'main', state: 'terminated', terminated: { exitCode: 1, reason: 'Error', startedAt: T0, finishedAt: T1 }, restartCount: 0 }];
    const status = podStatusFor(pod('Never'), failed, T1)!;
    assert.equal(status.phase, 'Failed');
    assert.equal(status.containerStatuses![0]!.state.terminated!.exitCode, 1);
    assert.equal(status.containerStatuses![0]!.state.terminated!.reason, 'Error');
    const ok: ContainerProcessState[] = [{ name: 'main', state: 'terminated', terminated: { exitCode: 0, reason: 'Completed', startedAt: T0, finishedAt: T1 }, restartCount: 2 }];
    assert.equal(podStatusFor(pod('OnFailure'), ok, T1)!.phase, 'Succeeded');
  });

  it('a crash waiting for back-off is Running, CrashLoopBackOff, with lastState and restartCount', () => {
    const last = { exitCode: 137, signal: 'SIGKILL', reason: 'Error', startedAt: T0, finishedAt: T1, pid: 9 };
    const waiting: ContainerProcessState[] = [
      { name: 'main', state: 'waiting', reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=main pod=p_default(u-1)', lastTermination: last, restartCount: 2 },
    ];
    const status = podStatusFor(pod(), waiting, T1)!;
    assert.equal(status.phase, 'Running');
    const cs = status.containerStatuses![0]!;
    assert.deepEqual(cs.state, { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=main pod=p_default(u-1)' } });
    assert.deepEqual(cs.lastState, {
      terminated: { exitCode: 137, reason: 'Error', startedAt: '2026-01-02T03:04:05Z', finishedAt: '2026-01-02T03:04:10Z', containerID: 'process://9' },
    });
    assert.equal(cs.restartCount, 2);
    assert.equal(cs.ready, false);
    assert.equal(status.conditions!.find((c) => c.type === 'Ready')!.status, 'False');
    // Restarted: running again with the count carried over.
    const again = podStatusFor(pod('Always', status), [{ name: 'main', state: 'running', pid: 10, startedAt: T2, restartCount: 3, lastTermination: last }], T2)!;
    assert.equal(again.containerStatuses![0]!.restartCount, 3);
    assert.equal(again.containerStatuses![0]!.ready, true);
    assert.equal(again.conditions!.find((c) => c.type === 'Ready')!.lastTransitionTime, '2026-01-02T03:05:00Z');
  });

  it('an unknown image keeps the pod Pending with ImageNotMapped naming the image', () => {
    const waiting: ContainerProcessState[] = [{ name: 'main', state: 'waiting', reason: 'ImageNotMapped', message: 'image "acme/x:1" is not mapped to a local runtime (imageRuntimes)', restartCount: 0 }];
    const status = podStatusFor(pod(), waiting, T0)!;
    assert.equal(status.phase, 'Pending');
    assert.deepEqual(status.containerStatuses![0]!.state.waiting, { reason: 'ImageNotMapped', message: 'image "acme/x:1" is not mapped to a local runtime (imageRuntimes)' });
  });

  it('one running and one unstarted container → Pending; both running → Running', () => {
    const p = pod();
    p.spec!.containers.push({ name: 'side', image: 'node' });
    const one: ContainerProcessState[] = [{ name: 'main', state: 'running', pid: 1, startedAt: T0, restartCount: 0 }];
    const s1 = podStatusFor(p, one, T0)!;
    assert.equal(s1.phase, 'Pending');
    assert.equal(s1.conditions!.find((c) => c.type === 'ContainersReady')!.message, 'containers with unready status: [side]');
    const both = [...one, { name: 'side', state: 'running' as const, pid: 2, startedAt: T0, restartCount: 0 }];
    assert.equal(podStatusFor(p, both, T0)!.phase, 'Running');
  });

  it('keeps a startTime already set', () => {
    const status = podStatusFor(pod('Always', { startTime: '2020-01-01T00:00:00Z' }), undefined, T0)!;
    assert.equal(status.startTime, '2020-01-01T00:00:00Z');
  });
});
