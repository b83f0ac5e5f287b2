// The LocalController: the node agent between the GM and the workers on this node (spec §4). It
// holds the durable link to the GM (src/lc/gm-link.ts), the worker HTTP API (server.ts), the model
// store, and whatever the features' edge sides ask for (src/lc/edge-feature.ts): the downstream
// kinds to keep, the worker reports to relay, and their local job managers. With the `kubelet` option it also runs the embedded
// kubelet for its node (src/lc/kubelet/), started after the worker API (its URL is the pods'
// LC_SERVER) and stopped first, so stopping the LC stops its pods.
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { BackoffOptions, HeartbeatOptions } from '../edgelink/index.ts';
import { type Clock, realClock } from '../lib/clock.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { LcDatabase } from './db.ts';
import type { EdgeFeature, LocalJobManager, RelayRule } from './edge-feature.ts';
import { GmLink } from './gm-link.ts';
import type { Kubelet, KubeletOptions } from './kubelet/index.ts';
import type { ServiceProxy } from './kubelet/service-proxy.ts';
import { ModelManager } from './models.ts';
import { embeddedHostPaths, type HostPathMap, mapHostPath } from './node-paths.ts';
import { isSednaObject, resourceKey, type SednaObject } from './objects.ts';
import { SqliteOutbox } from './outbox.ts';
import { WorkerServer } from './server.ts';
import { checkOwnerUid, relayTable, upstreamFor, type WorkerMessage } from './workers.ts';

/** A feature's LC side and the name its local manager goes by (src/features/registry.ts: loadEdgeFeatures). */
export interface NamedEdgeFeature {
  name: string;
  edge: EdgeFeature;
}

export interface LocalControllerOptions {
  nodeName: string;
  /** The features' LC sides; the caller loads them (`sedna lc` passes the registry's). */
  features: NamedEdgeFeature[];
  /** Times the local managers' checks (default: real time). */
  clock?: Clock;
  /** The GM's edge hub: `ws://host:port/` or `host:port`. */
  gmUrl: string;
  /** This node's token for the edge hub; a function is asked on every connection. */
  token: string | (() => string);
  /** Holds `database.db`. */
  dataDir: string;
  /** Worker API; default 127.0.0.1:9100. */
  address?: string;
  port?: number;
  workerToken?: string;
  requireWorkerToken?: boolean;
  maxBodyBytes?: number;
  /**
   * Unacknowledged upstream messages at most (default 100,000): beyond it worker reports are
   * refused with 503 until the GM catches up, so a long GM outage cannot fill the disk.
   */
  maxPendingMessages?: number;
  /** Prefix of node paths in CRs (Sedna's ROOTFS_MOUNT_DIR); default none. */
  rootfs?: string;
  /** hostPath prefixes kept elsewhere; default with the kubelet: /var/lib/sedna → <dataDir>/var/lib/sedna. */
  hostPathMap?: HostPathMap;
  datasetPollMs?: number;
  reconnect?: BackoffOptions;
  heartbeat?: HeartbeatOptions;
  resendAfterMs?: number;
  ca?: string | Buffer;
  logger?: Logger;
  /** Run the embedded kubelet for this node against this API server. */
  kubelet?: LcKubeletOptions;
  /**
   * Also run the embedded service proxy (ClusterIP:port → ready pods) next to the kubelet. All
   * nodes of one machine share its loopback, so one LC per machine runs it. Needs `kubelet`.
   */
  serviceProxy?: boolean;
  /** Counts worker reports by owner kind and outcome, for /metrics (src/lc/metrics.ts). */
  metrics?: LcMetrics;
}

/** What the LC reports for its metrics. */
export interface LcMetrics {
  workerMessage(ownerKind: string, result: 'relayed' | 'dropped' | 'refused'): void;
}

/** The embedded kubelet's settings; nodeName and lcServerUrl come from the LC. */
export type LcKubeletOptions = { kubeConfig: KubeConfig; podLogDir: string; workDir?: string } & Partial<Omit<KubeletOptions, 'nodeName' | 'lcServerUrl' | 'kubeConfig' | 'podLogDir' | 'workDir'>>;

/** The Node role label: `cloud` for a node named cloud or cloud-*, `edge` otherwise. */
export function defaultNodeRole(nodeName: string): 'cloud' | 'edge' {
  return nodeName === 'cloud' || nodeName.startsWith('cloud-') ? 'cloud' : 'edge';
}

