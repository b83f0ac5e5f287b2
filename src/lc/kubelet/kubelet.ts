// The embedded kubelet: the LocalController runs one per node. It registers the Node, renews its
// Lease, watches the pods bound to it (fieldSelector spec.nodeName=<node>), runs each as local
// processes (pod-worker.ts), reports their status through the pure podStatusFor (PATCH /status
// only on change) and finishes graceful deletions (SIGTERM → grace → SIGKILL → delete with
// grace 0). It also watches every Service and keeps <workDir>/service-hosts for its pods (in
// place of cluster DNS; see service-hosts.ts), whose path and service links each container gets.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseKey } from '../../controller/controller.ts';
import { EventRecorder } from '../../controller/events.ts';
import { SharedInformer } from '../../controller/informer.ts';
import { isApiError, requestJson } from '../../controller/rest.ts';
import { keyOf } from '../../controller/store.ts';
import { WorkQueue } from '../../lib/work-queue.ts';
import { type Logger, silentLogger } from '../../lib/logger.ts';
import type { KeyLookup } from './env.ts';
import { DEFAULT_IMAGE_RUNTIMES, type ImageRuntimes } from './images.ts';
import { NodeAgent } from './node.ts';
import { type BackoffOptions, PodWorker } from './pod-worker.ts';
import { allocateHostPorts, HOST_PORTS_ANNOTATION } from './ports.ts';
import type { ProcessRecords } from './process-records.ts';
import { startReaper } from './reaper.ts';
import { stopIdentified } from '../../lib/proc.ts';
import { type Service, SERVICE_HOSTS_ENV, serviceLinkEnv, writeServiceHosts } from './service-hosts.ts';
import { podStatusFor, type TerminationRecord } from './status.ts';
import type { Pod } from '../../api/workloads.ts';
import type { HostPathMap } from '../node-paths.ts';

export interface KubeletOptions {
  kubeConfig: k8s.KubeConfig;
  nodeName: string;
  /** Container logs go to <podLogDir>/<namespace>/<pod>/<container>.log (the API server's <data dir>/logs). */
  podLogDir: string;
  /** Per-pod directories (emptyDir, configMap and secret volumes, working dirs) under <workDir>/pods/<uid>. */
  workDir: string;
  /** Passed to every container as LC_SERVER. */
  lcServerUrl: string;
  /** Merged over DEFAULT_IMAGE_RUNTIMES; see images.ts. */
  imageRuntimes?: ImageRuntimes;
  logger?: Logger;
  clock?: () => Date;
  /** Extra Node labels, e.g. { 'node-role.kubernetes.io/edge': '' }. */
  labels?: Record<string, string>;
  capacity?: Record<string, string>;
  leaseDurationSeconds?: number;
  leaseRenewIntervalMs?: number;
  /** How often the Node's condition heartbeats are refreshed (the Lease carries liveness). */
  nodeStatusIntervalMs?: number;
  crashBackoff?: BackoffOptions;
  configRetryMs?: number;
  /** Stop every pod's processes on stop() (default true: the processes are the LC's children). */
  stopPodsOnStop?: boolean;
  /** Grace for processes on stop() and for pods deleted outright (default 2 s). */
  stopGraceMs?: number;
  /**
   * The record of the processes this kubelet starts (the LC's database). At start, processes a
   * previous run left (it was killed) are stopped, and their pods restarted with their restart
   * counts going on.
   */
  processRecords?: ProcessRecords;
  /** Told of every container event (Started, Killing, BackOff, Failed, Unhealthy) and pod sync, for /metrics. */
  metrics?: KubeletMetrics;
  /** hostPath prefixes mapped to local folders (src/lc/node-paths.ts), as the LC maps them. */
  hostPathMap?: HostPathMap;
}

/** What the kubelet reports for its metrics (src/lc/metrics.ts). */
export interface KubeletMetrics {
  containerEvent(type: 'Normal' | 'Warning', reason: string): void;
  podSync(seconds: number, ok: boolean): void;
}

const MERGE_PATCH = 'application/merge-patch+json';

