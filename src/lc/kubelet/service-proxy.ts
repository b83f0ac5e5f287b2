// The embedded kube-proxy. Every pod of the embedded default is a process on 127.0.0.1 whose
// containerPorts are mapped to host ports (ports.ts), so a Service cannot be iptables rules to pod
// IPs; instead this listens on `<clusterIP>:<port>` for every TCP port of every ClusterIP Service
// (the service range is on loopback, so no privileges are needed) and pipes each connection to one
// ready endpoint, round robin. No endpoint → the connection is reset at once, like kube-proxy's
// REJECT rule. One proxy serves every node of one machine.
import { createServer, type Server, type Socket, connect } from 'node:net';
import type * as k8s from '@kubernetes/client-node';
import { SharedInformer } from '../../controller/informer.ts';
import { keyOf } from '../../controller/store.ts';
import { type Logger, silentLogger } from '../../lib/logger.ts';
import { HOST_PORTS_ANNOTATION } from './ports.ts';
import { clusterIpOf, type Service, type ServicePort } from './service-hosts.ts';
import type { Pod } from '../../api/workloads.ts';

export interface ServiceProxyOptions {
  kubeConfig: k8s.KubeConfig;
  logger?: Logger;
}

/** One bound `<clusterIP>:<port>`; its Service and port spec follow updates of the Service. */
interface Listener {
  address: string;
  server: Server;
  service: Service;
  port: ServicePort;
  next: number;
}

/** A ready pod's address for one Service port. */
export interface Endpoint {
  pod: string;
  port: number;
}

