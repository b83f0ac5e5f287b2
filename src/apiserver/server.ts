// The embedded Kubernetes-compatible API server: HTTPS on loopback, bearer-token authentication,
// discovery and OpenAPI documents, the generic REST verbs over SQLite, and the controllers an
// embedded cluster needs (CRD establishment, garbage collection, namespaces, deployments).
import { mkdirSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../lib/logger.ts';
import { bearerTokenAuthenticator, type Authenticator } from './auth.ts';
import { CrdController } from './controllers/crd-controller.ts';
import { startControllers } from './controllers/index.ts';
import { internalError, StatusError, unauthorized } from './errors.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { ApiServerMetrics } from './metrics.ts';
import { ensureCredentials } from './pki.ts';
import { makeBuiltinResources } from './registry/builtins.ts';
import { ClusterIpAllocator, DEFAULT_SERVICE_CLUSTER_IP_RANGE } from './registry/cluster-ip.ts';
import { GenericStore } from './registry/generic-store.ts';
import { ResourceRegistry } from './registry/registry.ts';
import { handleDocument } from './rest/documents.ts';
import { podLogDirectory } from './rest/pod-log.ts';
import { parseResourcePath } from './rest/request-info.ts';
import { handleResource } from './rest/resource-handler.ts';
import { sendStatusError } from './rest/respond.ts';
import { SqliteStore } from './storage/sqlite-store.ts';

export interface ApiServerOptions {
  dataDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** Loopback unless told otherwise. */
  host?: string;
  /** Extra names or addresses the serving certificate must cover. */
  advertise?: string[];
  log: Logger;
  /** How often old revisions are compacted, and how many of the newest are always kept. */
  compactIntervalMs?: number;
  compactRetain?: number;
  /** Skip the built-in controllers (tests of the bare REST layer). */
  controllers?: boolean;
  /** Where Service ClusterIPs come from (kube-apiserver's --service-cluster-ip-range); default 127.96.0.0/12, on loopback. */
  serviceClusterIpRange?: string;
  /** A node whose kubelet is not heard from for this long becomes Ready=Unknown (default 40 s). */
  nodeMonitorGracePeriodMs?: number;
}

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export class ApiServer {
  readonly storage: SqliteStore;
  readonly store: GenericStore;
  readonly metrics = new ApiServerMetrics();
  private server: Server | undefined;
  private readonly crdController: CrdController;
  private controllers: { stop(): void; idle(): Promise<void> } | undefined;
  private compactTimer: NodeJS.Timeout | undefined;
  private authenticate: Authenticator | undefined;
  private url = '';
  /** Every open socket, TLS handshakes in progress included, so stop() can end them all. */
  private readonly sockets = new Set<Socket>();

  constructor(private readonly options: ApiServerOptions) {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    this.storage = new SqliteStore({ path: join(options.dataDir, 'state.db') });
    const clusterIPs = new ClusterIpAllocator(options.serviceClusterIpRange ?? DEFAULT_SERVICE_CLUSTER_IP_RANGE, () => this.serviceClusterIps());
    this.store = new GenericStore(this.storage, new ResourceRegistry(makeBuiltinResources({ clusterIPs })));
    this.crdController = new CrdController(this.store, options.log.child({ controller: 'crd' }));
  }

  /** The URL clients use, once listening. */
  get address(): string {
    return this.url;
  }

  get kubeconfigPath(): string {
    return join(this.options.dataDir, 'kubeconfig');
  }

  async start(): Promise<void> {
    const host = this.options.host ?? '127.0.0.1';
    const credentials = ensureCredentials(this.options.dataDir, [host, ...(this.options.advertise ?? [])]);
    this.authenticate = bearerTokenAuthenticator([credentials.token]);
    this.ensureSystemNamespaces();
    this.crdController.start();
    if (this.options.controllers !== false) this.controllers = startControllers(this.store, this.options.log, {
      nodeLifecycle: this.options.nodeMonitorGracePeriodMs !== undefined ? { gracePeriodMs: this.options.nodeMonitorGracePeriodMs } : {},
    });
    this.scheduleCompaction();
    this.server = createHttpsServer({ key: credentials.key, cert: credentials.cert }, (req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 65_000;
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.options.port ?? 6443, host, () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
    this.url = `https://${urlHost}:${port}`;
    writeKubeconfig(this.kubeconfigPath, { server: this.url, caCert: credentials.caCert, token: credentials.token });
    this.options.log.info({ url: this.url, kubeconfig: this.kubeconfigPath }, 'API server listening');
  }

  /** Waits until the built-in controllers have nothing queued (tests and benches). */
  async idle(): Promise<void> {
    await this.crdController.idle();
    await this.controllers?.idle();
  }

  async stop(): Promise<void> {
    clearTimeout(this.compactTimer);
    this.controllers?.stop();
    this.crdController.stop();
    if (this.server) {
      const server = this.server;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Open watches would hold close() for their whole timeout, and a socket still in its TLS
        // handshake is not yet an HTTP connection closeAllConnections() knows about.
        for (const socket of this.sockets) socket.destroy();
      });
    }
    this.storage.close();
  }

  /** The ClusterIP of every stored Service, with its `<namespace>/<name>`. */
  private *serviceClusterIps(): Generator<[string, string]> {
    const def = this.store.registry.lookup('', 'v1', 'services')!;
    for (const svc of this.store.listObjects(def)) {
      const ip = (svc.spec as { clusterIP?: unknown } | undefined)?.clusterIP;
      if (typeof ip === 'string' && ip !== '' && ip !== 'None') yield [ip, `${svc.metadata.namespace ?? ''}/${svc.metadata.name ?? ''}`];
    }
  }

  private ensureSystemNamespaces(): void {
    const nsDef = this.store.registry.lookup('', 'v1', 'namespaces')!;
    for (const name of SYSTEM_NAMESPACES) {
      if (!this.store.tryGet(nsDef, undefined, name)) this.store.create(nsDef, undefined, { metadata: { name } });
    }
  }

  private scheduleCompaction(): void {
    const interval = this.options.compactIntervalMs ?? 60_000;
    const retain = this.options.compactRetain ?? 100_000;
    const tick = (): void => {
      try {
        this.storage.compact(retain);
      } catch (err) {
        this.options.log.error({ err }, 'compaction failed');
      }
      this.compactTimer = setTimeout(tick, interval);
      this.compactTimer.unref();
    };
    this.compactTimer = setTimeout(tick, interval);
    this.compactTimer.unref();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'https://localhost');
    const info = parseResourcePathSafe(url.pathname);
    const verb = requestVerb(req, url, info?.name);
    try {
      if (!this.authenticate!(req)) throw unauthorized();
      if (url.pathname === '/metrics') {
        this.metrics.revision.set(this.storage.currentRevision());
        res.writeHead(200, { 'Content-Type': this.metrics.registry.contentType });
        res.end(await this.metrics.registry.metrics());
      } else if (info) {
        if (verb === 'watch') this.trackWatch(res, info.resource);
        await handleResource(req, res, url, info, { store: this.store, podLogs: podLogDirectory(join(this.options.dataDir, 'logs')) });
      } else {
        handleDocument(req, res, url, this.store.registry.all(), this.url, this.store.registry.generation);
      }
    } catch (err) {
      const status = err instanceof StatusError ? err : internalError((err as Error).message);
      if (!(err instanceof StatusError)) this.options.log.error({ err, path: url.pathname }, 'request failed');
      sendStatusError(res, status);
    } finally {
      const resource = info?.resource ?? 'none';
      this.metrics.requests.inc({ verb, group: info?.group ?? '', resource, code: String(res.statusCode) });
      if (verb !== 'watch') this.metrics.duration.observe({ verb, resource }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  private trackWatch(res: ServerResponse, resource: string): void {
    this.metrics.watchers.inc({ resource });
    res.once('close', () => this.metrics.watchers.dec({ resource }));
  }
}

function parseResourcePathSafe(pathname: string): ReturnType<typeof parseResourcePath> {
  try {
    return parseResourcePath(pathname);
  } catch {
    return undefined;
  }
}

function requestVerb(req: IncomingMessage, url: URL, name: string | undefined): string {
  const method = req.method ?? 'GET';
  if (url.searchParams.get('watch') === 'true' || url.pathname.includes('/watch/')) return 'watch';
  if (method === 'GET') return name ? 'get' : 'list';
  if (method === 'DELETE') return name ? 'delete' : 'deletecollection';
  return { POST: 'create', PUT: 'update', PATCH: 'patch' }[method] ?? method.toLowerCase();
}
