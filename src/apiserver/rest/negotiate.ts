// Content negotiation for resource responses: JSON always; a meta.k8s.io Table when kubectl asks
// for one (`as=Table`), PartialObjectMetadata when a metadata-only client asks.
import { StatusError } from '../errors.ts';

export type ResponseShape =
  | { kind: 'object' }
  | { kind: 'table'; version: 'v1' | 'v1beta1' }
  | { kind: 'metadata'; version: 'v1' | 'v1beta1' };

interface MediaRange {
  type: string;
  params: Record<string, string>;
}

export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [{ type: '*/*', params: {} }];
  return header.split(',').map((range) => {
    const [type, ...params] = range.split(';').map((s) => s.trim());
    const parsed: Record<string, string> = {};
    for (const p of params) {
      const eq = p.indexOf('=');
      if (eq > 0) parsed[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
    }
    return { type: (type ?? '').toLowerCase(), params: parsed };
  });
}

function acceptsJson(range: MediaRange): boolean {
  return range.type === 'application/json' || range.type === '*/*' || range.type === 'application/*';
}

/** The first acceptable shape in the client's order of preference. */
export function negotiateShape(header: string | undefined): ResponseShape {
  for (const range of parseAccept(header)) {
    if (!acceptsJson(range)) continue;
    const as = range.params.as;
    const version = range.params.v === 'v1beta1' ? 'v1beta1' : 'v1';
    if (as === undefined) return { kind: 'object' };
    if (range.params.g !== 'meta.k8s.io') continue;
    if (as === 'Table') return { kind: 'table', version };
    if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') return { kind: 'metadata', version };
  }
  throw new StatusError(406, 'NotAcceptable', `only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io (got ${JSON.stringify(header)})`);
}
