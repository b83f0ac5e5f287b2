// The GlobalManager process (spec §2.1–2.2). Every GM serves /metrics at once, then campaigns for
// the `sedna-gm` Lease. Only the leader runs anything that acts: the informers, the feature
// controllers, the upstream dispatch and the edge hub. A standby keeps the hub's port closed, so
// nodes keep dialling (and, pointed at a Service or several addresses, reach the leader) rather
// than talk to a GM whose view may be stale; two GMs never write the same status or send the
// same node conflicting states. Leadership is never given back in-process: when it is lost the GM
// exits non-zero and its supervisor restarts it as a fresh standby, as kube controllers do.
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { SEDNA_API_VERSION } from '../api/sedna/index.ts';
import {
  type ControllerMetrics,
  EventRecorder,
  LeaderElector,
  prometheusControllerMetrics,
  realClock,
  resourcePath,
  RestKubeClient,
  SharedInformerFactory,
} from '../controller/index.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import type { GmConfig } from './config.ts';
import { credentialInjector, type Secret } from './credentials.ts';
import { DownstreamSync } from './downstream.ts';
import { EdgeHub, FileNodeTokens, type NodeAuthenticator, type NodeTokenSource } from '../edgelink/index.ts';
import type { FeatureContext, FeatureController, FeatureRegistration } from './feature.ts';
import { MetricsServer } from '../lib/net/metrics-server.ts';
import { SecretNodeTokens } from './secret-tokens.ts';
import { ServiceAccountNodes } from './service-account-nodes.ts';
import { StatusWriter } from './status.ts';
import { Upstream } from './upstream.ts';

export const GM_LEASE_NAME = 'sedna-gm';

export interface GlobalManagerOptions {
  config: GmConfig;
  /** Unique per GM process (default: hostname_pid). */
  identity: string;
  /** Where the `sedna-gm` Lease lives. */
  leaseNamespace: string;
  leaseDurationSeconds?: number;
  /** Bearer token for /metrics (default: the kubeconfig user's token). */
  metricsToken?: string;
  /** Default: from config.websocket.nodeTokens. */
  nodeTokens?: NodeTokenSource | NodeAuthenticator;
  /** The features to run; the caller chooses them (`sedna gm` passes the registry's). */
  features: FeatureRegistration[];
  /** Lines for whoever started the GM (ports chosen, leadership); default stdout. */
  announce?: (line: string) => void;
  /** Leadership was lost (not given up by stop()); default: exit 1. */
  onLostLeadership?: () => void;
  logger?: Logger;
}

export class GlobalManager {
  readonly registry = new Registry();
  readonly kc: k8s.KubeConfig;
  private readonly logger: Logger;
  private readonly announce: (line: string) => void;
  private readonly elector: LeaderElector;
  private readonly controllerMetrics: ControllerMetrics;
  private readonly leaderGauge: Gauge;
  private metricsServer: MetricsServer | undefined;
  private hub: EdgeHub | undefined;
  private informers: SharedInformerFactory | undefined;
  private downstream: DownstreamSync | undefined;
  private controllers: FeatureController[] = [];
  private stopping = false;
  private campaign: Promise<void> | undefined;

  constructor(private readonly options: GlobalManagerOptions) {
    this.logger = options.logger ?? createLogger('gm');
    this.announce = options.announce ?? ((line) => process.stdout.write(`${line}\n`));
    this.kc = kubeConfigFor(options.config);
    collectDefaultMetrics({ register: this.registry });
    this.controllerMetrics = prometheusControllerMetrics(this.registry);
    this.leaderGauge = new Gauge({ name: 'sedna_gm_leader', help: '1 while this GM holds the sedna-gm Lease.', registers: [this.registry] });
    this.elector = new LeaderElector(this.kc, {
      namespace: options.leaseNamespace,
      name: GM_LEASE_NAME,
      identity: options.identity,
      leaseDurationSeconds: options.leaseDurationSeconds ?? 10,
      renewDeadlineMs: Math.round((options.leaseDurationSeconds ?? 10) * 700),
      retryPeriodMs: 1_000,
      logger: this.logger,
    });
  }

  /** Serves /metrics, then campaigns; resolves once campaigning (not once leading). */
  async start(): Promise<void> {
    let token = this.options.metricsToken ?? this.kc.getCurrentUser()?.token ?? '';
    if (token === '') {
      // The listener still serves /healthz and /readyz for the kubelet's probes; with a token no
      // one knows, /metrics refuses every scrape.
      this.logger.warn('no metrics token (--metrics-token-file, SEDNA_GM_METRICS_TOKEN or a kubeconfig token): /metrics refuses every scrape');
      token = randomBytes(32).toString('hex');
    }
    this.metricsServer = new MetricsServer(this.registry, token, () => this.readiness());
    const { address, port } = this.options.config.metrics;
    const bound = await this.metricsServer.start(port, address);
    this.announce(`metrics listening on http://${address}:${bound}/metrics`);
    this.announce(`waiting for leadership (lease ${this.options.leaseNamespace}/${GM_LEASE_NAME}) as ${this.options.identity}`);
    this.campaign = this.elector.run({
      onStartedLeading: (signal) =>
        this.lead(signal).catch((err: unknown) => {
          // A leader that cannot run its controllers must not sit on the Lease.
          this.logger.error({ err }, 'could not start leading; exiting');
          (this.options.onLostLeadership ?? (() => process.exit(1)))();
        }),
      onStoppedLeading: () => this.lostLeadership(),
      onNewLeader: (identity) => this.logger.info({ leader: identity }, 'leader observed'),
    });
  }

