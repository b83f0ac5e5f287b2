// The fault suite (`npm run test:faults`): on one `sedna up` system running the joint-inference
// scenario (--scenario ji, the Fashion-MNIST stream of `npm start`, kept streaming), the
// federated-learning example (--scenario fl: one short job per fault, the fault injected once
// it trains, a fault-free job first as the baseline) or only the probe service (--scenario probe,
// fast), it injects each fault in turn: kill -9 of the API server, the GM, the cloud LC, an edge
// LC, the cloud worker and the edge worker, and a GM–LC link cut for --cut-seconds (every LC
// dials the GM through a TCP relay of the suite's, link-proxy.ts, which stops carrying bytes and
// black-holes new connections, as a network cut does). Around each it measures:
//   recovery   from the kill (or the link's return) until every node is Ready, every worker pod
//              Running and Ready, every component of up.json alive and the services Running
//              (after a link cut: also edge-1's LC connected to the GM again);
//   writes     acknowledged ConfigMap creations missing afterwards;
//   reports    acknowledged worker reports (to the edge LC) that never reached the status;
//   scenario   JI: whether the service is Running and its edge worker is working again;
//              FL: the job completed, its rounds reported, its accuracy beside the baseline's;
//   unmanaged  processes the system started that still run but nobody manages.
// Then `sedna down`, and the processes left. One row per fault; exit 1 if a target is missed
// (0 lost, 0 left, recovery ≤ 15 s after an LC or GM restart).
//
//   node --import tsx test/faults/run.ts [--scenario ji|fl|probe] [--faults gm,lc/edge-1,…] [--cut-seconds 60]
//     [--fl-images 2000 --fl-rounds 4]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import type { ScenarioResults } from '../../examples/joint-inference/results.ts';
import { runJointInferenceScenario } from '../../examples/joint-inference/run.ts';
import { CLIENTS as FL_CLIENTS, JOB_NAME as FL_JOB, runFederatedLearningScenario } from '../../examples/federated-learning/run.ts';
import type { FederatedResults } from '../../examples/federated-learning/results.ts';
import { kubeConfigFor } from '../../examples/shared/system.ts';
import { isAlive } from '../../src/up/state.ts';
import { sedna } from '../helpers/cluster.ts';
import { eventually } from '../helpers/wait.ts';
import { LinkProxy } from './link-proxy.ts';
import { formatTimeline, recoveryTimeline } from './timeline.ts';
import { ProcessTracker, readState, Reporter, Writer } from './probes.ts';

export const ALL_FAULTS = ['apiserver', 'gm', 'lc/cloud', 'lc/edge-1', 'worker/cloud', 'worker/edge', 'link'] as const;
export type Fault = (typeof ALL_FAULTS)[number];

export interface FaultRow {
  fault: string;
  recoverySeconds: number | undefined;
  writesAcked: number;
  writesLost: number;
  reportsAcked: number;
  reportsLost: number;
  /** From the fault (or the link's return) until the last acknowledged report was in the status. */
  reportsInSeconds: number;
  scenario: string;
  unmanaged: number;
}

export type Scenario = 'ji' | 'fl' | 'probe';

export interface FlOptions {
  /** Training images shared out over the 10 clients, per job. */
  images: number;
  rounds: number;
}

export interface SuiteResult {
  rows: FaultRow[];
  leftAfterDown: number;
  baseline?: string;
  /** The scenario's figures once it completed again after the faults. */
  after?: string;
}

const PROBE = 'fault-probe';
const JI = 'fashion-mnist-ji';
const IDLE = ['node', '-e', 'setInterval(() => console.log("tick", Date.now()), 500); process.on("SIGTERM", () => process.exit(0))'];

interface Pod {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status?: { phase?: string; conditions?: { type: string; status: string }[]; containerStatuses?: { containerID?: string; state?: { running?: unknown } }[] };
}

const podPid = (p: Pod): number | undefined => {
  const id = p.status?.containerStatuses?.[0]?.containerID;
  return id ? Number(id.replace('process://', '')) : undefined;
};

