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

describe('podStatusFor with init containers', () => {
  function initPod(restartPolicy: 'Always' | 'OnFailure' | 'Never' = 'Always', status?: Pod['status']): Pod {
    const p = pod(restartPolicy, status);
    p.spec!.initContainers = [
      { name: 'fetch', image: 'kubeedge/sedna-storage-initializer:v0.3.0' },
      { name: 'prep', image: 'node:20' },
    ];
    return p;
  }
  const done = (name: string, exitCode = 0, pid = 5): ContainerProcessState => ({
    name,
    state: 'terminated',
    terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: T0, finishedAt: T1, pid },
    restartCount: 0,
  });
  const cond = (status: Pod['status'], type: string) => status!.conditions!.find((c) => c.type === type)!;

  it('before any process: Pending, every container waiting in PodInitializing, Initialized False', () => {
    const status = podStatusFor(initPod(), undefined, T0)!;
    const waiting = (name: string, image: string) => ({ name, state: { waiting: { reason: 'PodInitializing' } }, lastState: {}, ready: false, started: false, restartCount: 0, image, imageID: `local://${image}` });
    assert.deepEqual(status, {
      phase: 'Pending',
      conditions: [
        { type: 'PodReadyToStartContainers', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-02T03:04:05Z' },
        { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [fetch prep]', lastProbeTime: null, lastTransitionTime: '2026-01-02T03:04:05Z' },
        { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [main]', lastProbeTime: null, lastTransitionTime: '2026-01-02T03:04:05Z' },
        { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [main]', lastProbeTime: null, lastTransitionTime: '2026-01-02T03:04:05Z' },
        { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-02T03:04:05Z' },
      ],
      ...ip,
      startTime: '2026-01-02T03:04:05Z',
      initContainerStatuses: [waiting('fetch', 'kubeedge/sedna-storage-initializer:v0.3.0'), waiting('prep', 'node:20')],
      containerStatuses: [waiting('main', 'node:20')],
    });
  });

  it('the first init container running: Pending, running but not ready; the second still PodInitializing', () => {
    const status = podStatusFor(initPod(), [{ name: 'fetch', state: 'running', pid: 11, startedAt: T1, restartCount: 0 }], T1)!;
    assert.equal(status.phase, 'Pending');
    assert.deepEqual(status.initContainerStatuses![0], {
      name: 'fetch',
      state: { running: { startedAt: '2026-01-02T03:04:10Z' } },
      lastState: {},
      ready: false,
      started: true,
      restartCount: 0,
      image: 'kubeedge/sedna-storage-initializer:v0.3.0',
      imageID: 'local://kubeedge/sedna-storage-initializer:v0.3.0',
      containerID: 'process://11',
    });
    assert.deepEqual(status.initContainerStatuses![1]!.state, { waiting: { reason: 'PodInitializing' } });
    assert.deepEqual(status.containerStatuses![0]!.state, { waiting: { reason: 'PodInitializing' } });
  });

  it('one init container done: ready, not started, terminated Completed; Initialized names only the rest', () => {
    const status = podStatusFor(initPod(), [done('fetch'), { name: 'prep', state: 'running', pid: 12, startedAt: T1, restartCount: 0 }], T1)!;
    assert.equal(status.phase, 'Pending');
    const fetch = status.initContainerStatuses![0]!;
    assert.equal(fetch.ready, true);
    assert.equal(fetch.started, false);
    assert.deepEqual(fetch.state, { terminated: { exitCode: 0, reason: 'Completed', startedAt: '2026-01-02T03:04:05Z', finishedAt: '2026-01-02T03:04:10Z', containerID: 'process://5' } });
    assert.equal(cond(status, 'Initialized').message, 'containers with incomplete status: [prep]');
  });

  it('all init containers done: Initialized True (transition recorded), main waiting PodInitializing until it runs, then Running', () => {
    const pending = podStatusFor(initPod(), undefined, T0)!;
    const initialized = podStatusFor(initPod('Always', pending), [done('fetch'), done('prep', 0, 6)], T1)!;
    assert.equal(initialized.phase, 'Pending');
    assert.deepEqual(cond(initialized, 'Initialized'), { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-02T03:04:10Z' });
    assert.deepEqual(initialized.containerStatuses![0]!.state, { waiting: { reason: 'PodInitializing' } });
    const running = podStatusFor(initPod('Always', initialized), [done('fetch'), done('prep', 0, 6), { name: 'main', state: 'running', pid: 13, startedAt: T2, restartCount: 0 }], T2)!;
    assert.equal(running.phase, 'Running');
    assert.equal(cond(running, 'Initialized').lastTransitionTime, '2026-01-02T03:04:10Z', 'unchanged condition keeps its transition time');
    assert.equal(cond(running, 'Ready').status, 'True');
    assert.deepEqual(running.initContainerStatuses!.map((s) => s.ready), [true, true]);
  });

  it('a failed init container under OnFailure/Always waits in CrashLoopBackOff; the pod stays Pending', () => {
    const last = { exitCode: 2, reason: 'Error', startedAt: T0, finishedAt: T1, pid: 8 };
    for (const policy of ['OnFailure', 'Always'] as const) {
      const status = podStatusFor(initPod(policy), [{ name: 'fetch', state: 'waiting', reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=fetch pod=p_default(u-1)', lastTermination: last, restartCount: 1 }], T1)!;
      assert.equal(status.phase, 'Pending', policy);
      const fetch = status.initContainerStatuses![0]!;
      assert.deepEqual(fetch.state, { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=fetch pod=p_default(u-1)' } });
      assert.equal(fetch.lastState.terminated!.exitCode, 2);
      assert.equal(fetch.restartCount, 1);
      assert.equal(cond(status, 'Initialized').status, 'False');
    }
  });

  it('a failed init container under Never: Failed, Ready False PodFailed, the main container never leaves PodInitializing', () => {
    const status = podStatusFor(initPod('Never'), [done('fetch', 1)], T1)!;
    assert.equal(status.phase, 'Failed');
    assert.equal(status.initContainerStatuses![0]!.state.terminated!.reason, 'Error');
    assert.equal(status.initContainerStatuses![0]!.ready, false);
    assert.deepEqual(cond(status, 'Initialized'), {
      type: 'Initialized',
      status: 'False',
      reason: 'ContainersNotInitialized',
      message: 'containers with incomplete status: [fetch prep]',
      lastProbeTime: null,
      lastTransitionTime: '2026-01-02T03:04:10Z',
    });
    assert.deepEqual(cond(status, 'Ready'), { type: 'Ready', status: 'False', reason: 'PodFailed', lastProbeTime: null, lastTransitionTime: '2026-01-02T03:04:10Z' });
    assert.deepEqual(status.containerStatuses![0]!.state, { waiting: { reason: 'PodInitializing' } });
  });

  it('a pod that ran to completion: Succeeded, Initialized True PodCompleted', () => {
    const status = podStatusFor(initPod('Never'), [done('fetch'), done('prep', 0, 6), done('main', 0, 7)], T2)!;
    assert.equal(status.phase, 'Succeeded');
    assert.equal(cond(status, 'Initialized').reason, 'PodCompleted');
    assert.equal(cond(status, 'Ready').reason, 'PodCompleted');
  });

  it('an init container whose image is not mapped waits with ImageNotMapped; the pod stays Pending', () => {
    const status = podStatusFor(initPod(), [{ name: 'fetch', state: 'waiting', reason: 'ImageNotMapped', message: 'image "x" is not mapped', restartCount: 0 }], T0)!;
    assert.equal(status.phase, 'Pending');
    assert.deepEqual(status.initContainerStatuses![0]!.state, { waiting: { reason: 'ImageNotMapped', message: 'image "x" is not mapped' } });
  });

  it('a pod without init containers reports no initContainerStatuses', () => {
    assert.equal('initContainerStatuses' in podStatusFor(pod(), undefined, T0)!, false);
  });
});
