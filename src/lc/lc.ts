// The LocalController: the node agent between the GM and the workers on this node (spec §4). It
// holds the durable link to the GM (src/lc/gm-link.ts), the worker HTTP API (server.ts), and the
// managers for the objects the GM sends (datasets, models, and the learning jobs, which are kept in
// the database for worker-report routing). With the `kubelet` option it also runs the embedded
// kubelet for its node (src/lc/kubelet/), started after the worker API (its URL is the pods'
// LC_SERVER) and stopped first, so stopping the LC stops its pods.
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { EdgeMessage } from '../api/edge-protocol.ts';
import type { BackoffOptions, HeartbeatOptions } from '../gm/edge-hub/index.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { DatasetManager } from './datasets.ts';
import { LcDatabase } from './db.ts';
import { GmLink } from './gm-link.ts';
import type { Kubelet, KubeletOptions } from './kubelet/index.ts';
import type { ServiceProxy } from './kubelet/service-proxy.ts';
import { ModelManager } from './models.ts';
import { isSednaObject, resourceKey, type SednaObject } from './objects.ts';
import { SqliteOutbox } from './outbox.ts';
import { WorkerServer } from './server.ts';
import { upstreamFor, type WorkerMessage } from './workers.ts';

export interface LocalControllerOptions {
  nodeName: string;
  /** The GM's edge hub: `ws://host:port/` or `host:port`. */
  gmUrl: string;
  /** This node's token for the edge hub. */
  token: string;
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
}

/** The embedded kubelet's settings; nodeName and lcServerUrl come from the LC. */
export type LcKubeletOptions = { kubeConfig: KubeConfig; podLogDir: string; workDir?: string } & Partial<Omit<KubeletOptions, 'nodeName' | 'lcServerUrl' | 'kubeConfig' | 'podLogDir' | 'workDir'>>;

/** The Node role label: `cloud` for a node named cloud or cloud-*, `edge` otherwise. */
export function defaultNodeRole(nodeName: string): 'cloud' | 'edge' {
  return nodeName === 'cloud' || nodeName.startsWith('cloud-') ? 'cloud' : 'edge';
}

/** The learning-job kinds the GM sends, stored for routing worker reports (§4.5, §4.6). */
const JOB_KINDS = ['jointinferenceservice', 'federatedlearningjob', 'incrementallearningjob', 'lifelonglearningjob'] as const;

export class LocalController {
  readonly logger: Logger;
  private db: LcDatabase | undefined;
  private outboxStore: SqliteOutbox | undefined;
  private link: GmLink | undefined;
  private server: WorkerServer | undefined;
  private datasetManager: DatasetManager | undefined;
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
      const send = (message: EdgeMessage): void => link.send(message);
      const datasets = new DatasetManager({ db, send, rootfs: options.rootfs, pollIntervalMs: options.datasetPollMs, logger: this.logger.child({ component: 'datasets' }) });
      this.datasetManager = datasets;
      const models = new ModelManager(db);
      this.modelManager = models;
      this.subscribe(link, 'dataset', (o) => datasets.insert(o), (o) => datasets.delete(o));
      this.subscribe(link, 'model', (o) => models.insert(o), (o) => models.delete(o));
      for (const kind of JOB_KINDS) {
        this.subscribe(link, kind, (o) => db.saveResource(resourceKey(o, kind), o as unknown as Record<string, unknown>), (o) => db.deleteResource(resourceKey(o, kind)));
      }
      // Monitoring resumes from the database at once, not only when the GM re-sends the Datasets.
      for (const row of db.listResources()) {
        if (row.name.split('/')[1] !== 'dataset') continue;
        const kind = typeof row.typeMeta.kind === 'string' && row.typeMeta.kind ? row.typeMeta.kind : 'Dataset';
        datasets.insert({ kind, metadata: row.objectMeta, spec: row.spec });
      }
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

  async stop(): Promise<void> {
    await this.proxyInstance?.stop();
    this.proxyInstance = undefined;
    await this.kubeletInstance?.stop();
    this.kubeletInstance = undefined;
    await this.server?.stop();
    this.server = undefined;
    await this.link?.stop();
    this.link = undefined;
    this.datasetManager?.stop();
    await this.datasetManager?.settled();
    this.datasetManager = undefined;
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

  get datasets(): DatasetManager | undefined {
    return this.datasetManager;
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
    if (link.pending >= max) throw new Error(`${link.pending} messages are waiting for the GM (the limit is ${max}); retry later`);
    const upstream = upstreamFor(message, (kind, namespace, name) => {
      const row = db.getResource(`${namespace}/${kind}/${name}`);
      if (!row) return undefined;
      return typeof row.typeMeta.kind === 'string' && row.typeMeta.kind ? row.typeMeta.kind : kind;
    });
    if (!upstream) {
      this.logger.debug({ worker: message.name, ownerKind: message.ownerKind, owner: message.ownerName }, 'worker message dropped: no manager relays it');
      return;
    }
    link.send(upstream);
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