/** The probe service: idle workers on cloud and edge-1, and the Models it names. */
async function applyProbe(kc: k8s.KubeConfig, withModels: boolean): Promise<void> {
  const api = k8s.KubernetesObjectApi.makeApiClient(kc);
  const objects: k8s.KubernetesObject[] = [];
  if (withModels) {
    for (const name of ['fashion-mnist-edge-mlp', 'fashion-mnist-cloud-cnn']) objects.push({ apiVersion: 'sedna.io/v1alpha1', kind: 'Model', metadata: { name, namespace: 'default' }, spec: { url: '/tmp/unused-model', format: 'onnx' } } as k8s.KubernetesObject);
  }
  const worker = (node: string, name: string) => ({ spec: { nodeName: node, terminationGracePeriodSeconds: 2, containers: [{ name, image: 'node', command: IDLE }] } });
  objects.push({
    apiVersion: 'sedna.io/v1alpha1',
    kind: 'JointInferenceService',
    metadata: { name: PROBE, namespace: 'default' },
    spec: {
      edgeWorker: { model: { name: 'fashion-mnist-edge-mlp' }, hardExampleMining: { name: 'CrossEntropy', parameters: [{ key: 'threshold_cross_entropy', value: '0.5' }] }, template: worker('edge-1', 'edge') },
      cloudWorker: { model: { name: 'fashion-mnist-cloud-cnn' }, template: worker('cloud', 'cloud') },
    },
  } as k8s.KubernetesObject);
  for (const o of objects) await api.create(o);
}

/** Whether the URL's port accepts a TCP connection within a second. */
function accepts(url: string | undefined): Promise<boolean> {
  if (!url) return Promise.resolve(false);
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port), timeout: 1_000 });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

class Suite {
  readonly tracker = new ProcessTracker();
  /** When a fault last restarted the joint-inference edge worker (it then measures again). */
  restartedEdgeAt = 0;
  /** What kept the system from healthy, as it changed (for the log of each row). */
  reasons: { at: number; reason: string }[] = [];
  private lastReason: string | undefined = 'not checked';
  private readonly core: k8s.CoreV1Api;
  private readonly custom: k8s.CustomObjectsApi;

