// Which patch algorithm a PATCH request's media type selects for a kind.
import { StatusError, unsupportedMediaType } from '../errors.ts';
import { applyJsonPatch } from '../patch/json-patch.ts';
import { applyMergePatch } from '../patch/merge-patch.ts';
import { applyStrategicMergePatch } from '../patch/strategic-merge.ts';
import type { ResourceDef } from '../registry/types.ts';

export type PatchFunction = (current: unknown, patch: unknown) => unknown;

export function patchFunction(type: string, def: ResourceDef): PatchFunction {
  switch (type) {
    case 'application/json-patch+json':
      return applyJsonPatch;
    case 'application/merge-patch+json':
      return applyMergePatch;
    case 'application/strategic-merge-patch+json': {
      const schema = def.patchSchema;
      if (!schema) {
        throw new StatusError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json (strategic merge patch is not supported for ${def.plural}.${def.group})`,
        );
      }
      return (current, patchBody) => applyStrategicMergePatch(current, patchBody, schema);
    }
    default:
      throw unsupportedMediaType(type);
  }
}
