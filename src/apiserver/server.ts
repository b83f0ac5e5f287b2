// The embedded Kubernetes-compatible API server: HTTPS on loopback, bearer-token authentication,
// discovery and OpenAPI documents, the generic REST verbs over SQLite, and the controllers an
// embedded cluster needs (CRD establishment, garbage collection, namespaces, deployments).
import { mkdirSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../lib/logger.ts';
import { Authenticator } from './authn/authenticator.ts';
import { ServiceAccountTokens } from './authn/service-account-tokens.ts';
import { StaticTokens } from './authn/static-tokens.ts';
import { impersonatedUser } from './authn/impersonation.ts';
import { SYSTEM_AUTHENTICATED, SYSTEM_MASTERS, type UserInfo } from './authn/user.ts';
import { requestAttributes } from './authz/attributes.ts';
import { AuthorizerChain } from './authz/authorizer.ts';
import { ensureBootstrapPolicy } from './authz/bootstrap-policy.ts';
import { nodeRestriction } from './authz/node-restriction.ts';
import { escalationCheck } from './authz/escalation.ts';
import type { Attributes, AuthServices } from './authz/types.ts';
import { CrdController } from './controllers/crd-controller.ts';
import { startControllers } from './controllers/index.ts';
import { internalError, StatusError, statusOf, unauthorized } from './errors.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { ApiServerMetrics } from './metrics.ts';
import { ensureCredentials } from './pki.ts';
import { makeBuiltinResources } from './registry/builtins.ts';
import { ClusterIpAllocator, DEFAULT_SERVICE_CLUSTER_IP_RANGE } from './registry/cluster-ip.ts';
import { GenericStore } from './registry/generic-store.ts';
import { ResourceRegistry } from './registry/registry.ts';
import { handleDocument } from './rest/documents.ts';
import { podLogDirectory } from './rest/pod-log.ts';
import { isGoTrue } from './query.ts';
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
  /** Bytes of recent events kept in memory for watch replay (default 4 MB; see storage/event-ring.ts). */
  watchCacheBytes?: number;
  /** Bytes of older events a resuming watch may replay from the log before it gets 410 Gone (default 8 MB). */
  watchReplayBytes?: number;
  /** Skip the built-in controllers (tests of the bare REST layer). */
  controllers?: boolean;
  /** Where Service ClusterIPs come from (kube-apiserver's --service-cluster-ip-range); default 127.96.0.0/12, on loopback. */
  serviceClusterIpRange?: string;
  /**
   * kube-apiserver's --token-auth-file (`token,user,uid,"groups"` lines, re-read when it changes);
   * default DATA_DIR/tokens.csv when that exists. The generated admin token is always accepted.
   */
  tokenAuthFile?: string;
  /** Open connections beyond this are refused at accept (watches hold one each). */
  maxConnections?: number;
  /** A client that has not finished its TLS handshake by then is dropped. */
  handshakeTimeoutMs?: number;
  /** A node whose kubelet is not heard from for this long becomes Ready=Unknown (default 40 s). */
  nodeMonitorGracePeriodMs?: number;
  /** NoExecute eviction of a pod without its own not-ready/unreachable toleration after this long (default 300 s). */
  defaultTolerationSeconds?: number;
  /**
   * Told every authorization decision on a request (kube-apiserver's audit log at Metadata level,
   * reduced to who asked what): the least-privilege tests learn from it what the GM really does.
   */
  audit?: (entry: AuditEntry) => void;
}

/** One authorization decision, as the audit hook gets it. */
export interface AuditEntry {
  user: string;
  verb: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  path: string;
  allowed: boolean;
}

/** Enough for every node's LC, kubelet and GM watches several times over. */
export const DEFAULT_MAX_CONNECTIONS = 4096;
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Headers and body of one request must arrive within these (slowloris); responses may stream on. */
const HEADERS_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 60_000;