  constructor(readonly dir: string, readonly kc: k8s.KubeConfig, readonly services: string[], readonly log: (line: string) => void, readonly scenario: Scenario, readonly proxy: LinkProxy) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
  }

  async pods(): Promise<Pod[]> {
    return (await this.core.listNamespacedPod({ namespace: 'default' })).items as unknown as Pod[];
  }

  /** Records every component and pod process now running. */
  async track(): Promise<Set<number>> {
    const state = readState(this.dir);
    const managed = new Set<number>();
    for (const c of [state.apiserver, state.gm!, ...state.lcs]) {
      this.tracker.add(c.pid, c.name);
      managed.add(c.pid);
    }
    if (state.supervisorPid) {
      this.tracker.add(state.supervisorPid, 'sedna up');
      managed.add(state.supervisorPid);
    }
    for (const p of await this.pods()) {
      const pid = podPid(p);
      if (pid && p.status?.containerStatuses?.[0]?.state?.running) {
        this.tracker.add(pid, `pod ${p.metadata.name}`);
        managed.add(pid);
      }
    }
    return managed;
  }

  /**
   * Every component alive and serving (its port accepts connections), every node Ready, every
   * worker pod Running and Ready with its process really alive, every service Running.
   */
  async healthy(): Promise<boolean> {
    const reason = await this.unhealthy();
    if (reason !== this.lastReason) {
      this.reasons.push({ at: Date.now(), reason: reason ?? 'healthy' });
      this.lastReason = reason;
    }
    return reason === undefined;
  }

  /** What is not healthy yet (the first thing found), or undefined. */
  private async unhealthy(): Promise<string | undefined> {
    const state = readState(this.dir);
    const components = [state.apiserver, state.gm!, ...state.lcs];
    const dead = components.find((c) => !isAlive(c.pid));
    if (dead) return `${dead.name} not running`;
    const serving = await Promise.all(components.map((c) => accepts(c.url)));
    if (!serving.every(Boolean)) return `${components[serving.indexOf(false)]!.name} not serving`;
    const nodes = (await this.core.listNode()).items;
    const notReady = nodes.find((n) => !n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    if (notReady) return `node ${notReady.metadata?.name} not Ready`;
    const workers = (await this.pods()).filter((p) => this.services.some((s) => p.metadata.name.startsWith(`${s}-`)) && !p.metadata.deletionTimestamp);
    if (workers.length !== this.services.length * 2) return `${workers.length} of ${this.services.length * 2} workers`;
    const waiting = workers.find((p) => !(p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')));
    if (waiting) return `pod ${waiting.metadata.name} not Running and Ready`;
    const gone = workers.find((p) => { const pid = podPid(p); return pid === undefined || !isAlive(pid); });
    if (gone) return `pod ${gone.metadata.name}: process not alive`;
    for (const name of this.services) {
      const ji = (await this.custom.getNamespacedCustomObject({ group: 'sedna.io', version: 'v1alpha1', namespace: 'default', plural: 'jointinferenceservices', name })) as { status?: { conditions?: { type: string }[] } };
      if (ji.status?.conditions?.at(-1)?.type !== 'Running') return `${name}: ${ji.status?.conditions?.at(-1)?.type ?? 'no condition'}`;
    }
    if (this.scenario === 'fl' && !(await this.flHealthy())) return 'FL job workers not all Running and Ready';
    return undefined;
  }

  async flJob(): Promise<{ uid?: string; phase?: string; round?: number } | undefined> {
    try {
      const job = (await this.custom.getNamespacedCustomObject({ group: 'sedna.io', version: 'v1alpha1', namespace: 'default', plural: 'federatedlearningjobs', name: FL_JOB })) as { metadata?: { uid?: string }; status?: { phase?: string; round?: number } };
      return { uid: job.metadata?.uid, ...job.status };
    } catch {
      return undefined;
    }
  }

  /** The FL job finished, or its aggregator and every trainer Running and Ready with live processes. */
  private async flHealthy(): Promise<boolean> {
    const job = await this.flJob();
    if (job?.phase === 'Succeeded') return true;
    const pods = (await this.pods()).filter((p) => p.metadata.name.startsWith(`${FL_JOB}-`) && !p.metadata.deletionTimestamp);
    if (pods.filter((p) => p.metadata.name.startsWith(`${FL_JOB}-aggregation-`)).length !== 1) return false;
    return pods.every((p) => {
      const pid = podPid(p);
      return p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && pid !== undefined && isAlive(pid);
    });
  }

  /** The pid a fault kills, and a check that the thing came back as a new process. */
  async target(fault: Fault): Promise<{ pid: number; replaced: () => Promise<boolean> }> {
    if (fault.startsWith('worker/')) {
      const role = fault.slice('worker/'.length);
      const service = this.services[0]!;
      // FL: the aggregator (cloud) or edge-1's first trainer; the kubelet restarts it (OnFailure).
      const matches = (p: Pod): boolean =>
        this.scenario === 'fl'
          ? role === 'cloud'
            ? p.metadata.name.startsWith(`${FL_JOB}-aggregation-`)
            : p.metadata.name.startsWith(`${FL_JOB}-train-`) && p.spec.nodeName === 'edge-1'
          : p.metadata.name.startsWith(`${service}-deployment-${role}-`);
      const find = async (): Promise<Pod | undefined> => (await this.pods()).filter((p) => matches(p) && !p.metadata.deletionTimestamp).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))[0];
      const pid = podPid((await find())!)!;
      return { pid, replaced: async () => { const p = await find(); return p !== undefined && podPid(p) !== pid; } };
    }
    const pick = (s: ReturnType<typeof readState>): number => (fault === 'apiserver' ? s.apiserver.pid : fault === 'gm' || fault === 'link' ? s.gm!.pid : s.lcs.find((l) => l.name === fault)!.pid);
    const pid = pick(readState(this.dir));
    if (!fault.startsWith('lc/')) return { pid, replaced: () => Promise.resolve(fault === 'link' || pick(readState(this.dir)) !== pid) };
    // The new kubelet stops the processes the killed LC left and starts its pods again: until
    // then the pods' status still shows the old processes.
    const node = fault.slice('lc/'.length);
    const onNode = async (): Promise<Pod[]> => (await this.pods()).filter((p) => p.spec.nodeName === node && !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded');
    const old = new Set((await onNode()).map(podPid));
    return { pid, replaced: async () => pick(readState(this.dir)) !== pid && (await onNode()).every((p) => !old.has(podPid(p))) };
  }

  /**
   * The edge worker works: its log grows within 15 s. A joint-inference edge worker that was
   * restarted during the fault first re-measures its three passes, printing nothing until done:
   * that is reported as such (the suite's end checks the re-measured figures).
   */
  async edgeWorking(since: number): Promise<string> {
    if (this.scenario === 'fl') return 'FL job running'; // its completion is checked after the row
    const service = this.services[0]!;
    const pod = (await this.pods()).find((p) => p.metadata.name.startsWith(`${service}-deployment-edge-`) && !p.metadata.deletionTimestamp);
    if (!pod) return 'no edge worker';
    const startedAt = (pod.status?.containerStatuses?.[0]?.state?.running as { startedAt?: string | Date } | undefined)?.startedAt;
    const restarted = startedAt !== undefined && new Date(startedAt).getTime() >= since - 1_000;
    if (restarted && service === JI) {
      this.restartedEdgeAt = Date.now();
      return 'Running, edge restarted (re-measuring)';
    }
    if (service === JI && this.restartedEdgeAt > 0 && !this.remeasuredSince(this.restartedEdgeAt)) return 'Running, edge re-measuring (restarted earlier)';
    const size = async (): Promise<number> => (await this.core.readNamespacedPodLog({ name: pod.metadata.name, namespace: 'default' })).length;
    const before = await size();
    try {
      await eventually(async () => ((await size()) > before ? true : undefined), 15_000, 'edge log grows');
      return 'Running, edge working';
    } catch (err) {
      this.log(`  edge worker ${pod.metadata.name}: ${(err as Error).message}`);
      return 'edge worker silent';
    }
  }

  /** Whether the joint-inference results were written again after `since`. */
  private remeasuredSince(since: number): boolean {
    try {
      return Date.parse((JSON.parse(readFileSync(join(this.dir, 'results', 'joint-inference.json'), 'utf8')) as ScenarioResults).finishedAt) > since;
    } catch {
      return false;
    }
  }

  async run(fault: Fault, cutSeconds: number): Promise<FaultRow> {
    await eventually(() => this.healthy(), 120_000, `healthy before ${fault}`).catch(() => undefined);
    await this.track();
    const label = `w-${fault.replace(/\W/g, '-')}-${Date.now()}`;
    const writer = new Writer(this.kc, label);
    const reporter = new Reporter(this.dir, 'edge-1', this.services.at(-1)!);
    await eventually(() => (reporter.lastAcked > 3 && writer.acked.length > 3 ? true : undefined), 30_000, 'probes running');
    const { pid, replaced } = await this.target(fault);
    let started: number;
    // After a link cut the link is back when every report acknowledged during the cut is in the status.
    let linkBack = (): Promise<boolean> => Promise.resolve(true);
    if (fault === 'link') {
      const connections = linkEvents(this.dir, 'edge-1', 'connected to the GM');
      const drops = linkEvents(this.dir, 'edge-1', 'disconnected from the GM');
      this.proxy.cut();
      this.log(`  link cut (relayed connections ${this.proxy.open}); restoring in ${cutSeconds} s`);
      await new Promise((r) => setTimeout(r, cutSeconds * 1000));
      this.proxy.restore();
      started = Date.now();
      // The link is back when edge-1's LC has connected again; the reports it queued during the cut
      // then drain (the "last report in status" column says when the last one was in).
      // (A cut shorter than the heartbeat's timeout may not drop the link at all: then it is back.)
      linkBack = () => Promise.resolve(linkEvents(this.dir, 'edge-1', 'connected to the GM') > connections || linkEvents(this.dir, 'edge-1', 'disconnected from the GM') === drops);
    } else {
      started = Date.now();
      process.kill(pid, 'SIGKILL');
    }
    let recoverySeconds: number | undefined;
    this.reasons = [];
    this.lastReason = 'not checked';
    try {
      await eventually(async () => ((await replaced()) && (await linkBack()) && (await this.healthy()) ? true : undefined), 180_000, `recovery from ${fault}`);
      recoverySeconds = (Date.now() - started) / 1000;
    } catch (err) {
      this.log(`  ${fault}: ${(err as Error).message}`);
    }
    this.log(`  ${fault}: ${this.reasons.map((r) => `+${((r.at - started) / 1000).toFixed(1)} s ${r.reason}`).join('; ')}`);
    this.log(`  ${fault} milestones: ${formatTimeline(recoveryTimeline(this.dir, started, Date.now()))}`);
    const managed = await this.track();
    const scenario = await this.edgeWorking(started);
    await reporter.stop();
    const writes = await writer.stopAndCount();
    const service = this.services.at(-1)!;
    // A report is lost only if it never arrives: the LC's link may still be backing off after a
    // long cut, so its outbox drains late; how late is its own column.
    const reported = await eventually(async () => {
      const seq = await Reporter.reported(this.kc, service);
      return seq >= reporter.lastAcked ? seq : undefined;
    }, 120_000, 'last report in the status').catch(async () => Reporter.reported(this.kc, service));
    const reportsInSeconds = (Date.now() - started) / 1000;
    const unmanaged = this.tracker.unmanaged(await this.track().then((m) => new Set([...m, ...managed])));
    for (const u of unmanaged) this.log(`  unmanaged: ${u.what} pid ${u.pid}`);
    const row: FaultRow = {
      fault: fault === 'link' ? `GM–LC link cut ${cutSeconds} s` : fault.startsWith('worker/') ? `kill -9 ${fault.slice(7)} worker` : `kill -9 ${fault}`,
      recoverySeconds,
      writesAcked: writes.acked,
      writesLost: writes.lost,
      reportsAcked: reporter.lastAcked,
      reportsLost: Math.max(0, reporter.lastAcked - reported),
      reportsInSeconds,
      scenario,
      unmanaged: unmanaged.length,
    };
    this.log(formatRow(row));
    return row;
  }
}

export function formatRow(r: FaultRow): string {
  const rec = r.recoverySeconds === undefined ? 'NOT RECOVERED' : `${r.recoverySeconds.toFixed(1)} s`;
  return `| ${r.fault} | ${rec} | ${r.writesLost}/${r.writesAcked} | ${r.reportsLost}/${r.reportsAcked} | ${r.reportsInSeconds.toFixed(1)} s | ${r.scenario} | ${r.unmanaged} |`;
}

export const TABLE_HEADER = '| fault | recovery | writes lost/acked | reports lost/acked | last report in status | scenario | unmanaged |\n|---|---|---|---|---|---|---|';

/** Targets: nothing lost or left, recovery ≤ 15 s after an LC or GM restart. */
export function missedTargets(result: SuiteResult): string[] {
  const missed: string[] = [];
  for (const r of result.rows) {
    if (r.recoverySeconds === undefined) missed.push(`${r.fault}: not recovered`);
    else if (/gm|lc\//.test(r.fault) && !/link/.test(r.fault) && r.recoverySeconds > 15) missed.push(`${r.fault}: recovery ${r.recoverySeconds} s > 15 s`);
    if (r.writesLost > 0) missed.push(`${r.fault}: ${r.writesLost} writes lost`);
    if (r.reportsLost > 0) missed.push(`${r.fault}: ${r.reportsLost} reports lost`);
    if (r.unmanaged > 0) missed.push(`${r.fault}: ${r.unmanaged} unmanaged processes`);
    if (/NOT COMPLETED|silent|no edge worker/.test(r.scenario)) missed.push(`${r.fault}: scenario ${r.scenario}`);
  }
  if (result.leftAfterDown > 0) missed.push(`${result.leftAfterDown} processes left after sedna down`);
  return missed;
}

/** How many times the node's LC has logged `msg` (its GM link connecting or dropping). */
function linkEvents(dir: string, node: string, msg: string): number {
  try {
    return readFileSync(join(dir, 'logs', `lc-${node}.log`), 'utf8').split(`"msg":"${msg}"`).length - 1;
  } catch {
    return 0;
  }
}

/** The address in the GM's log it last said its edge hub listens on (a restart appends). */
function gmHubAddress(dir: string): { host: string; port: number } | undefined {
  try {
    const all = [...readFileSync(join(dir, 'logs', 'gm.log'), 'utf8').matchAll(/edge hub listening on wss?:\/\/([^:\s/]+):(\d+)/g)];
    const last = all.at(-1);
    return last ? { host: last[1]!, port: Number(last[2]) } : undefined;
  } catch {
    return undefined;
  }
}

const FL_NODES = 'cloud,edge-1,edge-2,edge-3';

export async function runFaultSuite(options: { scenario: Scenario; faults: Fault[]; cutSeconds: number; fl?: FlOptions; log: (line: string) => void }): Promise<SuiteResult> {
  const { log } = options;
  const dir = mkdtempSync(join(tmpdir(), 'sedna-faults-'));
  const rows: FaultRow[] = [];
  let suite: Suite | undefined;
  let baseline: string | undefined;
  let after: string | undefined;
  // Every LC reaches the GM through the suite's relay, so the link can be cut for real.
  const proxy = new LinkProxy(() => gmHubAddress(dir));
  const relay = await proxy.start();
  const nodes = options.scenario === 'fl' ? FL_NODES : 'cloud,edge-1';
  try {
    const up = await sedna(['up', '--detach', '--data-dir', dir, '--nodes', nodes, '--port', '0', '--timeout', '180', ...nodes.split(',').flatMap((n) => ['--gm-address-for', `${n}=127.0.0.1:${relay}`])], 240_000);
    if (up.code !== 0) throw new Error(`sedna up failed:\n${up.stdout}\n${up.stderr}`);
    const kc = kubeConfigFor(dir);
    if (options.scenario === 'ji') {
      log('running the joint-inference scenario (kept streaming)…');
      const results = await runJointInferenceScenario({ dataDir: dir, keepStreaming: true, log: () => {} });
      baseline = `joint accuracy ${(results.jointAccuracy * 100).toFixed(2)}%, offload ${(results.offloadShare * 100).toFixed(2)}%`;
      log(`baseline: ${baseline}`);
    }
    const fl = options.fl ?? { images: 2_000, rounds: 4 };
    let flBaseline: FederatedResults | undefined;
    if (options.scenario === 'fl') {
      log(`federated-learning baseline job (no fault): ${fl.images} images over 10 clients, ${fl.rounds} rounds…`);
      flBaseline = await runFl(dir, fl);
      baseline = `FL accuracy ${pct(flBaseline.finalAccuracy)} after ${flBaseline.rounds.length} rounds (centralized ${pct(flBaseline.centralizedAccuracy)}), ${flBaseline.federatedSeconds.toFixed(0)} s`;
      log(`baseline: ${baseline}`);
    }
    await applyProbe(kc, options.scenario !== 'ji');
    suite = new Suite(dir, kc, options.scenario === 'ji' ? [JI, PROBE] : [PROBE], log, options.scenario, proxy);
    log(TABLE_HEADER);
    for (const fault of options.faults) {
      if (options.scenario !== 'fl') {
        rows.push(await suite.run(fault, options.cutSeconds));
        continue;
      }
      rows.push(await flRow(suite, fault, options.cutSeconds, fl, flBaseline!));
    }
    if (options.scenario === 'ji') after = await scenarioAfterFaults(dir, suite.restartedEdgeAt, log);
  } finally {
    const down = await sedna(['down', '--data-dir', dir, '--timeout', '10'], 120_000);
    if (down.code !== 0) log(`sedna down: ${down.stdout}${down.stderr}`);
    await proxy.stop();
  }
  const left = suite?.tracker.alive() ?? [];
  for (const p of left) log(`left after sedna down: ${p.what} pid ${p.pid}`);
  if (process.env.FAULTS_KEEP_DIR === '1') log(`data dir kept: ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
  return { rows, leftAfterDown: left.length, ...(baseline ? { baseline } : {}), ...(after ? { after } : {}) };
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

function runFl(dir: string, fl: FlOptions): Promise<FederatedResults> {
  return runFederatedLearningScenario({ dataDir: dir, trainImages: fl.images, exitRound: fl.rounds, timeoutMs: 900_000, log: () => {} });
}

/**
 * One FL row: a fresh job, the fault once it trains (round ≥ 1), then the job must complete with
 * every round reported; its accuracy is shown beside the fault-free baseline's.
 */
async function flRow(suite: Suite, fault: Fault, cutSeconds: number, fl: FlOptions, baseline: FederatedResults): Promise<FaultRow> {
  const previous = (await suite.flJob())?.uid;
  const job = runFl(suite.dir, fl);
  job.catch(() => undefined);
  // The previous job is deleted first. Its status is no sign (a late round report of the old job,
  // of the same name, can land on the new one): wait until the new job's aggregator and ten
  // trainers run, which also means the example has applied everything.
  await eventually(async () => {
    const uid = (await suite.flJob())?.uid;
    if (!uid || uid === previous) return undefined;
    const running = (await suite.pods()).filter((p) => (p as Pod & { metadata: { ownerReferences?: { uid: string }[] } }).metadata.ownerReferences?.some((o) => o.uid === uid) && p.status?.phase === 'Running');
    return running.length === 1 + FL_CLIENTS ? true : undefined;
  }, 600_000, 'FL job running').catch(() => undefined);
  const row = await suite.run(fault, cutSeconds);
  let scenario: string;
  try {
    const r = await job;
    const status = await suite.flJob();
    scenario = `completed: ${pct(r.finalAccuracy)} (baseline ${pct(baseline.finalAccuracy)}), rounds reported ${status?.round ?? 0}/${fl.rounds}`;
  } catch (err) {
    scenario = `NOT COMPLETED: ${(err as Error).message.split('\n')[0]}`;
  }
  const done = { ...row, scenario };
  suite.log(`  → ${formatRow(done)}`);
  return done;
}

/** After the faults: the scenario's figures again, re-measured by an edge worker a fault restarted. */
async function scenarioAfterFaults(dir: string, restartedAt: number, log: (line: string) => void): Promise<string> {
  const file = join(dir, 'results', 'joint-inference.json');
  log('waiting for the joint-inference scenario to complete after the faults…');
  const results = await eventually(() => {
    const r = JSON.parse(readFileSync(file, 'utf8')) as ScenarioResults;
    return Date.parse(r.finishedAt) > restartedAt ? r : undefined;
  }, 600_000, 'the scenario re-measured').catch(() => undefined);
  if (!results) return 'did not complete again within 10 min';
  return `joint accuracy ${(results.jointAccuracy * 100).toFixed(2)}%, offload ${(results.offloadShare * 100).toFixed(2)}%, cloud failures ${results.cloudFailures}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { scenario: { type: 'string', default: 'ji' }, faults: { type: 'string', default: ALL_FAULTS.join(',') }, 'cut-seconds': { type: 'string', default: '60' }, 'fl-images': { type: 'string', default: '2000' }, 'fl-rounds': { type: 'string', default: '4' } } });
  const faults = values.faults.split(',') as Fault[];
  for (const f of faults) if (!ALL_FAULTS.includes(f)) throw new Error(`unknown fault ${f}; one of ${ALL_FAULTS.join(', ')}`);
  if (values.scenario !== 'ji' && values.scenario !== 'fl' && values.scenario !== 'probe') throw new Error('--scenario is ji, fl or probe');
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  const fl = { images: Number(values['fl-images']), rounds: Number(values['fl-rounds']) };
  const result = await runFaultSuite({ scenario: values.scenario, faults, cutSeconds: Number(values['cut-seconds']), fl, log });
  log('');
  log(TABLE_HEADER);
  for (const r of result.rows) log(formatRow(r));
  if (result.baseline) log(`scenario without faults: ${result.baseline}`);
  if (result.after) log(`scenario completed after the faults: ${result.after}`);
  log(`processes left after sedna down: ${result.leftAfterDown}`);
  const missed = missedTargets(result);
  log(missed.length === 0 ? 'targets met' : `targets MISSED: ${missed.join('; ')}`);
  process.exitCode = missed.length === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.filename === (await import('node:path')).resolve(process.argv[1])) {
  main().catch((err: unknown) => {
    process.stderr.write(`fault suite failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
