// A CustomResourceDefinition becomes one ResourceDef per served version: its structural schema
// validates, defaults and prunes; its printer columns shape `kubectl get`; its subresources say
// which doors exist.
import type { CustomResourceDefinition, CustomResourceDefinitionVersion, JSONSchemaProps, KubeObject } from '../../api/meta.ts';
import type { FieldError } from '../errors.ts';
import { applyDefaults } from '../schema/defaults.ts';
import { pruneUnknownFields } from '../schema/prune.ts';
import { validateAgainstSchema } from '../schema/validate.ts';
import { makeStatusStrategy, makeStrategy } from './strategy.ts';
import type { ColumnSpec, ResourceDef } from './types.ts';
import { dnsSubdomainErrors, validateObjectMeta } from './validation.ts';

const CRD_VERBS = ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'];

/** Anything goes where a CRD version declares no schema (only legal with preserveUnknownFields). */
const OPEN_SCHEMA: JSONSchemaProps = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

export function resourcesFromCrd(crd: CustomResourceDefinition): ResourceDef[] {
  const storage = crd.spec.versions.find((v) => v.storage)?.name ?? crd.spec.versions[0]?.name ?? 'v1';
  return crd.spec.versions.filter((v) => v.served).map((v) => resourceForVersion(crd, v, storage));
}

function resourceForVersion(crd: CustomResourceDefinition, version: CustomResourceDefinitionVersion, storageVersion: string): ResourceDef {
  const { group, names, scope } = crd.spec;
  const namespaced = scope === 'Namespaced';
  const schema = version.schema?.openAPIV3Schema ?? OPEN_SCHEMA;
  const validate = (obj: KubeObject): FieldError[] => [
    // kube-apiserver names custom resources as DNS-1123 subdomains (NameIsDNSSubdomain).
    ...validateObjectMeta(obj, namespaced, dnsSubdomainErrors),
    ...validateAgainstSchema(obj, schema),
  ];
  const hasStatus = version.subresources?.status !== undefined;
  const scale = version.subresources?.scale;
  return {
    group,
    version: version.name,
    kind: names.kind,
    listKind: names.listKind ?? `${names.kind}List`,
    plural: names.plural,
    singular: names.singular ?? names.kind.toLowerCase(),
    shortNames: names.shortNames ?? [],
    categories: names.categories ?? [],
    namespaced,
    verbs: CRD_VERBS,
    subresources: { status: hasStatus, ...(scale ? { scale } : {}) },
    strategy: makeStrategy({ statusSubresource: hasStatus, generationFrom: 'all', validate }),
    ...(hasStatus ? { statusStrategy: makeStatusStrategy(validate) } : {}),
    selectableFields: () => ({}),
    columns: columnsOf(version),
    schema,
    normalize: (obj) => {
      const pruned = crd.spec.preserveUnknownFields ? [] : pruneUnknownFields(obj, schema);
      applyDefaults(obj, schema);
      return pruned;
    },
    source: 'crd',
    storageVersion,
  };
}

function columnsOf(version: CustomResourceDefinitionVersion): ColumnSpec[] {
  return (version.additionalPrinterColumns ?? []).map((c) => ({
    name: c.name,
    type: c.type,
    ...(c.format ? { format: c.format } : {}),
    ...(c.description ? { description: c.description } : {}),
    priority: c.priority ?? 0,
    jsonPath: c.jsonPath,
  }));
}