export class LocalController {
  readonly logger: Logger;
  private db: LcDatabase | undefined;
  private outboxStore: SqliteOutbox | undefined;
  private link: GmLink | undefined;
  private server: WorkerServer | undefined;
  private readonly managers = new Map<string, LocalJobManager>();
  private relays: ReadonlyMap<string, RelayRule> = new Map();
  private modelManager: ModelManager | undefined;
  private kubeletInstance: Kubelet | undefined;
  private proxyInstance: ServiceProxy | undefined;

  constructor(private readonly options: LocalControllerOptions) {
    this.logger = options.logger ?? createLogger('lc');
  }

  /** Opens the database, starts the worker API, then connects to the GM; resolves with the API port. */
  async start(): Promise<number> {
    const options = this.options;
    const db = new LcDatabase(join(options.dataDir, 'database.db'));
    this.db = db;
    try {
      const outbox = new SqliteOutbox(db);
      this.outboxStore = outbox;
      const link = new GmLink({
        url: options.gmUrl,
        nodeName: options.nodeName,
        token: options.token,
        outbox,
        ca: options.ca,
        reconnect: options.reconnect,
        heartbeat: options.heartbeat,
        resendAfterMs: options.resendAfterMs,
        logger: this.logger.child({ component: 'gm-link' }),
      });
      this.link = link;
      const models = new ModelManager(db);
      this.modelManager = models;
      this.subscribe(link, 'model', (o) => models.insert(o), (o) => models.delete(o));
      this.startFeatures(db, link);
      const server = new WorkerServer({
        address: options.address,
        port: options.port,
        workerToken: options.workerToken,
        requireToken: options.requireWorkerToken,
        maxBodyBytes: options.maxBodyBytes,
        accept: (message) => this.acceptWorkerMessage(message),
        logger: this.logger.child({ component: 'worker-api' }),
      });
      this.server = server;
      const port = await server.start();
      link.start();
      if (options.kubelet) {
        const { kubeConfig, podLogDir, workDir, ...rest } = options.kubelet;
        const address = options.address ?? '127.0.0.1';
        const host = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address.includes(':') ? `[${address}]` : address;
        // Loaded only when this node runs pods: the kubelet brings the Kubernetes client, which a
        // LocalController that only relays worker messages should not carry in memory.
        const { Kubelet } = await import('./kubelet/index.ts');
        const { SqliteProcessRecords } = await import('./kubelet/process-records.ts');
        const kubelet = new Kubelet({
          logger: this.logger,
          ...rest,
          kubeConfig,
          nodeName: options.nodeName,
          podLogDir,
          workDir: workDir ?? join(options.dataDir, 'kubelet'),
          lcServerUrl: `http://${host}:${port}`,
          hostPathMap: this.hostPathMap(),
          processRecords: new SqliteProcessRecords(db.db, join(options.dataDir, 'pod-processes')),
        });
        this.kubeletInstance = kubelet;
        await kubelet.start();
        if (options.serviceProxy) await this.startServiceProxy(kubeConfig);
      } else if (options.serviceProxy) {
        throw new Error('the service proxy needs the kubelet (a kubeconfig)');
      }
      this.logger.info({ node: options.nodeName, port, pending: link.pending, kubelet: options.kubelet !== undefined }, 'local controller started');
      return port;
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** The node paths this LC keeps elsewhere (src/lc/node-paths.ts). */
  private hostPathMap(): HostPathMap {
    return this.options.hostPathMap ?? (this.options.kubelet ? embeddedHostPaths(this.options.dataDir) : {});
  }

  async stop(): Promise<void> {
    await this.proxyInstance?.stop();
    this.proxyInstance = undefined;
    await this.kubeletInstance?.stop();
    this.kubeletInstance = undefined;
    await this.server?.stop();
    this.server = undefined;
    await this.link?.stop();
    this.link = undefined;
    for (const manager of this.managers.values()) await manager.stop();
    this.managers.clear();
    this.db?.close();
    this.db = undefined;
  }

  get port(): number {
    return this.server?.port ?? 0;
  }

  get connected(): boolean {
    return this.link?.connected ?? false;
  }

  /** Upstream messages committed but not yet acknowledged by the GM. */
  get pending(): number {
    return this.outboxStore?.depth() ?? 0;
  }

  /** A feature's local job manager, by feature name. */
  manager(feature: string): LocalJobManager | undefined {
    return this.managers.get(feature);
  }

  get models(): ModelManager | undefined {
    return this.modelManager;
  }

  get kubelet(): Kubelet | undefined {
    return this.kubeletInstance;
  }

  get serviceProxy(): ServiceProxy | undefined {
    return this.proxyInstance;
  }

  /** Loaded only when asked for, like the kubelet. */
  private async startServiceProxy(kubeConfig: KubeConfig): Promise<void> {
    const { ServiceProxy } = await import('./kubelet/service-proxy.ts');
    const proxy = new ServiceProxy({ kubeConfig, logger: this.logger });
    this.proxyInstance = proxy;
    await proxy.start();
  }

  get database(): LcDatabase | undefined {
    return this.db;
  }

  /** A worker report: committed to the outbox as its upstream message (or dropped, as Sedna does). */
  private acceptWorkerMessage(message: WorkerMessage): void {
    const db = this.db;
    const link = this.link;
    if (!db || !link) throw new Error('the local controller is stopping');
    const max = this.options.maxPendingMessages ?? 100_000;
    const metrics = this.options.metrics;
    if (link.pending >= max) metrics?.workerMessage(message.ownerKind, 'refused');
    if (link.pending >= max) throw new Error(`${link.pending} messages are waiting for the GM (the limit is ${max}); retry later`);
    checkOwnerUid(message, (kind, namespace, name) => {
      const uid = db.getResource(`${namespace}/${kind.toLowerCase()}/${name}`)?.objectMeta.uid;
      return typeof uid === 'string' && uid !== '' ? uid : undefined;
    });
    const upstream = upstreamFor(message, this.relays, (kind, namespace, name) => {
      const row = db.getResource(`${namespace}/${kind}/${name}`);
      if (!row) return undefined;
      return typeof row.typeMeta.kind === 'string' && row.typeMeta.kind ? row.typeMeta.kind : kind;
    });
    metrics?.workerMessage(message.ownerKind, upstream ? 'relayed' : 'dropped');
    if (!upstream) {
      this.logger.debug({ worker: message.name, ownerKind: message.ownerKind, owner: message.ownerName }, 'worker message dropped: no manager relays it');
      return;
    }
    link.send(upstream);
  }

  /**
   * Each feature's kinds go to its local manager, or are kept in the database for report routing;
   * its relays join the routing table. Managers resume from the database before the link connects.
   */
  private startFeatures(db: LcDatabase, link: GmLink): void {
    const options = this.options;
    this.relays = relayTable(options.features.map((feature) => feature.edge));
    for (const { name, edge } of options.features) {
      const manager = edge.createLocalManager?.({
        nodeName: options.nodeName,
        db,
        send: (message) => link.send(message),
        clock: options.clock ?? realClock,
        logger: this.logger.child({ feature: name }),
        rootfs: options.rootfs ?? '',
        nodePath: (path) => {
          const mapped = mapHostPath(path, this.hostPathMap());
          return mapped !== path || !options.rootfs ? mapped : join(options.rootfs, path);
        },
        ...(options.datasetPollMs !== undefined ? { pollIntervalMs: options.datasetPollMs } : {}),
        manager: (feature) => this.managers.get(feature),
      });
      if (manager) this.managers.set(name, manager);
      for (const kind of edge.kinds) {
        if (manager) this.subscribe(link, kind, (o) => manager.insert(o), (o) => manager.delete(o));
        else this.subscribe(link, kind, (o) => db.saveResource(resourceKey(o, kind), o as unknown as Record<string, unknown>), (o) => db.deleteResource(resourceKey(o, kind)));
      }
    }
    for (const manager of this.managers.values()) manager.resume?.();
  }

  private subscribe(link: GmLink, kind: string, insert: (o: SednaObject) => void, remove: (o: SednaObject) => void): void {
    link.onMessage(kind, (message) => {
      const { operation } = message.header;
      if (!isSednaObject(message.content)) {
        this.logger.warn({ header: message.header }, 'downstream message without an object; dropped');
        return;
      }
      const object = message.content;
      // The header names the object authoritatively.
      object.metadata = { ...object.metadata, name: message.header.resourceName || object.metadata?.name, namespace: message.header.namespace || object.metadata?.namespace };
      if (operation === 'insert' || operation === 'update') insert(object);
      else if (operation === 'delete') remove(object);
      else this.logger.warn({ header: message.header }, 'unknown operation; dropped');
    });
  }
}
