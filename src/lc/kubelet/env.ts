// A container's environment as the kubelet builds it: envFrom, then env in order (literal values
// with $(VAR) expansion, fieldRef, secretKeyRef, configMapKeyRef). Secrets and ConfigMaps are read
// through the API by the caller-supplied `lookup`.
import type { Container, Pod } from '../../api/workloads.ts';

/**
 * Data of a ConfigMap or (decoded) Secret, or undefined when it does not exist. The kubelet's
 * lookup also carries `serviceEnv`: the variables every container of a pod gets from the cluster's
 * Services (SEDNA_SERVICE_HOSTS and the service links), below whatever the pod spec sets.
 */
export type KeyLookup = ((kind: 'ConfigMap' | 'Secret', namespace: string, name: string) => Promise<Record<string, string> | undefined>) & {
  serviceEnv?: (pod: Pod) => Record<string, string>;
  /** The host directory a bound PersistentVolumeClaim gives a pod (undefined: missing or not bound yet). */
  claimPath?: (namespace: string, claimName: string) => Promise<string | undefined>;
};

/** A missing Secret/ConfigMap/key that is not optional: the container cannot start. */
export class ContainerConfigError extends Error {
  override readonly name = 'ContainerConfigError';
}

export async function containerEnv(pod: Pod, container: Container, lookup: KeyLookup, base: Record<string, string> = {}): Promise<Record<string, string>> {
  const namespace = pod.metadata.namespace ?? 'default';
  const env: Record<string, string> = { ...base, ...lookup.serviceEnv?.(pod) };
  const cache = new Map<string, Record<string, string> | undefined>();
  const get = async (kind: 'ConfigMap' | 'Secret', name: string): Promise<Record<string, string> | undefined> => {
    const key = `${kind}/${name}`;
    if (!cache.has(key)) cache.set(key, await lookup(kind, namespace, name));
    return cache.get(key);
  };

  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref) continue;
    const kind = from.configMapRef ? 'ConfigMap' : 'Secret';
    const data = await get(kind, ref.name);
    if (!data) {
      if (ref.optional) continue;
      throw new ContainerConfigError(`${kind.toLowerCase()} "${ref.name}" not found`);
    }
    for (const [k, v] of Object.entries(data)) env[(from.prefix ?? '') + k] = v;
  }

  for (const e of container.env ?? []) {
    if (e.valueFrom === undefined) {
      env[e.name] = expand(e.value ?? '', env);
      continue;
    }
    const { fieldRef, secretKeyRef, configMapKeyRef } = e.valueFrom;
    if (fieldRef) {
      env[e.name] = fieldValue(pod, fieldRef.fieldPath);
    } else if (secretKeyRef || configMapKeyRef) {
      const ref = (secretKeyRef ?? configMapKeyRef)!;
      const kind = secretKeyRef ? 'Secret' : 'ConfigMap';
      const data = await get(kind, ref.name);
      const value = data?.[ref.key];
      if (value === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(data ? `couldn't find key ${ref.key} in ${kind} ${namespace}/${ref.name}` : `${kind.toLowerCase()} "${ref.name}" not found`);
      }
      env[e.name] = value;
    }
  }
  return env;
}

/** The downward API fields the kubelet supports in env. */
export function fieldValue(pod: Pod, fieldPath: string): string {
  const meta = pod.metadata;
  const sub = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath) ?? /^metadata\.(labels|annotations)\["(.+)"\]$/.exec(fieldPath);
  if (sub) return (sub[1] === 'labels' ? meta.labels : meta.annotations)?.[sub[2]!] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
      return formatMap(meta.labels);
    case 'metadata.annotations':
      return formatMap(meta.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
    case 'status.hostIP':
      return '127.0.0.1';
    case 'status.podIPs':
    case 'status.hostIPs':
      return '127.0.0.1';
    default:
      throw new ContainerConfigError(`unsupported fieldPath ${fieldPath}`);
  }
}

/** key="value" lines, sorted, as the downward API renders a map. */
function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(map![k])}`)
    .join('\n');
}

/** Kubernetes $(VAR) expansion: $(VAR) → value if defined, $$ → $, unknown references kept. */
export function expand(input: string, env: Record<string, string>): string {
  return input.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    return name !== undefined && Object.hasOwn(env, name) ? env[name]! : match;
  });
}