/** The user the generated admin token authenticates as (kubeadm's kubernetes-admin). */
export const ADMIN_USER: UserInfo = { name: 'kubernetes-admin', groups: [SYSTEM_MASTERS, SYSTEM_AUTHENTICATED] };

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export class ApiServer {
  readonly storage: SqliteStore;
  readonly store: GenericStore;
  readonly metrics = new ApiServerMetrics();
  private server: Server | undefined;
  private readonly crdController: CrdController;
  private controllers: { stop(): void; idle(): Promise<void> } | undefined;
  private compactTimer: NodeJS.Timeout | undefined;
  private authenticator: Authenticator | undefined;
  private serviceAccountTokens: ServiceAccountTokens | undefined;
  private readonly authorizer: AuthorizerChain;
  private url = '';
  /** Every open socket, TLS handshakes in progress included, so stop() can end them all. */
  private readonly sockets = new Set<Socket>();

  constructor(private readonly options: ApiServerOptions) {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    this.storage = new SqliteStore({
      path: join(options.dataDir, 'state.db'),
      ...(options.watchCacheBytes !== undefined ? { ringBytes: options.watchCacheBytes } : {}),
      ...(options.watchReplayBytes !== undefined ? { replayBytes: options.watchReplayBytes } : {}),
    });
    const clusterIPs = new ClusterIpAllocator(options.serviceClusterIpRange ?? DEFAULT_SERVICE_CLUSTER_IP_RANGE, () => this.serviceClusterIps());
    this.store = new GenericStore(this.storage, new ResourceRegistry(makeBuiltinResources({ clusterIPs })));
    this.crdController = new CrdController(this.store, options.log.child({ controller: 'crd' }));
    this.store.admission.push(nodeRestriction);
    this.authorizer = new AuthorizerChain(this.store);
    this.store.admission.push(escalationCheck(this.authorizer.rbac, this.authorizer));
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
    this.serviceAccountTokens = new ServiceAccountTokens(join(this.options.dataDir, 'pki'), (kind, namespace, name) => this.uidOf(kind, namespace, name));
    const statics = new StaticTokens(this.options.tokenAuthFile ?? join(this.options.dataDir, 'tokens.csv'), [{ token: credentials.token, user: ADMIN_USER }]);
    this.authenticator = new Authenticator(statics, this.serviceAccountTokens);
    this.ensureSystemNamespaces();
    ensureBootstrapPolicy(this.store);
    this.crdController.start();
    if (this.options.controllers !== false) this.controllers = startControllers(this.store, this.options.log, {
      volumeDir: join(this.options.dataDir, 'volumes'),
      nodeLifecycle: {
        ...(this.options.nodeMonitorGracePeriodMs !== undefined ? { gracePeriodMs: this.options.nodeMonitorGracePeriodMs } : {}),
        ...(this.options.defaultTolerationSeconds !== undefined ? { defaultTolerationSeconds: this.options.defaultTolerationSeconds } : {}),
      },
    });
    this.scheduleCompaction();
    this.server = createHttpsServer(
      {
        key: credentials.key,
        cert: credentials.cert,
        handshakeTimeout: this.options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
        headersTimeout: HEADERS_TIMEOUT_MS,
        requestTimeout: REQUEST_TIMEOUT_MS,
      },
      (req, res) => void this.handle(req, res),
    );
    this.server.keepAliveTimeout = 65_000;
    this.server.maxConnections = this.options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
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
    this.authorizer.stop();
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

  private uidOf(kind: 'ServiceAccount' | 'Pod' | 'Secret', namespace: string, name: string): string | undefined {
    const plural = { ServiceAccount: 'serviceaccounts', Pod: 'pods', Secret: 'secrets' }[kind];
    return this.store.tryGet(this.store.registry.lookup('', 'v1', plural)!, namespace, name)?.metadata.uid;
  }

  /** What TokenReview and the access reviews answer from. */
  private get authServices(): AuthServices {
    return {
      reviewToken: (token, audiences) => this.authenticator!.review(token, audiences),
      authorize: (attributes) => this.authorizer.authorize(attributes),
    };
  }

  /** 403 unless the authorizer chain allows the request, with Kubernetes' message. */
  private authorize(attributes: Attributes): void {
    const decision = this.authorizer.authorize(attributes);
    this.options.audit?.({
      user: attributes.user.name,
      verb: attributes.verb,
      apiGroup: attributes.apiGroup ?? '',
      resource: attributes.resource ?? '',
      subresource: attributes.subresource ?? '',
      namespace: attributes.namespace ?? '',
      name: attributes.name ?? '',
      path: attributes.resourceRequest ? '' : (attributes.path ?? ''),
      allowed: decision.verdict === 'allow',
    });
    if (decision.verdict === 'allow') return;
    this.options.log.warn({ user: attributes.user.name, verb: attributes.verb, resource: attributes.resource, subresource: attributes.subresource, namespace: attributes.namespace, name: attributes.name, path: attributes.path, reason: decision.reason }, 'forbidden');
    throw forbiddenRequest(attributes, decision.reason);
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
      const caller = this.authenticator!.authenticateRequest(req);
      if (!caller) throw unauthorized();
      const user = impersonatedUser(req, caller, (attributes) => this.authorizer.authorize(attributes));
      this.authorize(requestAttributes(req, url, info, user));
      if (url.pathname === '/metrics') {
        this.metrics.revision.set(this.storage.currentRevision());
        const ring = this.storage.ringStats();
        this.metrics.watchCacheEvents.set(ring.events);
        this.metrics.watchCacheBytes.set(ring.bytes);
        res.writeHead(200, { 'Content-Type': this.metrics.registry.contentType });
        res.end(await this.metrics.registry.metrics());
      } else if (info) {
        if (verb === 'watch') this.trackWatch(res, info.resource);
        await handleResource(req, res, url, info, {
          store: this.store,
          podLogs: podLogDirectory(join(this.options.dataDir, 'logs')),
          user,
          auth: this.authServices,
          tokens: this.serviceAccountTokens!,
        });
      } else {
        handleDocument(req, res, url, this.store.registry.all(), this.url, this.store.registry.generation);
      }
    } catch (err) {
      const known = statusOf(err);
      if (!known) this.options.log.error({ err, path: url.pathname }, 'request failed');
      sendStatusError(res, known ?? internalError((err as Error).message));
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

/** Kubernetes' Forbidden status: `pods "x" is forbidden: User "u" cannot get resource ...`. */
function forbiddenRequest(a: Attributes, reason: string): StatusError {
  const who = `User "${a.user.name}"`;
  if (!a.resourceRequest) return new StatusError(403, 'Forbidden', `forbidden: ${who} cannot ${a.verb} path "${a.path ?? ''}"`);
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : (a.resource ?? '');
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : (a.resource ?? '');
  const where = a.namespace ? ` in the namespace "${a.namespace}"` : ' at the cluster scope';
  const message = `${qualified}${a.name ? ` "${a.name}"` : ''} is forbidden: ${who} cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup ?? ''}"${where}`;
  const extra = reason && !reason.startsWith('User "') ? `: ${reason}` : '';
  return new StatusError(403, 'Forbidden', message + extra, { ...(a.name ? { name: a.name } : {}), group: a.apiGroup ?? '', kind: a.resource ?? '' });
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
  if (isGoTrue(url.searchParams.get('watch')) || url.pathname.includes('/watch/')) return 'watch';
  if (method === 'GET') return name ? 'get' : 'list';
  if (method === 'DELETE') return name ? 'delete' : 'deletecollection';
  return { POST: 'create', PUT: 'update', PATCH: 'patch' }[method] ?? method.toLowerCase();
}
