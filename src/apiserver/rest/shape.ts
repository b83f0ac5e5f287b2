// Responses in the shape a client asked for instead of the object itself: a meta.k8s.io Table
// (kubectl get) or PartialObjectMetadata (metadata-only clients).
import type { KubeObject } from '../../api/meta.ts';
import type { ResourceDef } from '../registry/types.ts';
import type { ResponseShape } from './negotiate.ts';
import { buildTable } from './table.ts';

/** A Table or a PartialObjectMetadata(List) for clients that asked for one. */
export function shaped(
  shape: Exclude<ResponseShape, { kind: 'object' }>,
  def: ResourceDef,
  objects: KubeObject[],
  listMeta: { resourceVersion?: string | undefined; continue?: string; remainingItemCount?: number },
  includeObject: 'None' | 'Metadata' | 'Object',
  isList: boolean,
): unknown {
  const meta = JSON.parse(JSON.stringify(listMeta)) as typeof listMeta;
  if (shape.kind === 'table') {
    const table = buildTable(def, objects, { includeObject, now: new Date(), listMeta: meta });
    return { ...table, apiVersion: `meta.k8s.io/${shape.version}` };
  }
  const partial = (obj: KubeObject) => ({ kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${shape.version}`, metadata: obj.metadata });
  if (!isList) return partial(objects[0]!);
  return { kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${shape.version}`, metadata: meta, items: objects.map(partial) };
}
