// The shape of the objects the GM sends (spec §3.2: the CR as JSON, `kind` set) and their LC keys.

export interface SednaObject {
  kind?: string;
  apiVersion?: string;
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string>; [key: string]: unknown };
  spec?: unknown;
  status?: unknown;
}

/** Sedna's LC/DB key `<namespace>/<lower kind>/<name>` (appendix E). */
export function resourceKey(object: SednaObject, kind: string): string {
  return `${object.metadata?.namespace ?? 'default'}/${kind.toLowerCase()}/${object.metadata?.name ?? ''}`;
}

export function isSednaObject(value: unknown): value is SednaObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const metadata = (value as { metadata?: unknown }).metadata;
  return typeof metadata === 'object' && metadata !== null && typeof (metadata as { name?: unknown }).name === 'string';
}
