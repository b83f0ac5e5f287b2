// How server-side apply sees a kind's shape (structured-merge-diff's schema): which lists are
// associative (items identified by key fields), which are sets of scalars, which are atomic, and
// which maps are atomic. Built-in kinds take it from the strategic-merge-patch tags the server
// already knows (patchMergeKey → associative, patchStrategy merge without a key → set); custom
// resources from x-kubernetes-list-type / -list-map-keys / -map-type in their structural schema,
// where lists default to atomic, as for any CRD.
import type { JSONSchemaProps } from '../../api/meta.ts';
import type { PatchSchema } from '../patch/strategic-merge.ts';
import type { ResourceDef } from '../registry/types.ts';

export interface ApplySchema {
  /** How a list at this position merges; undefined for non-lists and atomic by default. */
  listType(): 'atomic' | 'set' | 'map';
  listKeys(): string[];
  /** A map replaced as a whole (x-kubernetes-map-type: atomic). */
  atomicMap(): boolean;
  field(name: string): ApplySchema;
  items(): ApplySchema;
}

const EMPTY_PATCH: PatchSchema = {};

function fromPatchSchema(schema: PatchSchema | undefined): ApplySchema {
  const s = schema ?? EMPTY_PATCH;
  return {
    listType: () => (s.mergeKey ? 'map' : s.strategy?.includes('merge') ? 'set' : 'atomic'),
    listKeys: () => (s.mergeKey ? [s.mergeKey] : []),
    atomicMap: () => s.strategy === 'replace',
    field: (name) => fromPatchSchema(s.fields?.[name] ?? (s.values)),
    items: () => fromPatchSchema(s.items),
  };
}

function fromJsonSchema(schema: JSONSchemaProps | undefined): ApplySchema {
  const s = schema ?? {};
  return {
    listType: () => s['x-kubernetes-list-type'] ?? 'atomic',
    listKeys: () => s['x-kubernetes-list-map-keys'] ?? [],
    atomicMap: () => s['x-kubernetes-map-type'] === 'atomic',
    field: (name) => {
      const props = s.properties?.[name];
      if (props) return fromJsonSchema(props);
      const additional = s.additionalProperties;
      return fromJsonSchema(typeof additional === 'object' ? additional : undefined);
    },
    items: () => fromJsonSchema(s.items),
  };
}

/** metadata is the same for every kind: ownerReferences by uid, finalizers as a set. */
const METADATA = fromPatchSchema({ fields: { finalizers: { strategy: 'merge' }, ownerReferences: { strategy: 'merge', mergeKey: 'uid' } } });

export function applySchemaOf(def: ResourceDef): ApplySchema {
  const body = def.schema ? fromJsonSchema(def.schema) : fromPatchSchema(def.patchSchema);
  return { ...body, field: (name) => (name === 'metadata' ? METADATA : body.field(name)) };
}
