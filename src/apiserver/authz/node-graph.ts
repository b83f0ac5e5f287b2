// Which Secrets, ConfigMaps and PersistentVolumeClaims a pod refers to: the edges of the graph
// Kubernetes' Node authorizer keeps, read here from the pods bound to the node when asked.
import type { KubeObject } from '../../api/meta.ts';

export type ReferencedKind = 'secrets' | 'configmaps' | 'persistentvolumeclaims';

function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null) : [];
}

function rec(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function name(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Every (kind, name) the pod needs to run: volumes, env, envFrom, image pull secrets. */
export function podReferences(pod: KubeObject): Set<string> {
  const refs = new Set<string>();
  const add = (kind: ReferencedKind, n: unknown): void => {
    const v = name(n);
    if (v) refs.add(`${kind}/${v}`);
  };
  const spec = rec(pod.spec);
  for (const s of records(spec.imagePullSecrets)) add('secrets', s.name);
  for (const volume of records(spec.volumes)) {
    add('secrets', rec(volume.secret).secretName);
    add('configmaps', rec(volume.configMap).name);
    add('persistentvolumeclaims', rec(volume.persistentVolumeClaim).claimName);
    for (const source of records(rec(volume.projected).sources)) {
      add('secrets', rec(source.secret).name);
      add('configmaps', rec(source.configMap).name);
    }
  }
  for (const container of [...records(spec.containers), ...records(spec.initContainers), ...records(spec.ephemeralContainers)]) {
    for (const env of records(container.env)) {
      const from = rec(env.valueFrom);
      add('secrets', rec(from.secretKeyRef).name);
      add('configmaps', rec(from.configMapKeyRef).name);
    }
    for (const from of records(container.envFrom)) {
      add('secrets', rec(from.secretRef).name);
      add('configmaps', rec(from.configMapRef).name);
    }
  }
  return refs;
}
