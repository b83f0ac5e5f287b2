// The /scale subresource: an autoscaling/v1 Scale view of a workload's replicas, which `kubectl
// scale` and autoscalers read and write.
import type { KubeObject } from '../../api/meta.ts';
import { badRequest, methodNotAllowed } from '../errors.ts';
import { evalJsonPath } from '../jsonpath.ts';
import type { ScaleSubresource } from '../registry/types.ts';
import { formatLabelSelector } from '../../api/selectors/labels.ts';
import { mediaType, parseBody, readBody } from './body.ts';
import { sendJson } from './respond.ts';
import { patchFunction } from './patch-function.ts';
import type { ResourceCall } from './call.ts';
import { fieldManagerOf, trackUpdate } from '../ssa/managed-fields.ts';

interface Scale {
  apiVersion: 'autoscaling/v1';
  kind: 'Scale';
  metadata: KubeObject['metadata'];
  spec: { replicas: number };
  status: { replicas: number; selector?: string };
}

export async function handleScale({ req, res, query: q, def, namespace, store, user }: ResourceCall, name: string): Promise<void> {
  const scale = def.subresources.scale!;
  const method = req.method ?? 'GET';
  if (method === 'GET') return sendJson(res, 200, toScale(store.get(def, namespace, name), scale));
  if (method !== 'PUT' && method !== 'PATCH') throw methodNotAllowed(method, `${def.plural}/scale`);
  const type = mediaType(req);
  const body = parseBody(await readBody(req), type);
  const dryRun = q.getAll('dryRun').includes('All');
  const updated = store.guaranteedUpdate(
    def,
    namespace,
    name,
    (current) => {
      const currentScale = toScale(current, scale);
      const next = (method === 'PUT' ? body : patchFunction(type, def)(currentScale, body)) as Partial<Scale>;
      const replicas = next?.spec?.replicas;
      if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0 || replicas > 2 ** 31 - 1) {
        throw badRequest(`Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be an integer from 0 to 2147483647`);
      }
      const wanted = next.metadata?.resourceVersion;
      setPath(current, scale.specReplicasPath, replicas);
      if (method === 'PUT' && wanted) current.metadata.resourceVersion = wanted;
      return current;
    },
    // The replicas a scale writes belong to its manager (kubectl scale: "kubectl"), as upstream records.
    { dryRun, ...(user ? { user } : {}), track: (old, obj) => trackUpdate(def, old, obj, fieldManagerOf(req, q), 'scale') },
  );
  sendJson(res, 200, toScale(updated, scale));
}

function toScale(obj: KubeObject, scale: ScaleSubresource): Scale {
  const specReplicas = evalJsonPath(obj, scale.specReplicasPath)[0];
  const statusReplicas = evalJsonPath(obj, scale.statusReplicasPath)[0];
  const selector = scale.labelSelectorPath ? evalJsonPath(obj, scale.labelSelectorPath)[0] : undefined;
  const spec = (obj.spec ?? {}) as { selector?: unknown };
  const selectorText =
    typeof selector === 'string' ? selector : spec.selector && typeof spec.selector === 'object' ? formatLabelSelector(spec.selector) : undefined;
  const { name, namespace, uid, resourceVersion, creationTimestamp } = obj.metadata;
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: typeof specReplicas === 'number' ? specReplicas : 0 },
    status: { replicas: typeof statusReplicas === 'number' ? statusReplicas : 0, ...(selectorText ? { selector: selectorText } : {}) },
  };
}

/** Writes a value at a simple `.a.b.c` path, creating objects on the way. */
function setPath(obj: KubeObject, path: string, value: unknown): void {
  const parts = path.replace(/^\./, '').split('.');
  let at = obj as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) {
    if (typeof at[part] !== 'object' || at[part] === null) at[part] = {};
    at = at[part] as Record<string, unknown>;
  }
  at[parts[parts.length - 1]!] = value;
}
