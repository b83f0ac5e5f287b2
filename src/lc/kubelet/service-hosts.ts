// What the embedded kubelet gives pods in place of cluster DNS: a hosts file mapping every
// Service's `<svc>.<ns>[.svc[.cluster.local]]` to its ClusterIP (the path is in each container's
// SEDNA_SERVICE_HOSTS; src/lib/net/lookup.ts reads it), and Kubernetes' service link variables
// `<SVC>_SERVICE_HOST`, `<SVC>_SERVICE_PORT`, `<SVC>_SERVICE_PORT_<NAME>`. Bare `<svc>` names are
// left out: one file serves every namespace, and a bare name means a different Service in each.
import { renameSync, writeFileSync } from 'node:fs';
import type { Pod, Service } from '../../api/workloads.ts';

export type { Service, ServicePort } from '../../api/workloads.ts';

export { SERVICE_HOSTS_ENV } from '../../lib/net/lookup.ts';
export const CLUSTER_DOMAIN = 'cluster.local';


/** The Service's virtual IP, or undefined for a headless or ExternalName Service. */
export function clusterIpOf(service: Service): string | undefined {
  const ip = service.spec?.clusterIP;
  return ip && ip !== 'None' && service.spec?.type !== 'ExternalName' ? ip : undefined;
}

/** /etc/hosts lines, one per Service with a ClusterIP, sorted so an unchanged set renders the same. */
export function renderServiceHosts(services: readonly Service[]): string {
  const lines = services
    .filter((svc) => clusterIpOf(svc) !== undefined)
    .map((svc) => {
      const fqdn = `${svc.metadata.name}.${svc.metadata.namespace ?? 'default'}`;
      return `${clusterIpOf(svc)} ${fqdn} ${fqdn}.svc ${fqdn}.svc.${CLUSTER_DOMAIN}`;
    })
    .sort();
  return `# Services of the embedded cluster, kept by the kubelet\n${lines.map((l) => `${l}\n`).join('')}`;
}

/** Temp file + rename: a reader sees the old file or the new one, never half of one. */
export function writeServiceHosts(path: string, services: readonly Service[]): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, renderServiceHosts(services));
  renameSync(temp, path);
}

function envName(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}

/**
 * The service link variables the kubelet sets (enableServiceLinks, default true) for the Services
 * of the pod's namespace, as they were when the container starts.
 */
export function serviceLinkEnv(pod: Pod, services: readonly Service[]): Record<string, string> {
  const spec = pod.spec as { enableServiceLinks?: boolean } | undefined;
  if (spec?.enableServiceLinks === false) return {};
  const namespace = pod.metadata.namespace ?? 'default';
  const env: Record<string, string> = {};
  for (const svc of services) {
    const ip = clusterIpOf(svc);
    const ports = svc.spec?.ports ?? [];
    if ((svc.metadata.namespace ?? 'default') !== namespace || ip === undefined || ports.length === 0) continue;
    const prefix = envName(svc.metadata.name ?? '');
    env[`${prefix}_SERVICE_HOST`] = ip;
    env[`${prefix}_SERVICE_PORT`] = String(ports[0]!.port);
    for (const port of ports) if (port.name) env[`${prefix}_SERVICE_PORT_${envName(port.name)}`] = String(port.port);
  }
  return env;
}