  /** Stops everything; a leader releases the Lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.elector.release();
    await this.campaign;
    await this.stopLeading();
    await this.metricsServer?.stop();
  }

  /** /readyz: a standby is alive but not ready, so the gm Service sends the nodes to the leader only. */
  private readiness(): { ready: true } | { ready: false; reason: string } {
    if (this.hub?.port) return { ready: true };
    return { ready: false, reason: 'not leading (standby), or the edge hub is not listening yet' };
  }

  get edgePort(): number {
    return this.hub?.port ?? 0;
  }

  private async lead(signal: AbortSignal): Promise<void> {
    this.leaderGauge.set(1);
    this.announce(`leading as ${this.options.identity}`);
    const { config } = this.options;
    const min = config.minResyncPeriodSeconds * 1000;
    const informers = new SharedInformerFactory(this.kc, { resyncPeriodMs: min + randomInt(min), logger: this.logger });
    this.informers = informers;
    const hub = new EdgeHub({
      tokens: this.options.nodeTokens ?? this.nodeTokenSource(),
      address: config.websocket.address,
      port: config.websocket.port,
      ...(config.websocket.tls ? { tls: { cert: readFileSync(config.websocket.tls.certFile), key: readFileSync(config.websocket.tls.keyFile) } } : {}),
      heartbeat: { intervalMs: config.websocket.heartbeat.intervalSeconds * 1000, timeoutMs: config.websocket.heartbeat.timeoutSeconds * 1000 },
      registry: this.registry,
      logger: this.logger.child({ component: 'edge-hub' }),
    });
    this.hub = hub;
    const secrets = informers.informerFor<Secret>({ path: resourcePath({ apiVersion: 'v1', plural: 'secrets', namespace: config.namespace || undefined }) });
    const withCredential = credentialInjector(secrets.lister, (obj, secret) =>
      this.logger.warn({ namespace: obj.metadata.namespace, name: obj.metadata.name, secret }, 'credential Secret not found; sending without sedna.io/credential'),
    );
    const downstream = new DownstreamSync(hub, this.logger.child({ component: 'downstream' }), withCredential);
    this.downstream = downstream;
    const client = new RestKubeClient(this.kc);
    const clock = realClock;
    const ctx: FeatureContext = {
      client,
      clock,
      config,
      informers,
      pathFor: (plural) => resourcePath({ apiVersion: SEDNA_API_VERSION, plural, namespace: config.namespace || undefined }),
      downstream,
      status: new StatusWriter(client, { clock }),
      events: new EventRecorder(client, { component: 'sedna-gm', logger: this.logger, clock }),
      metrics: this.controllerMetrics,
      logger: this.logger,
    };
    // Spec §2.2 order: upstream, then each feature's controller (registering its informers), then
    // the informers, and the edge hub last, once the caches can answer a node's full resend.
    const upstream = new Upstream(ctx, this.logger.child({ component: 'upstream' }));
    const { features } = this.options;
    for (const feature of features) upstream.register(feature);
    upstream.attach(hub);
    this.controllers = features.flatMap((feature) => (feature.createController ? [feature.createController(ctx)] : []));
    informers.start();
    await Promise.all(this.controllers.map((controller) => controller.start(signal)));
    if (!(await informers.waitForCacheSync(signal))) return;
    const port = await hub.start();
    this.announce(`edge hub listening on ${config.websocket.tls ? 'wss' : 'ws'}://${config.websocket.address}:${port}`);
  }

  private lostLeadership(): void {
    this.leaderGauge.set(0);
    if (this.stopping) return;
    this.logger.error('lost the sedna-gm lease; exiting so a supervisor restarts this GM as a standby');
    (this.options.onLostLeadership ?? (() => process.exit(1)))();
  }

  private async stopLeading(): Promise<void> {
    await this.hub?.stop();
    await Promise.all(this.controllers.map((controller) => controller.stop()));
    this.downstream?.close();
    await this.informers?.stop();
  }

  private nodeTokenSource(): NodeTokenSource | NodeAuthenticator {
    const source = this.options.config.websocket.nodeTokens;
    if (source.kind === 'serviceAccount') return new ServiceAccountNodes(this.kc, source);
    return source.kind === 'file' ? new FileNodeTokens(source.path) : new SecretNodeTokens(this.kc, source.namespace, source.name);
  }
}

/** kubeConfig file, else in-cluster; `master` overrides the server either way (spec §2.1). */
export function kubeConfigFor(config: GmConfig): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (config.kubeConfig !== '') kc.loadFromFile(config.kubeConfig);
  else if (config.master !== '') kc.loadFromClusterAndUser({ name: 'master', server: config.master, skipTLSVerify: false }, { name: 'default' });
  else kc.loadFromCluster();
  if (config.master !== '' && config.kubeConfig !== '') {
    const current = kc.getCurrentCluster();
    if (current) kc.clusters = kc.clusters.map((cluster) => (cluster.name === current.name ? { ...cluster, server: config.master } : cluster));
  }
  return kc;
}