export class Kubelet {
  private readonly logger: Logger;
  private readonly clock: () => Date;
  private readonly node: NodeAgent;
  private readonly informer: SharedInformer<Pod>;
  private readonly services: SharedInformer<Service>;
  private hostsWrite: NodeJS.Immediate | undefined;
  private readonly queue: WorkQueue;
  private readonly workers = new Map<string, PodWorker>();
  /** The last pod the API server returned to a status PATCH, newer than the cache for a moment. */
  private readonly patched = new Map<string, Pod>();
  private readonly imageRuntimes: ImageRuntimes;
  private readonly core: k8s.CoreV1Api;
  private readonly events: EventRecorder;
  private leaseTimer: NodeJS.Timeout | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  /** Lease renewals and status posts still in flight: stop() waits for them, so none lands after its Unknown. */
  private readonly heartbeats = new Set<Promise<void>>();
  private started = false;
  private stopped = false;
  /** Per pod uid, the containers whose process a previous kubelet left and this one stopped, and when it found them so. */
  private readonly replaced = new Map<string, Map<string, { pid: number; foundAt: Date }>>();

  constructor(private readonly options: KubeletOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'kubelet', node: options.nodeName });
    this.clock = options.clock ?? (() => new Date());
    this.core = options.kubeConfig.makeApiClient(k8s.CoreV1Api);
    this.events = new EventRecorder(options.kubeConfig, { component: 'kubelet', host: options.nodeName, logger: this.logger, now: this.clock });
    this.imageRuntimes = { ...DEFAULT_IMAGE_RUNTIMES, ...options.imageRuntimes };
    this.node = new NodeAgent({
      kubeConfig: options.kubeConfig,
      nodeName: options.nodeName,
      labels: options.labels ?? {},
      ...(options.capacity ? { capacity: options.capacity } : {}),
      leaseDurationSeconds: options.leaseDurationSeconds ?? 40,
      clock: this.clock,
      logger: this.logger,
    });
    this.informer = new SharedInformer<Pod>(options.kubeConfig, {
      path: '/api/v1/pods',
      fieldSelector: `spec.nodeName=${options.nodeName}`,
      logger: this.logger,
    });
    this.services = new SharedInformer<Service>(options.kubeConfig, { path: '/api/v1/services', logger: this.logger });
    this.queue = new WorkQueue({
      concurrency: 8,
      baseDelayMs: 200,
      maxDelayMs: 10_000,
      onError: (key, err) => this.logger.warn({ err, pod: key }, 'pod sync failed; retrying'),
    });
  }

  get nodeName(): string {
    return this.options.nodeName;
  }

  /** The hosts file of the cluster's Services, passed to every container as SEDNA_SERVICE_HOSTS. */
  get serviceHostsPath(): string {
    return join(this.options.workDir, 'service-hosts');
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    mkdirSync(this.options.podLogDir, { recursive: true });
    mkdirSync(this.options.workDir, { recursive: true });
    await this.stopLeftProcesses();
    // Pods die with this LC, however it dies; unless they are meant to outlive it.
    const file = this.options.processRecords?.file;
    if (file && (this.options.stopPodsOnStop ?? true)) startReaper(file);
    await this.node.register();
    await this.node.renewLease();
    this.scheduleLease();
    this.scheduleNodeStatus();
    await this.startServices();
    const enqueue = (pod: Pod): void => this.queue.add(keyOf(pod));
    this.informer.onAdd(enqueue);
    this.informer.onUpdate((_old, pod) => enqueue(pod));
    this.informer.onDelete(enqueue);
    this.informer.start();
    this.queue.run(async (key) => {
      const started = process.hrtime.bigint();
      const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9;
      try {
        await this.sync(key);
        this.options.metrics?.podSync(seconds(), true);
      } catch (err) {
        this.options.metrics?.podSync(seconds(), false);
        throw err;
      }
    });
    await this.informer.waitForSync();
    this.logger.info('kubelet started');
  }

  async stop(): Promise<void> {
    if (!this.started || this.stopped) return;
    this.stopped = true;
    clearTimeout(this.leaseTimer);
    clearTimeout(this.statusTimer);
    await Promise.all([...this.heartbeats]);
    this.queue.shutdown();
    clearImmediate(this.hostsWrite);
    await Promise.all([this.informer.stop(), this.services.stop()]);
    if (this.options.stopPodsOnStop ?? true) {
      await Promise.all([...this.workers.values()].map((w) => w.terminate(this.options.stopGraceMs ?? 2_000)));
    } else {
      // The processes go on without us; their probes must not.
      for (const worker of this.workers.values()) worker.detach();
    }
    this.workers.clear();
    await this.events.flush();
    await this.node.postStatus('Unknown', false, 'KubeletStopped', 'Kubelet stopped posting node status.').catch((err: unknown) => this.logger.warn({ err }, 'could not mark the node not ready'));
    this.logger.info('kubelet stopped');
  }

  /** Each container's state (running, waiting, terminated) of every pod this kubelet runs. */
  containerStates(): { pod: string; state: string; restartCount: number }[] {
    return [...this.workers].flatMap(([pod, w]) => w.processStates().map((s) => ({ pod, state: s.state, restartCount: s.restartCount })));
  }

  /**
   * Processes a previous run of this kubelet started and did not see end (the LC was killed; its
   * watchdog, reaper.ts, normally stopped them already): each still running under its recorded
   * identity is stopped, so no pod runs unmanaged or twice; the pod is then started again by the
   * normal sync.
   */
  private async stopLeftProcesses(): Promise<void> {
    const records = this.options.processRecords;
    if (!records) return;
    await Promise.all(records.list().map(async (r) => {
      const result = await stopIdentified(r, this.options.stopGraceMs ?? 2_000);
      if (result !== 'gone') this.logger.info({ pod: `${r.namespace}/${r.pod}`, container: r.container, pid: r.pid, result }, 'stopped a container process a previous kubelet left running; the pod restarts');
      // Gone already (the watchdog stopped it when the LC died) or stopped now: either way a
      // run ended unseen, and the container's next run counts as a restart.
      let containers = this.replaced.get(r.podUid);
      if (!containers) this.replaced.set(r.podUid, (containers = new Map<string, { pid: number; foundAt: Date }>()));
      containers.set(r.container, { pid: r.pid, foundAt: this.clock() });
      records.remove(r.pid, r.startTime);
    }));
  }

  /**
   * The replaced run as the container's lastState: its start from the status the previous kubelet
   * posted; how it ended is unknown (it was not this process's child), as Kubernetes says with
   * ContainerStatusUnknown / 137 for a container it lost track of.
   */
  private replacedRuns(pod: Pod): Record<string, TerminationRecord> {
    const replaced = this.replaced.get(pod.metadata.uid ?? '');
    const out: Record<string, TerminationRecord> = {};
    if (!replaced) return out;
    for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      const run = replaced.get(s.name);
      if (!run) continue;
      const started = s.state?.running?.startedAt;
      out[s.name] = {
        exitCode: 137,
        reason: 'ContainerStatusUnknown',
        message: 'The node agent (LC) was restarted: the process it had started was stopped with it, and how it ended is not known.',
        startedAt: started ? new Date(started) : run.foundAt,
        finishedAt: run.foundAt,
        pid: run.pid,
      };
    }
    return out;
  }

  /** Restart counts a previous kubelet reported, one more for each container whose process was replaced. */
  private carriedRestarts(pod: Pod): Record<string, number> {
    const replaced = this.replaced.get(pod.metadata.uid ?? '');
    const out: Record<string, number> = {};
    for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      out[s.name] = (s.restartCount ?? 0) + (replaced?.has(s.name) ? 1 : 0);
    }
    return out;
  }

  /** The pid of each running container of a pod (for diagnostics and tests). */
  pids(namespace: string, name: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.workers.get(`${namespace}/${name}`)?.processStates() ?? []) if (s.state === 'running' && s.pid !== undefined) out[s.name] = s.pid;
    return out;
  }

  /** Pods start only once the Services are known, so their service links are complete. */
  private async startServices(): Promise<void> {
    const changed = (): void => {
      // One rewrite per burst of events (a re-list delivers every Service at once).
      this.hostsWrite ??= setImmediate(() => {
        this.hostsWrite = undefined;
        this.writeHosts();
      });
    };
    this.services.onAdd(changed);
    this.services.onUpdate(changed);
    this.services.onDelete(changed);
    this.services.start();
    await this.services.waitForSync();
    this.writeHosts();
  }

  private writeHosts(): void {
    try {
      writeServiceHosts(this.serviceHostsPath, this.services.lister.list());
    } catch (err) {
      this.logger.warn({ err, path: this.serviceHostsPath }, 'could not write the service hosts file');
    }
  }

  private serviceEnv(pod: Pod): Record<string, string> {
    return { [SERVICE_HOSTS_ENV]: this.serviceHostsPath, ...serviceLinkEnv(pod, this.services.lister.list(pod.metadata.namespace ?? 'default')) };
  }

  private scheduleLease(): void {
    this.leaseTimer = setTimeout(() => {
      this.track(
        this.node
          .renewLease()
          .then(async () => {
            if (!this.stopped && (await this.node.reassertReady())) this.logger.info('the node was not Ready; posted Ready again');
          })
          .catch((err: unknown) => this.logger.warn({ err }, 'lease renewal failed')),
        () => this.scheduleLease(),
      );
    }, this.options.leaseRenewIntervalMs ?? 10_000);
  }

  private scheduleNodeStatus(): void {
    this.statusTimer = setTimeout(() => {
      this.track(
        this.node.postStatus('True').catch((err: unknown) => this.logger.warn({ err }, 'node status update failed')),
        () => this.scheduleNodeStatus(),
      );
    }, this.options.nodeStatusIntervalMs ?? 60_000);
  }

  /** Keeps a heartbeat in `heartbeats` until it settles, then schedules the next unless stopped. */
  private track(beat: Promise<void>, next: () => void): void {
    const tracked = beat.finally(() => {
      this.heartbeats.delete(tracked);
      if (!this.stopped) next();
    });
    this.heartbeats.add(tracked);
  }

  private readonly lookup: KeyLookup = Object.assign(async (kind: 'ConfigMap' | 'Secret', namespace: string, name: string) => this.readKeys(kind, namespace, name), {
    serviceEnv: (pod: Pod) => this.serviceEnv(pod),
    claimPath: (namespace: string, claimName: string) => this.claimPath(namespace, claimName),
  });

  /** The host directory of a Bound claim (annotation sedna.io/host-path, set by the API server's binder). */
  private async claimPath(namespace: string, name: string): Promise<string | undefined> {
    try {
      const claim = await requestJson<{ metadata?: { annotations?: Record<string, string> }; status?: { phase?: string } }>(this.options.kubeConfig, {
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/persistentvolumeclaims/${encodeURIComponent(name)}`,
        timeoutMs: 15_000,
      });
      return claim.status?.phase === 'Bound' ? claim.metadata?.annotations?.['sedna.io/host-path'] : undefined;
    } catch (err) {
      if (isApiError(err, 404)) return undefined;
      throw err;
    }
  }

  private async readKeys(kind: 'ConfigMap' | 'Secret', namespace: string, name: string): Promise<Record<string, string> | undefined> {
    const plural = kind === 'Secret' ? 'secrets' : 'configmaps';
    try {
      const obj = await requestJson<{ data?: Record<string, string> }>(this.options.kubeConfig, {
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/${plural}/${encodeURIComponent(name)}`,
        timeoutMs: 15_000,
      });
      const data = obj.data ?? {};
      if (kind === 'ConfigMap') return { ...data };
      return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    } catch (err) {
      if (isApiError(err, 404)) return undefined;
      throw err;
    }
  }

  private podPath(namespace: string, name: string): string {
    return `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`;
  }

  private async sync(key: string): Promise<void> {
    if (this.stopped) return;
    const { namespace, name } = parseKey(key);
    const pod = this.informer.lister.get(namespace, name);
    let worker = this.workers.get(key);

    if (!pod || (worker && worker.uid !== pod.metadata.uid)) {
      // Deleted outright, or replaced by a pod of the same name: stop what ran.
      if (worker) {
        this.workers.delete(key);
        this.patched.delete(key);
        await worker.terminate(this.options.stopGraceMs ?? 2_000);
        worker.cleanup();
        worker = undefined;
      }
      if (!pod) return;
    }

    if (pod.metadata.deletionTimestamp) {
      await this.finishDeletion(key, pod, worker);
      return;
    }

    if (!worker) {
      const phase = pod.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') return; // finished before this kubelet started
      const hostPorts = await allocateHostPorts(pod);
      const annotation = JSON.stringify(hostPorts);
      if (Object.keys(hostPorts).length > 0 && pod.metadata.annotations?.[HOST_PORTS_ANNOTATION] !== annotation) {
        await requestJson(this.options.kubeConfig, {
          method: 'PATCH',
          path: this.podPath(namespace, name),
          body: { metadata: { annotations: { [HOST_PORTS_ANNOTATION]: annotation } } },
          contentType: MERGE_PATCH,
          timeoutMs: 15_000,
        });
      }
      worker = new PodWorker(pod, {
        podLogDir: this.options.podLogDir,
        workDir: this.options.workDir,
        imageRuntimes: this.imageRuntimes,
        lcServerUrl: this.options.lcServerUrl,
        lookup: this.lookup,
        logger: this.logger,
        clock: this.clock,
        backoff: this.options.crashBackoff ?? { initialMs: 10_000, maxMs: 300_000 },
        configRetryMs: this.options.configRetryMs ?? 5_000,
        hostPorts,
        ...(this.options.hostPathMap ? { hostPathMap: this.options.hostPathMap } : {}),
        onChange: () => this.queue.add(key),
        ...(this.options.processRecords ? { records: this.options.processRecords } : {}),
        initialRestarts: this.carriedRestarts(pod),
        initialLastTermination: this.replacedRuns(pod),
        event: (type, reason, message) => {
          this.options.metrics?.containerEvent(type, reason);
          void this.events.event({ ...(this.workers.get(key)?.currentPod ?? pod), apiVersion: 'v1', kind: 'Pod' }, type, reason, message);
        },
      });
      this.workers.set(key, worker);
      await worker.start();
    } else {
      worker.update(pod);
    }
    await this.reportStatus(key, pod, worker);
  }

  private async reportStatus(key: string, pod: Pod, worker: PodWorker): Promise<void> {
    const last = this.patched.get(key);
    const base = last && last.metadata.uid === pod.metadata.uid && Number(last.metadata.resourceVersion) > Number(pod.metadata.resourceVersion) ? last : pod;
    const status = podStatusFor(base, worker.processStates(), this.clock());
    if (!status) return;
    const body: Record<string, unknown> = { ...status };
    for (const field of Object.keys(base.status ?? {})) if (!(field in status)) body[field] = null;
    const updated = await requestJson<Pod>(this.options.kubeConfig, {
      method: 'PATCH',
      path: `${this.podPath(pod.metadata.namespace!, pod.metadata.name!)}/status`,
      body: { status: body },
      contentType: MERGE_PATCH,
      timeoutMs: 15_000,
    });
    this.patched.set(key, updated);
  }

  /** SIGTERM → deletionGracePeriodSeconds → SIGKILL, then the final delete with grace 0. */
  private async finishDeletion(key: string, pod: Pod, worker: PodWorker | undefined): Promise<void> {
    if (worker && !worker.isTerminating) {
      const graceSeconds = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
      this.logger.info({ pod: key, graceSeconds }, 'stopping pod');
      await worker.terminate(graceSeconds * 1000);
    } else if (worker) {
      return; // another sync is already stopping it and will delete it
    }
    try {
      // The uid precondition spares a new pod that took the name meanwhile.
      await this.core.deleteNamespacedPod({
        name: pod.metadata.name!,
        namespace: pod.metadata.namespace!,
        gracePeriodSeconds: 0,
        body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid! } },
      });
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code !== 404 && code !== 409) throw err;
    }
    worker?.cleanup();
    if (this.workers.get(key) === worker) this.workers.delete(key);
    this.patched.delete(key);
  }
}