export function isPodReady(pod: Pod): boolean {
  return !pod.metadata.deletionTimestamp && pod.status?.phase === 'Running' && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function hostPortsOf(pod: Pod): Record<string, number> {
  try {
    return JSON.parse(pod.metadata.annotations?.[HOST_PORTS_ANNOTATION] ?? '{}') as Record<string, number>;
  } catch {
    return {};
  }
}

/**
 * Where a pod serves `targetPort` (a number, or a containerPort's name; default the Service port):
 * the host port the kubelet gave that containerPort, else the containerPort itself (a pod that did
 * not declare it listens there); undefined for a name the pod does not declare.
 */
export function endpointPort(pod: Pod, port: ServicePort): number | undefined {
  const target = port.targetPort ?? port.port;
  const hostPorts = hostPortsOf(pod);
  for (const container of pod.spec?.containers ?? []) {
    for (const declared of container.ports ?? []) {
      const matches = typeof target === 'string' ? declared.name === target : declared.containerPort === target;
      if (!matches || (declared.protocol ?? 'TCP') !== (port.protocol ?? 'TCP')) continue;
      return hostPorts[`${container.name}/${declared.containerPort}`] ?? declared.containerPort;
    }
  }
  if (typeof target === 'number') return target;
  return /^\d+$/.test(target) ? Number(target) : undefined;
}

/** The ready endpoints of one Service port, in a stable order for round robin. */
export function endpointsFor(service: Service, port: ServicePort, pods: readonly Pod[]): Endpoint[] {
  const selector = service.spec?.selector;
  if (!selector || Object.keys(selector).length === 0) return [];
  const namespace = service.metadata.namespace ?? 'default';
  return pods
    .filter((pod) => (pod.metadata.namespace ?? 'default') === namespace && isPodReady(pod))
    .filter((pod) => Object.entries(selector).every(([k, v]) => pod.metadata.labels?.[k] === v))
    .map((pod) => ({ pod: keyOf(pod), port: endpointPort(pod, port) }))
    .filter((e): e is Endpoint => e.port !== undefined)
    .sort((a, b) => a.pod.localeCompare(b.pod));
}

export class ServiceProxy {
  private readonly logger: Logger;
  private readonly services: SharedInformer<Service>;
  private readonly pods: SharedInformer<Pod>;
  private readonly listeners = new Map<string, Listener>();
  private readonly sockets = new Set<Socket>();
  private reconcileTimer: NodeJS.Immediate | undefined;
  private reconciling: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(options: ServiceProxyOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'service-proxy' });
    this.services = new SharedInformer<Service>(options.kubeConfig, { path: '/api/v1/services', logger: this.logger });
    this.pods = new SharedInformer<Pod>(options.kubeConfig, { path: '/api/v1/pods', logger: this.logger });
  }

  /** Resolves once both caches are synced and the Services that existed then are bound. */
  async start(): Promise<void> {
    const changed = (): void => this.scheduleReconcile();
    this.services.onAdd(changed);
    this.services.onUpdate(changed);
    this.services.onDelete(changed);
    this.services.start();
    this.pods.start();
    await Promise.all([this.services.waitForSync(), this.pods.waitForSync()]);
    this.scheduleReconcile();
    await this.settled();
    this.logger.info({ listeners: this.listeners.size }, 'service proxy started');
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearImmediate(this.reconcileTimer);
    await Promise.all([this.services.stop(), this.pods.stop()]);
    await this.reconciling;
    for (const socket of this.sockets) socket.destroy();
    await Promise.all([...this.listeners.values()].map((l) => closeServer(l.server)));
    this.listeners.clear();
  }

  /** The `<ip>:<port>` addresses being served (diagnostics and tests). */
  addresses(): string[] {
    return [...this.listeners.keys()].sort();
  }

  /** Waits for the bind/unbind work already scheduled. */
  async settled(): Promise<void> {
    while (this.reconcileTimer) await new Promise((r) => setImmediate(r));
    await this.reconciling;
  }

  private scheduleReconcile(): void {
    if (this.stopped) return;
    this.reconcileTimer ??= setImmediate(() => {
      this.reconcileTimer = undefined;
      this.reconciling = this.reconciling.then(() => this.reconcile());
    });
  }

  /** Binds what the Services want and is not bound, closes what no Service wants any more. */
  private async reconcile(): Promise<void> {
    if (this.stopped) return;
    const wanted = new Map<string, { service: Service; port: ServicePort }>();
    for (const service of this.services.lister.list()) {
      const ip = clusterIpOf(service);
      if (ip === undefined) continue;
      for (const port of service.spec?.ports ?? []) {
        if ((port.protocol ?? 'TCP') === 'TCP') wanted.set(`${ip}:${port.port}`, { service, port });
      }
    }
    for (const [address, listener] of this.listeners) {
      if (wanted.has(address)) continue;
      this.listeners.delete(address);
      await closeServer(listener.server);
      this.logger.info({ address, service: keyOf(listener.service) }, 'stopped proxying');
    }
    for (const [address, { service, port }] of wanted) {
      const existing = this.listeners.get(address);
      if (existing) {
        existing.service = service;
        existing.port = port;
      } else if (!this.stopped) {
        await this.bind(address, service, port);
      }
    }
  }

  private async bind(address: string, service: Service, port: ServicePort): Promise<void> {
    const server = createServer({ allowHalfOpen: true });
    const listener: Listener = { address, server, service, port, next: 0 };
    server.on('connection', (client) => this.accept(listener, client));
    const ip = address.slice(0, address.lastIndexOf(':'));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port.port, ip, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      // e.g. a ClusterIP outside loopback: nothing to serve, but the other Services still work.
      this.logger.warn({ err, address, service: keyOf(service) }, 'could not listen for a service');
      return;
    }
    server.on('error', (err) => this.logger.warn({ err, address }, 'service listener failed'));
    this.listeners.set(address, listener);
    this.logger.info({ address, service: keyOf(service) }, 'proxying');
  }

  private accept(listener: Listener, client: Socket): void {
    this.track(client);
    client.on('error', () => undefined); // a peer's reset; the close that follows untracks it
    const endpoints = endpointsFor(listener.service, listener.port, this.pods.lister.list(listener.service.metadata.namespace ?? 'default'));
    if (endpoints.length === 0) {
      this.logger.debug({ address: listener.address, service: keyOf(listener.service) }, 'no ready endpoint; connection reset');
      client.resetAndDestroy();
      return;
    }
    const endpoint = endpoints[listener.next++ % endpoints.length]!;
    const upstream = connect({ host: '127.0.0.1', port: endpoint.port, allowHalfOpen: true });
    this.track(upstream);
    // Either side failing takes the other down with a reset, so the peer sees the failure.
    client.on('error', () => upstream.resetAndDestroy());
    upstream.on('close', (hadError) => {
      if (hadError) client.resetAndDestroy();
    });
    upstream.on('error', (err) => {
      this.logger.debug({ err, address: listener.address, endpoint }, 'endpoint connection failed');
      client.resetAndDestroy();
    });
    // pipe() carries each direction's end over on its own (half-close).
    client.pipe(upstream);
    upstream.pipe(client);
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
