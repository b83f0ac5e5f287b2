// The pod-template-hash that names a Deployment's ReplicaSets, and template comparison as
// upstream does it (ignoring that label).
import { isDeepStrictEqual } from 'node:util';
import type { PodTemplateSpec } from '../../../api/workloads.ts';

/** A pod template as stored: any field, the spec included, may be absent. */
export type PodTemplate = Partial<PodTemplateSpec>;

export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * A short, stable name for a pod template: fnv-1a (32 bit) over its canonical JSON (plus the
 * collision count), the decimal digits mapped through upstream's "safe" alphabet (no vowels, so
 * no words), as rand.SafeEncodeString does. At most 10 characters.
 */
export function podTemplateHash(template: PodTemplate, collisionCount?: number): string {
  let text = canonicalJson(withoutHashLabel(template));
  if (collisionCount !== undefined) text += `#${collisionCount}`;
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return [...String(hash)].map((c) => SAFE_ALPHABET[c.charCodeAt(0) % SAFE_ALPHABET.length]).join('');
}

export function equalIgnoreHash(a: PodTemplate | undefined, b: PodTemplate | undefined): boolean {
  return isDeepStrictEqual(withoutHashLabel(a), withoutHashLabel(b));
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The template as upstream compares it: without the pod-template-hash label, and with null, empty
 * maps and empty lists dropped. Go decodes those to the same struct as an absent field, and
 * clients send them (`kubectl rollout undo` writes creationTimestamp: null and resources: {}).
 */
function withoutHashLabel(template: PodTemplate | undefined): PodTemplate {
  const copy = structuredClone(template ?? {});
  delete copy.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL];
  return withoutEmpty(copy) ?? {};
}

function withoutEmpty(value: unknown): unknown {
  if (value === null) return undefined;
  if (Array.isArray(value)) {
    const items = value.map((v) => withoutEmpty(v) ?? {});
    return items.length > 0 ? items : undefined;
  }
  if (typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const kept = withoutEmpty(v);
    if (kept !== undefined) out[k] = kept;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
