// The core/v1 Service rules: defaults, validation, and the ClusterIP lifecycle of kube-apiserver's
// service REST storage — allocated on create from the service range unless given (or "None",
// headless), checked against the range and the other Services when given, carried over when an
// update omits it, and immutable after that.
import type { KubeObject } from '../../api/meta.ts';
import { type FieldError, FieldErrors, internalError } from '../errors.ts';
import { type ClusterIpAllocator, RangeFullError } from './cluster-ip.ts';

const TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function ownerOf(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}

/** Types that get a virtual IP (ExternalName is a DNS alias only). */
function wantsClusterIp(spec: Record<string, unknown>): boolean {
  return (spec.type ?? 'ClusterIP') !== 'ExternalName';
}

/** "" and absent both ask the server to pick one. */
function requestedClusterIp(spec: Record<string, unknown>): string | undefined {
  const ip = spec.clusterIP;
  return typeof ip === 'string' && ip !== '' ? ip : undefined;
}

export interface ServiceRules {
  defaultOnCreate: (obj: KubeObject) => void;
  keepOnUpdate: (obj: KubeObject, old: KubeObject) => void;
  validate: (obj: KubeObject) => FieldError[];
  validateUpdate: (obj: KubeObject, old: KubeObject) => FieldError[];
}

export function serviceRules(clusterIPs: ClusterIpAllocator): ServiceRules {
  const assign = (spec: Record<string, unknown>): void => {
    if (!wantsClusterIp(spec)) return;
    const requested = requestedClusterIp(spec);
    if (requested !== undefined) {
      spec.clusterIPs ??= [requested];
      return;
    }
    try {
      const ip = clusterIPs.allocate();
      spec.clusterIP = ip;
      spec.clusterIPs = [ip];
    } catch (err) {
      if (err instanceof RangeFullError) throw internalError(`failed to allocate a serviceIP: ${err.message}`);
      throw err;
    }
  };
  return {
    defaultOnCreate(obj) {
      defaultServiceSpec(obj);
      assign(record(obj.spec));
    },
    keepOnUpdate(obj, old) {
      const spec = record(obj.spec);
      const oldSpec = record(old.spec);
      if (obj.spec !== spec) obj.spec = spec;
      defaultServiceSpec(obj);
      if (requestedClusterIp(spec) === undefined && requestedClusterIp(oldSpec) !== undefined && wantsClusterIp(spec)) {
        spec.clusterIP = oldSpec.clusterIP;
        spec.clusterIPs = oldSpec.clusterIPs ?? [oldSpec.clusterIP];
        return;
      }
      // ExternalName → ClusterIP: the Service gets its first address now.
      if (requestedClusterIp(oldSpec) === undefined) assign(spec);
    },
    validate(obj) {
      return [...validateServiceSpec(obj), ...validateClusterIp(obj, clusterIPs)];
    },
    validateUpdate(obj, old) {
      const ip = record(obj.spec).clusterIP;
      const oldIp = record(old.spec).clusterIP;
      if (typeof oldIp !== 'string' || oldIp === '' || ip === oldIp) return [];
      // Switching to ExternalName releases the address, as in Kubernetes.
      if (!wantsClusterIp(record(obj.spec)) && (ip === undefined || ip === '')) return [];
      return [FieldErrors.invalid('spec.clusterIP', ip ?? '', 'field is immutable')];
    },
  };
}

function validateClusterIp(obj: KubeObject, clusterIPs: ClusterIpAllocator): FieldError[] {
  const spec = record(obj.spec);
  const ip = requestedClusterIp(spec);
  if (ip === undefined || ip === 'None') return [];
  if (!wantsClusterIp(spec)) return [FieldErrors.invalid('spec.clusterIP', ip, 'may not be set for ExternalName services')];
  if (!clusterIPs.contains(ip)) {
    return [FieldErrors.invalid('spec.clusterIP', ip, `failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${clusterIPs.range.cidr}`)];
  }
  if (clusterIPs.holder(ip, ownerOf(obj)) !== undefined) {
    return [FieldErrors.invalid('spec.clusterIP', ip, `failed to allocate IP ${ip}: provided IP is already allocated`)];
  }
  const ips = spec.clusterIPs;
  if (Array.isArray(ips) && ips.length > 0 && ips[0] !== ip) {
    return [FieldErrors.invalid('spec.clusterIPs[0]', ips[0], 'must match `spec.clusterIP`')];
  }
  return [];
}

export function defaultServiceSpec(obj: KubeObject): void {
  const spec = record(obj.spec);
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  for (const port of Array.isArray(spec.ports) ? spec.ports : []) {
    const p = record(port);
    p.protocol ??= 'TCP';
    p.targetPort ??= p.port;
  }
}

export function validateServiceSpec(obj: KubeObject): FieldError[] {
  const spec = record(obj.spec);
  const errors: FieldError[] = [];
  const type = spec.type ?? 'ClusterIP';
  if (typeof type !== 'string' || !TYPES.includes(type)) errors.push(FieldErrors.notSupported('spec.type', type, TYPES));
  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  if (type !== 'ExternalName' && spec.clusterIP !== 'None' && ports.length === 0) errors.push(FieldErrors.required('spec.ports'));
  ports.forEach((p, i) => {
    const port = record(p).port;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      errors.push(FieldErrors.invalid(`spec.ports[${i}].port`, port ?? 0, 'must be between 1 and 65535, inclusive'));
    }
  });
  return errors;
}
