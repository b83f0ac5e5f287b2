// Strategic-merge-patch metadata of the built-in kinds, transcribed from the patchStrategy and
// patchMergeKey struct tags of k8s.io/api (and apimachinery's ObjectMeta). Lists not listed here
// carry no tags upstream (they are atomic: a patch replaces them), e.g. Container.resizePolicy,
// ServiceAccount.imagePullSecrets, CustomResourceDefinition spec.versions and status.conditions.
import type { PatchSchema, PatchStrategy } from './strategic-merge.ts';

function mergeBy(mergeKey: string, items?: PatchSchema, strategy: PatchStrategy = 'merge'): PatchSchema {
  return items ? { strategy, mergeKey, items } : { strategy, mergeKey };
}

const mergePrimitives: PatchSchema = { strategy: 'merge' };

const objectMeta: PatchSchema = {
  fields: {
    finalizers: mergePrimitives,
    ownerReferences: mergeBy('uid'),
  },
};

/** Every `conditions` list that has tags merges by `type`. */
const conditions = mergeBy('type');

/** Container and EphemeralContainer share these tags. */
const container: PatchSchema = {
  fields: {
    ports: mergeBy('containerPort'),
    env: mergeBy('name'),
    volumeMounts: mergeBy('mountPath'),
    volumeDevices: mergeBy('devicePath'),
  },
};

const podSpec: PatchSchema = {
  fields: {
    volumes: mergeBy('name', undefined, 'merge,retainKeys'),
    initContainers: mergeBy('name', container),
    containers: mergeBy('name', container),
    ephemeralContainers: mergeBy('name', container),
    imagePullSecrets: mergeBy('name'),
    hostAliases: mergeBy('ip'),
    topologySpreadConstraints: mergeBy('topologyKey'),
    schedulingGates: mergeBy('name'),
    resourceClaims: mergeBy('name', undefined, 'merge,retainKeys'),
  },
};

const podStatus: PatchSchema = {
  fields: {
    conditions,
    podIPs: mergeBy('ip'),
    hostIPs: mergeBy('ip'),
    resourceClaimStatuses: mergeBy('name', undefined, 'merge,retainKeys'),
  },
};

const podTemplateSpec: PatchSchema = { fields: { metadata: objectMeta, spec: podSpec } };

const statusWithConditions: PatchSchema = { fields: { conditions } };

/** A top-level kind: ObjectMeta plus whatever its spec and status need. */
function kind(spec?: PatchSchema, status?: PatchSchema): PatchSchema {
  const fields: Record<string, PatchSchema> = { metadata: objectMeta };
  if (spec) fields['spec'] = spec;
  if (status) fields['status'] = status;
  return { fields };
}

/** Schemas are shared between kinds; freezing keeps one caller's mistake from changing all of them. */
function deepFreeze(schema: PatchSchema): PatchSchema {
  for (const child of Object.values(schema.fields ?? {})) deepFreeze(child);
  if (schema.items) deepFreeze(schema.items);
  if (schema.values) deepFreeze(schema.values);
  if (schema.fields) Object.freeze(schema.fields);
  return Object.freeze(schema);
}

/** Keyed "<group>/<Kind>"; the core group is empty ("/Pod"). */
export const builtinPatchSchemas: Record<string, PatchSchema> = Object.freeze({
  '/Pod': kind(podSpec, podStatus),
  '/Node': kind(
    { fields: { podCIDRs: mergePrimitives } },
    { fields: { conditions, addresses: mergeBy('type') } },
  ),
  '/Namespace': kind(undefined, statusWithConditions),
  '/Service': kind({ fields: { ports: mergeBy('port') } }, statusWithConditions),
  '/Secret': kind(),
  '/ConfigMap': kind(),
  '/Event': kind(),
  '/ServiceAccount': { fields: { metadata: objectMeta, secrets: mergeBy('name') } },
  'apps/Deployment': kind(
    { fields: { strategy: { strategy: 'retainKeys' }, template: podTemplateSpec } },
    statusWithConditions,
  ),
  'apps/ReplicaSet': kind({ fields: { template: podTemplateSpec } }, statusWithConditions),
  'autoscaling/HorizontalPodAutoscaler': kind(undefined, statusWithConditions),
  'coordination.k8s.io/Lease': kind(),
  'apiextensions.k8s.io/CustomResourceDefinition': kind(),
});

for (const schema of Object.values(builtinPatchSchemas)) deepFreeze(schema);
