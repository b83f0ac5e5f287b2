// End to end through the real kubectl: batch/v1 Job, apps/v1 DaemonSet and core/v1
// PersistentVolumeClaim with the API server's controllers. No kubelet runs here: the test plays
// the kubelet by writing pod status through the /status subresource, as a node agent would.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { eventually, kubectl, kubectlOk, type RunningApiServer, startApiServer } from '../helpers/apiserver.ts';
import { parseTable } from '../helpers/kubectl-table.ts';

interface Obj {
  metadata: { name: string; uid: string; labels?: Record<string, string>; annotations?: Record<string, string>; deletionTimestamp?: string };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown> & { conditions?: { type: string; status: string; reason?: string }[] };
}

describe('Jobs, DaemonSets and PersistentVolumeClaims through kubectl', () => {
  let server: RunningApiServer;
  const kc = (args: string[], input?: string): Promise<string> => kubectlOk(server.kubeconfig, args, input);
  const getJson = async <T>(args: string[]): Promise<T> => JSON.parse(await kc([...args, '-o', 'json'])) as T;
  const pods = async (selector: string): Promise<Obj[]> => (await getJson<{ items: Obj[] }>(['get', 'pods', '-l', selector])).items;
  const live = (list: Obj[]): Obj[] => list.filter((p) => !p.metadata.deletionTimestamp && !['Succeeded', 'Failed'].includes(String(p.status?.phase)));
  /** What a kubelet reports when a pod's container exits. */
  const finish = (name: string, phase: 'Succeeded' | 'Failed'): Promise<string> =>
    kc(['patch', 'pod', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase } })]);

  before(async () => {
    server = await startApiServer();
  });

  after(async () => {
    await server?.stop();
  });

  it('kubectl create job runs a pod to completion; kubectl get jobs and kubectl wait see it Complete', async () => {
    await kc(['create', 'job', 'once', '--image=node', '--', 'node', '-e', 'console.log(1)']);
    const job = await getJson<Obj>(['get', 'job', 'once']);
    assert.deepEqual(job.spec!.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': job.metadata.uid } });
    assert.equal(job.spec!.backoffLimit, 6);
    const [pod] = await eventually(async () => {
      const p = await pods('job-name=once');
      return p.length === 1 ? p : undefined;
    }, 10_000, 'the job pod');
    assert.equal(pod!.metadata.labels!['batch.kubernetes.io/job-name'], 'once');
    let table = parseTable(await kc(['get', 'jobs']));
    assert.deepEqual([table.rows[0]!.NAME, table.rows[0]!.STATUS, table.rows[0]!.COMPLETIONS], ['once', 'Running', '0/1']);
    await finish(pod!.metadata.name, 'Succeeded');
    await kc(['wait', '--for=condition=complete', 'job/once', '--timeout=20s']);
    table = parseTable(await kc(['get', 'jobs']));
    assert.deepEqual([table.rows[0]!.STATUS, table.rows[0]!.COMPLETIONS], ['Complete', '1/1']);
    const done = await getJson<Obj>(['get', 'job', 'once']);
    assert.ok(done.status!.completionTime && done.status!.startTime);
    assert.equal(done.status!.succeeded, 1);
    // A finished Job keeps its pod (for its logs) and starts no other.
    assert.equal((await pods('job-name=once')).length, 1);
  });

  it('completions and parallelism: at most two pods at a time until three succeeded', async () => {
    await kc(['apply', '-f', '-'], jobYaml('three', { completions: 3, parallelism: 2, backoffLimit: 6 }));
    for (let succeeded = 0; succeeded < 3; succeeded++) {
      const running = await eventually(async () => {
        const p = live(await pods('job-name=three'));
        return p.length === Math.min(2, 3 - succeeded) ? p : undefined;
      }, 10_000, `${Math.min(2, 3 - succeeded)} running pods after ${succeeded} successes`);
      await finish(running[0]!.metadata.name, 'Succeeded');
    }
    await kc(['wait', '--for=condition=complete', 'job/three', '--timeout=20s']);
    assert.equal(live(await pods('job-name=three')).length, 0);
    assert.equal((await pods('job-name=three')).length, 3);
  });

  it('a Job whose pods fail more than backoffLimit times fails with BackoffLimitExceeded and stops its pods', async () => {
    await kc(['apply', '-f', '-'], jobYaml('flaky', { completions: 2, parallelism: 2, backoffLimit: 1 }));
    for (let failures = 0; failures < 2; failures++) {
      const running = await eventually(async () => {
        const p = live(await pods('job-name=flaky'));
        return p.length === 2 ? p : undefined;
      }, 10_000, `two running pods after ${failures} failures`);
      await finish(running[0]!.metadata.name, 'Failed');
    }
    await kc(['wait', '--for=condition=failed', 'job/flaky', '--timeout=20s']);
    const job = await getJson<Obj>(['get', 'job', 'flaky']);
    const failed = job.status!.conditions!.find((c) => c.type === 'Failed')!;
    assert.equal(failed.reason, 'BackoffLimitExceeded');
    assert.equal(job.status!.failed, 2);
    await eventually(async () => (live(await pods('job-name=flaky')).length === 0 ? true : undefined), 10_000, 'the running pod deleted');
    assert.equal(parseTable(await kc(['get', 'job', 'flaky'])).rows[0]!.STATUS, 'Failed');
  });

  it('a Job is validated: restartPolicy Always and a changed template are refused naming the field', async () => {
    const bad = await kubectl(server.kubeconfig, ['apply', '-f', '-'], jobYaml('always', { completions: 1, parallelism: 1, backoffLimit: 1 }).replace('restartPolicy: Never', 'restartPolicy: Always'));
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /spec\.template\.spec\.restartPolicy: Unsupported value: "Always"/);
    const changed = await kubectl(server.kubeconfig, ['set', 'image', 'job/once', 'once=other']);
    assert.notEqual(changed.code, 0);
    assert.match(changed.stderr, /spec\.template: Invalid value: .*field is immutable/);
  });

  it('deleting a Job deletes its pods (garbage collection through the controller reference)', async () => {
    await kc(['delete', 'job', 'three', '--wait=true']);
    await eventually(async () => ((await pods('job-name=three')).length === 0 ? true : undefined), 15_000, 'the pods of job three gone');
  });

  it('a DaemonSet puts one pod on every matching node and follows nodes coming, relabelled and going', async () => {
    await kc(['apply', '-f', '-'], nodeYaml('n1', { role: 'edge' }) + '---\n' + nodeYaml('n2', {}) + '---\n' + daemonSetYaml);
    const placed = async (want: string[]): Promise<Obj[]> =>
      eventually(async () => {
        const p = live(await pods('app=agent'));
        const nodes = p.map((x) => String(x.spec!.nodeName)).sort();
        return JSON.stringify(nodes) === JSON.stringify(want) ? p : undefined;
      }, 10_000, `agent pods on ${want.join(',') || 'no node'}`);
    await placed(['n1']);
    await kc(['label', 'node', 'n2', 'role=edge']);
    await placed(['n1', 'n2']);
    await kc(['apply', '-f', '-'], nodeYaml('n3', { role: 'edge' }));
    const three = await placed(['n1', 'n2', 'n3']);
    for (const p of three) await kc(['patch', 'pod', p.metadata.name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } })]);
    await eventually(async () => {
      const row = parseTable(await kc(['get', 'ds', 'agent'])).rows[0]!;
      return row.DESIRED === '3' && row.CURRENT === '3' && row.READY === '3' && row['UP-TO-DATE'] === '3' && row['NODE SELECTOR'] === 'role=edge' ? true : undefined;
    }, 10_000, 'kubectl get ds agent: 3 desired, current, ready');
    await kc(['delete', 'node', 'n3']);
    await kc(['label', 'node', 'n1', 'role-']);
    await placed(['n2']);
    assert.equal(parseTable(await kc(['get', 'ds', 'agent'])).rows[0]!.DESIRED, '1');
  });

  it('a DaemonSet template change rolls its pods', async () => {
    const before = live(await pods('app=agent'));
    await kc(['set', 'image', 'ds/agent', 'agent=node:next']);
    await eventually(async () => {
      const p = live(await pods('app=agent'));
      return p.length === 1 && p[0]!.metadata.uid !== before[0]!.metadata.uid && (p[0]!.spec!.containers as { image: string }[])[0]!.image === 'node:next' ? true : undefined;
    }, 10_000, 'the agent pod replaced with the new image');
  });

  it('a PersistentVolumeClaim is bound to a host directory; bad claims and spec changes are refused', async () => {
    await kc(['apply', '-f', '-'], 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n');
    const claim = await eventually(async () => {
      const c = await getJson<Obj>(['get', 'pvc', 'data']);
      return c.status?.phase === 'Bound' ? c : undefined;
    }, 10_000, 'the claim Bound');
    assert.equal(claim.spec!.volumeName, `pvc-${claim.metadata.uid}`);
    assert.ok(existsSync(claim.metadata.annotations!['sedna.io/host-path']!));
    const row = parseTable(await kc(['get', 'pvc', 'data'])).rows[0]!;
    assert.deepEqual([row.STATUS, row.CAPACITY, row['ACCESS MODES']], ['Bound', '1Gi', 'RWO']);
    const missing = await kubectl(server.kubeconfig, ['apply', '-f', '-'], 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: bad}\nspec:\n  resources: {requests: {storage: 1Gi}}\n');
    assert.match(missing.stderr, /spec\.accessModes: Required value/);
    const zero = await kubectl(server.kubeconfig, ['apply', '-f', '-'], 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: bad}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: lots}}\n');
    assert.match(zero.stderr, /spec\.resources\.requests\[storage\]: Invalid value: "lots"/);
    const changed = await kubectl(server.kubeconfig, ['patch', 'pvc', 'data', '--type=merge', '-p', '{"spec":{"accessModes":["ReadWriteMany"]}}']);
    assert.match(changed.stderr, /spec: Forbidden: spec is immutable after creation/);
    assert.equal(parseTable(await kc(['get', 'pvc'])).rows.length, 1);
  });
});

function jobYaml(name: string, spec: { completions: number; parallelism: number; backoffLimit: number }): string {
  return `apiVersion: batch/v1
kind: Job
metadata: {name: ${name}}
spec:
  completions: ${spec.completions}
  parallelism: ${spec.parallelism}
  backoffLimit: ${spec.backoffLimit}
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: node}]
`;
}

function nodeYaml(name: string, labels: Record<string, string>): string {
  return `apiVersion: v1\nkind: Node\nmetadata: {name: ${name}, labels: ${JSON.stringify(labels)}}\n`;
}

const daemonSetYaml = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      nodeSelector: {role: edge}
      containers: [{name: agent, image: node}]
`;
